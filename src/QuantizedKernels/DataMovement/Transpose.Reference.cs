using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;

namespace EdgeRuntime.Kernels.DataMovement;

/// <summary>
/// Precomputed loop for ONNX Transpose: output dim i is input dim perm[i]. Output elements are written
/// in order while the input is read through permuted strides. Axes of size 1 are dropped and adjacent
/// output axes that are also adjacent (and in order) in the input are merged, so e.g. NCHW→NHWC
/// becomes a [N, H*W, C] walk with input strides [C*H*W, 1, H*W].
/// </summary>
public sealed class TransposePlan
{
    private TransposePlan(int[] dims, int[] inputStrides, int count)
    {
        Dims = dims;
        InputStrides = inputStrides;
        ElementCount = count;
    }

    /// <summary>Compacted output dims, outermost first (at least one entry).</summary>
    public int[] Dims { get; }

    /// <summary>Input element stride per compacted output dim.</summary>
    public int[] InputStrides { get; }

    /// <summary>Number of elements.</summary>
    public int ElementCount { get; }

    /// <summary>Builds the plan. <paramref name="perm"/> must be a permutation of 0..rank-1 (validated by the caller).</summary>
    public static TransposePlan Create(ReadOnlySpan<int> inputShape, ReadOnlySpan<int> perm)
    {
        int rank = inputShape.Length;
        var inputStrides = new int[rank];
        long count = 1;
        for (int i = rank - 1; i >= 0; i--) { inputStrides[i] = (int)count; count *= inputShape[i]; }

        var dims = new List<int>();
        var strides = new List<int>();
        for (int i = 0; i < rank; i++)
        {
            int dim = inputShape[perm[i]], stride = inputStrides[perm[i]];
            if (dim == 1) continue;
            int last = dims.Count - 1;
            if (last >= 0 && strides[last] == stride * dim)
            {
                dims[last] *= dim;
                strides[last] = stride;
            }
            else
            {
                dims.Add(dim);
                strides.Add(stride);
            }
        }
        if (dims.Count == 0 || count == 0) { dims = [(int)count]; strides = [1]; }
        return new TransposePlan(dims.ToArray(), strides.ToArray(), (int)count);
    }
}

/// <summary>Reference transpose over any element type of a fixed size.</summary>
public static class TransposeReference
{
    /// <summary>
    /// Writes output[j] for j = 0..count-1 in row-major output order from the input element at
    /// Σ counter[d]·InputStrides[d]. Allocates nothing (the odometer lives on the stack).
    /// </summary>
    public static void Transpose<T>(ReadOnlySpan<T> input, Span<T> output, TransposePlan plan) where T : unmanaged
        => Transpose(input, output, plan, 0, plan.Dims[^1]);

    /// <summary>
    /// Writes a column band of the output: in every output row (the innermost compacted dim,
    /// <c>plan.Dims[^1]</c> elements), only elements <c>[innerFirst, innerFirst + innerCount)</c>, with the values
    /// <see cref="Transpose{T}(ReadOnlySpan{T}, Span{T}, TransposePlan)"/> gives them; other elements are not touched.
    /// Bands that cover the rows write the whole output, so threads can each take one (for an NHWC → NCHW image:
    /// a band of pixels of every channel plane).
    /// </summary>
    public static void Transpose<T>(ReadOnlySpan<T> input, Span<T> output, TransposePlan plan, int innerFirst, int innerCount) where T : unmanaged
    {
        int count = plan.ElementCount;
        int[] dims = plan.Dims, strides = plan.InputStrides;
        int rank = dims.Length;
        int inner = dims[rank - 1], innerStride = strides[rank - 1];
        ArgumentOutOfRangeException.ThrowIfNegative(innerFirst);
        ArgumentOutOfRangeException.ThrowIfNegative(innerCount);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(innerFirst + innerCount, inner, nameof(innerCount));
        if (count == 0 || innerCount == 0) return;
        if (rank == 1 && innerStride == 1)
        {
            input.Slice(innerFirst, innerCount).CopyTo(output.Slice(innerFirst, innerCount));
            return;
        }
        if (rank == 2 && strides[0] == 1 && innerStride == dims[0] && dims[0] == 3)
        {
            Deinterleave3(input[..count], output[..count], inner, innerFirst, innerCount);
            return;
        }
        Span<int> counter = stackalloc int[rank];
        counter.Clear();
        int inputOffset = innerFirst * innerStride, outputOffset = 0;
        while (outputOffset < count)
        {
            var row = output.Slice(outputOffset + innerFirst, innerCount);
            if (innerStride == 1) input.Slice(inputOffset, innerCount).CopyTo(row);
            else
                for (int i = 0, src = inputOffset; i < row.Length; i++, src += innerStride) row[i] = input[src];
            outputOffset += inner;
            for (int axis = rank - 2; axis >= 0; axis--)
            {
                inputOffset += strides[axis];
                if (++counter[axis] < dims[axis]) break;
                inputOffset -= strides[axis] * dims[axis];
                counter[axis] = 0;
            }
        }
    }

