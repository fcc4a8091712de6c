using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using EdgeRuntime.Kernels.Common;

namespace EdgeRuntime.Kernels.Depthwise;

public static partial class DepthwiseConv
{
    // AVX2 path. A ring slot holds int32 "pairs" of two raw int16 input values, so VPMADDWD multiplies a pair by a pair
    // of weights and adds them: two taps per instruction, exact in int32 (|x| <= 255, |w| <= 255):
    //   stride 1: slot[j] = (v[j], v[j+1])          taps (kw, kw+1) of output ow read pair ow + kw
    //   stride 2: slot[j] = (v[2j], v[2j+1])        taps (kw, kw+1) of output ow read pair ow + kw/2
    // (v = raw values of the padded row). Tap pairs start at even kw; an odd kernel width pairs its last tap with weight 0.
    // weightPairs[kh * pairsPerRow + p] = (w[kh][2p], w[kh][2p+1] or 0) packed the same way (DepthwiseConvWeights.Avx2Pairs).
    //
    // Output stores: a channel's rows are written in order, so a full vector store may run past the end of row oh into
    // row oh + 1 (rewritten afterwards); only the end of the channel plane (rowSpace bytes from the row start) is a hard
    // limit, which keeps narrow layers (7 columns) on full stores.

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void RunAvx2(in RowBand band, ReadOnlySpan<byte> x, bool xSigned, int xZeroPoint,
        DepthwiseConvWeights weights, ReadOnlySpan<int> bias, ReadOnlySpan<float> multipliers,
        int yZeroPoint, int yMin, int yMax, Span<byte> y, Span<int> scratch, int cFirst, int cCount, bool vnni3x3 = false)
    {
        var g = band.Rows;
        nint xStride = band.XPlaneStride, yStride = band.YPlaneStride;
        var plan = PlanePlan.For(g);
        int kernelHeight = g.KernelHeight, taps = g.Taps;
        int pairsPerRow = (g.KernelWidth + 1) / 2;
        int pairStep = g.StrideWidth == 1 ? 2 : 1;
        int ring = RingSlots(g);
        bool is3x3 = kernelHeight == 3 && pairsPerRow == 2;
        byte** rowPointers = stackalloc byte*[ring];
        int** rows = (int**)rowPointers;
        var requant = new Avx2Requantizer(yZeroPoint, yMin, yMax, PackSigned(yMin, yMax));
        bool flat = FlatPlan.Applies(g);
        var flatPlan = flat ? FlatPlan.For(g) : default;
        // avx512vnni: 3×3 flat planes of channels whose weights fit int8 and whose |multiplier| < 1 run in machine code
        // on byte planes, which then hold int8 input as uint8 x + 128 (FlatPlanes' flip).
        bool vnni = vnni3x3 && flat && is3x3 && weights.DotRows.Length > 0;
        var vnniContext = vnni ? new VnniDepthwiseContext(flatPlan.Stride, yZeroPoint, yMin, yMax) : default;
        var vnniCode = vnni ? EdgeRuntime.Kernels.Gemm.Avx512VnniCode.Depthwise3x3(flatPlan.Stride, VnniDepthwiseContext.SignedOutput(yMin)) : null;

        fixed (int* scratchBase = scratch)
        fixed (int* packedPairs = weights.Avx2Pairs)
        fixed (sbyte* dotRows = weights.DotRows)
        fixed (byte* yLayer = y)
        fixed (byte* xLayer = x)
        {
            byte* xBase = xLayer + band.XOffset, yBase = yLayer + band.YOffset;
            int xLength = x.Length - band.XOffset;
            // Flat planes for narrow layers, else the row ring (see FlatPlan); one channel loop for both. Most flat
            // planes are widened straight from the input (no byte sub-planes; see FlatPlanes.CanBuildWidenedAvx2).
            bool widenDirect = flat && FlatPlanes.CanBuildWidenedAvx2(g);
            // A whole layer's stores may run into the next channels of this range, written later; a band's stop at the
            // end of its rows of each channel (the other rows are another thread's).
            byte* yRangeEnd = band.IsWholeLayer ? yBase + (cFirst + cCount) * yStride : null;
            var planes = flat ? new FlatPlanes(g, flatPlan, scratchBase, xBase, xLength, xSigned, xZeroPoint, bytePlanesUsed: !widenDirect || vnni,
                flipSignedBytes: vnni) : default;
            // The other channels of a flat plan widen the byte planes (unless widenDirect), where flipped int8 input is x + 128.
            int flatZeroPoint = vnni && xSigned && !widenDirect ? xZeroPoint + 128 : xZeroPoint;
            if (widenDirect) planes.FillWidenedAvx2();
            var flatRows = widenDirect ? planes.FlatRowsAvx2() : default;
            var rowRing = flat ? default : new RowRing(g, plan, xBase, xLength, xSigned, xZeroPoint, (byte*)scratchBase,
                plan.RowInts * sizeof(int), (byte*)(scratchBase + ScratchSlots(g, plan) * plan.RowInts), rowPointers);
            if (flat)
                for (int kh = 0; kh < kernelHeight; kh++)
                    rows[kh] = (int*)planes.Widened(kh % flatPlan.Stride) + kh / flatPlan.Stride * flatPlan.Pitch;
            else
                rowRing.Initialize<Avx2PairWidener>();
            // Small planes: 16 channels at a time where the range has them (see DepthwiseConv.Avx2.ChannelGroups.cs).
            // Their scratch is the end of the buffer, past the planes' (ScratchLength counts both).
            // On avx512vnni, 3×3 groups run in machine code (edge_dwgroup3x3z_*) where the CPU has AVX512_VBMI, up to
            // VnniGroupMaxOutPlane; without it, output planes of 14×14 and more run flat instead (see VnniFlatMinOutPlane).
            bool vnniGroups = vnni3x3 && is3x3 && weights.DotRows.Length > 0 && EdgeRuntime.Kernels.Gemm.Avx512VnniCode.HasVbmi
                              && g.OutPlane <= VnniGroupMaxOutPlane;
            bool groups = ChannelGroupsApply(g) && (vnniGroups || !(vnni && g.OutPlane >= VnniFlatMinOutPlane));
            int* groupWork = groups ? scratchBase + scratch.Length - ChannelGroupScratchInts(g) : null;
            if (groups) FillGroupPadding(g, groupWork, (byte)xZeroPoint);
            var groupContext = groups && vnniGroups
                ? new VnniGroupContext(GroupPaddedSize(g).Columns, g.StrideHeight, xSigned, yZeroPoint, yMin, yMax) : default;
            var groupCode = groups && vnniGroups ? EdgeRuntime.Kernels.Gemm.Avx512VnniCode.DepthwiseGroup3x3(g.StrideWidth) : null;
            for (int c = cFirst; c < cFirst + cCount; c++)
            {
                if (groups && c + GroupChannels <= cFirst + cCount && AllFinite(multipliers.Slice(c, GroupChannels)))
                {
                    if (vnniGroups && !weights.FitsInt8.AsSpan(c, GroupChannels).Contains(false))
                        RunChannelGroupVnni3x3(g, xBase, xStride, xLayer + x.Length, xSigned, xZeroPoint, weights, bias, multipliers,
                            yBase, yStride, c, groupWork, &groupContext, groupCode);
                    else
                        RunChannelGroupAvx2(g, xBase, xStride, xLayer + x.Length, xSigned, xZeroPoint, weights, bias, multipliers, yZeroPoint, yMin, yMax,
                            yBase, yStride, c, groupWork);
                    c += GroupChannels - 1;
                    continue;
                }
                if (!float.IsFinite(multipliers[c]))
                {
                    DepthwiseConvReference.Run(band.Layer, x, xSigned, xZeroPoint, weights.Values, bias, multipliers, yZeroPoint, yMin, yMax, y, c, 1, band.RowFirst, g.OutHeight);
                    continue;
                }
                if (vnni && weights.FitsInt8[c] && MathF.Abs(multipliers[c]) < 1f)
                {
                    RunVnniChannel3x3(flatPlan, planes, xBase + c * xStride, dotRows + 16 * c,
                        RawValueBias(weights, bias, c, xSigned ? xZeroPoint + 128 : xZeroPoint),
                        multipliers[c], &vnniContext, vnniCode);
                    planes.CopyOut(yBase + c * yStride, g.OutHeight, g.OutWidth, WritableEnd(yRangeEnd, yBase + c * yStride, g));
                    continue;
                }
                int* pairBase = packedPairs + c * weights.Avx2PairsPerChannel; // packed at load (DepthwiseConvWeights)
                requant.SetChannel(RawValueBias(weights, bias, c, flat ? flatZeroPoint : xZeroPoint), multipliers[c]);

                if (flat)
                {
                    if (widenDirect && xSigned) planes.BuildWidenedAvx2<SignedBytesAvx2>(xBase + c * xStride, flatRows);
                    else if (widenDirect) planes.BuildWidenedAvx2<UnsignedBytesAvx2>(xBase + c * xStride, flatRows);
                    else planes.Build<Avx2PairWidener>(xBase + c * xStride);
                    int outputs = flatPlan.Outputs, space = flatPlan.TempBytes;
                    // One flattened row even for wide planes: measured faster on AVX2 than pairing rows (FlatPlan.PairRows).
                    if (is3x3) OutputRowAvx2_3x3(rows[0], rows[1], rows[2], pairBase, pairStep, outputs, space, requant, planes.Temp);
                    else if (kernelHeight == 5 && pairsPerRow == 3) OutputRowAvx2_5x5(rows, pairBase, pairStep, outputs, space, requant, planes.Temp);
                    else OutputRowAvx2(rows, kernelHeight, pairBase, pairsPerRow, pairStep, outputs, space, requant, planes.Temp);
                    planes.CopyOut(yBase + c * yStride, g.OutHeight, g.OutWidth, WritableEnd(yRangeEnd, yBase + c * yStride, g));
                    continue;
                }
                rowRing.StartChannel(xBase + c * xStride);
                byte* yPlane = yBase + c * yStride;
                for (int oh = 0; oh < g.OutHeight; oh++)
                {
                    byte* yRow = yPlane + oh * g.OutWidth;
                    int rowSpace = (g.OutHeight - oh) * g.OutWidth;
                    if (is3x3 && g.StrideHeight == 1 && oh + 1 < g.OutHeight)
                    {
                        // Two output rows from 4 input rows per pass.
                        rowRing.Advance<Avx2PairWidener>(oh, 4);
                        OutputRowPairAvx2_3x3(rows[0], rows[1], rows[2], rows[3], pairBase, pairStep, g.OutWidth, rowSpace, requant, yRow);
                        rowRing.Step(2);
                        oh++;
                        continue;
                    }
                    rowRing.Advance<Avx2PairWidener>(oh * g.StrideHeight, kernelHeight);
                    if (kernelHeight == 3 && pairsPerRow == 2)
                        OutputRowAvx2_3x3(rows[0], rows[1], rows[2], pairBase, pairStep, g.OutWidth, rowSpace, requant, yRow);
                    else if (kernelHeight == 5 && pairsPerRow == 3)
                        OutputRowAvx2_5x5(rows, pairBase, pairStep, g.OutWidth, rowSpace, requant, yRow);
                    else
                        OutputRowAvx2(rows, kernelHeight, pairBase, pairsPerRow, pairStep, g.OutWidth, rowSpace, requant, yRow);
                    rowRing.Step(1);
                }
            }
        }
    }

