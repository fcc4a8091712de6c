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

    /// <summary>Length of the int32 accumulator scratch <see cref="Run"/> needs.</summary>
    public static int AccumulatorScratchLength(in QLinearConvGeometry g) => PixelTile;

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
                    Span<int> acc = accumulatorScratch[..tileLength];
                    for (int mg = 0; mg < mPerGroup; mg++)
                    {
                        int m = group * mPerGroup + mg;
                        acc.Fill(bias.IsEmpty ? 0 : bias[m]);
                        var weightRow = packedWeights.Slice(m * reduction, reduction);
                        for (int k = 0; k < reduction; k++)
                        {
                            int w = weightRow[k];
                            if (w != 0) MultiplyAdd(acc, col.Slice(k * pixels + tileStart, tileLength), w);
                        }
                        var yRow = y.Slice((n * g.OutChannels + m) * pixels + tileStart, tileLength);
                        float multiplier = multipliers[m];
                        for (int p = 0; p < tileLength; p++)
                            yRow[p] = (byte)Requantization.Requantize(acc[p], multiplier, yZeroPoint, yMin, yMax);
                    }
                }
            }
        }
    }

    /// <summary>acc[i] += column[i] * weight (exact int32 arithmetic).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MultiplyAdd(Span<int> acc, ReadOnlySpan<int> column, int weight)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated && acc.Length >= Vector<int>.Count)
        {
            var accVectors = MemoryMarshal.Cast<int, Vector<int>>(acc);
            var columnVectors = MemoryMarshal.Cast<int, Vector<int>>(column);
            var w = new Vector<int>(weight);
            for (int v = 0; v < accVectors.Length; v++) accVectors[v] += columnVectors[v] * w;
            i = accVectors.Length * Vector<int>.Count;
        }
        for (; i < acc.Length; i++) acc[i] += column[i] * weight;
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
