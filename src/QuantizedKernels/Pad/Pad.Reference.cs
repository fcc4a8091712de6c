namespace EdgeRuntime.Kernels.Pad;

/// <summary>How ONNX Pad fills positions outside the input.</summary>
public enum PadMode
{
    /// <summary>A constant value.</summary>
    Constant,
    /// <summary>Mirror without repeating the edge: <c>[a b c]</c> padded by 2 on the left gives <c>c b a b c</c>.</summary>
    Reflect,
    /// <summary>Repeat the edge element.</summary>
    Edge,
    /// <summary>Periodic continuation: <c>[a b c]</c> padded by 2 on the left gives <c>b c a b c</c>.</summary>
    Wrap,
}

/// <summary>
/// N-dimensional Pad (any element type). Each output axis is described by an index map: for output
/// coordinate <c>o</c> along axis <c>d</c>, <c>map_d[o]</c> is the input coordinate it copies, or -1 to
/// use the constant. Negative pads (cropping) are just maps that skip input coordinates.
/// </summary>
public static class PadReference
{
    /// <summary>
    /// Fills <paramref name="map"/> (length = output extent of the axis) for an axis of input extent
    /// <paramref name="inputDim"/> with <paramref name="padBegin"/> positions added (removed if negative)
    /// at the start: output <c>o</c> corresponds to input coordinate <c>i = o - padBegin</c>, kept when inside
    /// the input, otherwise mapped by <paramref name="mode"/> (Constant: -1; Edge: clamped; Reflect: mirrored
    /// about the end elements; Wrap: modulo). <paramref name="inputDim"/> must be positive unless mode is Constant.
    /// </summary>
    public static void BuildAxisMap(PadMode mode, int inputDim, int padBegin, Span<int> map)
    {
        for (int o = 0; o < map.Length; o++)
        {
            int i = o - padBegin;
            if (i >= 0 && i < inputDim) { map[o] = i; continue; }
            switch (mode)
            {
                case PadMode.Constant:
                    map[o] = -1;
                    break;
                case PadMode.Edge:
                    map[o] = Math.Clamp(i, 0, inputDim - 1);
                    break;
                case PadMode.Wrap:
                    map[o] = ((i % inputDim) + inputDim) % inputDim;
                    break;
                case PadMode.Reflect:
                    if (inputDim == 1) { map[o] = 0; break; }
                    int period = 2 * (inputDim - 1);
                    int r = ((i % period) + period) % period;
                    map[o] = r < inputDim ? r : period - r;
                    break;
                default:
                    throw new ArgumentOutOfRangeException(nameof(mode));
            }
        }
    }

    /// <summary>
    /// <c>output[o_0,…,o_{r-1}] = input[map_0[o_0],…,map_{r-1}[o_{r-1}]]</c>, or <paramref name="constant"/> when any
    /// map entry is -1. <paramref name="axisMaps"/> is the concatenation of the per-axis maps (axis 0 first,
    /// each <c>outputShape[d]</c> long). Row-major tensors; a rank-0 tensor is copied.
    /// </summary>
    public static void Pad<T>(ReadOnlySpan<int> inputShape, ReadOnlySpan<int> outputShape, ReadOnlySpan<int> axisMaps, T constant,
        ReadOnlySpan<T> input, Span<T> output) where T : unmanaged
    {
        int rank = inputShape.Length;
        if (rank == 0) { output[0] = input[0]; return; }
        Span<int> inputStrides = stackalloc int[rank];
        Span<int> mapStart = stackalloc int[rank];
        Span<int> coordinate = stackalloc int[rank];
        int stride = 1, start = 0;
        for (int d = rank - 1; d >= 0; d--) { inputStrides[d] = stride; stride *= inputShape[d]; }
        for (int d = 0; d < rank; d++) { mapStart[d] = start; start += outputShape[d]; }
        int width = outputShape[rank - 1];
        var lastMap = axisMaps.Slice(mapStart[rank - 1], width);
        int rows = 1;
        for (int d = 0; d < rank - 1; d++) rows *= outputShape[d];
        if (width == 0) return;
        for (int row = 0; row < rows; row++)
        {
            var dst = output.Slice(row * width, width);
            int sourceRow = 0;
            bool constantRow = false;
            for (int d = 0; d < rank - 1; d++)
            {
                int i = axisMaps[mapStart[d] + coordinate[d]];
                if (i < 0) { constantRow = true; break; }
                sourceRow += i * inputStrides[d];
            }
            if (constantRow) dst.Fill(constant);
            else
                for (int x = 0; x < width; x++)
                {
                    int i = lastMap[x];
                    dst[x] = i < 0 ? constant : input[sourceRow + i];
                }
            // Advance the row coordinate (odometer over the leading axes).
            for (int d = rank - 2; d >= 0; d--)
            {
                if (++coordinate[d] < outputShape[d]) break;
                coordinate[d] = 0;
            }
        }
    }
}
