using EdgeRuntime.Kernels.Activations;
using EdgeRuntime.Tensors;

namespace EdgeRuntime.Execution.Ops.Float;

/// <summary>Which float32 activation a <see cref="ActivationKernel"/> applies.</summary>
internal enum ActivationKind { Relu, LeakyRelu, Sigmoid, Tanh, Clip, HardSigmoid, HardSwish }

/// <summary>Applies one activation with bound parameters (alpha/beta or min/max).</summary>
internal sealed class ActivationKernel(ActivationKind kind, float p0 = 0f, float p1 = 0f) : IOpKernel
{
    public ActivationKind Kind => kind;

    public void Run(ReadOnlySpan<Tensor?> inputs, ReadOnlySpan<Tensor?> outputs)
    {
        ReadOnlySpan<float> x = inputs[0]!.AsSpan<float>();
        Span<float> y = outputs[0]!.AsSpan<float>();
        switch (kind)
        {
            case ActivationKind.Relu: ActivationReference.Relu(x, y); break;
            case ActivationKind.LeakyRelu: ActivationReference.LeakyRelu(x, y, p0); break;
            case ActivationKind.Sigmoid: ActivationReference.Sigmoid(x, y); break;
            case ActivationKind.Tanh: ActivationReference.Tanh(x, y); break;
            case ActivationKind.Clip: ActivationReference.Clip(x, y, p0, p1); break;
            case ActivationKind.HardSigmoid: ActivationReference.HardSigmoid(x, y, p0, p1); break;
            case ActivationKind.HardSwish: ActivationReference.HardSwish(x, y); break;
        }
    }
}

/// <summary>Relu, Sigmoid, Tanh, HardSwish (no attributes), LeakyRelu (alpha) and HardSigmoid (alpha, beta) on float32.</summary>
internal sealed class ActivationOp(string opType, ActivationKind kind) : OpDefinition
{
    public override string OpType => opType;

    public override IOpKernel Bind(OpContext ctx)
    {
        ShapeOpHelpers.RequireInputCount(ctx, 1, 1);
        var x = ctx.InputOfType(0, TensorElementType.Float32);
        if (kind == ActivationKind.HardSwish && ctx.Opset < 14)
            throw ctx.Fail($"HardSwish needs opset 14 or later, the model imports opset {ctx.Opset}");
        ctx.SetOutput(0, TensorElementType.Float32, x.Shape);
        return kind switch
        {
            ActivationKind.LeakyRelu => new ActivationKernel(kind, ctx.GetFloat("alpha", 0.01f)),
            ActivationKind.HardSigmoid => new ActivationKernel(kind, ctx.GetFloat("alpha", 0.2f), ctx.GetFloat("beta", 0.5f)),
            _ => new ActivationKernel(kind),
        };
    }
}

/// <summary>
/// Clip on float32. Opset &lt; 11: <c>min</c>/<c>max</c> attributes; opset ≥ 11: optional inputs 1 and 2,
/// which must be constant scalars. Omitted bounds are -inf/+inf (the attribute defaults of old opsets are
/// the float extremes, which clip identically for finite inputs).
/// </summary>
internal sealed class ClipOp : OpDefinition
{
    public override string OpType => "Clip";

    public override IOpKernel Bind(OpContext ctx)
    {
        var x = ctx.InputOfType(0, TensorElementType.Float32);
        float min, max;
        if (ctx.Opset < 11)
        {
            ShapeOpHelpers.RequireInputCount(ctx, 1, 1);
            min = ctx.GetFloat("min", float.MinValue);
            max = ctx.GetFloat("max", float.MaxValue);
        }
        else
        {
            ShapeOpHelpers.RequireInputCount(ctx, 1, 3);
            min = ReadBound(ctx, 1, "min", float.NegativeInfinity);
            max = ReadBound(ctx, 2, "max", float.PositiveInfinity);
        }
        ctx.SetOutput(0, TensorElementType.Float32, x.Shape);
        return new ActivationKernel(ActivationKind.Clip, min, max);
    }

    private static float ReadBound(OpContext ctx, int index, string what, float omitted)
    {
        if (!ctx.HasInput(index)) return omitted;
        ctx.InputOfType(index, TensorElementType.Float32);
        var t = ctx.RequireConstant(index, what);
        if (t.ElementCount != 1)
            throw ctx.Fail($"{what} must be a scalar, got shape {TensorShape.Format(t.Shape)}");
        return t.AsSpan<float>()[0];
    }
}
