using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using EdgeRuntime.Kernels.Common;

namespace EdgeRuntime.Kernels.Conv;

/// <summary>
/// Static geometry of a 2-D grouped convolution in NCHW layout (1-D convolutions use
/// <c>InHeight = KernelHeight = OutHeight = 1</c>). Pads are the leading (top/left) pads; the
/// trailing pads are implied by the output size.
/// </summary>
public readonly record struct QLinearConvGeometry(
    int Batch, int InChannels, int InHeight, int InWidth,
    int OutChannels, int OutHeight, int OutWidth,
    int KernelHeight, int KernelWidth,
    int StrideHeight, int StrideWidth,
    int PadTop, int PadLeft,
    int DilationHeight, int DilationWidth,
    int Group)
{
    /// <summary>Input channels per group.</summary>
    public int InChannelsPerGroup => InChannels / Group;
    /// <summary>Output channels per group.</summary>
    public int OutChannelsPerGroup => OutChannels / Group;
    /// <summary>Reduction length per output value: <c>InChannelsPerGroup * KernelHeight * KernelWidth</c>.</summary>
    public int ReductionLength => InChannelsPerGroup * KernelHeight * KernelWidth;
    /// <summary>Output pixels per image: <c>OutHeight * OutWidth</c>.</summary>
    public int OutputPixels => OutHeight * OutWidth;
}

/// <summary>
/// Reference QLinearConv (ONNX opset 10). For output channel <c>m</c> (group <c>g</c>) and output pixel <c>(oh, ow)</c>:
/// <code>
/// acc = bias[m] + Σ_{c in group g, kh, kw} (x[n, c, ih, iw] - xZeroPoint) * (w[m, c', kh, kw] - wZeroPoint[m])
///   with ih = oh*strideH - padTop + kh*dilationH, iw likewise; positions outside the image contribute 0
///   (they hold xZeroPoint before the subtraction)
/// y[n, m, oh, ow] = Requantization.Requantize(acc, multiplier[m], yZeroPoint, yMin, yMax)
/// </code>
/// with <c>multiplier[m] = Requantization.Multiplier(xScale, wScale[m], yScale)</c>. Accumulation is exact int32.
/// Implementation: per (image, group) the receptive fields are expanded into an int32 column matrix
/// <c>col[k, p]</c> (k = c'*KH*KW + kh*KW + kw, p = oh*OW + ow) holding <c>x - xZeroPoint</c>, then
/// multiplied by the pre-subtracted weights <c>[M, K]</c>.
/// </summary>
public static class QLinearConvReference
{
    /// <summary>Output pixels processed together so a column tile stays in cache.</summary>
    public const int PixelTile = 256;

    /// <summary>Length of the int32 column scratch <see cref="Run"/> needs.</summary>
    public static int ColumnScratchLength(in QLinearConvGeometry g) => checked(g.ReductionLength * g.OutputPixels);

    /// <summary>Output channels accumulated together (each column vector is loaded once for all of them).</summary>
    public const int ChannelBlock = 4;

    /// <summary>Length of the int32 accumulator scratch <see cref="Run"/> needs.</summary>
    public static int AccumulatorScratchLength(in QLinearConvGeometry g) => ChannelBlock * PixelTile;

    /// <summary>
    /// Precomputes <c>packed[m, k] = w[m, k] - wZeroPoint[m]</c> (weights in ONNX layout <c>[M, C/group, KH, KW]</c>).
    /// </summary>
    /// <param name="weights">Weight bytes (uint8 or int8 per <paramref name="weightsSigned"/>).</param>
    /// <param name="weightsSigned">True for int8 weights.</param>
    /// <param name="weightZeroPoints">One zero point per output channel.</param>
    /// <param name="g">Geometry.</param>
    /// <param name="packed">Receives <c>OutChannels * ReductionLength</c> values.</param>
    public static void PackWeights(ReadOnlySpan<byte> weights, bool weightsSigned, ReadOnlySpan<int> weightZeroPoints,
        in QLinearConvGeometry g, Span<short> packed)
    {
        int k = g.ReductionLength;
        for (int m = 0; m < g.OutChannels; m++)
            for (int i = 0; i < k; i++)
                packed[m * k + i] = (short)(QuantizedByte.Value(weights[m * k + i], weightsSigned) - weightZeroPoints[m]);
    }

