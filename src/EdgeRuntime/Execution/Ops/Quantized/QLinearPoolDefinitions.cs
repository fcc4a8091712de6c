using EdgeRuntime.Kernels.Pooling;
using EdgeRuntime.Tensors;

namespace EdgeRuntime.Execution.Ops.Quantized;

/// <summary>com.microsoft QLinearGlobalAveragePool: x, x_scale, x_zero_point, y_scale, y_zero_point; attribute channels_last.</summary>
internal sealed class QLinearGlobalAveragePoolDefinition : OpDefinition
{
    public override string OpType => "QLinearGlobalAveragePool";
    public override string Domain => "com.microsoft";

    public override IOpKernel Bind(OpContext ctx)
    {
        var x = ctx.InputOfType(0, TensorElementType.UInt8, TensorElementType.Int8);
        if (x.Shape.Length < 3) throw ctx.Fail($"input must have rank ≥ 3, got {TensorShape.Format(x.Shape)}");
        long channelsLastAttr = ctx.GetInt("channels_last", 0);
        if (channelsLastAttr is not (0 or 1)) throw ctx.Fail($"channels_last must be 0 or 1, got {channelsLastAttr}");
        bool channelsLast = channelsLastAttr == 1;
        int batch = x.Shape[0], channels = channelsLast ? x.Shape[^1] : x.Shape[1];
        int imageSize = 1;
        for (int d = channelsLast ? 1 : 2; d < (channelsLast ? x.Shape.Length - 1 : x.Shape.Length); d++) imageSize *= x.Shape[d];
        if (imageSize == 0) throw ctx.Fail("spatial size must not be zero");
        float xScale = QuantizationParameters.Scale(ctx, 1, "x_scale");
        int xZeroPoint = QuantizationParameters.ZeroPoint(ctx, 2, "x_zero_point", x.Type);
        float yScale = QuantizationParameters.Scale(ctx, 3, "y_scale");
        int yZeroPoint = QuantizationParameters.ZeroPoint(ctx, 4, "y_zero_point", x.Type);
        var outShape = (int[])x.Shape.Clone();
        for (int d = channelsLast ? 1 : 2; d < (channelsLast ? x.Shape.Length - 1 : x.Shape.Length); d++) outShape[d] = 1;
        ctx.SetOutput(0, x.Type, outShape);
        bool signed = x.Type == TensorElementType.Int8;
        var isa = ctx.Isa;
        return new Kernel((xIn, yOut) => QLinearGlobalAveragePool.Run(isa, xIn, signed, xScale, xZeroPoint, yScale, yZeroPoint,
            batch, channels, imageSize, channelsLast, yOut));
    }

    internal delegate void PoolAction(ReadOnlySpan<byte> x, Span<byte> y);

    internal sealed class Kernel(PoolAction action) : IOpKernel
    {
        public void Run(ReadOnlySpan<Tensor?> inputs, ReadOnlySpan<Tensor?> outputs) => action(inputs[0]!.Bytes, outputs[0]!.Bytes);
    }
}

/// <summary>
/// com.microsoft QLinearAveragePool: X, x_scale, x_zero_point, y_scale, y_zero_point; attributes as AveragePool
/// (auto_pad, ceil_mode, count_include_pad, kernel_shape, pads, strides) plus channels_last. 1-D and 2-D pools.
/// </summary>
internal sealed class QLinearAveragePoolDefinition : OpDefinition
{
    public override string OpType => "QLinearAveragePool";
    public override string Domain => "com.microsoft";

    public override IOpKernel Bind(OpContext ctx)
    {
        var x = ctx.InputOfType(0, TensorElementType.UInt8, TensorElementType.Int8);
        long channelsLastAttr = ctx.GetInt("channels_last", 0);
        if (channelsLastAttr is not (0 or 1)) throw ctx.Fail($"channels_last must be 0 or 1, got {channelsLastAttr}");
        bool channelsLast = channelsLastAttr == 1;
        if (x.Shape.Length is not (3 or 4)) throw ctx.Fail($"input must be 3-D or 4-D, got {TensorShape.Format(x.Shape)}");
        int spatialRank = x.Shape.Length - 2;
        int channels = channelsLast ? x.Shape[^1] : x.Shape[1];
        int[] inSpatial = channelsLast ? x.Shape[1..^1] : x.Shape[2..];
        var kernelAttr = ctx.GetInts("kernel_shape") ?? throw ctx.Fail("attribute kernel_shape is required");
        if (kernelAttr.Length != spatialRank) throw ctx.Fail($"kernel_shape has {kernelAttr.Length} values, expected {spatialRank}");
        if (kernelAttr.Any(v => v <= 0 || v > 1 << 16)) throw ctx.Fail($"kernel_shape must be positive, got [{string.Join(",", kernelAttr)}]");
        int[] kernel = kernelAttr.Select(v => (int)v).ToArray();
        long ceil = ctx.GetInt("ceil_mode", 0);
        if (ceil is not (0 or 1)) throw ctx.Fail($"ceil_mode must be 0 or 1, got {ceil}");
        var (outSpatial, padsBegin, strides, _) = WindowGeometry.Resolve(ctx, inSpatial, kernel, ceil == 1, allowDilations: false);
        bool countIncludePad = ctx.GetInt("count_include_pad", 0) != 0;
        float xScale = QuantizationParameters.Scale(ctx, 1, "x_scale");
        int xZeroPoint = QuantizationParameters.ZeroPoint(ctx, 2, "x_zero_point", x.Type);
        float yScale = QuantizationParameters.Scale(ctx, 3, "y_scale");
        int yZeroPoint = QuantizationParameters.ZeroPoint(ctx, 4, "y_zero_point", x.Type);
        bool oneD = spatialRank == 1;
        var g = new QLinearPoolGeometry(x.Shape[0], channels,
            oneD ? 1 : inSpatial[0], inSpatial[^1], oneD ? 1 : outSpatial[0], outSpatial[^1],
            oneD ? 1 : kernel[0], kernel[^1], oneD ? 1 : strides[0], strides[^1], oneD ? 0 : padsBegin[0], padsBegin[^1],
            countIncludePad, channelsLast);
        var outShape = new List<int> { x.Shape[0] };
        if (!channelsLast) outShape.Add(channels);
        outShape.AddRange(outSpatial);
        if (channelsLast) outShape.Add(channels);
        ctx.SetOutput(0, x.Type, outShape.ToArray());
        bool signed = x.Type == TensorElementType.Int8;
        var isa = ctx.Isa;
        var scratch = new float[QLinearAveragePool.ScratchLength(g)]; // owned by the kernel: Run allocates nothing
        return new QLinearGlobalAveragePoolDefinition.Kernel((xIn, yOut) =>
            QLinearAveragePool.Run(isa, g, xIn, signed, xScale, xZeroPoint, yScale, yZeroPoint, yOut, scratch));
    }
}