    /// <summary>
    /// One channel of a 3×3 flat plane on the avx512vnni path: its image rows copied into the byte sub-planes (int8
    /// input XORed with 0x80 on the way, i.e. shifted by 128, so that VPDPBUSD's unsigned operand holds it), then the
    /// machine code (<paramref name="code"/>: edge_dw3x3_s{1,2}_{u8,s8}) computes the flattened outputs into the
    /// temporary row, reading the kernel rows where the SDOT path does, with the channel's 16 bytes of <c>DotRows</c>.
    /// The accumulator starts at <paramref name="accumulatorStart"/> = <c>bias - xz'·Σw</c> with xz' the zero point as
    /// the code sees it. The caller guarantees |<paramref name="multiplier"/>| &lt; 1 (the code's requantization needs it).
    /// </summary>
    private static unsafe void RunVnniChannel3x3(in FlatPlan flatPlan, in FlatPlanes planes, byte* channel, sbyte* rowWeights,
        int accumulatorStart, float multiplier, VnniDepthwiseContext* context,
        delegate* unmanaged[SuppressGCTransition]<byte*, byte*, byte*, long, void*, byte*, void> code)
    {
        planes.BuildBytes(channel);
        int stride = flatPlan.Stride, rowBytes = flatPlan.RowBytes;
        byte* r0 = planes.BytePlane(0), r1 = planes.BytePlane(1 % stride) + 1 / stride * rowBytes;
        byte* r2 = planes.BytePlane(2 % stride) + 2 / stride * rowBytes;
        context->SetChannel(*(int*)rowWeights, *(int*)(rowWeights + 4), *(int*)(rowWeights + 8), accumulatorStart, multiplier);
        code(r0, r1, r2, (flatPlan.Outputs + 15) / 16, context, planes.Temp);
    }