    /// <summary>Runs the convolution (see the class summary for the exact arithmetic).</summary>
    /// <param name="g">Geometry.</param>
    /// <param name="x">Input <c>[N, C, H, W]</c> bytes.</param>
    /// <param name="xSigned">True for int8 input.</param>
    /// <param name="xZeroPoint">Input zero point.</param>
    /// <param name="packedWeights">From <see cref="PackWeights"/>.</param>
    /// <param name="bias">Per-output-channel int32 bias, or empty for none.</param>
    /// <param name="multipliers">Per-output-channel requantization multiplier.</param>
    /// <param name="yZeroPoint">Output zero point.</param>
    /// <param name="yMin">Lowest output value (type minimum, or higher for a fused activation).</param>
    /// <param name="yMax">Highest output value.</param>
    /// <param name="y">Output <c>[N, M, OH, OW]</c> bytes.</param>
    /// <param name="columnScratch"><see cref="ColumnScratchLength"/> ints.</param>
    /// <param name="accumulatorScratch"><see cref="AccumulatorScratchLength"/> ints.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(in QLinearConvGeometry g, ReadOnlySpan<byte> x, bool xSigned, int xZeroPoint,
        ReadOnlySpan<short> packedWeights, ReadOnlySpan<int> bias, ReadOnlySpan<float> multipliers,
        int yZeroPoint, int yMin, int yMax, Span<byte> y, Span<int> columnScratch, Span<int> accumulatorScratch)
    {
        int pixels = g.OutputPixels, reduction = g.ReductionLength;
        int cPerGroup = g.InChannelsPerGroup, mPerGroup = g.OutChannelsPerGroup;
        int imageSize = g.InHeight * g.InWidth;
        Span<int> col = columnScratch[..(reduction * pixels)];
        for (int n = 0; n < g.Batch; n++)
        {
            for (int group = 0; group < g.Group; group++)
            {
                var groupInput = x.Slice((n * g.InChannels + group * cPerGroup) * imageSize, cPerGroup * imageSize);
                BuildColumns(g, groupInput, xSigned, xZeroPoint, col);
                for (int tileStart = 0; tileStart < pixels; tileStart += PixelTile)
                {
                    int tileLength = Math.Min(PixelTile, pixels - tileStart);
                    for (int mg = 0; mg < mPerGroup; mg += ChannelBlock)
                    {
                        int mFirst = group * mPerGroup + mg, mCount = Math.Min(ChannelBlock, mPerGroup - mg);
                        for (int j = 0; j < mCount; j++)
                            accumulatorScratch.Slice(j * PixelTile, tileLength).Fill(bias.IsEmpty ? 0 : bias[mFirst + j]);
                        AccumulateTile(accumulatorScratch, col, pixels, tileStart, tileLength, packedWeights.Slice(mFirst * reduction, mCount * reduction), reduction, mCount);
                        for (int j = 0; j < mCount; j++)
                        {
                            int m = mFirst + j;
                            var acc = accumulatorScratch.Slice(j * PixelTile, tileLength);
                            var yRow = y.Slice((n * g.OutChannels + m) * pixels + tileStart, tileLength);
                            float multiplier = multipliers[m];
                            for (int p = 0; p < tileLength; p++)
                                yRow[p] = (byte)Requantization.Requantize(acc[p], multiplier, yZeroPoint, yMin, yMax);
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// For <paramref name="channelCount"/> (≤ <see cref="ChannelBlock"/>) output channels at once:
    /// <c>acc[j * PixelTile + p] += Σ_k weights[j * reduction + k] * col[k * pixels + tileStart + p]</c>,
    /// exact int32 (wrapping like the int32 arithmetic it defines). Each column vector is loaded once for all channels.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void AccumulateTile(Span<int> accumulators, ReadOnlySpan<int> col, int pixels, int tileStart, int tileLength,
        ReadOnlySpan<short> weights, int reduction, int channelCount)
    {
        int vectorWidth = Vector<int>.Count;
        int vectorEnd = Vector.IsHardwareAccelerated ? tileLength - tileLength % vectorWidth : 0;
        fixed (int* accBase = accumulators)
        fixed (int* colBase = col)
        fixed (short* wBase = weights)
        {
            // Unused channel slots point at channel 0 with weight 0 so the loop body stays branch-free.
            int* a0 = accBase, a1 = accBase + PixelTile, a2 = accBase + 2 * PixelTile, a3 = accBase + 3 * PixelTile;
            for (int k = 0; k < reduction; k++)
            {
                int w0 = wBase[k];
                int w1 = channelCount > 1 ? wBase[reduction + k] : 0;
                int w2 = channelCount > 2 ? wBase[2 * reduction + k] : 0;
                int w3 = channelCount > 3 ? wBase[3 * reduction + k] : 0;
                if ((w0 | w1 | w2 | w3) == 0) continue;
                int* column = colBase + k * pixels + tileStart;
                var v0 = new Vector<int>(w0);
                var v1 = new Vector<int>(w1);
                var v2 = new Vector<int>(w2);
                var v3 = new Vector<int>(w3);
                int p = 0;
                for (; p < vectorEnd; p += vectorWidth)
                {
                    var c = Unsafe.Read<Vector<int>>(column + p);
                    Unsafe.Write(a0 + p, Unsafe.Read<Vector<int>>(a0 + p) + c * v0);
                    Unsafe.Write(a1 + p, Unsafe.Read<Vector<int>>(a1 + p) + c * v1);
                    Unsafe.Write(a2 + p, Unsafe.Read<Vector<int>>(a2 + p) + c * v2);
                    Unsafe.Write(a3 + p, Unsafe.Read<Vector<int>>(a3 + p) + c * v3);
                }
                for (; p < tileLength; p++)
                {
                    int c = column[p];
                    a0[p] += c * w0;
                    a1[p] += c * w1;
                    a2[p] += c * w2;
                    a3[p] += c * w3;
                }
            }
        }
    }

    /// <summary>
    /// Fills <c>col[k * pixels + p]</c> with <c>x - xZeroPoint</c> at the input position read by reduction index
    /// <c>k</c> for output pixel <c>p</c>, or 0 where that position is padding.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void BuildColumns(in QLinearConvGeometry g, ReadOnlySpan<byte> groupInput, bool xSigned, int xZeroPoint, Span<int> col)
    {
        int flip = QuantizedByte.FlipMask(xSigned);
        int subtract = xZeroPoint + QuantizedByte.Offset(xSigned); // (b ^ flip) - subtract == value - zeroPoint
        int pixels = g.OutputPixels;
        int k = 0;
        for (int c = 0; c < g.InChannelsPerGroup; c++)
        {
            var plane = groupInput.Slice(c * g.InHeight * g.InWidth, g.InHeight * g.InWidth);
            for (int kh = 0; kh < g.KernelHeight; kh++)
                for (int kw = 0; kw < g.KernelWidth; kw++, k++)
                {
                    var row = col.Slice(k * pixels, pixels);
                    int p = 0;
                    for (int oh = 0; oh < g.OutHeight; oh++)
                    {
                        int ih = oh * g.StrideHeight - g.PadTop + kh * g.DilationHeight;
                        if ((uint)ih >= (uint)g.InHeight)
                        {
                            row.Slice(p, g.OutWidth).Clear();
                            p += g.OutWidth;
                            continue;
                        }
                        var inputRow = plane.Slice(ih * g.InWidth, g.InWidth);
                        int iw = kw * g.DilationWidth - g.PadLeft;
                        for (int ow = 0; ow < g.OutWidth; ow++, p++, iw += g.StrideWidth)
                            row[p] = (uint)iw < (uint)g.InWidth ? (inputRow[iw] ^ flip) - subtract : 0;
                    }
                }
        }
    }
}
