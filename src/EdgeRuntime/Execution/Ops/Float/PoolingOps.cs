using EdgeRuntime.Kernels.Pooling;
using EdgeRuntime.Tensors;

namespace EdgeRuntime.Execution.Ops.Float;

/// <summary>Shared binding of the windowed pools (4-D NCHW only).</summary>
internal static class WindowedPool
{
    /// <summary>Reads kernel_shape, strides, pads, dilations, auto_pad and ceil_mode and resolves the output geometry.</summary>
    public static Pool2DShape Resolve(OpContext ctx, TensorInfo x)
    {
        if (x.Shape.Length != 4) throw ctx.Fail($"input X must be 4-D [N,C,H,W], got {x}");
        var kernelShape = ctx.GetInts("kernel_shape") ?? throw ctx.Fail("attribute 'kernel_shape' is required");
        if (kernelShape.Length != 2) throw ctx.Fail($"attribute 'kernel_shape' must have 2 values, got [{string.Join(",", kernelShape)}]");
        if (kernelShape.Any(k => k <= 0 || k > int.MaxValue / 4)) throw ctx.Fail($"attribute 'kernel_shape' values must be positive, got [{string.Join(",", kernelShape)}]");
        long ceilMode = ctx.GetInt("ceil_mode", 0);
        if (ceilMode is not (0 or 1)) throw ctx.Fail($"attribute 'ceil_mode' must be 0 or 1, got {ceilMode}");
        var window = SpatialWindow.Resolve(ctx, x.Shape[2..], [(int)kernelShape[0], (int)kernelShape[1]], ceilMode == 1);
        window.RequirePadsSmallerThanKernel(ctx);
        return new Pool2DShape(x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3],
            window.Kernel[0], window.Kernel[1], window.Strides[0], window.Strides[1],
            window.PadsBegin[0], window.PadsBegin[1], window.PadsEnd[0], window.PadsEnd[1],
            window.Dilations[0], window.Dilations[1], window.Output[0], window.Output[1]);
    }
}

/// <summary>
/// ONNX MaxPool (opsets 1–22) over float, uint8 or int8 NCHW input. Padding never contributes to the maximum.
/// The optional Indices output is not supported (rejected when requested).
/// </summary>
internal sealed class MaxPoolOp : OpDefinition
{
    public override string OpType => "MaxPool";

    public override IOpKernel Bind(OpContext ctx)
    {
        var x = ctx.InputOfType(0, TensorElementType.Float32, TensorElementType.UInt8, TensorElementType.Int8);
        if (ctx.Node.Outputs.Length > 1 && ctx.Node.Outputs[1].Length > 0)
            throw ctx.Fail($"the Indices output ('{ctx.Node.Outputs[1]}') is not supported");
        var shape = WindowedPool.Resolve(ctx, x);
        ctx.SetOutput(0, x.Type, [shape.Batch, shape.Channels, shape.OutputHeight, shape.OutputWidth]);
        return x.Type switch
        {
            TensorElementType.Float32 => new Kernel<float>(shape),
            TensorElementType.UInt8 => new Kernel<byte>(shape),
            _ => new Kernel<sbyte>(shape),
        };
    }

    private sealed class Kernel<T>(Pool2DShape shape) : IOpKernel where T : unmanaged, System.Numerics.INumber<T>, System.Numerics.IMinMaxValue<T>
    {
        public void Run(ReadOnlySpan<Tensor?> inputs, ReadOnlySpan<Tensor?> outputs) =>
            PoolReference.MaxPool(shape, inputs[0]!.AsSpan<T>(), outputs[0]!.AsSpan<T>());
    }
}

/// <summary>
/// ONNX AveragePool (opsets 7–22), float32 NCHW: count_include_pad, ceil_mode, auto_pad, dilations. With
/// count_include_pad the divisor counts the window's taps inside the padded input (never those past it).
/// </summary>
internal sealed class AveragePoolOp : OpDefinition
{
    public override string OpType => "AveragePool";

    public override IOpKernel Bind(OpContext ctx)
    {
        var x = ctx.InputOfType(0, TensorElementType.Float32);
        var shape = WindowedPool.Resolve(ctx, x);
        bool countIncludePad = ctx.GetInt("count_include_pad", 0) != 0;
        ctx.SetOutput(0, TensorElementType.Float32, [shape.Batch, shape.Channels, shape.OutputHeight, shape.OutputWidth]);
        return new Kernel(shape, countIncludePad);
    }

    private sealed class Kernel(Pool2DShape shape, bool countIncludePad) : IOpKernel
    {
        public void Run(ReadOnlySpan<Tensor?> inputs, ReadOnlySpan<Tensor?> outputs) =>
            PoolReference.AveragePool(shape, countIncludePad, inputs[0]!.AsSpan<float>(), outputs[0]!.AsSpan<float>());
    }
}

/// <summary>ONNX GlobalAveragePool / GlobalMaxPool: reduce all axes after the channel axis (input rank ≥ 3) to size 1.</summary>
internal sealed class GlobalPoolOp(bool max) : OpDefinition
{
    public override string OpType => max ? "GlobalMaxPool" : "GlobalAveragePool";

    public override IOpKernel Bind(OpContext ctx)
    {
        var x = max
            ? ctx.InputOfType(0, TensorElementType.Float32, TensorElementType.UInt8, TensorElementType.Int8)
            : ctx.InputOfType(0, TensorElementType.Float32);
        if (x.Shape.Length < 3) throw ctx.Fail($"input X must have rank >= 3 [N,C,spatial...], got {x}");
        int planes = x.Shape[0] * x.Shape[1];
        int spatial = TensorShape.ElementCount(x.Shape.AsSpan(2));
        if (spatial == 0) throw ctx.Fail($"input X {x} has an empty spatial extent");
        var outShape = new int[x.Shape.Length];
        Array.Fill(outShape, 1);
        outShape[0] = x.Shape[0];
        outShape[1] = x.Shape[1];
        ctx.SetOutput(0, x.Type, outShape);
        return (max, x.Type) switch
        {
            (false, _) => new AverageKernel(planes, spatial),
            (true, TensorElementType.Float32) => new MaxKernel<float>(planes, spatial),
            (true, TensorElementType.UInt8) => new MaxKernel<byte>(planes, spatial),
            _ => new MaxKernel<sbyte>(planes, spatial),
        };
    }

    private sealed class AverageKernel(int planes, int spatial) : IOpKernel
    {
        public void Run(ReadOnlySpan<Tensor?> inputs, ReadOnlySpan<Tensor?> outputs) =>
            PoolReference.GlobalAveragePool(planes, spatial, inputs[0]!.AsSpan<float>(), outputs[0]!.AsSpan<float>());
    }

    private sealed class MaxKernel<T>(int planes, int spatial) : IOpKernel where T : unmanaged, System.Numerics.INumber<T>, System.Numerics.IMinMaxValue<T>
    {
        public void Run(ReadOnlySpan<Tensor?> inputs, ReadOnlySpan<Tensor?> outputs) =>
            PoolReference.GlobalMaxPool(planes, spatial, inputs[0]!.AsSpan<T>(), outputs[0]!.AsSpan<T>());
    }
}
