using EdgeRuntime.Kernels.Common;
using EdgeRuntime.Kernels.Conv;
using EdgeRuntime.Kernels.Depthwise;
using EdgeRuntime.Tensors;

namespace EdgeRuntime.Execution.Ops.Quantized;

/// <summary>
/// ONNX QLinearConv (opset 10): inputs x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale,
/// y_zero_point, B (optional int32). 1-D and 2-D convolutions, groups (including depthwise), strides, pads,
/// auto_pad, dilations. Weights, scales and zero points must be constants.
/// Two EdgeRuntime-internal int attributes, written only by <see cref="Graph.Passes.QdqFusion"/>, narrow the
/// output clamp to fold a following Relu/Clip: <c>edge_clamp_min</c> and <c>edge_clamp_max</c> (quantized values).
/// </summary>
internal sealed class QLinearConvDefinition : OpDefinition
{
    /// <summary>Attribute holding the fused lower output bound (quantized).</summary>
    public const string ClampMinAttribute = "edge_clamp_min";
    /// <summary>Attribute holding the fused upper output bound (quantized).</summary>
    public const string ClampMaxAttribute = "edge_clamp_max";

    public override string OpType => "QLinearConv";

    public override IOpKernel Bind(OpContext ctx)
    {
        var x = ctx.InputOfType(0, TensorElementType.UInt8, TensorElementType.Int8);
        var w = ctx.InputOfType(3, TensorElementType.UInt8, TensorElementType.Int8);
        bool xSigned = x.Type == TensorElementType.Int8, wSigned = w.Type == TensorElementType.Int8;
        if (x.Shape.Length is not (3 or 4)) throw ctx.Fail($"input x must be 3-D or 4-D (N,C,[H,]W), got {TensorShape.Format(x.Shape)}");
        if (w.Shape.Length != x.Shape.Length) throw ctx.Fail($"weights {TensorShape.Format(w.Shape)} must have the same rank as x {TensorShape.Format(x.Shape)}");
        long groupAttr = ctx.GetInt("group", 1);
        int batch = x.Shape[0], inChannels = x.Shape[1], outChannels = w.Shape[0];
        if (groupAttr <= 0 || inChannels % groupAttr != 0 || outChannels % groupAttr != 0)
            throw ctx.Fail($"group {groupAttr} must be positive and divide both input channels {inChannels} and output channels {outChannels}");
        int group = (int)groupAttr;
        if (w.Shape[1] != inChannels / group)
            throw ctx.Fail($"weights {TensorShape.Format(w.Shape)} expect {w.Shape[1]} input channels per group, x has {inChannels} channels in {group} groups");
        bool oneD = x.Shape.Length == 3;
        int[] inSpatial = oneD ? [x.Shape[2]] : [x.Shape[2], x.Shape[3]];
        int[] kernel = oneD ? [w.Shape[2]] : [w.Shape[2], w.Shape[3]];
        var kernelShape = ctx.GetInts("kernel_shape");
        if (kernelShape != null && !kernelShape.Select(v => (int)v).SequenceEqual(kernel))
            throw ctx.Fail($"kernel_shape [{string.Join(",", kernelShape)}] does not match weights {TensorShape.Format(w.Shape)}");
        var (outSpatial, padsBegin, strides, dilations) = WindowGeometry.Resolve(ctx, inSpatial, kernel, ceilMode: false, allowDilations: true);

        var weights = ctx.RequireConstant(3, "w (weights)");
        float xScale = QuantizationParameters.Scale(ctx, 1, "x_scale");
        int xZeroPoint = QuantizationParameters.ZeroPoint(ctx, 2, "x_zero_point", x.Type);
        var wScales = QuantizationParameters.Scales(ctx, 4, "w_scale", outChannels);
        var wZeroPoints = QuantizationParameters.ZeroPoints(ctx, 5, "w_zero_point", w.Type, outChannels);
        float yScale = QuantizationParameters.Scale(ctx, 6, "y_scale");
        var yType = ctx.HasInput(7) ? ctx.Input(7).Type : x.Type;
        bool ySigned = QuantizationParameters.IsSigned(ctx, yType, "y_zero_point");
        int yZeroPoint = QuantizationParameters.ZeroPoint(ctx, 7, "y_zero_point", yType);
        if (ctx.HasInput(8))
        {
            var b = ctx.InputOfType(8, TensorElementType.Int32);
            if (b.Shape.Length != 1 || b.Shape[0] != outChannels) throw ctx.Fail($"bias B must be 1-D with {outChannels} elements, got {TensorShape.Format(b.Shape)}");
        }
        int yMin = (int)Math.Max(Requantization.MinOf(ySigned), ctx.GetInt(ClampMinAttribute, int.MinValue));
        int yMax = (int)Math.Min(Requantization.MaxOf(ySigned), ctx.GetInt(ClampMaxAttribute, int.MaxValue));
        if (yMin > yMax) throw ctx.Fail($"fused output clamp [{yMin}, {yMax}] is empty");

        var geometry = new QLinearConvGeometry(
            batch, inChannels, oneD ? 1 : inSpatial[0], inSpatial[^1],
            outChannels, oneD ? 1 : outSpatial[0], outSpatial[^1],
            oneD ? 1 : kernel[0], kernel[^1],
            oneD ? 1 : strides[0], strides[^1],
            oneD ? 0 : padsBegin[0], padsBegin[^1],
            oneD ? 1 : dilations[0], dilations[^1],
            group);
        var multipliers = new float[outChannels];
        for (int m = 0; m < outChannels; m++) multipliers[m] = Requantization.Multiplier(xScale, wScales[m], yScale);
        int[] outShape = oneD ? [batch, outChannels, outSpatial[0]] : [batch, outChannels, outSpatial[0], outSpatial[1]];
        ctx.SetOutput(0, yType, outShape);

        bool depthwise = group > 1 && geometry.InChannelsPerGroup == 1 && geometry.OutChannelsPerGroup == 1;
        if (!depthwise)
        {
            var constantBias = ctx.HasInput(8) ? ctx.Constant(8) : null;
            bool runtimeBias = ctx.HasInput(8) && constantBias == null;
            return new QLinearConvGemmKernel(geometry, ctx.Isa, ctx.Workers, weights.Bytes, wSigned, wZeroPoints,
                constantBias != null ? constantBias.AsSpan<int>() : ReadOnlySpan<int>.Empty, runtimeBias,
                xSigned, xZeroPoint, multipliers, yZeroPoint, yMin, yMax);
        }

        var packed = new short[outChannels * geometry.ReductionLength];
        QLinearConvReference.PackWeights(weights.Bytes, wSigned, wZeroPoints, geometry, packed);
        if (geometry.DilationHeight == 1 && geometry.DilationWidth == 1)
        {
            var dw = new DepthwiseConvGeometry(inChannels, geometry.InHeight, geometry.InWidth, geometry.OutHeight, geometry.OutWidth,
                geometry.KernelHeight, geometry.KernelWidth, geometry.StrideHeight, geometry.StrideWidth, geometry.PadTop, geometry.PadLeft);
            return new QLinearConvDepthwiseKernel(dw, batch, ctx.Isa, ctx.Workers, packed, xSigned, xZeroPoint, multipliers, yZeroPoint, yMin, yMax);
        }
        return new Kernel(geometry, xSigned, xZeroPoint, packed, multipliers, yZeroPoint, yMin, yMax,
            new int[QLinearConvReference.ColumnScratchLength(geometry)], new int[QLinearConvReference.AccumulatorScratchLength(geometry)]);
    }

    private sealed class Kernel(QLinearConvGeometry geometry, bool xSigned, int xZeroPoint, short[] packed, float[] multipliers,
        int yZeroPoint, int yMin, int yMax, int[] columns, int[] accumulators) : IOpKernel
    {
        public void Run(ReadOnlySpan<Tensor?> inputs, ReadOnlySpan<Tensor?> outputs)
        {
            ReadOnlySpan<int> bias = inputs.Length > 8 && inputs[8] is { } b ? b.AsSpan<int>() : default;
            QLinearConvReference.Run(geometry, inputs[0]!.Bytes, xSigned, xZeroPoint, packed, bias, multipliers,
                yZeroPoint, yMin, yMax, outputs[0]!.Bytes, columns, accumulators);
        }
    }
}
