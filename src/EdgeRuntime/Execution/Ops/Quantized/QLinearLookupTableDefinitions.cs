using EdgeRuntime.Kernels.Activations;
using EdgeRuntime.Tensors;

namespace EdgeRuntime.Execution.Ops.Quantized;

/// <summary>
/// com.microsoft QLinearSigmoid / QLinearLeakyRelu (X, X_scale, X_zero_point, Y_scale, Y_zero_point): a
/// 256-entry lookup table built at bind time from constant scales/zero points.
/// </summary>
internal sealed class QLinearLookupTableDefinition(string opType) : OpDefinition
{
    public override string OpType => opType;
    public override string Domain => "com.microsoft";

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
            _ => throw ctx.Fail($"no lookup table for {opType}"),
        };
        var table = new byte[256];
        QLinearLookupTableReference.Build(table, signed, xScale, xZeroPoint, yScale, yZeroPoint, function);
        ctx.SetOutput(0, x.Type, (int[])x.Shape.Clone());
        return new Kernel(table);
    }

    private sealed class Kernel(byte[] table) : IOpKernel
    {
        public void Run(ReadOnlySpan<Tensor?> inputs, ReadOnlySpan<Tensor?> outputs) =>
            QLinearLookupTableReference.Run(table, inputs[0]!.Bytes, outputs[0]!.Bytes);
    }
}
