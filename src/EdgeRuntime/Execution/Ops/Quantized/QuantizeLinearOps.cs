using EdgeRuntime.Kernels.Quantize;
using EdgeRuntime.Tensors;

namespace EdgeRuntime.Execution.Ops.Quantized;

/// <summary>Shared per-tensor / per-axis handling of QuantizeLinear and DequantizeLinear.</summary>
internal static class QuantizationAxis
{
    /// <summary>
    /// Views <paramref name="shape"/> as [outer, channels, inner] for a scale input: per-tensor when the scale
    /// has one element (and rank ≤ 1), else per-axis along the (opset ≥ 13) <c>axis</c> attribute.
    /// </summary>
    public static (int Outer, int Channels, int Inner) Resolve(OpContext ctx, int[] shape, int scaleInput)
    {
        if (ctx.GetInt("block_size", 0) != 0) throw ctx.Fail("blocked quantization (block_size) is not supported");
        var scale = ctx.RequireConstant(scaleInput, "scale");
        // A single scale is per-tensor whatever its rank-0/1 shape (a 1-element per-axis scale means the same).
        if (scale.ElementCount == 1 && scale.Shape.Length <= 1) return (1, 1, TensorShape.ElementCount(shape));
        if (scale.Shape.Length != 1) throw ctx.Fail($"scale must be a scalar or 1-D, got shape {TensorShape.Format(scale.Shape)}");
        if (ctx.Opset < 13) throw ctx.Fail("per-axis scales need opset 13 or later");
        if (shape.Length == 0) throw ctx.Fail("a scalar input cannot have per-axis scales");
        int axis = QuantizationParameters.NormalizeAxis(ctx, ctx.GetInt("axis", 1), shape.Length);
        int channels = shape[axis];
        if (scale.ElementCount != channels)
            throw ctx.Fail($"scale has {scale.ElementCount} elements but axis {axis} of input {TensorShape.Format(shape)} has {channels}");
        int outer = 1, inner = 1;
        for (int i = 0; i < axis; i++) outer *= shape[i];
        for (int i = axis + 1; i < shape.Length; i++) inner *= shape[i];
        return (outer, channels, inner);
    }
}

/// <summary>ONNX QuantizeLinear (opset 10+; per-axis from 13): float32 → uint8/int8.</summary>
internal sealed class QuantizeLinearDefinition : OpDefinition
{
    public override string OpType => "QuantizeLinear";

    public override IOpKernel Bind(OpContext ctx)
    {
        var x = ctx.InputOfType(0, TensorElementType.Float32);
        var (outer, channels, inner) = QuantizationAxis.Resolve(ctx, x.Shape, 1);
        TensorElementType outputType;
        if (ctx.HasInput(2)) outputType = ctx.Input(2).Type;
        else
        {
            long dtype = ctx.GetInt("output_dtype", 0);
            outputType = dtype == 0 ? TensorElementType.UInt8 : (TensorElementType)dtype;
        }
        bool signed = QuantizationParameters.IsSigned(ctx, outputType, "y_zero_point / output type");
        var scales = QuantizationParameters.Scales(ctx, 1, "y_scale", channels);
        var zeroPoints = QuantizationParameters.ZeroPoints(ctx, 2, "y_zero_point", outputType, channels);
        ctx.SetOutput(0, outputType, (int[])x.Shape.Clone());
        return new Kernel(scales, zeroPoints, signed, outer, channels, inner);
    }

    private sealed class Kernel(float[] scales, int[] zeroPoints, bool signed, int outer, int channels, int inner) : IOpKernel
    {
        public void Run(ReadOnlySpan<Tensor?> inputs, ReadOnlySpan<Tensor?> outputs) =>
            QuantizeLinearReference.Run(inputs[0]!.AsSpan<float>(), scales, zeroPoints, signed, outer, channels, inner, outputs[0]!.Bytes);
    }
}

/// <summary>ONNX DequantizeLinear (opset 10+; per-axis from 13): uint8/int8/int32 → float32.</summary>
internal sealed class DequantizeLinearDefinition : OpDefinition
{
    public override string OpType => "DequantizeLinear";

    public override IOpKernel Bind(OpContext ctx)
    {
        var x = ctx.InputOfType(0, TensorElementType.UInt8, TensorElementType.Int8, TensorElementType.Int32);
        var (outer, channels, inner) = QuantizationAxis.Resolve(ctx, x.Shape, 1);
        var scales = QuantizationParameters.Scales(ctx, 1, "x_scale", channels);
        var zeroPoints = QuantizationParameters.ZeroPoints(ctx, 2, "x_zero_point", x.Type, channels);
        ctx.SetOutput(0, TensorElementType.Float32, (int[])x.Shape.Clone());
        return new Kernel(x.Type, scales, zeroPoints, outer, channels, inner);
    }

    private sealed class Kernel(TensorElementType type, float[] scales, int[] zeroPoints, int outer, int channels, int inner) : IOpKernel
    {
        public void Run(ReadOnlySpan<Tensor?> inputs, ReadOnlySpan<Tensor?> outputs)
        {
            var y = outputs[0]!.AsSpan<float>();
            if (type == TensorElementType.Int32)
                DequantizeLinearReference.Run(inputs[0]!.AsSpan<int>(), scales, zeroPoints, outer, channels, inner, y);
            else
                DequantizeLinearReference.Run(inputs[0]!.Bytes, type == TensorElementType.Int8, scales, zeroPoints, outer, channels, inner, y);
        }
    }
}