    /// <summary>The context edge_dw3x3_s{1,2}_{u8,s8} read (layout in QGemm.Avx512Vnni.s): indices, weights, bias, requantization.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 96)]
    internal unsafe struct VnniDepthwiseContext
    {
        [FieldOffset(0)] private fixed byte indices[32];
        [FieldOffset(32)] private int weights0;
        [FieldOffset(36)] private int weights1;
        [FieldOffset(40)] private int weights2;
        [FieldOffset(44)] private int bias;
        [FieldOffset(48)] private float multiplier;
        [FieldOffset(52)] private int zeroPoints; // the int16 zero point twice
        [FieldOffset(56)] private int minimums; // four copies of yMin's byte in the output type
        [FieldOffset(60)] private int maximums;
        [FieldOffset(64)] private fixed int order[8];

        /// <summary>Whether the code for <paramref name="yMin"/> packs to int8 (else uint8; [yMin, yMax] fits one of them, see RequantizationFitsBytes).</summary>
        public static bool SignedOutput(int yMin) => yMin < 0;

        public VnniDepthwiseContext(int stride, int yZeroPoint, int yMin, int yMax)
        {
            // VPSHUFB indices per 128-bit lane: the 4-byte windows of four outputs. Stride 1: both lanes hold bytes
            // 0-15, the low lane's windows start at 0,1,2,3 and the high lane's at 4,5,6,7. Stride 2: each lane holds
            // its own 16 bytes (a plain 32-byte load), so both lanes' windows start at 0,2,4,6 of their own bytes.
            for (int lane = 0; lane < 2; lane++)
                for (int output = 0; output < 4; output++)
                    for (int b = 0; b < 4; b++)
                        indices[16 * lane + 4 * output + b] = (byte)(stride == 1 ? 4 * lane + output + b : 2 * output + b);
            zeroPoints = (ushort)(short)yZeroPoint * 0x10001;
            minimums = (byte)yMin * 0x01010101;
            maximums = (byte)yMax * 0x01010101;
            // The dwords of the byte pack in output order. Stride 1: (a 0-3, a 8-11, b 0-3, b 8-11 | a 4-7, a 12-15,
            // b 4-7, b 12-15); stride 2: (a 0-3, a 4-7, b 0-3, b 4-7 | a 8-11, a 12-15, b 8-11, b 12-15).
            ReadOnlySpan<int> outputOrder = stride == 1 ? [0, 4, 1, 5, 2, 6, 3, 7] : [0, 1, 4, 5, 2, 3, 6, 7];
            for (int i = 0; i < 8; i++) order[i] = outputOrder[i];
        }

