using EdgeRuntime.Kernels.Activations;
using EdgeRuntime.Tensors;

namespace EdgeRuntime.Execution.Ops.Quantized;

/// <summary>
/// Unary int8 activations as a 256-entry lookup table built at bind time from constant scales and zero points
/// (inputs X, X_scale, X_zero_point, Y_scale, Y_zero_point): <c>table[q] = quantize(f(dequantize(q)))</c>.
/// com.microsoft QLinearSigmoid / QLinearLeakyRelu, and EdgeRuntime's own QLinearTanh, QLinearHardSigmoid,
/// QLinearHardSwish, QLinearRelu and QLinearClip (domain <c>ai.edgeruntime</c>, produced only by QDQ fusion) with
/// the ONNX float definitions of Tanh, HardSigmoid (alpha, beta), HardSwish, Relu and Clip (float attributes min, max).
/// </summary>
internal sealed class QLinearLookupTableDefinition(string opType, string domain = "com.microsoft") : OpDefinition
{
    public override string OpType => opType;
    public override string Domain => domain;

    public override IOpKernel Bind(OpContext ctx)
    {
        var x = ctx.InputOfType(0, TensorElementType.UInt8, TensorElementType.Int8);
        bool signed = x.Type == TensorElementType.Int8;
        float xScale = QuantizationParameters.Scale(ctx, 1, "X_scale");
        int xZeroPoint = QuantizationParameters.ZeroPoint(ctx, 2, "X_zero_point", x.Type);
        float yScale = QuantizationParameters.Scale(ctx, 3, "Y_scale");
        int yZeroPoint = QuantizationParameters.ZeroPoint(ctx, 4, "Y_zero_point", x.Type);
        Func<float, float> function = opType switch
        {
            "QLinearSigmoid" => QLinearLookupTableReference.Sigmoid,
            "QLinearLeakyRelu" => QLinearLookupTableReference.LeakyRelu(ctx.GetFloat("alpha", 0.01f)),
            "QLinearTanh" => MathF.Tanh,
            "QLinearHardSigmoid" => HardSigmoid(ctx.GetFloat("alpha", 0.2f), ctx.GetFloat("beta", 0.5f)),
            "QLinearHardSwish" => v => v * Math.Max(0f, Math.Min(1f, v / 6f + 0.5f)),
            "QLinearRelu" => v => Math.Max(v, 0f),
            "QLinearClip" => Clip(ctx.GetFloat("min", float.NegativeInfinity), ctx.GetFloat("max", float.PositiveInfinity)),
            _ => throw ctx.Fail($"no lookup table for {opType}"),
        };
        var table = new byte[256];
        QLinearLookupTableReference.Build(table, signed, xScale, xZeroPoint, yScale, yZeroPoint, function);
        ctx.SetOutput(0, x.Type, (int[])x.Shape.Clone());
        return new Kernel(table);
    }

    private static Func<float, float> HardSigmoid(float alpha, float beta) => v => Math.Max(0f, Math.Min(1f, alpha * v + beta));

    private static Func<float, float> Clip(float min, float max) => v => Math.Min(Math.Max(v, min), max);

    private sealed class Kernel(byte[] table) : IOpKernel
    {
        public void Run(ReadOnlySpan<Tensor?> inputs, ReadOnlySpan<Tensor?> outputs) =>
            QLinearLookupTableReference.Run(table, inputs[0]!.Bytes, outputs[0]!.Bytes);
    }
}
