using System.Runtime.CompilerServices;
using EdgeRuntime.Kernels.Gemm;

namespace EdgeRuntime.Kernels.Conv;

/// <summary>
/// Fast float32 Conv: per image and group, the input patches are gathered (im2col) one column panel
/// at a time straight into <see cref="GemmFloatPacked"/>'s packed-B layout (<c>ReductionLength × ColumnBlock</c>
/// floats, row <c>p = (c*kH + ky)*kW + kx</c>, column = output position), and multiplied by the weights,
/// which are packed once (<see cref="PackWeights"/>) as packed-A per group. Same result as
/// <see cref="ConvFloatReference.Conv"/> up to float summation order.
/// </summary>
public static class ConvFloatIm2Col
{
    /// <summary>Floats needed by <see cref="PackWeights"/>.</summary>
    public static int PackedWeightsLength(in ConvFloatShape s) =>
        s.Groups * GemmFloatPacked.PackedALength(s.OutputChannelsPerGroup, s.ReductionLength);

    /// <summary>Scratch floats <see cref="Run"/> needs (one im2col panel).</summary>
    public static int ScratchLength(in ConvFloatShape s) => s.ReductionLength * GemmFloatPacked.ColumnBlock;

    /// <summary>
    /// Packs <c>W[M, C/group, kH, kW]</c> (each group's rows are a row-major <c>[M/group, ReductionLength]</c>
    /// matrix) into per-group packed-A blocks.
    /// </summary>
    public static void PackWeights(in ConvFloatShape s, ReadOnlySpan<float> weights, Span<float> packed)
    {
        int mg = s.OutputChannelsPerGroup, k = s.ReductionLength;
        int perGroup = GemmFloatPacked.PackedALength(mg, k);
        for (int g = 0; g < s.Groups; g++)
            GemmFloatPacked.PackA(weights.Slice(g * mg * k, mg * k), k, false, mg, k, packed.Slice(g * perGroup, perGroup));
    }

    /// <summary>
    /// Runs the convolution. <paramref name="bias"/> may be empty; outputs are clamped to
    /// [<paramref name="min"/>, <paramref name="max"/>] (pass 0 / +∞ to fuse a Relu).
    /// </summary>
    public static void Run(in ConvFloatShape s, ReadOnlySpan<float> input, ReadOnlySpan<float> packedWeights, ReadOnlySpan<float> bias,
        Span<float> output, Span<float> scratch, float min = float.NegativeInfinity, float max = float.PositiveInfinity)
    {
        int nr = GemmFloatPacked.ColumnBlock;
        int mg = s.OutputChannelsPerGroup, cg = s.InputChannelsPerGroup, k = s.ReductionLength;
        int plane = s.OutputPlane;
        int perGroup = GemmFloatPacked.PackedALength(mg, k);
        if (scratch.Length < ScratchLength(s)) throw new ArgumentException("scratch is too small", nameof(scratch));
        if (packedWeights.Length < PackedWeightsLength(s)) throw new ArgumentException("packed weights too small", nameof(packedWeights));
        if (input.Length < s.Batch * s.InputChannels * s.InputPlane || output.Length < s.Batch * s.OutputChannels * plane)
            throw new ArgumentException("input or output too small");
        var panel = scratch.Slice(0, k * nr);
        Span<int> rowBase = stackalloc int[nr];
        Span<int> columnBase = stackalloc int[nr];
        for (int n = 0; n < s.Batch; n++)
        for (int g = 0; g < s.Groups; g++)
        {
            var groupInput = input.Slice((n * s.InputChannels + g * cg) * s.InputPlane, cg * s.InputPlane);
            var groupOutput = output.Slice((n * s.OutputChannels + g * mg) * plane, mg * plane);
            var groupWeights = packedWeights.Slice(g * perGroup, perGroup);
            var epilogue = new GemmFloatEpilogue { RowBias = bias.IsEmpty ? default : bias.Slice(g * mg, mg), Min = min, Max = max };
            for (int p0 = 0; p0 < plane; p0 += nr)
            {
                int columns = Math.Min(nr, plane - p0);
                PackPanel(s, groupInput, p0, columns, panel, rowBase, columnBase);
                GemmFloatPacked.MultiplyPanel(mg, k, groupWeights, panel, groupOutput, plane, p0, columns, epilogue);
            }
        }
    }

