using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
using EdgeRuntime.Kernels.Common;

namespace EdgeRuntime.Kernels.Depthwise;

/// <summary>
/// Int8 depthwise convolution (QLinearConv with <c>group == C == M</c>) with one implementation per <see cref="IsaPath"/>.
/// Every path produces exactly the bytes of <see cref="DepthwiseConvReference.Run"/> (the definition: exact int32
/// accumulation, then <see cref="Requantization.Requantize"/>).
/// <para>
/// Fast paths apply when both dilations are 1, the width stride is 1 or 2, the kernel has at most
/// <see cref="MaxFastTaps"/> taps, <c>xZeroPoint</c> lies in the range of the input type, <c>yMin &lt;= yMax</c> lie both
/// in the int8 or both in the uint8 range and <c>|yZeroPoint| &lt;= 255</c>; anything else runs the reference, and so does
/// a channel whose multiplier is not finite. They work per channel and per output row, on raw input values: the
/// accumulator starts at <c>bias - xZeroPoint * Σ weights</c> (equal modulo 2^32 to the reference's sum of
/// <c>(x - xZeroPoint) * w</c>, and padding holds the stored byte of <c>xZeroPoint</c>, so it contributes nothing).
/// The <c>KernelHeight</c> most recent padded input rows live in a ring of widened rows in scratch (each input row is
/// widened once, stride-2 rows in a layout where every tap reads contiguous memory); each output row is then computed a
/// vector of columns at a time with all taps accumulated in registers and requantized straight into the output.
/// </para>
/// </summary>
public static partial class DepthwiseConv
{
    /// <summary>Largest <c>KernelHeight * KernelWidth</c> the fast paths handle (7×7 is 49).</summary>
    public const int MaxFastTaps = 64;

    /// <summary>Output columns are computed in blocks whose total is rounded up to this many.</summary>
    private const int ColumnRounding = 16;

    /// <summary>Extra bytes after a padded byte row, so vector loads past its logical end stay inside the buffer.</summary>
    private const int ByteRowSlack = 64;

    /// <summary>
    /// Ints of scratch <see cref="Run(IsaPath, in DepthwiseConvGeometry, ReadOnlySpan{byte}, bool, int, ReadOnlySpan{short}, ReadOnlySpan{int}, ReadOnlySpan{float}, int, int, int, Span{byte}, Span{int})"/>
    /// needs for <paramref name="g"/> on any path (0 when only the reference can run it). One buffer of this length
    /// serves one thread; threads splitting the channels need one each.
    /// </summary>
    public static int ScratchLength(in DepthwiseConvGeometry g)
    {
        if (!GeometryHasFastPath(g)) return 0;
        var plan = PlanePlan.For(g);
        return checked(g.KernelHeight * plan.RowInts + (plan.RowBytes + ByteRowSlack) / sizeof(int));
    }

    /// <summary>Runs every channel; see <see cref="Run(IsaPath, in DepthwiseConvGeometry, ReadOnlySpan{byte}, bool, int, ReadOnlySpan{short}, ReadOnlySpan{int}, ReadOnlySpan{float}, int, int, int, Span{byte}, Span{int}, int, int)"/>.</summary>
    public static void Run(IsaPath isa, in DepthwiseConvGeometry g, ReadOnlySpan<byte> x, bool xSigned, int xZeroPoint,
        ReadOnlySpan<short> weights, ReadOnlySpan<int> bias, ReadOnlySpan<float> multipliers,
        int yZeroPoint, int yMin, int yMax, Span<byte> y, Span<int> scratch) =>
        Run(isa, g, x, xSigned, xZeroPoint, weights, bias, multipliers, yZeroPoint, yMin, yMax, y, scratch, 0, g.Channels);