        public void SetChannel(int row0, int row1, int row2, int channelBias, float channelMultiplier)
        {
            weights0 = row0;
            weights1 = row1;
            weights2 = row2;
            bias = channelBias;
            multiplier = channelMultiplier;
        }
    }

    /// <summary>
    /// Smallest output plane that runs the avx512vnni flat code rather than AVX2 channel groups on CPUs without
    /// AVX512_VBMI (with it, planes up to <see cref="VnniGroupMaxOutPlane"/> run machine-code groups). MobileNetV2's layers,
    /// one thread, GMAC/s of the fastest of three 0.15 s loops (QuantizedKernels.Benchmarks --quick, 2026-11-28, 17:58
    /// UTC), flat VPDPBUSD against channel groups: 28→14 (stride 2) 18.0 against 14.9, but 14→7 10.8 against 13.8 and
    /// 7×7 13.0 against 16.7. (Stride-1 planes of 14×14 and more were already faster flat: 56×56 191 → 131 µs, 28×28
    /// 64 → 50, 14×14 35 → 33 and 52 → 50, before the code's two-block loop and int16 requantization.)
    /// </summary>
    private const int VnniFlatMinOutPlane = 196;

    /// <summary>
    /// Largest output plane whose 3×3 channel groups run in machine code (edge_dwgroup3x3z_*) on the avx512vnni path
    /// with AVX512_VBMI; larger planes run flat.
    /// </summary>
    private const int VnniGroupMaxOutPlane = 196;
    private static bool AllFinite(ReadOnlySpan<float> values)
    {
        foreach (float value in values) if (!float.IsFinite(value)) return false;
        return true;
    }

    /// <summary>Ring slots of int32 pairs of int16 raw values (see the layout above).</summary>
    private readonly struct Avx2PairWidener : IRowWidener
    {
        public static unsafe void Widen(byte* row, byte* slot, int count, int rowBytes, int strideWidth, bool signed)
        {
            if (strideWidth == 1) BuildPairRowStride1(row, (int*)slot, count, signed);
            else BuildPairRowStride2(row, (short*)slot, count, signed);
        }

        public static unsafe void FillPadding(byte* slot, int rowBytes, int xZeroPoint) =>
            new Span<int>(slot, rowBytes).Fill((xZeroPoint & 0xFFFF) | (xZeroPoint << 16));
    }

    /// <summary>dst[j] = (v[j] &amp; 0xFFFF) | (v[j+1] &lt;&lt; 16) for j &lt; count (a multiple of 16), v = raw values of the byte row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void BuildPairRowStride1(byte* row, int* dst, int count, bool signed)
    {
        for (int j = 0; j < count; j += 16)
        {
            var here = Sse2.LoadVector128(row + j);
            var next = Sse2.LoadVector128(row + j + 1);
            var low = Sse2.UnpackLow(here, next);   // v[j], v[j+1], v[j+1], v[j+2], ... : pairs j .. j+7
            var high = Sse2.UnpackHigh(here, next); // pairs j+8 .. j+15
            if (signed)
            {
                Avx.Store((short*)(dst + j), Avx2.ConvertToVector256Int16(low.AsSByte()));
                Avx.Store((short*)(dst + j + 8), Avx2.ConvertToVector256Int16(high.AsSByte()));
            }
            else
            {
                Avx.Store((short*)(dst + j), Avx2.ConvertToVector256Int16(low));
                Avx.Store((short*)(dst + j + 8), Avx2.ConvertToVector256Int16(high));
            }
        }
    }

    /// <summary>dst[j] = v[j] as int16 for j &lt; count (a multiple of 16): read as ints, the pairs (v[2i], v[2i+1]).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void BuildPairRowStride2(byte* row, short* dst, int count, bool signed)
    {
        if (signed)
            for (int j = 0; j < count; j += 16) Avx.Store(dst + j, Avx2.ConvertToVector256Int16((sbyte*)row + j));
        else
            for (int j = 0; j < count; j += 16) Avx.Store(dst + j, Avx2.ConvertToVector256Int16(row + j));
    }