    /// <summary>Gathers output positions [p0, p0+columns) of one group's patches into a packed-B panel.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackPanel(in ConvFloatShape s, ReadOnlySpan<float> groupInput, int p0, int columns, Span<float> panel, Span<int> rowBase, Span<int> columnBase)
    {
        int nr = GemmFloatPacked.ColumnBlock;
        int h = s.InputHeight, w = s.InputWidth, inPlane = s.InputPlane;
        int kh = s.KernelHeight, kw = s.KernelWidth, cg = s.InputChannelsPerGroup;

        // A pointwise stride-1 unpadded conv reads each channel's plane as is.
        if (kh == 1 && kw == 1 && s.StrideHeight == 1 && s.StrideWidth == 1 && s.PadTop == 0 && s.PadLeft == 0 && s.OutputWidth == w && s.OutputHeight == h)
        {
            for (int c = 0; c < cg; c++)
            {
                var dst = panel.Slice(c * nr, nr);
                groupInput.Slice(c * inPlane + p0, columns).CopyTo(dst);
                dst.Slice(columns).Clear();
            }
            return;
        }

        // Top-left input coordinate of each column's window; padding columns get a row far outside the image so they read 0.
        for (int j = 0; j < nr; j++)
        {
            if (j < columns)
            {
                int p = p0 + j;
                int oy = p / s.OutputWidth, ox = p - oy * s.OutputWidth;
                rowBase[j] = oy * s.StrideHeight - s.PadTop;
                columnBase[j] = ox * s.StrideWidth - s.PadLeft;
            }
            else
            {
                rowBase[j] = int.MinValue / 2;
                columnBase[j] = 0;
            }
        }
        // When every column lies in one output row with stride 1, a kernel tap reads a contiguous input run.
        bool singleRowUnitStride = columns == nr && s.StrideWidth == 1 && rowBase[0] == rowBase[nr - 1];
        int row = 0;
        for (int c = 0; c < cg; c++)
        {
            var channel = groupInput.Slice(c * inPlane, inPlane);
            for (int ky = 0; ky < kh; ky++)
            {
                int dy = ky * s.DilationHeight;
                for (int kx = 0; kx < kw; kx++, row++)
                {
                    int dx = kx * s.DilationWidth;
                    var dst = panel.Slice(row * nr, nr);
                    if (singleRowUnitStride)
                    {
                        int iy = rowBase[0] + dy, ix0 = columnBase[0] + dx;
                        if ((uint)iy < (uint)h && ix0 >= 0 && ix0 + nr <= w)
                        {
                            channel.Slice(iy * w + ix0, nr).CopyTo(dst);
                            continue;
                        }
                    }
                    for (int j = 0; j < nr; j++)
                    {
                        int iy = rowBase[j] + dy, ix = columnBase[j] + dx;
                        dst[j] = (uint)iy < (uint)h && (uint)ix < (uint)w ? channel[iy * w + ix] : 0f;
                    }
                }
            }
        }
    }
}

/// <summary>
/// Direct float32 depthwise Conv (<c>Groups == InputChannels == OutputChannels</c>, one filter per channel,
/// weights in their original <c>[C, 1, kH, kW]</c> layout). Same result as <see cref="ConvFloatReference.Conv"/>.
/// </summary>
public static class ConvFloatDepthwise
{
    /// <summary>Runs the depthwise convolution; <paramref name="bias"/> may be empty; outputs clamped to [min, max].</summary>
    public static void Run(in ConvFloatShape s, ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias,
        Span<float> output, float min = float.NegativeInfinity, float max = float.PositiveInfinity)
    {
        if (s.Groups != s.InputChannels || s.OutputChannels != s.InputChannels) throw new ArgumentException("not a depthwise convolution");
        int h = s.InputHeight, w = s.InputWidth, kh = s.KernelHeight, kw = s.KernelWidth;
        int dh = s.DilationHeight, dw = s.DilationWidth;
        for (int n = 0; n < s.Batch; n++)
        for (int c = 0; c < s.InputChannels; c++)
        {
            var channel = input.Slice((n * s.InputChannels + c) * s.InputPlane, s.InputPlane);
            var filter = weights.Slice(c * kh * kw, kh * kw);
            var dst = output.Slice((n * s.OutputChannels + c) * s.OutputPlane, s.OutputPlane);
            float b = bias.IsEmpty ? 0f : bias[c];
            for (int oy = 0; oy < s.OutputHeight; oy++)
            {
                int iy0 = oy * s.StrideHeight - s.PadTop;
                // Kernel rows whose input row is inside the image.
                int kyBegin = iy0 >= 0 ? 0 : (-iy0 + dh - 1) / dh;
                int kyEnd = Math.Min(kh, iy0 >= h ? 0 : (h - 1 - iy0) / dh + 1);
                for (int ox = 0; ox < s.OutputWidth; ox++)
                {
                    int ix0 = ox * s.StrideWidth - s.PadLeft;
                    int kxBegin = ix0 >= 0 ? 0 : (-ix0 + dw - 1) / dw;
                    int kxEnd = Math.Min(kw, ix0 >= w ? 0 : (w - 1 - ix0) / dw + 1);
                    float sum = b;
                    for (int ky = kyBegin; ky < kyEnd; ky++)
                    {
                        int rowOffset = (iy0 + ky * dh) * w + ix0;
                        for (int kx = kxBegin; kx < kxEnd; kx++)
                            sum += channel[rowOffset + kx * dw] * filter[ky * kw + kx];
                    }
                    dst[oy * s.OutputWidth + ox] = Math.Clamp(sum, min, max);
                }
            }
        }
    }
}