    /// <summary>
    /// Computes channels <c>[cFirst, cFirst + cCount)</c> of the depthwise convolution exactly as
    /// <see cref="DepthwiseConvReference.Run"/> defines it, with the code of <paramref name="isa"/>
    /// (Scalar: the reference; Vector128: portable vectors; Avx2, AvxVnni, Avx512Vnni: the AVX2 code; Neon, NeonDot: AdvSimd).
    /// Other channels of <paramref name="y"/> are not written, so threads may run disjoint channel ranges into one output.
    /// </summary>
    /// <param name="isa">Path to run; must be supported by this CPU.</param>
    /// <param name="g">Geometry (one image; the caller loops over the batch).</param>
    /// <param name="x">Input <c>[Channels, InHeight, InWidth]</c> bytes (uint8, or int8 as two's complement).</param>
    /// <param name="xSigned">True for int8 input.</param>
    /// <param name="xZeroPoint">Input zero point.</param>
    /// <param name="weights">Per channel <c>[Channels][KH*KW]</c>: weight minus that channel's weight zero point.</param>
    /// <param name="bias">Per-channel int32 bias, or empty for none.</param>
    /// <param name="multipliers">Per-channel requantization multiplier (<see cref="Requantization.Multiplier"/>).</param>
    /// <param name="yZeroPoint">Output zero point.</param>
    /// <param name="yMin">Lowest output value (type minimum, or higher for a fused activation).</param>
    /// <param name="yMax">Highest output value.</param>
    /// <param name="y">Output <c>[Channels, OutHeight, OutWidth]</c> bytes: the low byte of each requantized value.</param>
    /// <param name="scratch">At least <see cref="ScratchLength"/> ints, not shared with another thread.</param>
    /// <param name="cFirst">First channel to compute.</param>
    /// <param name="cCount">Number of channels to compute.</param>
    /// <exception cref="IsaNotSupportedException"><paramref name="isa"/> cannot run on this CPU.</exception>
    /// <exception cref="ArgumentException">Invalid geometry, channel range or span lengths.</exception>
    public static void Run(IsaPath isa, in DepthwiseConvGeometry g, ReadOnlySpan<byte> x, bool xSigned, int xZeroPoint,
        ReadOnlySpan<short> weights, ReadOnlySpan<int> bias, ReadOnlySpan<float> multipliers,
        int yZeroPoint, int yMin, int yMax, Span<byte> y, Span<int> scratch, int cFirst, int cCount)
    {
        g.Validate();
        if (cFirst < 0 || cCount < 0 || cFirst > g.Channels - cCount)
            throw new ArgumentException($"channel range [{cFirst}, {cFirst + cCount}) outside [0, {g.Channels})");
        if (x.Length < g.Channels * g.InPlane || y.Length < g.Channels * g.OutPlane || weights.Length < g.Channels * g.Taps
            || multipliers.Length < g.Channels || (!bias.IsEmpty && bias.Length < g.Channels))
            throw new ArgumentException("a depthwise convolution span is shorter than the geometry requires");
        if (cCount == 0) return;

        bool fast = isa != IsaPath.Scalar && GeometryHasFastPath(g)
            && xZeroPoint >= Requantization.MinOf(xSigned) && xZeroPoint <= Requantization.MaxOf(xSigned)
            && RequantizationFitsBytes(yZeroPoint, yMin, yMax);
        if (fast && scratch.Length < ScratchLength(g))
            throw new ArgumentException($"depthwise scratch has {scratch.Length} ints, needs {ScratchLength(g)}");

        switch (isa)
        {
            case IsaPath.Scalar:
                break;
            case IsaPath.Vector128:
                CpuFeatures.Require(isa);
                if (fast) { RunVector128(g, x, xSigned, xZeroPoint, weights, bias, multipliers, yZeroPoint, yMin, yMax, y, scratch, cFirst, cCount); return; }
                break;
            case IsaPath.Avx2 or IsaPath.AvxVnni or IsaPath.Avx512Vnni:
                CpuFeatures.Require(isa);
                if (fast && Avx2.IsSupported) { RunAvx2(g, x, xSigned, xZeroPoint, weights, bias, multipliers, yZeroPoint, yMin, yMax, y, scratch, cFirst, cCount); return; }
                break;
            case IsaPath.Neon or IsaPath.NeonDot:
                CpuFeatures.Require(isa);
                if (fast && AdvSimd.Arm64.IsSupported) { RunNeon(g, x, xSigned, xZeroPoint, weights, bias, multipliers, yZeroPoint, yMin, yMax, y, scratch, cFirst, cCount); return; }
                break;
            default:
                CpuFeatures.Require(isa);
                break;
        }
        DepthwiseConvReference.Run(g, x, xSigned, xZeroPoint, weights, bias, multipliers, yZeroPoint, yMin, yMax, y, cFirst, cCount);
    }

    /// <summary>True when the geometry (not the quantization parameters) suits the fast paths.</summary>
    public static bool GeometryHasFastPath(in DepthwiseConvGeometry g) =>
        g.DilationHeight == 1 && g.DilationWidth == 1 && (g.StrideWidth == 1 || g.StrideWidth == 2)
        && g.Taps <= MaxFastTaps && g.OutWidth <= 1 << 16 && g.KernelWidth <= 1 << 10;

    /// <summary>
    /// True when the fast requantization (float clamp, then saturating narrowing to 16 and 8 bits) is exact: the clamp
    /// range lies inside int8 or inside uint8 and the zero point is small enough for the int16 steps.
    /// </summary>
    private static bool RequantizationFitsBytes(int yZeroPoint, int yMin, int yMax) =>
        yMin <= yMax && ((yMin >= sbyte.MinValue && yMax <= sbyte.MaxValue) || (yMin >= byte.MinValue && yMax <= byte.MaxValue))
        && yZeroPoint >= -255 && yZeroPoint <= 255;

