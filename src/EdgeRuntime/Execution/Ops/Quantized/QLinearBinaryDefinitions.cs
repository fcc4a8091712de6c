using EdgeRuntime.Kernels.Elementwise;
using EdgeRuntime.Tensors;

namespace EdgeRuntime.Execution.Ops.Quantized;

/// <summary>
/// com.microsoft QLinearAdd / QLinearMul: A, A_scale, A_zero_point, B, B_scale, B_zero_point, C_scale,
/// C_zero_point with numpy broadcasting; A, B and C share one 8-bit type. Scales/zero points are per-tensor constants.
/// </summary>
internal sealed class QLinearBinaryDefinition(string opType, bool multiply) : OpDefinition
{
    public override string OpType => opType;
    public override string Domain => "com.microsoft";

    public override IOpKernel Bind(OpContext ctx)
    {
        var a = ctx.InputOfType(0, TensorElementType.UInt8, TensorElementType.Int8);
        var b = ctx.InputOfType(3, a.Type);
        bool signed = a.Type == TensorElementType.Int8;
        var plan = QuantizedBroadcast.Create(a.Shape, b.Shape)
                   ?? throw ctx.Fail($"shapes {TensorShape.Format(a.Shape)} and {TensorShape.Format(b.Shape)} do not broadcast");
        var p = new QLinearBinaryParameters(
            QuantizationParameters.Scale(ctx, 1, "A_scale"), QuantizationParameters.ZeroPoint(ctx, 2, "A_zero_point", a.Type),
            QuantizationParameters.Scale(ctx, 4, "B_scale"), QuantizationParameters.ZeroPoint(ctx, 5, "B_zero_point", a.Type),
            QuantizationParameters.Scale(ctx, 6, "C_scale"), QuantizationParameters.ZeroPoint(ctx, 7, "C_zero_point", a.Type),
            signed);
        // Rank-0 inputs broadcast to a rank-0 output; the plan works on at least rank 1.
        int[] outShape = a.Shape.Length == 0 && b.Shape.Length == 0 ? [] : plan.OutputShape;
        ctx.SetOutput(0, a.Type, outShape);
        return new Kernel(plan, p, multiply, ctx.Isa);
    }

    private sealed class Kernel(QuantizedBroadcast plan, QLinearBinaryParameters p, bool multiply, Kernels.Common.IsaPath isa) : IOpKernel
    {
        public void Run(ReadOnlySpan<Tensor?> inputs, ReadOnlySpan<Tensor?> outputs)
        {
            if (multiply) QLinearMul.Run(isa, plan, inputs[0]!.Bytes, inputs[3]!.Bytes, outputs[0]!.Bytes, p);
            else QLinearAdd.Run(isa, plan, inputs[0]!.Bytes, inputs[3]!.Bytes, outputs[0]!.Bytes, p);
        }
    }
}