    /// <summary>
    /// The interleaved-to-planar case of a 3-channel image (NHWC → NCHW of RGB input): output plane c, element i =
    /// input[3i + c], for i in [pixelFirst, pixelFirst + pixelCount). One pass writing the three planes together,
    /// instead of three strided passes.
    /// </summary>
    private static void Deinterleave3<T>(ReadOnlySpan<T> input, Span<T> output, int plane, int pixelFirst, int pixelCount) where T : unmanaged
    {
        Span<T> first = output.Slice(pixelFirst, pixelCount), second = output.Slice(plane + pixelFirst, pixelCount),
            third = output.Slice(2 * plane + pixelFirst, pixelCount);
        var source = input.Slice(3 * pixelFirst, 3 * pixelCount);
        int done = typeof(T) == typeof(byte)
            ? Deinterleave3Bytes(MemoryMarshal.AsBytes(source), MemoryMarshal.AsBytes(first), MemoryMarshal.AsBytes(second), MemoryMarshal.AsBytes(third))
            : 0;
        for (int i = done, j = 3 * done; i < first.Length && j + 2 < source.Length; i++, j += 3)
        {
            first[i] = source[j];
            second[i] = source[j + 1];
            third[i] = source[j + 2];
        }
    }

    /// <summary>
    /// Bytes, 16 pixels (48 bytes) at a time: LD3 on ARM64, else three byte shuffles per plane (out-of-range indices
    /// give zero, so the three partial vectors combine by OR). Returns the pixels done; the caller finishes the rest.
    /// </summary>
    private static int Deinterleave3Bytes(ReadOnlySpan<byte> source, Span<byte> first, Span<byte> second, Span<byte> third)
    {
        int i = 0, n = first.Length;
        if (AdvSimd.Arm64.IsSupported)
        {
            unsafe
            {
                fixed (byte* s = source)
                    for (; i + 16 <= n; i += 16)
                    {
                        var (p0, p1, p2) = AdvSimd.Arm64.Load3xVector128AndUnzip(s + 3 * i);
                        p0.CopyTo(first[i..]);
                        p1.CopyTo(second[i..]);
                        p2.CopyTo(third[i..]);
                    }
            }
            return i;
        }
        if (!Vector128.IsHardwareAccelerated) return 0;
        // Plane p, pixel k of a block reads byte 3k + p: from the first 16 bytes for 3k + p < 16, and so on.
        var a0 = Vector128.Create((byte)0, 3, 6, 9, 12, 15, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255);
        var b0 = Vector128.Create((byte)255, 255, 255, 255, 255, 255, 2, 5, 8, 11, 14, 255, 255, 255, 255, 255);
        var c0 = Vector128.Create((byte)255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 1, 4, 7, 10, 13);
        var a1 = Vector128.Create((byte)1, 4, 7, 10, 13, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255);
        var b1 = Vector128.Create((byte)255, 255, 255, 255, 255, 0, 3, 6, 9, 12, 15, 255, 255, 255, 255, 255);
        var c1 = Vector128.Create((byte)255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 2, 5, 8, 11, 14);
        var a2 = Vector128.Create((byte)2, 5, 8, 11, 14, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255);
        var b2 = Vector128.Create((byte)255, 255, 255, 255, 255, 1, 4, 7, 10, 13, 255, 255, 255, 255, 255, 255);
        var c2 = Vector128.Create((byte)255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 0, 3, 6, 9, 12, 15);
        for (; i + 16 <= n; i += 16)
        {
            var block = source.Slice(3 * i, 48);
            var x = Vector128.Create(block[..16]);
            var y = Vector128.Create(block.Slice(16, 16));
            var z = Vector128.Create(block.Slice(32, 16));
            (Vector128.Shuffle(x, a0) | Vector128.Shuffle(y, b0) | Vector128.Shuffle(z, c0)).CopyTo(first[i..]);
            (Vector128.Shuffle(x, a1) | Vector128.Shuffle(y, b1) | Vector128.Shuffle(z, c1)).CopyTo(second[i..]);
            (Vector128.Shuffle(x, a2) | Vector128.Shuffle(y, b2) | Vector128.Shuffle(z, c2)).CopyTo(third[i..]);
        }
        return i;
    }
}