    /// <summary>Whether the requantized values are packed with signed (int8 clamp range) or unsigned saturation.</summary>
    private static bool PackSigned(int yMin, int yMax) => yMin >= sbyte.MinValue && yMax <= sbyte.MaxValue;

    /// <summary>
    /// Accumulator start of channel <paramref name="c"/> for raw input values: <c>bias - xZeroPoint * Σ w</c> (int32,
    /// wrapping like the reference's accumulation, so the final sums agree modulo 2^32).
    /// </summary>
    private static int RawValueBias(ReadOnlySpan<short> channelWeights, ReadOnlySpan<int> bias, int c, int xZeroPoint)
    {
        int sum = 0;
        foreach (short w in channelWeights) sum += w;
        return unchecked((bias.IsEmpty ? 0 : bias[c]) - xZeroPoint * sum);
    }

    /// <summary>
    /// Copies the low <paramref name="count"/> (&lt; 16) bytes of <paramref name="bytes"/> to <paramref name="destination"/>
    /// (the end of a channel plane, where a full vector store would write into the next channel).
    /// </summary>
    private static unsafe void StorePartial(Vector128<byte> bytes, byte* destination, int count)
    {
        byte* source = (byte*)&bytes;
        for (int i = 0; i < count; i++) destination[i] = source[i];
    }

    /// <summary>
    /// Layout of the padded rows the fast paths build per channel. Padded row <c>r</c> holds input row
    /// <c>r - PadTop</c> (all padding when outside the image); padded column <c>j</c> holds input column <c>j - PadLeft</c>.
    /// The output row <c>oh</c> reads padded rows <c>oh*StrideHeight + kh</c>. Each padded row first exists as
    /// <see cref="RowBytes"/> bytes (padding = the stored byte of xZeroPoint), then, widened to path-specific raw values,
    /// in ring slot <c>r % KernelHeight</c> of <see cref="RowInts"/> ints; output row <c>oh</c> is computed once rows up
    /// to <c>oh*StrideHeight + KernelHeight - 1</c> are built, when its rows are the last KernelHeight built.
    /// </summary>
    private readonly struct PlanePlan
    {
        /// <summary>Output columns rounded up to <see cref="ColumnRounding"/>: vector blocks compute (and never store) up to here.</summary>
        public int PaddedOutWidth { get; init; }
        /// <summary>Padded rows the output rows read: <c>(OutHeight - 1) * StrideHeight + KernelHeight</c>.</summary>
        public int Rows { get; init; }
        /// <summary>
        /// Padded columns kept per row, a multiple of 16, at least <c>StrideWidth * (PaddedOutWidth + KernelWidth + 1)</c>
        /// so every column any vector block reads (plus one for pairing) exists. Also the plane's row stride in ints.
        /// </summary>
        public int RowBytes { get; init; }
        /// <summary>Ring slot stride in ints (= <see cref="RowBytes"/>).</summary>
        public int RowInts => RowBytes;

        public static PlanePlan For(in DepthwiseConvGeometry g)
        {
            int paddedOut = (g.OutWidth + ColumnRounding - 1) / ColumnRounding * ColumnRounding;
            int rowBytes = (g.StrideWidth * (paddedOut + g.KernelWidth + 1) + 15) / 16 * 16;
            return new PlanePlan { PaddedOutWidth = paddedOut, Rows = (g.OutHeight - 1) * g.StrideHeight + g.KernelHeight, RowBytes = rowBytes };
        }
    }

    /// <summary>
    /// Copies input row <c>paddedRow - PadTop</c> of <paramref name="plane"/> into columns <c>[PadLeft, PadLeft + InWidth)</c>
    /// of the padded byte row (cut at <see cref="PlanePlan.RowBytes"/>). Returns false, copying nothing, when that row is
    /// outside the image: the whole padded row is padding and the caller writes zeros instead.
    /// </summary>
    private static bool CopyInputRow(in DepthwiseConvGeometry g, ReadOnlySpan<byte> plane, int paddedRow, Span<byte> row)
    {
        int ih = paddedRow - g.PadTop;
        if ((uint)ih >= (uint)g.InHeight) return false;
        int count = Math.Min(g.InWidth, row.Length - ByteRowSlack - g.PadLeft);
        if (count > 0) plane.Slice(ih * g.InWidth, count).CopyTo(row.Slice(g.PadLeft, count));
        return true;
    }

}
