using EdgeRuntime.Kernels.Activations;
using EdgeRuntime.Tensors;

namespace EdgeRuntime.Execution.Ops.Quantized;

/// <summary>
/// Unary int8 activations as a 256-entry lookup table built at bind time from constant scales and zero points
/// (inputs X, X_scale, X_zero_point, Y_scale, Y_zero_point): <c>table[q] = quantize(f(dequantize(q)))</c>.
/// com.microsoft QLinearSigmoid / QLinearLeakyRelu, and EdgeRuntime's own QLinearTanh, QLinearHardSigmoid,
/// QLinearHardSwish, QLinearRelu, QLinearClip and QLinearSilu (domain <c>ai.edgeruntime</c>, produced only by QDQ
/// fusion) with the ONNX float definitions of Tanh, HardSigmoid (alpha, beta), HardSwish, Relu, Clip (float attributes
/// min, max) and SiLU <c>x·sigmoid(x)</c>.
/// <para>
/// QLinearSilu takes two optional extra inputs, S_scale and S_zero_point (indices 5, 6): the quantization of the
/// sigmoid output in the QDQ pattern <c>Mul(DQ(x), DQ(Q(Sigmoid(DQ(x)))))</c>. With them the table includes that
/// intermediate rounding exactly — <c>f(v) = (S_scale·(Q_S(sigmoid(v)) - S_zero_point)) · v</c> — so the fused op matches
/// the unfused graph; without them <c>f(v) = v·sigmoid(v)</c>.
/// </para>
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
            "QLinearSilu" => Silu(ctx),
            _ => throw ctx.Fail($"no lookup table for {opType}"),
        };
        var table = new byte[256];
        QLinearLookupTableReference.Build(table, signed, xScale, xZeroPoint, yScale, yZeroPoint, function);
        ctx.SetOutput(0, x.Type, (int[])x.Shape.Clone());
        return new Kernel(table);
    }

    private static Func<float, float> HardSigmoid(float alpha, float beta) => v => Math.Max(0f, Math.Min(1f, alpha * v + beta));

    private static Func<float, float> Silu(OpContext ctx)
    {
        if (!ctx.HasInput(5) && !ctx.HasInput(6)) return v => v * QLinearLookupTableReference.Sigmoid(v);
        if (!ctx.HasInput(5)) throw ctx.Fail("S_zero_point (input 6) is given without S_scale (input 5)");
        float sScale = QuantizationParameters.Scale(ctx, 5, "S_scale");
        var zeroPointType = ctx.HasInput(6) ? ctx.RequireConstant(6, "S_zero_point").ElementType : TensorElementType.UInt8;
        bool sSigned = QuantizationParameters.IsSigned(ctx, zeroPointType, "S_zero_point");
        int sZeroPoint = QuantizationParameters.ZeroPoint(ctx, 6, "S_zero_point", zeroPointType);
        int sMin = Kernels.Common.Requantization.MinOf(sSigned), sMax = Kernels.Common.Requantization.MaxOf(sSigned);
        return v =>
        {
            int q = Kernels.Common.Requantization.Quantize(QLinearLookupTableReference.Sigmoid(v), sScale, sZeroPoint, sMin, sMax);
            return sScale * (q - sZeroPoint) * v;
        };
    }

    private static Func<float, float> Clip(float min, float max) => v => Math.Min(Math.Max(v, min), max);

    private sealed class Kernel(byte[] table) : IOpKernel
    {
        public void Run(ReadOnlySpan<Tensor?> inputs, ReadOnlySpan<Tensor?> outputs) =>
            QLinearLookupTableReference.Run(table, inputs[0]!.Bytes, outputs[0]!.Bytes);
    }
}