    /// <summary>
    /// AVX2 flat planes built without the byte sub-planes: every image row is widened straight from the input into its
    /// place in the widened sub-planes, the layout <see cref="FlatPlanes.Build{TWidener}"/> with
    /// <see cref="Avx2PairWidener"/> produces (stride 1: pair k of padded row r at <c>r * Pitch + k</c>; stride 2: the
    /// padded row's int16 values from <c>(r / 2) * Pitch</c> ints of sub-plane <c>r % 2</c>). That saves the byte copy
    /// and a second pass over the plane, whose loads straddled the copy's just-written rows. Stride 1 forms the padded
    /// row in registers with its one column of left padding shifted in by VPALIGNR (a constant shift, so only PadLeft =
    /// 1; MobileNet's stride-1 layers all have it); stride 2 takes PadLeft = 0 (TensorFlow's SAME on even sizes). The
    /// columns after the image row are blended to padding, so the whole-vector writes past a row's end store padding:
    /// right for the next padded row when it is padding, and rewritten when it is an image row (written later, from its
    /// first value). The last pair of a stride-1 row pairs its last column with padding instead of the next row's first
    /// column: only a zero weight or no output reads that value. The padding is written once per call
    /// (<see cref="FillWidenedAvx2"/>).
    /// </summary>
    private unsafe readonly partial struct FlatPlanes
    {
        /// <summary>Whether <see cref="BuildWidenedAvx2"/> widens this layout: stride 1 with one left padding column, stride 2 with none.</summary>
        public static bool CanBuildWidenedAvx2(in DepthwiseConvGeometry g) => g.StrideWidth == 1 ? g.PadLeft == 1 : g.PadLeft == 0;

        /// <summary>Fills the pair plane, slack included, with pairs of the padding value.</summary>
        public void FillWidenedAvx2() => FillWidened(2 * plan.WidenedInts);

        /// <summary>The row constants of <see cref="BuildWidenedAvx2"/> for this call.</summary>
        public Avx2FlatRows FlatRowsAvx2() => new(RowCount, xEnd, paddingByte);

        /// <summary>
        /// Widens the image rows of the channel plane at <paramref name="channel"/> into the pair plane, with the row
        /// constants of this call (<paramref name="rows"/>).
        /// </summary>
        // Not inlined: in the channel loop its row loop ran short of registers.
        [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
        public void BuildWidenedAvx2<TBytes>(byte* channel, in Avx2FlatRows rows) where TBytes : struct, IAvx2Bytes
        {
            int pitch = plan.Pitch;
            if (plan.Stride == 1)
            {
                rows.WidenRun<TBytes>(channel, inWidth, (int*)widened + (nint)padTop * pitch, pitch, ImageRows, 1);
                return;
            }
            for (int parity = 0; parity < 2; parity++)
            {
                var (first, count) = ParityRows(parity);
                rows.WidenRun<TBytes>(channel + (nint)first * inWidth, 2 * inWidth, (int*)Widened(parity) + (nint)((padTop + first) >> 1) * pitch,
                    pitch, count, 2);
            }
        }
    }

    /// <summary>
    /// The constants of <see cref="FlatPlanes.BuildWidenedAvx2"/>'s rows, set once per call: an image row of
    /// <see cref="count"/> bytes is its whole 16-byte vectors, then one vector of its last columns blended with padding
    /// (or of padding alone, for the pair of the last column and the padding after it). Rows too near the end of the
    /// input for 16-byte reads are bounced.
    /// </summary>
    private unsafe readonly struct Avx2FlatRows
    {
        private readonly int count;
        private readonly byte* lastDirect;
        private readonly Vector128<byte> padding, tailMask;

        public Avx2FlatRows(int count, byte* xEnd, byte paddingByte)
        {
            this.count = count;
            lastDirect = xEnd - ((count + 15) & ~15);
            padding = Vector128.Create(paddingByte);
            tailMask = Vector128.LessThan(Vector128.Create((byte)0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), Vector128.Create((byte)(count & 15)));
        }

        /// <summary>
        /// Widens <paramref name="rows"/> image rows <paramref name="sourceStep"/> apart into widened rows
        /// <paramref name="pitch"/> ints apart.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void WidenRun<TBytes>(byte* source, int sourceStep, int* destination, int pitch, int rows, int stride) where TBytes : struct, IAvx2Bytes
        {
            // Locals, so the loop keeps them in registers.
            byte* direct = lastDirect;
            int columns = count;
            var pad = padding;
            var mask = tailMask;
            int r = 0;
            // The bounced rows (at the end of the input) run in a loop of their own, so this one holds no call and
            // keeps its pointers in registers.
            for (; r < rows && source <= direct; r++, source += sourceStep, destination += pitch)
                if (stride == 1) WidenRowStride1<TBytes>(source, (short*)destination, columns, pad, mask);
                else WidenRowStride2<TBytes>(source, (short*)destination, columns, pad, mask);
            for (; r < rows; r++, source += sourceStep, destination += pitch)
                WidenBouncedRow<TBytes>(source, (short*)destination, columns, stride, pad, mask);
        }

        /// <summary>Stride 1, one left padding column: pair k = (padded column k, k + 1) = (image column k - 1, k), for k = 0 .. count.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void WidenRowStride1<TBytes>(byte* from, short* to, int count, Vector128<byte> padding, Vector128<byte> tailMask)
            where TBytes : struct, IAvx2Bytes
        {
            int wholeVectors = count / 16, tailColumns = count & 15;
            // previous: the image columns before the current 16 (padding before the row); AlignRight(bytes, previous, 15)
            // is then image columns i - 1 .. i + 14, the first halves of pairs i .. i + 15.
            var previous = padding;
            for (int v = 0; v < wholeVectors; v++, from += 16, to += 32)
            {
                var bytes = Sse2.LoadVector128(from);
                var shifted = Ssse3.AlignRight(bytes, previous, 15);
                Avx.Store(to, TBytes.Widen(Sse2.UnpackLow(shifted, bytes)));
                Avx.Store(to + 16, TBytes.Widen(Sse2.UnpackHigh(shifted, bytes)));
                previous = bytes;
            }
            var last = tailColumns != 0 ? Sse41.BlendVariable(padding, Sse2.LoadVector128(from), tailMask) : padding;
            var lastShifted = Ssse3.AlignRight(last, previous, 15);
            Avx.Store(to, TBytes.Widen(Sse2.UnpackLow(lastShifted, last)));
            if (tailColumns >= 8) Avx.Store(to + 16, TBytes.Widen(Sse2.UnpackHigh(lastShifted, last)));
        }

        /// <summary>Stride 2, no left padding: padded column k = image column k as int16, for k = 0 .. count - 1.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void WidenRowStride2<TBytes>(byte* from, short* to, int count, Vector128<byte> padding, Vector128<byte> tailMask)
            where TBytes : struct, IAvx2Bytes
        {
            int wholeVectors = count / 16;
            for (int v = 0; v < wholeVectors; v++, from += 16, to += 16) Avx.Store(to, TBytes.Widen(Sse2.LoadVector128(from)));
            if ((count & 15) != 0) Avx.Store(to, TBytes.Widen(Sse41.BlendVariable(padding, Sse2.LoadVector128(from), tailMask)));
        }

        /// <summary>As the row functions, for a row whose whole-vector reads would pass the end of the input.</summary>
        [MethodImpl(MethodImplOptions.NoInlining), SkipLocalsInit]
        private static void WidenBouncedRow<TBytes>(byte* from, short* to, int count, int stride, Vector128<byte> padding, Vector128<byte> tailMask)
            where TBytes : struct, IAvx2Bytes
        {
            // Flat rows are at most 128 + 63 bytes at stride 1, 2 * (128 + 31) at stride 2 (FlatPlan.Applies: OutWidth
            // <= 128, KernelWidth <= MaxFastTaps).
            const int MaxBounceBytes = 512;
            if (count > MaxBounceBytes - 16) throw new InvalidOperationException($"flat-plane row of {count} bytes exceeds {MaxBounceBytes - 16}");
            byte* buffer = stackalloc byte[MaxBounceBytes];
            byte* bounce = Bounce(from, buffer, count);
            if (stride == 1) WidenRowStride1<TBytes>(bounce, to, count, padding, tailMask);
            else WidenRowStride2<TBytes>(bounce, to, count, padding, tailMask);
        }
    }

    /// <summary>How input bytes become int16 raw values on AVX2: sign or zero extension (a type argument, so loops hold no branch).</summary>
    private interface IAvx2Bytes
    {
        /// <summary>The 16 bytes as int16.</summary>
        static abstract Vector256<short> Widen(Vector128<byte> bytes);
    }

    private struct SignedBytesAvx2 : IAvx2Bytes
    {
        public static Vector256<short> Widen(Vector128<byte> bytes) => Avx2.ConvertToVector256Int16(bytes.AsSByte());
    }

    private struct UnsignedBytesAvx2 : IAvx2Bytes
    {
        public static Vector256<short> Widen(Vector128<byte> bytes) => Avx2.ConvertToVector256Int16(bytes);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector256<int> PairTerm(int* source, Vector256<short> weightPair) =>
        Avx2.MultiplyAddAdjacent(Avx.LoadVector256((short*)source), weightPair);

    /// <summary>Any kernel: per row, <paramref name="pairsPerRow"/> (offset, weight pair) terms per output, 8 outputs per step.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void OutputRowAvx2(int** rows, int kernelHeight, int* weightPairs, int pairsPerRow, int pairStep, int outWidth,
        int rowSpace, in Avx2Requantizer requant, byte* yRow)
    {
        for (int ow = 0; ow < outWidth; ow += 8)
        {
            var acc = requant.Bias;
            for (int kh = 0; kh < kernelHeight; kh++)
            {
                int* origin = rows[kh] + ow;
                int* pairs = weightPairs + kh * pairsPerRow;
                for (int p = 0; p < pairsPerRow; p++)
                    acc = Avx2.Add(acc, PairTerm(origin + p * pairStep, Vector256.Create(pairs[p]).AsInt16()));
            }
            requant.Store8(acc, yRow + ow, rowSpace - ow);
        }
    }

    /// <summary>3×3 kernel (3 rows × 2 weight pairs, held in registers), 16 then 8 outputs per step.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void OutputRowAvx2_3x3(int* r0, int* r1, int* r2, int* weightPairs, int s, int outWidth, int rowSpace,
        in Avx2Requantizer requant, byte* yRow)
    {
        var w00 = Vector256.Create(weightPairs[0]).AsInt16();
        var w01 = Vector256.Create(weightPairs[1]).AsInt16();
        var w10 = Vector256.Create(weightPairs[2]).AsInt16();
        var w11 = Vector256.Create(weightPairs[3]).AsInt16();
        var w20 = Vector256.Create(weightPairs[4]).AsInt16();
        var w21 = Vector256.Create(weightPairs[5]).AsInt16();
        var bias = requant.Bias;
        int ow = 0;
        for (; ow + 8 < outWidth; ow += 16)
        {
            int* p0 = r0 + ow, p1 = r1 + ow, p2 = r2 + ow;
            var a0 = Avx2.Add(bias, PairTerm(p0, w00));
            var a1 = Avx2.Add(bias, PairTerm(p0 + 8, w00));
            var b0 = PairTerm(p0 + s, w01);
            var b1 = PairTerm(p0 + s + 8, w01);
            a0 = Avx2.Add(a0, PairTerm(p1, w10));
            a1 = Avx2.Add(a1, PairTerm(p1 + 8, w10));
            b0 = Avx2.Add(b0, PairTerm(p1 + s, w11));
            b1 = Avx2.Add(b1, PairTerm(p1 + s + 8, w11));
            a0 = Avx2.Add(a0, PairTerm(p2, w20));
            a1 = Avx2.Add(a1, PairTerm(p2 + 8, w20));
            b0 = Avx2.Add(b0, PairTerm(p2 + s, w21));
            b1 = Avx2.Add(b1, PairTerm(p2 + s + 8, w21));
            requant.Store16(Avx2.Add(a0, b0), Avx2.Add(a1, b1), yRow + ow, rowSpace - ow);
        }
        if (ow < outWidth)
        {
            int* p0 = r0 + ow, p1 = r1 + ow, p2 = r2 + ow;
            var a = Avx2.Add(bias, PairTerm(p0, w00));
            var b = PairTerm(p0 + s, w01);
            a = Avx2.Add(a, PairTerm(p1, w10));
            b = Avx2.Add(b, PairTerm(p1 + s, w11));
            a = Avx2.Add(a, PairTerm(p2, w20));
            b = Avx2.Add(b, PairTerm(p2 + s, w21));
            requant.Store8(Avx2.Add(a, b), yRow + ow, rowSpace - ow);
        }
    }

