using EdgeRuntime.Tensors;

namespace EdgeRuntime.Execution.Ops.Float;

/// <summary>Validation and small kernels shared by the shape, data-movement and elementwise ops.</summary>
internal static class ShapeOpHelpers
{
    /// <summary>Every element type a pure data-movement op may carry.</summary>
    public static readonly TensorElementType[] AnyType =
    [
        TensorElementType.Float32, TensorElementType.UInt8, TensorElementType.Int8, TensorElementType.Int32,
        TensorElementType.Int64, TensorElementType.Bool,
    ];

    /// <summary>
    /// Normalizes an axis in [-rank, rank-1] to a non-negative one; with <paramref name="inclusiveEnd"/>
    /// the range is [-rank, rank] (Flatten's axis may be rank: everything goes into the first dim).
    /// </summary>
    public static int NormalizeAxis(OpContext ctx, long axis, int rank, string what = "axis", bool inclusiveEnd = false)
    {
        long upper = inclusiveEnd ? rank : rank - 1;
        long lower = -rank;
        if (axis < lower || axis > upper)
            throw ctx.Fail($"{what} {axis} is out of range [{lower}, {upper}] for a rank-{rank} input");
        return (int)(axis < 0 ? axis + rank : axis);
    }

    /// <summary>The values of a constant int64 (or int32) scalar or 1-D tensor.</summary>
    public static long[] ReadInt64List(OpContext ctx, Tensor tensor, string what)
    {
        if (tensor.Shape.Length > 1)
            throw ctx.Fail($"{what} must be a 1-D tensor, got shape {TensorShape.Format(tensor.Shape)}");
        return tensor.ElementType switch
        {
            TensorElementType.Int64 => tensor.ToArray<long>(),
            TensorElementType.Int32 => Array.ConvertAll(tensor.ToArray<int>(), v => (long)v),
            _ => throw ctx.Fail($"{what} must be int64, got {tensor.ElementType.OnnxName()}"),
        };
    }

    /// <summary>Fails unless the node has between <paramref name="min"/> and <paramref name="max"/> inputs.</summary>
    public static void RequireInputCount(OpContext ctx, int min, int max)
    {
        if (ctx.InputCount < min || ctx.InputCount > max)
            throw ctx.Fail(min == max ? $"expects {min} input(s), got {ctx.InputCount}" : $"expects {min} to {max} inputs, got {ctx.InputCount}");
    }

    /// <summary>Product of dims [from, to).</summary>
    public static int Product(ReadOnlySpan<int> shape, int from, int to)
    {
        long n = 1;
        for (int i = from; i < to; i++) n *= shape[i];
        return (int)n;
    }

    /// <summary>Normalized, duplicate-free axes; fails on out-of-range or repeated axes.</summary>
    public static int[] NormalizeAxes(OpContext ctx, long[] axes, int rank, string what)
    {
        var result = new int[axes.Length];
        for (int i = 0; i < axes.Length; i++)
        {
            result[i] = NormalizeAxis(ctx, axes[i], rank, what);
            for (int j = 0; j < i; j++)
                if (result[j] == result[i]) throw ctx.Fail($"{what} contains axis {axes[i]} more than once");
        }
        return result;
    }
}

/// <summary>Copies input 0 to output 0 byte for byte (Reshape, Flatten, Squeeze, Unsqueeze, Identity).</summary>
internal sealed class CopyKernel : IOpKernel
{
    public static readonly CopyKernel Instance = new();

    public void Run(ReadOnlySpan<Tensor?> inputs, ReadOnlySpan<Tensor?> outputs) => inputs[0]!.Bytes.CopyTo(outputs[0]!.Bytes);
}
