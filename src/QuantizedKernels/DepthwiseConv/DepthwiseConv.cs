using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
using EdgeRuntime.Kernels.Common;

namespace EdgeRuntime.Kernels.Depthwise;

/// <summary>
/// Int8 depthwise convolution (QLinearConv with <c>group == C == M</c>) with one implementation per <see cref="IsaPath"/>.
/// Every path produces exactly the bytes of <see cref="DepthwiseConvReference"/> (the definition: exact int32
/// accumulation, then <see cref="Requantization.Requantize"/>).
/// <para>
/// Fast paths apply when both dilations are 1, the width stride is 1 or 2, the kernel has at most
/// <see cref="MaxFastTaps"/> taps, <c>xZeroPoint</c> lies in the range of the input type, <c>yMin &lt;= yMax</c> lie both
/// in the int8 or both in the uint8 range and <c>|yZeroPoint| &lt;= 255</c>; anything else runs the reference, and so does
/// a channel whose multiplier is not finite. They work per channel and per output row, on raw input values: the
/// accumulator starts at <c>bias - xZeroPoint * Σ weights</c> (equal modulo 2^32 to the reference's sum of
/// <c>(x - xZeroPoint) * w</c>, and padding holds the stored byte of <c>xZeroPoint</c>, so it contributes nothing).
/// Layers up to 128 output columns with equal strides (all of MobileNet's) run in flat-plane mode (<see cref="FlatPlan"/>):
/// a channel's whole padded input is laid out without gaps between rows and computed as one flattened output row, so
/// no work is spent per row; the SDOT path (NeonDot) keeps that plane in int8 and gathers each output's taps with TBL.
/// Other layers keep the most recent padded input rows in a ring of <c>KernelHeight + 1</c> widened rows in scratch (each
/// input row is widened once, stride-2 rows in a layout where every tap reads contiguous memory); each output row (two
/// at a time for stride-1 3×3 on AVX2 and NEON) is then computed a vector of columns at a time with all taps
/// accumulated in registers and requantized straight into the output.
/// </para>
/// <para>
/// A call computes a range of channels and a band of output rows (all of them by default), so threads can split a layer
/// either way; a band runs as a layer of its own over the input rows it reads (see <c>RowBand</c>), so the bytes do not
/// depend on the split.
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
        return checked(PlaneScratchLength(g) + (ChannelGroupsApply(g) ? ChannelGroupScratchInts(g) : 0));
    }

    /// <summary>
    /// Ints of scratch <see cref="Run(IsaPath, in DepthwiseConvGeometry, ReadOnlySpan{byte}, bool, int, DepthwiseConvWeights, ReadOnlySpan{int}, ReadOnlySpan{float}, int, int, int, Span{byte}, Span{int}, int, int, int, int)"/>
    /// needs for output rows <c>[rowFirst, rowFirst + rowCount)</c> of <paramref name="g"/> (a band of rows is computed
    /// as a layer of its own, whose buffers may be larger than the whole layer's: a small plane is kept whole).
    /// </summary>
    /// <exception cref="ArgumentException">The rows are not within <c>[0, OutHeight)</c>.</exception>
    public static int ScratchLength(in DepthwiseConvGeometry g, int rowFirst, int rowCount)
    {
        CheckRows(g, rowFirst, rowCount);
        var band = new RowBand(g, rowFirst, rowCount);
        return band.Valid ? ScratchLength(band.Rows) : 0;
    }

    private static void CheckRows(in DepthwiseConvGeometry g, int rowFirst, int rowCount)
    {
        if (rowFirst < 0 || rowCount < 0 || rowFirst > g.OutHeight - rowCount)
            throw new ArgumentException($"output row range [{rowFirst}, {rowFirst + rowCount}) outside [0, {g.OutHeight})");
    }

    /// <summary>
    /// Output rows <c>[RowFirst, RowFirst + Rows.OutHeight)</c> of a layer, computed as a layer of their own:
    /// <see cref="Rows"/> is the geometry of just those rows (the input rows they read, and the padding above them),
    /// whose channel planes start <see cref="XOffset"/> and <see cref="YOffset"/> bytes into the layer's x and y and
    /// lie <see cref="XPlaneStride"/> and <see cref="YPlaneStride"/> bytes apart (the layer's planes). The paths take a
    /// band, so that threads can split a layer by rows as well as by channels (a layer of 32 channels has only two
    /// ranges of 16 for four threads).
    /// </summary>
    private readonly struct RowBand
    {
        /// <summary>The whole layer.</summary>
        public readonly DepthwiseConvGeometry Layer;
        /// <summary>The band as a layer (equal to <see cref="Layer"/> for a band of all rows).</summary>
        public readonly DepthwiseConvGeometry Rows;
        /// <summary>First output row of the band in the layer.</summary>
        public readonly int RowFirst;
        /// <summary>Bytes from the start of x to the first input row the band reads; from y to its first output row.</summary>
        public readonly int XOffset, YOffset;
        /// <summary>False when the band reads only padding rows (then <see cref="Rows"/> is meaningless and the reference runs it).</summary>
        public readonly bool Valid;

        public RowBand(in DepthwiseConvGeometry g, int rowFirst, int rowCount)
        {
            Layer = g;
            RowFirst = rowFirst;
            if (rowFirst == 0 && rowCount == g.OutHeight)
            {
                Rows = g;
                Valid = true;
                return;
            }
            // Padded rows rowFirst·s .. (rowFirst + rowCount - 1)·s + span - 1, i.e. input rows first .. last.
            int span = (g.KernelHeight - 1) * g.DilationHeight + 1;
            int first = rowFirst * g.StrideHeight - g.PadTop, last = (rowFirst + rowCount - 1) * g.StrideHeight + span - 1 - g.PadTop;
            int inFirst = Math.Max(0, first), inLast = Math.Min(g.InHeight - 1, last);
            Valid = inLast >= inFirst && rowCount > 0;
            Rows = g with { InHeight = Valid ? inLast - inFirst + 1 : 1, OutHeight = Math.Max(1, rowCount), PadTop = inFirst - first };
            XOffset = inFirst * g.InWidth;
            YOffset = rowFirst * g.OutWidth;
        }

        /// <summary>True for a band of all the layer's rows.</summary>
        public bool IsWholeLayer => Rows.OutHeight == Layer.OutHeight;
        /// <summary>Bytes between two channels' input planes (the layer's).</summary>
        public int XPlaneStride => Layer.InPlane;
        /// <summary>Bytes between two channels' output planes (the layer's).</summary>
        public int YPlaneStride => Layer.OutPlane;
    }

    /// <summary>
    /// Where flat-plane copy-outs of the channel at <paramref name="yPlane"/> may store whole vectors up to:
    /// <paramref name="yRangeEnd"/> for a whole layer (the end of the call's channels), the end of the channel's rows
    /// for a band (null <paramref name="yRangeEnd"/>).
    /// </summary>
    private static unsafe byte* WritableEnd(byte* yRangeEnd, byte* yPlane, in DepthwiseConvGeometry rows) =>
        yRangeEnd != null ? yRangeEnd : yPlane + rows.OutPlane;

    /// <summary>Ints of scratch the plane layouts (row ring or flat planes) use; AVX2 channel groups follow them.</summary>
    private static int PlaneScratchLength(in DepthwiseConvGeometry g)
    {
        var plan = PlanePlan.For(g);
        int ring = checked(ScratchSlots(g, plan) * plan.RowInts + (plan.RowBytes + ByteRowSlack) / sizeof(int));
        return FlatPlan.Applies(g) ? Math.Max(ring, FlatPlan.For(g).ScratchInts) : ring;
    }

    /// <summary>Runs every channel; see <see cref="Run(IsaPath, in DepthwiseConvGeometry, ReadOnlySpan{byte}, bool, int, ReadOnlySpan{short}, ReadOnlySpan{int}, ReadOnlySpan{float}, int, int, int, Span{byte}, Span{int}, int, int)"/>.</summary>
    public static void Run(IsaPath isa, in DepthwiseConvGeometry g, ReadOnlySpan<byte> x, bool xSigned, int xZeroPoint,
        ReadOnlySpan<short> weights, ReadOnlySpan<int> bias, ReadOnlySpan<float> multipliers,
        int yZeroPoint, int yMin, int yMax, Span<byte> y, Span<int> scratch) =>
        Run(isa, g, x, xSigned, xZeroPoint, weights, bias, multipliers, yZeroPoint, yMin, yMax, y, scratch, 0, g.Channels);

    /// <summary>
    /// Computes channels <c>[cFirst, cFirst + cCount)</c> of the depthwise convolution exactly as
    /// <see cref="DepthwiseConvReference"/> defines it, with the code of <paramref name="isa"/>
    /// (Scalar: the reference; Vector128: portable vectors; Avx2, AvxVnni: the AVX2 code; Avx512Vnni: the AVX2 code, with
    /// 3×3 flat planes of int8-range weights in VPDPBUSD machine code, and with AVX512_VBMI 3×3 channel groups of output
    /// planes up to 14×14 too; Neon, NeonDot: AdvSimd).
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
    /// <param name="scratch">At least <see cref="ScratchLength(in DepthwiseConvGeometry)"/> ints, not shared with another thread.</param>
    /// <param name="cFirst">First channel to compute.</param>
    /// <param name="cCount">Number of channels to compute.</param>
    /// <exception cref="IsaNotSupportedException"><paramref name="isa"/> cannot run on this CPU.</exception>
    /// <exception cref="ArgumentException">Invalid geometry, channel range or span lengths.</exception>
    public static void Run(IsaPath isa, in DepthwiseConvGeometry g, ReadOnlySpan<byte> x, bool xSigned, int xZeroPoint,
        ReadOnlySpan<short> weights, ReadOnlySpan<int> bias, ReadOnlySpan<float> multipliers,
        int yZeroPoint, int yMin, int yMax, Span<byte> y, Span<int> scratch, int cFirst, int cCount)
    {
        g.Validate();
        if (weights.Length < g.Channels * g.Taps)
            throw new ArgumentException("a depthwise convolution span is shorter than the geometry requires");
        Run(isa, g, x, xSigned, xZeroPoint, new DepthwiseConvWeights(g, weights, isa), bias, multipliers, yZeroPoint, yMin, yMax, y, scratch, cFirst, cCount);
    }

    /// <summary>Runs every channel with weights packed at load; see <see cref="Run(IsaPath, in DepthwiseConvGeometry, ReadOnlySpan{byte}, bool, int, DepthwiseConvWeights, ReadOnlySpan{int}, ReadOnlySpan{float}, int, int, int, Span{byte}, Span{int}, int, int)"/>.</summary>
    public static void Run(IsaPath isa, in DepthwiseConvGeometry g, ReadOnlySpan<byte> x, bool xSigned, int xZeroPoint,
        DepthwiseConvWeights weights, ReadOnlySpan<int> bias, ReadOnlySpan<float> multipliers,
        int yZeroPoint, int yMin, int yMax, Span<byte> y, Span<int> scratch) =>
        Run(isa, g, x, xSigned, xZeroPoint, weights, bias, multipliers, yZeroPoint, yMin, yMax, y, scratch, 0, g.Channels);

    /// <summary>
    /// As <see cref="Run(IsaPath, in DepthwiseConvGeometry, ReadOnlySpan{byte}, bool, int, ReadOnlySpan{short}, ReadOnlySpan{int}, ReadOnlySpan{float}, int, int, int, Span{byte}, Span{int}, int, int)"/>,
    /// with the weights packed once (at model load) by <see cref="DepthwiseConvWeights"/>: the form to call per
    /// inference, which allocates nothing and does no per-channel weight work.
    /// </summary>
    /// <exception cref="ArgumentException">Also when <paramref name="weights"/> was packed for another channel count or kernel.</exception>
    public static void Run(IsaPath isa, in DepthwiseConvGeometry g, ReadOnlySpan<byte> x, bool xSigned, int xZeroPoint,
        DepthwiseConvWeights weights, ReadOnlySpan<int> bias, ReadOnlySpan<float> multipliers,
        int yZeroPoint, int yMin, int yMax, Span<byte> y, Span<int> scratch, int cFirst, int cCount) =>
        Run(isa, g, x, xSigned, xZeroPoint, weights, bias, multipliers, yZeroPoint, yMin, yMax, y, scratch, cFirst, cCount, 0, g.OutHeight);

    /// <summary>
    /// Computes output rows <c>[rowFirst, rowFirst + rowCount)</c> of channels <c>[cFirst, cFirst + cCount)</c> exactly
    /// as <see cref="DepthwiseConvReference.Run(in DepthwiseConvGeometry, ReadOnlySpan{byte}, bool, int, ReadOnlySpan{short}, ReadOnlySpan{int}, ReadOnlySpan{float}, int, int, int, Span{byte}, int, int, int, int)"/>
    /// defines them, with the weights packed at load; no other byte of <paramref name="y"/> is written, so threads may
    /// run disjoint row bands (or channel ranges) into one output. A band runs as a layer of its own (the input rows it
    /// reads, the padding above and below it), so its bytes are those of the whole layer. <paramref name="scratch"/>
    /// must hold <see cref="ScratchLength(in DepthwiseConvGeometry, int, int)"/> ints for the band.
    /// </summary>
    /// <exception cref="ArgumentException">As the channel-range overload, and when the rows are not within <c>[0, OutHeight)</c>.</exception>
    public static void Run(IsaPath isa, in DepthwiseConvGeometry g, ReadOnlySpan<byte> x, bool xSigned, int xZeroPoint,
        DepthwiseConvWeights weights, ReadOnlySpan<int> bias, ReadOnlySpan<float> multipliers,
        int yZeroPoint, int yMin, int yMax, Span<byte> y, Span<int> scratch, int cFirst, int cCount, int rowFirst, int rowCount)
    {
        g.Validate();
        CheckRows(g, rowFirst, rowCount);
        if (!weights.Matches(g))
            throw new ArgumentException($"depthwise weights packed for {weights.Channels} channels of {weights.Taps} taps do not match the geometry");
        if (!weights.Serves(isa))
            throw new ArgumentException($"depthwise weights packed for {weights.PackedForDescription} cannot run on the {isa} path");
        if (cFirst < 0 || cCount < 0 || cFirst > g.Channels - cCount)
            throw new ArgumentException($"channel range [{cFirst}, {cFirst + cCount}) outside [0, {g.Channels})");
        if (x.Length < g.Channels * g.InPlane || y.Length < g.Channels * g.OutPlane
            || multipliers.Length < g.Channels || (!bias.IsEmpty && bias.Length < g.Channels))
            throw new ArgumentException("a depthwise convolution span is shorter than the geometry requires");
        if (cCount == 0 || rowCount == 0) return;

        var band = new RowBand(g, rowFirst, rowCount);
        bool fast = isa != IsaPath.Scalar && band.Valid && GeometryHasFastPath(g)
            && xZeroPoint >= Requantization.MinOf(xSigned) && xZeroPoint <= Requantization.MaxOf(xSigned)
            && RequantizationFitsBytes(yZeroPoint, yMin, yMax);
        if (fast && scratch.Length < ScratchLength(band.Rows))
            throw new ArgumentException($"depthwise scratch has {scratch.Length} ints, needs {ScratchLength(band.Rows)}");

        switch (isa)
        {
            case IsaPath.Scalar:
                break;
            case IsaPath.Vector128:
                CpuFeatures.Require(isa);
                if (fast) { RunVector128(band, x, xSigned, xZeroPoint, weights, bias, multipliers, yZeroPoint, yMin, yMax, y, scratch, cFirst, cCount); return; }
                break;
            case IsaPath.Avx2 or IsaPath.AvxVnni or IsaPath.Avx512Vnni:
                CpuFeatures.Require(isa);
                if (fast && Avx2.IsSupported)
                {
                    RunAvx2(band, x, xSigned, xZeroPoint, weights, bias, multipliers, yZeroPoint, yMin, yMax, y, scratch, cFirst, cCount,
                        vnni3x3: isa == IsaPath.Avx512Vnni); // CpuFeatures.Require: its machine code is mapped
                    return;
                }
                break;
            case IsaPath.Neon or IsaPath.NeonDot:
                CpuFeatures.Require(isa);
                if (fast && AdvSimd.Arm64.IsSupported) { RunNeon(band, x, xSigned, xZeroPoint, weights, bias, multipliers, yZeroPoint, yMin, yMax, y, scratch, cFirst, cCount, isa == IsaPath.NeonDot && Dp.IsSupported); return; }
                break;
            default:
                CpuFeatures.Require(isa);
                break;
        }
        DepthwiseConvReference.Run(g, x, xSigned, xZeroPoint, weights.Values, bias, multipliers, yZeroPoint, yMin, yMax, y, cFirst, cCount, rowFirst, rowCount);
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

    /// <summary>
    /// Ring slots of widened rows in scratch: KernelHeight + 1, so a path may compute two output rows of stride 1 from
    /// the KernelHeight + 1 input rows they read.
    /// </summary>
    private static int RingSlots(in DepthwiseConvGeometry g) => g.KernelHeight + 1;

    /// <summary>Largest whole padded plane (in bytes of slots) kept in scratch instead of a ring (see <see cref="RowRing"/>).</summary>
    private const int MaxWholePlaneBytes = 24 * 1024;

    /// <summary>
    /// Slots of widened rows in scratch: one per padded row (<see cref="PlanePlan.Rows"/>) when that whole plane fits
    /// <see cref="MaxWholePlaneBytes"/>, else a ring of <see cref="RingSlots"/>.
    /// </summary>
    private static int ScratchSlots(in DepthwiseConvGeometry g, in PlanePlan plan) =>
        (long)plan.Rows * plan.RowInts * sizeof(int) <= MaxWholePlaneBytes ? Math.Max(plan.Rows, RingSlots(g)) : RingSlots(g);

    /// <summary>Whether the requantized values are packed with signed (int8 clamp range) or unsigned saturation.</summary>
    private static bool PackSigned(int yMin, int yMax) => yMin >= sbyte.MinValue && yMax <= sbyte.MaxValue;

    /// <summary>
    /// Accumulator start of channel <paramref name="c"/> for raw input values: <c>bias - xZeroPoint * Σ w</c> (int32,
    /// wrapping like the reference's accumulation, so the final sums agree modulo 2^32).
    /// </summary>
    private static int RawValueBias(DepthwiseConvWeights weights, ReadOnlySpan<int> bias, int c, int xZeroPoint) =>
        unchecked((bias.IsEmpty ? 0 : bias[c]) - xZeroPoint * weights.Sums[c]);

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

    /// <summary>How one path widens a padded byte row into a ring slot, and fills a slot for a row outside the image.</summary>
    private interface IRowWidener
    {
        /// <summary>
        /// Widens the first <paramref name="count"/> (a multiple of 16) of the <paramref name="rowBytes"/> bytes of the
        /// padded byte row into the slot; the rest of the slot already holds the widened padding.
        /// </summary>
        static abstract unsafe void Widen(byte* row, byte* slot, int count, int rowBytes, int strideWidth, bool signed);
        /// <summary>Fills the slot with the raw value <paramref name="xZeroPoint"/> (a row of padding).</summary>
        static abstract unsafe void FillPadding(byte* slot, int rowBytes, int xZeroPoint);

        /// <summary>
        /// Whether <see cref="WidenInput"/> may run for this layout: its whole-vector writes (the input row rounded up to
        /// 16 columns, plus one vector of padding after it) stay inside a slot of <paramref name="slotBytes"/> bytes and
        /// inside the slot's region they belong to. False: rows go through the padded byte row and <see cref="Widen"/>.
        /// </summary>
        static virtual bool CanWidenInput(int inWidth, int padLeft, int rowBytes, int slotBytes, int strideWidth) => false;

        /// <summary>
        /// Widens an input row (<paramref name="inWidth"/> bytes at <paramref name="source"/>, of which the input holds
        /// at least the count rounded up to 16) straight into its padded columns of the slot, whose other columns hold
        /// the widened padding and keep it (the columns the whole-vector writes pass the row's end are rewritten with
        /// padding). Only called when <see cref="CanWidenInput"/> returned true.
        /// </summary>
        static virtual unsafe void WidenInput(byte* source, byte* slot, int inWidth, int padLeft, int rowBytes, int strideWidth,
            bool signed, int xZeroPoint) => throw new NotSupportedException();
    }

    /// <summary>
    /// The ring of widened padded rows of one thread (see <see cref="PlanePlan"/>): padded row <c>r</c> of the current
    /// channel lives in slot <c>r % Ring</c>. Kept apart from the compute loops (and not inlined) so they keep their
    /// registers. Small planes (<see cref="ScratchSlots"/> has a slot per padded row) run in whole-plane mode instead:
    /// slot r holds padded row r, the padding rows are filled once (<see cref="Initialize{TWidener}"/>) and never
    /// written again, and the first <see cref="Advance{TWidener}"/> of a channel widens all its image rows in one loop,
    /// so later calls only point <see cref="Rows"/> at slots.
    /// </summary>
    private unsafe struct RowRing
    {
        private readonly byte* xEnd, byteRow, slots;
        private readonly int slotBytes, ring, rowBytes, widenBytes, padTop, padLeft, inHeight, inWidth, strideWidth, strideHeight, xZeroPoint;
        private readonly bool signed, wholePlane;
        private readonly int planeImageRows;
        private readonly nuint sourceReadBytes;
        private bool widenInput;
        private byte* xChannel;
        private int built, firstSlot;

        /// <summary>Slot pointers of the rows of the window set by the last <see cref="Advance{TWidener}"/>, in order.</summary>
        public readonly byte** Rows;

        public RowRing(in DepthwiseConvGeometry g, in PlanePlan plan, byte* x, int xLength, bool signed, int xZeroPoint,
            byte* slots, int slotBytes, byte* byteRow, byte** rows)
        {
            xEnd = x + xLength;
            this.byteRow = byteRow;
            this.slots = slots;
            this.slotBytes = slotBytes;
            ring = ScratchSlots(g, plan);
            wholePlane = ring >= plan.Rows;
            // Padded rows of the plane that hold an image row: PadTop .. min(PadTop + InHeight, Rows) - 1.
            planeImageRows = Math.Max(0, Math.Min(g.InHeight, plan.Rows - g.PadTop));
            rowBytes = plan.RowBytes;
            // Columns after the image are padding in every row, so only the columns up to the image's end (rounded to
            // whole vectors) are widened per row; the slots start as padding (Initialize).
            widenBytes = Math.Min(plan.RowBytes, (g.PadLeft + g.InWidth + 15) / 16 * 16);
            padTop = g.PadTop;
            padLeft = g.PadLeft;
            inHeight = g.InHeight;
            inWidth = g.InWidth;
            strideWidth = g.StrideWidth;
            strideHeight = g.StrideHeight;
            this.xZeroPoint = xZeroPoint;
            this.signed = signed;
            sourceReadBytes = (nuint)((g.InWidth + 15) & ~15);
            Rows = rows;
            new Span<byte>(byteRow, plan.RowBytes + ByteRowSlack).Fill((byte)xZeroPoint);
        }

        /// <summary>Fills every slot with padding (once per call, before the first channel).</summary>
        public void Initialize<TWidener>() where TWidener : IRowWidener
        {
            widenInput = TWidener.CanWidenInput(inWidth, padLeft, rowBytes, slotBytes, strideWidth);
            for (int slot = 0; slot < ring; slot++) TWidener.FillPadding(slots + (nint)slot * slotBytes, rowBytes, xZeroPoint);
        }

        /// <summary>Starts a channel whose input plane begins at <paramref name="plane"/>; its first output row is row 0.</summary>
        public void StartChannel(byte* plane)
        {
            xChannel = plane;
            built = 0;
            firstSlot = 0;
        }

        /// <summary>
        /// Makes padded rows <c>[first, first + count)</c> available (<paramref name="first"/> = the current output row
        /// times StrideHeight, <paramref name="count"/> &lt;= Ring): builds those not built yet, then points
        /// <see cref="Rows"/> at them.
        /// </summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        public void Advance<TWidener>(int first, int count) where TWidener : IRowWidener
        {
            if (wholePlane)
            {
                if (built == 0)
                {
                    BuildPlane<TWidener>();
                    built = 1;
                }
                byte* row = slots + (nint)first * slotBytes;
                for (int i = 0; i < count; i++, row += slotBytes) Rows[i] = row;
                return;
            }
            int r = Math.Max(built, first);
            int slot = firstSlot + (r - first);
            if (slot >= ring) slot -= ring;
            for (; r < first + count; r++)
            {
                byte* destination = slots + (nint)slot * slotBytes;
                int ih = r - padTop;
                if ((uint)ih >= (uint)inHeight) TWidener.FillPadding(destination, rowBytes, xZeroPoint);
                else
                {
                    byte* source = xChannel + (nint)ih * inWidth;
                    if (widenInput && (nuint)(xEnd - source) >= sourceReadBytes)
                        TWidener.WidenInput(source, destination, inWidth, padLeft, rowBytes, strideWidth, signed, xZeroPoint);
                    else
                    {
                        CopyRow(source);
                        TWidener.Widen(byteRow, destination, widenBytes, rowBytes, strideWidth, signed);
                    }
                }
                if (++slot == ring) slot = 0;
            }
            built = first + count;
            slot = firstSlot;
            for (int i = 0; i < count; i++)
            {
                Rows[i] = slots + (nint)slot * slotBytes;
                if (++slot == ring) slot = 0;
            }
        }

        /// <summary>Whole-plane mode: widens every image row of the channel into its slot (padded row = image row + PadTop).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private readonly void BuildPlane<TWidener>() where TWidener : IRowWidener
        {
            byte* source = xChannel;
            byte* destination = slots + (nint)padTop * slotBytes;
            for (int ih = 0; ih < planeImageRows; ih++, source += inWidth, destination += slotBytes)
            {
                if (widenInput && (nuint)(xEnd - source) >= sourceReadBytes)
                    TWidener.WidenInput(source, destination, inWidth, padLeft, rowBytes, strideWidth, signed, xZeroPoint);
                else
                {
                    CopyRow(source);
                    TWidener.Widen(byteRow, destination, widenBytes, rowBytes, strideWidth, signed);
                }
            }
        }

        /// <summary>Moves on by <paramref name="outputRows"/> output rows.</summary>
        public void Step(int outputRows)
        {
            firstSlot += outputRows * strideHeight;
            while (firstSlot >= ring) firstSlot -= ring;
        }

        /// <summary>
        /// Copies the input row at <paramref name="source"/> into columns <c>[PadLeft, PadLeft + InWidth)</c> of the padded
        /// byte row (cut at RowBytes), whose other columns hold the stored byte of xZeroPoint and keep it. Copies 16-byte
        /// vectors (then rewrites the padding after the row) unless that would read past the end of the input.
        /// </summary>
        private readonly void CopyRow(byte* source)
        {
            int count = Math.Min(inWidth, rowBytes - padLeft);
            if (count <= 0) return;
            byte* destination = byteRow + padLeft;
            if ((nuint)(xEnd - source) >= (nuint)((count + 15) & ~15))
            {
                for (int j = 0; j < count; j += 16) Vector128.Store(Vector128.Load(source + j), destination + j);
                Vector128.Store(Vector128.Create((byte)xZeroPoint), destination + count); // the padding the last vector overwrote
            }
            else Buffer.MemoryCopy(source, destination, count, count);
        }
    }


    /// <summary>
    /// Test switch for this thread: when true, the fast paths never use flat-plane mode (<see cref="FlatPlan"/>), only the
    /// row ring, so the self-test can check both layouts on the same geometry. <see cref="ScratchLength(in DepthwiseConvGeometry)"/> follows it.
    /// </summary>
    [ThreadStatic] internal static bool RowRingOnly;

    /// <summary>Widest output row computed in flat-plane mode (<see cref="FlatPlan"/>); wider rows use the row ring.</summary>
    private const int MaxFlatOutWidth = 128;

    /// <summary>Largest flat-plane scratch (ints) a thread may use; larger planes use the row ring.</summary>
    private const int MaxFlatScratchInts = 64 * 1024;

    /// <summary>
    /// Flat-plane mode, for narrow layers (the 14×14 and 7×7 ones), where per-row and per-call work would outweigh the
    /// arithmetic of the ring mode. A channel's padded input is laid out as <see cref="Stride"/> sub-planes with no gap
    /// between rows: padded row <c>r</c> is row <c>r / Stride</c> of sub-plane <c>r % Stride</c>, and a row holds
    /// <see cref="RowBytes"/> = <c>Stride * Pitch</c> padded columns (the columns the outputs read; anything past them is
    /// not stored). Widened by the path's usual row widener, as if the whole sub-plane were one long row, every sub-plane
    /// row then spans <see cref="Pitch"/> column positions (stride 2: pairs, or even/odd halves), so the whole channel is
    /// ONE output row of <see cref="Outputs"/> = <c>OutHeight * Pitch</c> columns whose kernel row <c>kh</c> starts at row
    /// <c>kh / Stride</c> of sub-plane <c>kh % Stride</c>: flattened output <c>q = oh * Pitch + ow</c> reads exactly the
    /// values output <c>(oh, ow)</c> reads. The <c>Pitch - OutWidth</c> columns per row in between mix neighbouring rows;
    /// they are computed into a temporary row and dropped when the <c>OutWidth</c> real columns of every row are copied
    /// to the output. Stride 2 needs both strides equal.
    /// </summary>
    private readonly struct FlatPlan
    {
        /// <summary>Stride of both axes: 1 or 2.</summary>
        public int Stride { get; init; }
        /// <summary>Column positions per sub-plane row: stride 1 <c>OutWidth + KernelWidth - 1</c>, stride 2 <c>OutWidth + (KernelWidth - 1) / 2</c>.</summary>
        public int Pitch { get; init; }
        /// <summary>Padded bytes per row: <c>Stride * Pitch</c>.</summary>
        public int RowBytes => Stride * Pitch;
        /// <summary>Rows per sub-plane (the even one for stride 2): <c>ceil(Rows / Stride)</c>.</summary>
        public int SubPlaneRows { get; init; }
        /// <summary>Bytes widened per sub-plane: <c>SubPlaneRows * RowBytes</c> rounded up to 16.</summary>
        public int WidenBytes { get; init; }
        /// <summary>Values (of the widest layout, int32) after a widened sub-plane that reads past its end may touch.</summary>
        public int Slack { get; init; }
        /// <summary>Flattened output columns: <c>OutHeight * Pitch</c>.</summary>
        public int Outputs { get; init; }
        /// <summary>
        /// Stride-1 3×3 with rows of at least 32 column positions: the NEON path computes them as pairs of padded rows
        /// (rows oh and oh + 1, whose inputs overlap by two rows) with its two-row kernel, which needs fewer instructions
        /// than one flattened row; narrower planes stay one flattened row, where a per-row call would cost more than the
        /// loads it shares. (AVX2 measured faster with one flattened row throughout.)
        /// </summary>
        public bool PairRows => Stride == 1 && Pitch >= 32;
        /// <summary>Bytes of the temporary output row: Outputs rounded up to 16, plus room for whole-vector stores.</summary>
        public int TempBytes => (Outputs + 15) / 16 * 16 + 32;
        /// <summary>Ints of one widened sub-plane (room for any path's layout, including the stride-2 odd half at <see cref="Half"/>).</summary>
        public int WidenedInts => WidenBytes + 2 * Slack;
        /// <summary>int16 layouts with stride 2: where the odd columns start, in shorts from the sub-plane start.</summary>
        public int Half => WidenBytes / 2 + Slack;
        /// <summary>Bytes of one padded byte sub-plane (with slack for vector reads past its end).</summary>
        public int BytePlaneBytes => WidenBytes + ByteRowSlack;
        /// <summary>Scratch ints flat mode uses: widened sub-planes, then byte sub-planes, then the temporary row.</summary>
        public int ScratchInts => checked(Stride * WidenedInts + (Stride * BytePlaneBytes + TempBytes + 3) / 4);

        public static bool Applies(in DepthwiseConvGeometry g) =>
            !RowRingOnly && g.StrideHeight == g.StrideWidth && g.StrideWidth <= 2 && g.OutWidth <= MaxFlatOutWidth && g.PadLeft < For(g).RowBytes
            && For(g).ScratchInts <= MaxFlatScratchInts;

        public static FlatPlan For(in DepthwiseConvGeometry g)
        {
            int stride = g.StrideWidth;
            int pitch = stride == 1 ? g.OutWidth + g.KernelWidth - 1 : g.OutWidth + (g.KernelWidth - 1) / 2;
            int rows = (g.OutHeight - 1) * stride + g.KernelHeight;
            int subPlaneRows = (rows + stride - 1) / stride;
            return new FlatPlan
            {
                Stride = stride, Pitch = pitch, SubPlaneRows = subPlaneRows,
                WidenBytes = (subPlaneRows * stride * pitch + 15) / 16 * 16,
                Slack = 64 + 2 * g.KernelWidth,
                Outputs = g.OutHeight * pitch,
            };
        }
    }

    /// <summary>The buffers of <see cref="FlatPlan"/> mode in one thread's scratch, and the per-channel build and copy-out.</summary>
    private unsafe readonly partial struct FlatPlanes
    {
        private readonly FlatPlan plan;
        private readonly byte* widened, bytePlanes, xEnd;
        private readonly int padTop, padLeft, inHeight, inWidth;
        private readonly byte paddingByte;
        private readonly bool signed;
        /// <summary>XORed into every byte the byte sub-planes receive: 0x80 when int8 input is stored as uint8 x + 128, else 0.</summary>
        private readonly byte flip;

        /// <summary>The temporary output row (<see cref="FlatPlan.TempBytes"/> bytes).</summary>
        public readonly byte* Temp;

        /// <summary>
        /// Lays the buffers out in <paramref name="scratch"/> and fills the byte sub-planes with padding (unless
        /// <paramref name="bytePlanesUsed"/> is false: a path that widens input rows straight into its sub-planes).
        /// With <paramref name="flipSignedBytes"/> and int8 input, the byte sub-planes hold every value as the uint8
        /// x + 128 (the byte XOR 0x80; padding too), what avx512vnni's VPDPBUSD takes; <see cref="Build{TWidener}"/>
        /// then widens them as uint8, so raw values are x + 128 against the zero point + 128.
        /// </summary>
        public FlatPlanes(in DepthwiseConvGeometry g, in FlatPlan plan, int* scratch, byte* x, int xLength, bool signed, int xZeroPoint,
            bool bytePlanesUsed = true, bool flipSignedBytes = false)
        {
            this.plan = plan;
            widened = (byte*)scratch;
            bytePlanes = (byte*)(scratch + plan.Stride * plan.WidenedInts);
            Temp = bytePlanes + plan.Stride * plan.BytePlaneBytes;
            xEnd = x + xLength;
            padTop = g.PadTop;
            padLeft = g.PadLeft;
            inHeight = g.InHeight;
            inWidth = g.InWidth;
            this.signed = signed;
            paddingByte = (byte)xZeroPoint;
            flip = signed && flipSignedBytes ? (byte)0x80 : (byte)0;
            if (bytePlanesUsed) new Span<byte>(bytePlanes, plan.Stride * plan.BytePlaneBytes).Fill((byte)(paddingByte ^ flip));
        }

        /// <summary>Start of byte sub-plane <paramref name="parity"/> (padded rows of <see cref="FlatPlan.RowBytes"/> bytes).</summary>
        public byte* BytePlane(int parity) => bytePlanes + (nint)parity * plan.BytePlaneBytes;

        /// <summary>
        /// Fills the first <paramref name="valuesPerSubPlane"/> int16 values of every sub-plane with the widened padding
        /// value (NEON's int16 planes use <c>WidenedInts</c> of them, AVX2's pair planes twice that).
        /// </summary>
        public void FillWidened(int valuesPerSubPlane)
        {
            short value = signed ? (sbyte)paddingByte : paddingByte;
            for (int parity = 0; parity < plan.Stride; parity++)
                new Span<short>(Widened(parity), valuesPerSubPlane).Fill(value);
        }

        /// <summary>Start of widened sub-plane <paramref name="parity"/>.</summary>
        public byte* Widened(int parity) => widened + (nint)parity * plan.WidenedInts * sizeof(int);

        /// <summary>
        /// Copies the image rows of the channel plane at <paramref name="channel"/> into the byte sub-planes (padding
        /// columns and rows keep the zero point's byte) and widens every sub-plane with <typeparamref name="TWidener"/>
        /// (stride-2 int16 layouts put the odd columns at <see cref="FlatPlan.Half"/>).
        /// </summary>
        public void Build<TWidener>(byte* channel) where TWidener : IRowWidener
        {
            BuildBytes(channel);
            for (int parity = 0; parity < plan.Stride; parity++)
                TWidener.Widen(bytePlanes + (nint)parity * plan.BytePlaneBytes, Widened(parity), plan.WidenBytes, 2 * plan.Half, plan.Stride, signed && flip == 0);
        }

        /// <summary>Columns of an image row that a padded row keeps: <c>min(InWidth, RowBytes - PadLeft)</c> (at least 1).</summary>
        private int RowCount
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            get => Math.Min(inWidth, plan.RowBytes - padLeft);
        }

        /// <summary>Image rows that land in a padded row of the plan (the others are never read).</summary>
        private int ImageRows
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            get => Math.Max(0, Math.Min(inHeight, plan.SubPlaneRows * plan.Stride - padTop));
        }

        /// <summary>
        /// Stride 2: the first image row whose padded row <c>PadTop + ih</c> lies in sub-plane <paramref name="parity"/>,
        /// and how many image rows do (every second one from there).
        /// </summary>
        private (int First, int Rows) ParityRows(int parity)
        {
            int first = (parity - padTop) & 1;
            return (first, Math.Max(0, (ImageRows - first + 1) / 2));
        }

        /// <summary>
        /// Copies the image rows of the channel plane at <paramref name="channel"/> into the byte sub-planes (all the
        /// SDOT path needs: it reads int8 bytes).
        /// </summary>
        public void BuildBytes(byte* channel)
        {
            int rowBytes = plan.RowBytes, count = RowCount;
            if (plan.Stride == 1)
            {
                CopyRowRun(channel, inWidth, bytePlanes + (nint)padTop * rowBytes + padLeft, rowBytes, ImageRows, count);
                return;
            }
            for (int parity = 0; parity < 2; parity++)
            {
                var (first, rows) = ParityRows(parity);
                CopyRowRun(channel + (nint)first * inWidth, 2 * inWidth,
                    BytePlane(parity) + (nint)((padTop + first) >> 1) * rowBytes + padLeft, rowBytes, rows, count);
            }
        }

        /// <summary>
        /// Copies <paramref name="rows"/> rows of <paramref name="count"/> bytes, in order, each byte XORed with
        /// <see cref="flip"/>. Whole 16-byte vectors (32-byte ones where Vector256 is accelerated and rows are longer
        /// than 16 bytes), then one vector of padding over the bytes they wrote past the row
        /// (later rows, which are copied afterwards, and padding); rows too close to the end of the input for
        /// whole-vector reads are copied exactly.
        /// </summary>
        private readonly void CopyRowRun(byte* source, int sourceStep, byte* destination, int destinationStep, int rows, int count)
        {
            var flipBytes = Vector128.Create(flip);
            var padding = Vector128.Create((byte)(paddingByte ^ flip));
            if (Vector256.IsHardwareAccelerated && count > 16)
            {
                // x86: 32-byte vectors for rows of more than 16 bytes (half the loads and stores; with CopyOut's, the
                // depthwise table of QuantizedKernels.Benchmarks --quick, all 17 layers on avx512vnni, went from
                // 0.660–0.664 to 0.635–0.637 ms, 112×112 s2 29.3–29.7 → 32.2 GMAC/s; alternated builds, 2026-11-29
                // about 03:50 UTC), the padding store widened to cover what they write past the row. The slack after
                // a byte plane (ByteRowSlack) holds the last row's.
                var flipWide = Vector256.Create(flip);
                var paddingWide = Vector256.Create((byte)(paddingByte ^ flip));
                byte* lastWideSource = xEnd - ((count + 31) & ~31);
                for (; rows > 0 && source <= lastWideSource; rows--, source += sourceStep, destination += destinationStep)
                {
                    byte* from = source, to = destination, end = source + count;
                    do
                    {
                        Vector256.Store(Vector256.Load(from) ^ flipWide, to);
                        from += 32;
                        to += 32;
                    } while (from < end);
                    Vector256.Store(paddingWide, destination + count);
                }
            }
            int vectorBytes = (count + 15) & ~15;
            byte* lastVectorSource = xEnd - vectorBytes;
            if (vectorBytes == 16)
                for (; rows > 0 && source <= lastVectorSource; rows--, source += sourceStep, destination += destinationStep)
                {
                    Vector128.Store(Vector128.Load(source) ^ flipBytes, destination);
                    Vector128.Store(padding, destination + count);
                }
            else
                for (; rows > 0 && source <= lastVectorSource; rows--, source += sourceStep, destination += destinationStep)
                {
                    // Pointer steps (post-indexed loads and stores on ARM64) rather than an indexed loop.
                    byte* from = source, to = destination, end = source + count;
                    do
                    {
                        Vector128.Store(Vector128.Load(from) ^ flipBytes, to);
                        from += 16;
                        to += 16;
                    } while (from < end);
                    Vector128.Store(padding, destination + count);
                }
            for (; rows > 0; rows--, source += sourceStep, destination += destinationStep)
                for (int i = 0; i < count; i++) destination[i] = (byte)(source[i] ^ flip);
        }

        /// <summary>
        /// Copies the real columns of every flattened row from <see cref="Temp"/> to the channel's output plane. Whole
        /// vectors may be stored up to <paramref name="writableEnd"/> (at least the plane's end; further when the
        /// following channels are computed after this one, by the same call, and so rewritten).
        /// </summary>
        public void CopyOut(byte* yPlane, int outHeight, int outWidth, byte* writableEnd)
        {
            byte* source = Temp, destination = yPlane, yEnd = yPlane + outHeight * outWidth;
            int pitch = plan.Pitch, vectorBytes = (outWidth + 15) & ~15;
            // Whole-vector stores past a row's end write into the next row, which is copied afterwards; only the rows
            // whose stores would pass writableEnd (another thread's channels, or beyond the output) copy exactly.
            byte* lastVectorRow = writableEnd - vectorBytes < yEnd ? writableEnd - vectorBytes : yEnd - 1;
            if (Vector256.IsHardwareAccelerated && outWidth > 16)
            {
                // x86: 32-byte vectors while they stay below writableEnd (Temp has room for the reads: TempBytes).
                int wideBytes = (outWidth + 31) & ~31;
                byte* lastWideRow = writableEnd - wideBytes < yEnd ? writableEnd - wideBytes : yEnd - 1;
                for (; destination <= lastWideRow; source += pitch, destination += outWidth)
                {
                    byte* from = source, to = destination, end = source + outWidth;
                    do
                    {
                        Vector256.Store(Vector256.Load(from), to);
                        from += 32;
                        to += 32;
                    } while (from < end);
                }
            }
            if (vectorBytes == 16)
                for (; destination <= lastVectorRow; source += pitch, destination += outWidth)
                    Vector128.Store(Vector128.Load(source), destination);
            else
                for (; destination <= lastVectorRow; source += pitch, destination += outWidth)
                {
                    byte* from = source, to = destination, end = source + outWidth;
                    do
                    {
                        Vector128.Store(Vector128.Load(from), to);
                        from += 16;
                        to += 16;
                    } while (from < end);
                }
            for (; destination < yEnd; source += pitch, destination += outWidth)
                Buffer.MemoryCopy(source, destination, outWidth, outWidth);
        }
    }
}
