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
    {
        int count = plan.ElementCount;
        if (count == 0) return;
        int[] dims = plan.Dims, strides = plan.InputStrides;
        int rank = dims.Length;
        int inner = dims[rank - 1], innerStride = strides[rank - 1];
        if (rank == 1 && innerStride == 1)
        {
            input[..count].CopyTo(output);
            return;
        }
        if (rank == 2 && strides[0] == 1 && innerStride == dims[0] && dims[0] == 3)
        {
            Deinterleave3(input[..count], output[..count], inner);
            return;
        }
        Span<int> counter = stackalloc int[rank];
        counter.Clear();
        int inputOffset = 0, outputOffset = 0;
        while (outputOffset < count)
        {
            var row = output.Slice(outputOffset, inner);
            if (innerStride == 1) input.Slice(inputOffset, inner).CopyTo(row);
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
    /// input[3i + c]. One pass writing the three planes together, instead of three strided passes.
    /// </summary>
    private static void Deinterleave3<T>(ReadOnlySpan<T> input, Span<T> output, int plane) where T : unmanaged
    {
        Span<T> first = output[..plane], second = output.Slice(plane, plane), third = output.Slice(2 * plane, plane);
        var source = input[..(3 * plane)];
        for (int i = 0, j = 0; i < first.Length && j + 2 < source.Length; i++, j += 3)
        {
            first[i] = source[j];
            second[i] = source[j + 1];
            third[i] = source[j + 2];
        }
    }
}