    /// <summary>
    /// Stride-1 3×3, two output rows at once (rows oh and oh + 1 from input rows <paramref name="r0"/>..<paramref name="r3"/>;
    /// row oh + 1 starts at <c>yRow + outWidth</c>). Blocks run from the last to the first, so the bytes a full store of
    /// row oh's last block writes past its end (into row oh + 1) are rewritten by row oh + 1's first block, stored last.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void OutputRowPairAvx2_3x3(int* r0, int* r1, int* r2, int* r3, int* weightPairs, int s, int outWidth, int rowSpace,
        in Avx2Requantizer requant, byte* yRow)
    {
        var w00 = Vector256.Create(weightPairs[0]).AsInt16();
        var w01 = Vector256.Create(weightPairs[1]).AsInt16();
        var w10 = Vector256.Create(weightPairs[2]).AsInt16();
        var w11 = Vector256.Create(weightPairs[3]).AsInt16();
        var w20 = Vector256.Create(weightPairs[4]).AsInt16();
        var w21 = Vector256.Create(weightPairs[5]).AsInt16();
        var bias = requant.Bias;
        byte* yNext = yRow + outWidth;
        int nextSpace = rowSpace - outWidth;
        int ow = (outWidth - 1) / 8 * 8; // last block of 8
        for (; ow >= 0; ow -= 8)
        {
            int* p0 = r0 + ow, p1 = r1 + ow, p2 = r2 + ow, p3 = r3 + ow;
            var a = Avx2.Add(bias, PairTerm(p0, w00));
            var b = Avx2.Add(bias, PairTerm(p1, w00));
            var c = PairTerm(p0 + s, w01);
            var d = PairTerm(p1 + s, w01);
            a = Avx2.Add(a, PairTerm(p1, w10));
            b = Avx2.Add(b, PairTerm(p2, w10));
            c = Avx2.Add(c, PairTerm(p1 + s, w11));
            d = Avx2.Add(d, PairTerm(p2 + s, w11));
            a = Avx2.Add(a, PairTerm(p2, w20));
            b = Avx2.Add(b, PairTerm(p3, w20));
            c = Avx2.Add(c, PairTerm(p2 + s, w21));
            d = Avx2.Add(d, PairTerm(p3 + s, w21));
            requant.Store8x2(Avx2.Add(a, c), Avx2.Add(b, d), yRow + ow, rowSpace - ow, yNext + ow, nextSpace - ow);
        }
    }

    /// <summary>5×5 kernel (5 rows × 3 weight pairs), 16 then 8 outputs per step.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void OutputRowAvx2_5x5(int** rows, int* weightPairs, int s, int outWidth, int rowSpace,
        in Avx2Requantizer requant, byte* yRow)
    {
        int ow = 0;
        for (; ow + 8 < outWidth; ow += 16)
        {
            var a0 = requant.Bias;
            var a1 = requant.Bias;
            var b0 = Vector256<int>.Zero;
            var b1 = Vector256<int>.Zero;
            int* wp = weightPairs;
            for (int kh = 0; kh < 5; kh++, wp += 3)
            {
                int* r = rows[kh] + ow;
                var p0 = Vector256.Create(wp[0]).AsInt16();
                var p1 = Vector256.Create(wp[1]).AsInt16();
                var p2 = Vector256.Create(wp[2]).AsInt16();
                a0 = Avx2.Add(a0, PairTerm(r, p0));
                a1 = Avx2.Add(a1, PairTerm(r + 8, p0));
                b0 = Avx2.Add(b0, PairTerm(r + s, p1));
                b1 = Avx2.Add(b1, PairTerm(r + s + 8, p1));
                a0 = Avx2.Add(a0, PairTerm(r + 2 * s, p2));
                a1 = Avx2.Add(a1, PairTerm(r + 2 * s + 8, p2));
            }
            requant.Store16(Avx2.Add(a0, b0), Avx2.Add(a1, b1), yRow + ow, rowSpace - ow);
        }
        if (ow < outWidth)
        {
            var a = requant.Bias;
            var b = Vector256<int>.Zero;
            int* wp = weightPairs;
            for (int kh = 0; kh < 5; kh++, wp += 3)
            {
                int* r = rows[kh] + ow;
                a = Avx2.Add(a, PairTerm(r, Vector256.Create(wp[0]).AsInt16()));
                b = Avx2.Add(b, PairTerm(r + s, Vector256.Create(wp[1]).AsInt16()));
                a = Avx2.Add(a, PairTerm(r + 2 * s, Vector256.Create(wp[2]).AsInt16()));
            }
            requant.Store8(Avx2.Add(a, b), yRow + ow, rowSpace - ow);
        }
    }

    /// <summary>
    /// Vector form of <see cref="Requantization.Requantize"/> for one channel, on accumulators that already include the
    /// bias: VCVTDQ2PS (round to nearest even under the default MXCSR), one float multiply, clamp to
    /// [yMin - zp, yMax - zp] in float, VCVTPS2DQ (round half to even), then saturating packs to int16, + zp (saturating,
    /// exact since |values| &lt;= 510), and a saturating pack to bytes (signed or unsigned as the clamp range lies in int8 or
    /// uint8, so the packs never change a value). The multiplier is finite, so the product is never NaN.
    /// </summary>
    private struct Avx2Requantizer(int yZeroPoint, int yMin, int yMax, bool packSigned)
    {
        private readonly Vector256<float> low = Vector256.Create((float)(yMin - yZeroPoint));
        private readonly Vector256<float> high = Vector256.Create((float)(yMax - yZeroPoint));
        private readonly Vector256<short> zeroPoint = Vector256.Create((short)yZeroPoint);
        private readonly bool packSigned = packSigned;
        private Vector256<float> multiplier;

        /// <summary>The channel's accumulator start (bias for raw input values), broadcast.</summary>
        public Vector256<int> Bias { readonly get; private set; }

        public void SetChannel(int channelBias, float channelMultiplier)
        {
            Bias = Vector256.Create(channelBias);
            multiplier = Vector256.Create(channelMultiplier);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private readonly Vector256<int> ToInt(Vector256<int> acc)
        {
            var scaled = Avx.Multiply(Avx.ConvertToVector256Single(acc), multiplier);
            return Avx.ConvertToVector256Int32(Avx.Min(Avx.Max(scaled, low), high));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private readonly Vector128<byte> Pack(Vector128<short> first, Vector128<short> second) =>
            packSigned ? Sse2.PackSignedSaturate(first, second).AsByte() : Sse2.PackUnsignedSaturate(first, second);

        /// <summary>Writes min(8, <paramref name="available"/>) output bytes.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly unsafe void Store8(Vector256<int> acc, byte* destination, int available)
        {
            var v = ToInt(acc);
            var shorts = Sse2.AddSaturate(Sse2.PackSignedSaturate(v.GetLower(), v.GetUpper()), zeroPoint.GetLower());
            var bytes = Pack(shorts, shorts);
            if (available >= 8) Sse2.StoreScalar((long*)destination, bytes.AsInt64());
            else StorePartial(bytes, destination, available);
        }

        /// <summary>
        /// Writes min(8, <paramref name="available0"/>) bytes of <paramref name="acc0"/> to <paramref name="destination0"/>,
        /// then min(8, <paramref name="available1"/>) of <paramref name="acc1"/> to <paramref name="destination1"/>.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly unsafe void Store8x2(Vector256<int> acc0, Vector256<int> acc1, byte* destination0, int available0, byte* destination1, int available1)
        {
            var packed = Avx2.PackSignedSaturate(ToInt(acc0), ToInt(acc1));
            var shorts = Avx2.AddSaturate(Avx2.Permute4x64(packed.AsInt64(), 0b11_01_10_00).AsInt16(), zeroPoint);
            var bytes = Pack(shorts.GetLower(), shorts.GetUpper());
            if (available0 >= 8) Sse2.StoreScalar((long*)destination0, bytes.AsInt64());
            else StorePartial(bytes, destination0, available0);
            if (available1 >= 8) Sse2.StoreScalar((long*)destination1, Sse2.UnpackHigh(bytes.AsInt64(), bytes.AsInt64()));
            else StorePartial(Sse2.UnpackHigh(bytes.AsInt64(), bytes.AsInt64()).AsByte(), destination1, available1);
        }

        /// <summary>Writes min(16, <paramref name="available"/>) output bytes.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly unsafe void Store16(Vector256<int> acc0, Vector256<int> acc1, byte* destination, int available)
        {
            // VPACKSSDW packs within 128-bit lanes: (acc0 0..3, acc1 0..3 | acc0 4..7, acc1 4..7); VPERMQ restores the order.
            var packed = Avx2.PackSignedSaturate(ToInt(acc0), ToInt(acc1));
            var shorts = Avx2.AddSaturate(Avx2.Permute4x64(packed.AsInt64(), 0b11_01_10_00).AsInt16(), zeroPoint);
            var bytes = Pack(shorts.GetLower(), shorts.GetUpper());
            if (available >= 16) Sse2.Store(destination, bytes);
            else StorePartial(bytes, destination, available);
        }
    }
}
