using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using EdgeRuntime.Kernels.Common;

namespace EdgeRuntime.Kernels.Depthwise;

public static partial class DepthwiseConv
{
    // ARM64 AdvSimd path. A ring slot holds int16 raw values v (|v| <= 255), RowBytes shorts used of its 2*RowInts:
    //   stride 1: slot[j] = v[j]                                   tap kw of output ow reads ow + kw
    //   stride 2: slot[j] = v[2j], slot[half + j] = v[2j+1]         tap kw reads (kw odd ? half : 0) + ow + kw/2,
    //             half = RowBytes / 2
    // Each tap is SMLAL + SMLAL2 per 8 outputs: int16 inputs times one int16 weight, widened and added into int32x4
    // accumulators. 3×3 takes its weights by element from two registers (taps 0-7, tap 8); other kernels broadcast.

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void RunNeon(in RowBand band, ReadOnlySpan<byte> x, bool xSigned, int xZeroPoint,
        DepthwiseConvWeights weights, ReadOnlySpan<int> bias, ReadOnlySpan<float> multipliers,
        int yZeroPoint, int yMin, int yMax, Span<byte> y, Span<int> scratch, int cFirst, int cCount, bool dot)
    {
        var g = band.Rows;
        nint xStride = band.XPlaneStride, yStride = band.YPlaneStride;
        var plan = PlanePlan.For(g);
        int kernelHeight = g.KernelHeight, taps = g.Taps;
        int ring = RingSlots(g);
        Span<int> columnOffsets = stackalloc int[g.KernelWidth];
        for (int kw = 0; kw < g.KernelWidth; kw++) columnOffsets[kw] = TapColumnOffset(kw, g.StrideWidth, plan.RowBytes / 2);
        Span<Vector128<short>> tapWeights = stackalloc Vector128<short>[taps];
        byte** rowPointers = stackalloc byte*[ring];
        short** rows = (short**)rowPointers;
        var requant = new NeonRequantizer(yZeroPoint, yMin, yMax, PackSigned(yMin, yMax));
        bool is3x3 = kernelHeight == 3 && g.KernelWidth == 3;
        bool flat = FlatPlan.Applies(g);
        var flatPlan = flat ? FlatPlan.For(g) : default;
        if (flat)
            for (int kw = 0; kw < g.KernelWidth; kw++) columnOffsets[kw] = TapColumnOffset(kw, g.StrideWidth, flatPlan.Half);

        fixed (int* scratchBase = scratch)
        fixed (int* offsetBase = columnOffsets)
        fixed (Vector128<short>* weightBase = tapWeights)
        fixed (short* packed3x3 = weights.Neon3x3)
        fixed (byte* yLayer = y)
        fixed (byte* xLayer = x)
        {
            byte* xBase = xLayer + band.XOffset, yBase = yLayer + band.YOffset;
            int xLength = x.Length - band.XOffset;
            // A whole layer's copy-out stores may run into the next channels of this range, which are written later (in
            // channel order); a band's stop at the end of its rows of each channel (the other rows are another thread's).
            byte* yRangeEnd = band.IsWholeLayer ? yBase + (cFirst + cCount) * yStride : null;
            if (flat && dot && is3x3 && xSigned)
            {
                RunNeonDotFlat3x3(band, flatPlan, x, xZeroPoint, weights, bias, multipliers, requant, y, scratchBase, cFirst, cCount);
                return;
            }
            // Flat planes for narrow layers, else the row ring (see FlatPlan); one channel loop for both.
            var planes = flat ? new FlatPlanes(g, flatPlan, scratchBase, xBase, xLength, xSigned, xZeroPoint, bytePlanesUsed: false) : default;
            if (flat) planes.FillWidenedNeon();
            var rowRing = flat ? default : new RowRing(g, plan, xBase, xLength, xSigned, xZeroPoint, (byte*)scratchBase,
                plan.RowInts * sizeof(int), (byte*)(scratchBase + ScratchSlots(g, plan) * plan.RowInts), rowPointers);
            if (flat)
                for (int kh = 0; kh < kernelHeight; kh++)
                    rows[kh] = (short*)planes.Widened(kh % flatPlan.Stride) + kh / flatPlan.Stride * flatPlan.Pitch;
            else
                rowRing.Initialize<NeonWidener>();
            for (int c = cFirst; c < cFirst + cCount; c++)
            {
                if (!float.IsFinite(multipliers[c]))
                {
                    DepthwiseConvReference.Run(band.Layer, x, xSigned, xZeroPoint, weights.Values, bias, multipliers, yZeroPoint, yMin, yMax, y, c, 1, band.RowFirst, g.OutHeight);
                    continue;
                }
                // 3×3: the taps as lanes of two registers, packed at load; other kernels broadcast each tap.
                Vector128<short> w0to7 = default, w8 = default;
                if (is3x3)
                {
                    w0to7 = AdvSimd.LoadVector128(packed3x3 + 16 * c);
                    w8 = AdvSimd.LoadVector128(packed3x3 + 16 * c + 8);
                }
                else
                {
                    var w = weights.Values.Slice(c * taps, taps);
                    for (int t = 0; t < taps; t++) tapWeights[t] = Vector128.Create(w[t]);
                }
                var channelBias = Vector128.Create(RawValueBias(weights, bias, c, xZeroPoint));
                requant.SetChannel(multipliers[c]);

                if (flat)
                {
                    planes.BuildWidenedNeon(xBase + c * xStride);
                    int outputs = flatPlan.Outputs, space = flatPlan.TempBytes;
                    if (is3x3 && flatPlan.PairRows)
                    {
                        // Wide planes: two padded rows per call, sharing their input loads (see FlatPlan.PairRows).
                        int pitch = flatPlan.Pitch, oh = 0;
                        for (; oh + 1 < g.OutHeight; oh += 2)
                            OutputRowPairNeon3x3(rows[0] + oh * pitch, rows[1] + oh * pitch, rows[2] + oh * pitch, rows[2] + (oh + 1) * pitch,
                                offsetBase[1], offsetBase[2], w0to7, w8, channelBias, pitch, space - oh * pitch, requant, planes.Temp + oh * pitch);
                        if (oh < g.OutHeight)
                            OutputRowNeon3x3(rows[0] + oh * pitch, rows[1] + oh * pitch, rows[2] + oh * pitch, offsetBase[1], offsetBase[2],
                                w0to7, w8, channelBias, pitch, space - oh * pitch, requant, planes.Temp + oh * pitch);
                    }
                    else if (is3x3)
                        OutputRowNeon3x3(rows[0], rows[1], rows[2], offsetBase[1], offsetBase[2], w0to7, w8, channelBias, outputs, space, requant, planes.Temp);
                    else
                        OutputRowNeon(rows, kernelHeight, g.KernelWidth, offsetBase, weightBase, channelBias, outputs, space, requant, planes.Temp);
                    planes.CopyOut(yBase + c * yStride, g.OutHeight, g.OutWidth, WritableEnd(yRangeEnd, yBase + c * yStride, g));
                    continue;
                }
                rowRing.StartChannel(xBase + c * xStride);
                byte* yPlane = yBase + c * yStride;
                // Stride-1 3×3 computes two output rows per pass from 4 input rows.
                for (int oh = 0; oh < g.OutHeight;)
                {
                    bool twoRows = is3x3 && g.StrideHeight == 1 && oh + 1 < g.OutHeight;
                    rowRing.Advance<NeonWidener>(oh * g.StrideHeight, twoRows ? 4 : kernelHeight);
                    byte* yRow = yPlane + oh * g.OutWidth;
                    int rowSpace = (g.OutHeight - oh) * g.OutWidth;
                    if (twoRows)
                        OutputRowPairNeon3x3(rows[0], rows[1], rows[2], rows[3], offsetBase[1], offsetBase[2], w0to7, w8, channelBias,
                            g.OutWidth, rowSpace, requant, yRow);
                    else if (is3x3)
                        OutputRowNeon3x3(rows[0], rows[1], rows[2], offsetBase[1], offsetBase[2], w0to7, w8, channelBias,
                            g.OutWidth, rowSpace, requant, yRow);
                    else
                        OutputRowNeon(rows, kernelHeight, g.KernelWidth, offsetBase, weightBase, channelBias, g.OutWidth, rowSpace, requant, yRow);
                    int step = twoRows ? 2 : 1;
                    oh += step;
                    rowRing.Step(step);
                }
            }
        }
    }

    /// <summary>
    /// NEON flat planes built without the byte sub-planes: every image row is widened straight from the input into its
    /// place in the int16 sub-planes (the layout <see cref="FlatPlanes.Build{TWidener}"/> with <see cref="NeonWidener"/>
    /// produces: stride 1 padded row r at <c>r * Pitch</c>; stride 2 sub-plane <c>r % 2</c>, row <c>r / 2</c>, even
    /// padded columns from 0 and odd ones from <see cref="FlatPlan.Half"/>). That saves the byte copy and a second pass
    /// over the plane. The padding is written once per call (<see cref="FillWidenedNeon"/>); a row's whole-vector writes
    /// past its end are then covered with padding right away, up to where the next row's values start.
    /// </summary>
    private unsafe readonly partial struct FlatPlanes
    {
        /// <summary>Fills both halves and the slack of every int16 sub-plane with the widened padding value.</summary>
        public void FillWidenedNeon() => FillWidened(plan.WidenedInts);

        /// <summary>Widens the image rows of the channel plane at <paramref name="channel"/> into the int16 sub-planes.</summary>
        public void BuildWidenedNeon(byte* channel)
        {
            int pitch = plan.Pitch, count = RowCount;
            var padding = Vector128.Create(signed ? (sbyte)paddingByte : (short)paddingByte);
            if (plan.Stride == 1)
            {
                WidenRowRunNeon(channel, inWidth, (short*)widened + (nint)padTop * pitch + padLeft, null, pitch, ImageRows, count, signed, xEnd, padding);
                return;
            }
            for (int parity = 0; parity < 2; parity++)
            {
                var (first, rows) = ParityRows(parity);
                short* evenHalf = (short*)Widened(parity) + (nint)((padTop + first) >> 1) * pitch, oddHalf = evenHalf + plan.Half;
                // Image column 2m lands in padded column PadLeft + 2m: the even half when PadLeft is even, else the odd one.
                short* fromEvenColumns = padLeft % 2 == 0 ? evenHalf + padLeft / 2 : oddHalf + (padLeft - 1) / 2;
                short* fromOddColumns = padLeft % 2 == 0 ? oddHalf + padLeft / 2 : evenHalf + (padLeft + 1) / 2;
                WidenRowRunNeon(channel + (nint)first * inWidth, 2 * inWidth, fromEvenColumns, fromOddColumns, pitch, rows, count, signed, xEnd, padding);
            }
        }
    }

    /// <summary>
    /// Widens <paramref name="rows"/> image rows of <paramref name="count"/> bytes (<paramref name="sourceStep"/> apart)
    /// into int16 rows <paramref name="pitch"/> apart, in order. Stride 1 (<paramref name="odd"/> null): all columns to
    /// <paramref name="even"/>. Stride 2: even image columns to <paramref name="even"/>, odd ones to <paramref name="odd"/>.
    /// Each row's whole-vector writes pass its end into the next row's place; padding is then stored from its last
    /// value to where the next row's values start (the next row overwrites the rest), and after the last row over
    /// everything it passed. Rows too near the end of the input for 16-byte reads go through a bounce buffer.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization), SkipLocalsInit]
    private static unsafe void WidenRowRunNeon(byte* source, int sourceStep, short* even, short* odd, int pitch, int rows, int count,
        bool signed, byte* xEnd, Vector128<short> padding)
    {
        if (signed) WidenRowRunNeon<SignedBytes>(source, sourceStep, even, odd, pitch, rows, count, xEnd, padding);
        else WidenRowRunNeon<UnsignedBytes>(source, sourceStep, even, odd, pitch, rows, count, xEnd, padding);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization), SkipLocalsInit]
    private static unsafe void WidenRowRunNeon<TBytes>(byte* source, int sourceStep, short* even, short* odd, int pitch, int rows, int count,
        byte* xEnd, Vector128<short> padding) where TBytes : struct, INeonBytes
    {
        if (rows <= 0) return;
        int vectorBytes = (count + 15) & ~15;
        // Flat rows are at most 2 * (128 + 63) bytes (FlatPlan.Applies: OutWidth <= 128, KernelWidth <= MaxFastTaps).
        const int MaxBounceBytes = 512;
        if (vectorBytes > MaxBounceBytes) throw new InvalidOperationException($"flat-plane row of {count} bytes exceeds {MaxBounceBytes}");
        byte* bounce = stackalloc byte[MaxBounceBytes];
        // Rows whose 16-byte reads stay inside the input; the rest (the input's last rows) are bounced.
        int direct = xEnd - source >= vectorBytes ? (int)Math.Min(rows, (xEnd - vectorBytes - source) / sourceStep + 1) : 0;
        if (odd == null)
        {
            int r = 0;
            if (vectorBytes == 16 && pitch - count <= 8)
                // Rows of up to 16 values whose gap to the next row is one vector of padding (the 14- and 7-wide layers,
                // most rows of MobileNet): one load, one pair store and one padding store per row.
                for (; r < direct; r++, source += sourceStep, even += pitch)
                {
                    var bytes = AdvSimd.LoadVector128(source);
                    AdvSimd.Arm64.StorePair(even, TBytes.Widen(bytes.GetLower()), TBytes.WidenUpper(bytes));
                    AdvSimd.Store(even + count, padding);
                }
            for (; r < rows; r++, source += sourceStep, even += pitch)
            {
                byte* from = source, fromEnd = source + vectorBytes;
                if (r >= direct) { from = Bounce(source, bounce, count); fromEnd = from + vectorBytes; }
                short* to = even;
                do
                {
                    var bytes = AdvSimd.LoadVector128(from);
                    AdvSimd.Arm64.StorePair(to, TBytes.Widen(bytes.GetLower()), TBytes.WidenUpper(bytes));
                    from += 16;
                    to += 16;
                } while (from < fromEnd);
                for (short* p = even + count, end = even + pitch; p < end; p += 8) AdvSimd.Store(p, padding);
            }
            for (short* last = even - pitch, p = last + count, end = last + vectorBytes; p < end; p += 8) AdvSimd.Store(p, padding);
            return;
        }
        int evenCount = (count + 1) / 2, oddCount = count / 2;
        for (int r = 0; r < rows; r++, source += sourceStep, even += pitch, odd += pitch)
        {
            byte* from = source, fromEnd = source + vectorBytes;
            if (r >= direct) { from = Bounce(source, bounce, count); fromEnd = from + vectorBytes; }
            short* toEven = even, toOdd = odd;
            do
            {
                var (evenBytes, oddBytes) = AdvSimd.Load2xVector64AndUnzip(from);
                AdvSimd.Store(toEven, TBytes.Widen(evenBytes));
                AdvSimd.Store(toOdd, TBytes.Widen(oddBytes));
                from += 16;
                toEven += 8;
                toOdd += 8;
            } while (from < fromEnd);
            for (short* p = even + evenCount, end = even + pitch; p < end; p += 8) AdvSimd.Store(p, padding);
            for (short* p = odd + oddCount, end = odd + pitch; p < end; p += 8) AdvSimd.Store(p, padding);
        }
        for (short* last = even - pitch, p = last + evenCount, end = last + vectorBytes / 2; p < end; p += 8) AdvSimd.Store(p, padding);
        for (short* last = odd - pitch, p = last + oddCount, end = last + vectorBytes / 2; p < end; p += 8) AdvSimd.Store(p, padding);
    }

    /// <summary>How input bytes become int16 raw values: sign or zero extension (a type argument, so loops hold no branch).</summary>
    private interface INeonBytes
    {
        /// <summary>The 8 bytes as int16.</summary>
        static abstract Vector128<short> Widen(Vector64<byte> bytes);
        /// <summary>The upper 8 of the 16 bytes as int16.</summary>
        static abstract Vector128<short> WidenUpper(Vector128<byte> bytes);
    }

    private struct SignedBytes : INeonBytes
    {
        public static Vector128<short> WidenUpper(Vector128<byte> bytes) => AdvSimd.SignExtendWideningUpper(bytes.AsSByte());
        public static Vector128<short> Widen(Vector64<byte> bytes) => AdvSimd.SignExtendWideningLower(bytes.AsSByte());
    }

    private struct UnsignedBytes : INeonBytes
    {
        public static Vector128<short> WidenUpper(Vector128<byte> bytes) => AdvSimd.ZeroExtendWideningUpper(bytes).AsInt16();
        public static Vector128<short> Widen(Vector64<byte> bytes) => AdvSimd.ZeroExtendWideningLower(bytes).AsInt16();
    }

    /// <summary>Copies <paramref name="count"/> bytes into <paramref name="bounce"/> (whole vectors may be read from there).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static unsafe byte* Bounce(byte* source, byte* bounce, int count)
    {
        Buffer.MemoryCopy(source, bounce, count, count);
        return bounce;
    }

    // SDOT path (Cortex-A76): flat planes of int8 bytes, no widening. Output q reads bytes q·s + kh'·RowBytes + kw of
    // byte sub-plane kh % s (kh' = kh / s, s = stride): for four consecutive outputs, TBL gathers each one's 4-byte
    // window (the 3 taps of one kernel row and one more byte) into a 32-bit lane, and SDOT by element multiplies the
    // lanes by that kernel row's (w0, w1, w2, 0) and adds them to the int32 accumulators: 3 taps of 4 outputs per
    // instruction. Tables are single registers (the JIT copies multi-register tables into consecutive registers before
    // every TBL): stride 1 gathers outputs 0-11 from the 16 bytes at q and 12-15 from those at q + 12; stride 2 gathers
    // each group of four from the 16 bytes at 2q + 8g. The input is int8 (raw values, the zero point folded into the
    // bias as elsewhere). A channel whose weights (w − wz) do not fit int8 widens its plane and runs the SMLAL kernel.

    /// <summary>TBL indices of the 4-byte windows of outputs 4g..4g+3 (g = 0..2) within 16 bytes at stride 1.</summary>
    private static ReadOnlySpan<byte> WindowIndicesStride1 =>
    [
        0, 1, 2, 3, 1, 2, 3, 4, 2, 3, 4, 5, 3, 4, 5, 6,
        4, 5, 6, 7, 5, 6, 7, 8, 6, 7, 8, 9, 7, 8, 9, 10,
        8, 9, 10, 11, 9, 10, 11, 12, 10, 11, 12, 13, 11, 12, 13, 14,
    ];

    /// <summary>TBL indices of the 4-byte windows of four outputs at stride 2 within 16 bytes.</summary>
    private static ReadOnlySpan<byte> WindowIndicesStride2 => [0, 1, 2, 3, 2, 3, 4, 5, 4, 5, 6, 7, 6, 7, 8, 9];

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void RunNeonDotFlat3x3(in RowBand band, in FlatPlan flatPlan, ReadOnlySpan<byte> x, int xZeroPoint,
        DepthwiseConvWeights weights, ReadOnlySpan<int> bias, ReadOnlySpan<float> multipliers, NeonRequantizer requant, Span<byte> y,
        int* scratchBase, int cFirst, int cCount)
    {
        var g = band.Rows;
        nint xStride = band.XPlaneStride, yStride = band.YPlaneStride;
        fixed (byte* yLayer = y)
        fixed (byte* xLayer = x)
        {
            byte* xBase = xLayer + band.XOffset, yBase = yLayer + band.YOffset;
            var planes = new FlatPlanes(g, flatPlan, scratchBase, xBase, x.Length - band.XOffset, signed: true, xZeroPoint);
            int stride = flatPlan.Stride, rowBytes = flatPlan.RowBytes;
            // Copy-out stores of a whole layer may run into the next channels of this range, which are written later (in
            // channel order); a band's stop at the end of its rows of each channel.
            byte* yRangeEnd = band.IsWholeLayer ? yBase + (cFirst + cCount) * yStride : null;
            // Kernel row kh starts at row kh / stride of byte sub-plane kh % stride.
            sbyte* r0 = (sbyte*)planes.BytePlane(0), r1 = (sbyte*)planes.BytePlane(1 % stride) + 1 / stride * rowBytes;
            sbyte* r2 = (sbyte*)planes.BytePlane(2 % stride) + 2 / stride * rowBytes;
            Vector128<sbyte> i0, i1, i2;
            fixed (byte* indices = WindowIndicesStride1)
            {
                i0 = AdvSimd.LoadVector128((sbyte*)indices);
                i1 = AdvSimd.LoadVector128((sbyte*)indices + 16);
                i2 = AdvSimd.LoadVector128((sbyte*)indices + 32);
            }
            fixed (byte* indices = WindowIndicesStride2)
                if (stride == 2) i0 = AdvSimd.LoadVector128((sbyte*)indices);
            bool widenedFilled = false;
            fixed (short* packed3x3 = weights.Neon3x3)
            fixed (sbyte* dotRows = weights.DotRows)
            for (int c = cFirst; c < cFirst + cCount; c++)
            {
                if (!float.IsFinite(multipliers[c]))
                {
                    DepthwiseConvReference.Run(band.Layer, new ReadOnlySpan<byte>(xLayer, x.Length), true, xZeroPoint, weights.Values, bias, multipliers,
                        requant.YZeroPoint, requant.YMin, requant.YMax, new Span<byte>(yLayer, y.Length), c, 1, band.RowFirst, g.OutHeight);
                    continue;
                }
                var channelBias = Vector128.Create(RawValueBias(weights, bias, c, xZeroPoint));
                requant.SetChannel(multipliers[c]);
                if (!weights.FitsInt8[c])
                {
                    // This channel's weights need 9 bits: widen its plane and run the SMLAL kernel instead.
                    if (!widenedFilled) planes.FillWidenedNeon();
                    widenedFilled = true;
                    planes.BuildWidenedNeon(xBase + c * xStride);
                    short* s0 = (short*)planes.Widened(0), s1 = (short*)planes.Widened(1 % stride) + 1 / stride * flatPlan.Pitch;
                    short* s2 = (short*)planes.Widened(2 % stride) + 2 / stride * flatPlan.Pitch;
                    OutputRowNeon3x3(s0, s1, s2, TapColumnOffset(1, stride, flatPlan.Half), TapColumnOffset(2, stride, flatPlan.Half),
                        AdvSimd.LoadVector128(packed3x3 + 16 * c), AdvSimd.LoadVector128(packed3x3 + 16 * c + 8), channelBias, flatPlan.Outputs, flatPlan.TempBytes, requant, planes.Temp);
                    planes.CopyOut(yBase + c * yStride, g.OutHeight, g.OutWidth, WritableEnd(yRangeEnd, yBase + c * yStride, g));
                    continue;
                }
                var rowWeights = AdvSimd.LoadVector128(dotRows + 16 * c);
                planes.BuildBytes(xBase + c * xStride);
                if (stride == 1) OutputsNeonDot3x3Stride1(r0, r1, r2, rowWeights, i0, i1, i2, channelBias, flatPlan.Outputs, requant, planes.Temp);
                else OutputsNeonDot3x3Stride2(r0, r1, r2, rowWeights, i0, channelBias, flatPlan.Outputs, requant, planes.Temp);
                planes.CopyOut(yBase + c * yStride, g.OutHeight, g.OutWidth, WritableEnd(yRangeEnd, yBase + c * yStride, g));
            }
        }
    }

    /// <summary>SDOT of four 4-byte windows gathered from <paramref name="bytes"/> by <paramref name="indices"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> DotWindows(Vector128<int> acc, Vector128<sbyte> bytes, Vector128<sbyte> indices, Vector128<sbyte> rowWeights,
        [ConstantExpected(Max = (byte)3)] byte row) =>
        Dp.DotProductBySelectedQuadruplet(acc, AdvSimd.Arm64.VectorTableLookup(bytes, indices), rowWeights, row);

    /// <summary>
    /// Kernel row <paramref name="row"/> of 16 stride-1 outputs: windows of outputs 0-11 from the 16 bytes at
    /// <paramref name="source"/>, of outputs 12-15 from those at <paramref name="source"/> + 12.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void KernelRowStride1(ref Vector128<int> a0, ref Vector128<int> a1, ref Vector128<int> a2, ref Vector128<int> a3,
        sbyte* source, Vector128<sbyte> w, Vector128<sbyte> i0, Vector128<sbyte> i1, Vector128<sbyte> i2, [ConstantExpected(Max = (byte)3)] byte row)
    {
        var v = AdvSimd.LoadVector128(source);
        var u = AdvSimd.LoadVector128(source + 12);
        a0 = DotWindows(a0, v, i0, w, row);
        a1 = DotWindows(a1, v, i1, w, row);
        a2 = DotWindows(a2, v, i2, w, row);
        a3 = DotWindows(a3, u, i0, w, row);
    }

    /// <summary>
    /// Kernel row <paramref name="row"/> of 16 stride-2 outputs: outputs 4g..4g+3 read the 16 bytes at
    /// <paramref name="source"/> + 8g, loaded as two LDP (bytes 0 and 16, then 8 and 24).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void KernelRowStride2(ref Vector128<int> a0, ref Vector128<int> a1, ref Vector128<int> a2, ref Vector128<int> a3,
        sbyte* source, Vector128<sbyte> w, Vector128<sbyte> i0, [ConstantExpected(Max = (byte)3)] byte row)
    {
        var (v0, v2) = AdvSimd.Arm64.LoadPairVector128(source);
        var (v1, v3) = AdvSimd.Arm64.LoadPairVector128(source + 8);
        a0 = DotWindows(a0, v0, i0, w, row);
        a1 = DotWindows(a1, v1, i0, w, row);
        a2 = DotWindows(a2, v2, i0, w, row);
        a3 = DotWindows(a3, v3, i0, w, row);
    }

    /// <summary>Stride 1: <paramref name="outputs"/> (rounded up to 16) flattened outputs into <paramref name="y"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void OutputsNeonDot3x3Stride1(sbyte* r0, sbyte* r1, sbyte* r2, Vector128<sbyte> w, Vector128<sbyte> i0,
        Vector128<sbyte> i1, Vector128<sbyte> i2, Vector128<int> bias, int outputs, in NeonRequantizer requant, byte* y)
    {
        var rq = requant;
        byte* end = y + outputs;
        // One pointer per kernel row, stepped with the output: loads take immediate offsets, no index arithmetic.
        for (; y < end; r0 += 16, r1 += 16, r2 += 16, y += 16)
        {
            Vector128<int> a0 = bias, a1 = bias, a2 = bias, a3 = bias;
            KernelRowStride1(ref a0, ref a1, ref a2, ref a3, r0, w, i0, i1, i2, 0);
            KernelRowStride1(ref a0, ref a1, ref a2, ref a3, r1, w, i0, i1, i2, 1);
            KernelRowStride1(ref a0, ref a1, ref a2, ref a3, r2, w, i0, i1, i2, 2);
            rq.Store16(a0, a1, a2, a3, y, 16);
        }
    }

    /// <summary>Stride 2: as <see cref="OutputsNeonDot3x3Stride1"/>; outputs 4g..4g+3 read the 16 bytes at 2q + 8g.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void OutputsNeonDot3x3Stride2(sbyte* r0, sbyte* r1, sbyte* r2, Vector128<sbyte> w, Vector128<sbyte> i0,
        Vector128<int> bias, int outputs, in NeonRequantizer requant, byte* y)
    {
        var rq = requant;
        byte* end = y + outputs;
        for (; y < end; r0 += 32, r1 += 32, r2 += 32, y += 16)
        {
            Vector128<int> a0 = bias, a1 = bias, a2 = bias, a3 = bias;
            KernelRowStride2(ref a0, ref a1, ref a2, ref a3, r0, w, i0, 0);
            KernelRowStride2(ref a0, ref a1, ref a2, ref a3, r1, w, i0, 1);
            KernelRowStride2(ref a0, ref a1, ref a2, ref a3, r2, w, i0, 2);
            rq.Store16(a0, a1, a2, a3, y, 16);
        }
    }

    /// <summary>Ring slots of int16 raw values (stride 2: even columns, then odd columns from RowBytes / 2).</summary>
    private readonly struct NeonWidener : IRowWidener
    {
        public static unsafe void Widen(byte* row, byte* slot, int count, int rowBytes, int strideWidth, bool signed) =>
            BuildValueRowNeon(row, (short*)slot, count, rowBytes / 2, strideWidth, signed);

        public static unsafe void FillPadding(byte* slot, int rowBytes, int xZeroPoint) =>
            new Span<short>(slot, rowBytes).Fill((short)xZeroPoint);

        // Stride 1: input column i goes to slot[PadLeft + i]. Stride 2: padded column p = PadLeft + i goes to slot[p / 2]
        // (p even) or slot[half + p / 2] (p odd), so even input columns land in one half and odd ones in the other, each
        // contiguous; every region's writes (rounded-up row plus 8 shorts of padding) must end inside that region.
        public static bool CanWidenInput(int inWidth, int padLeft, int rowBytes, int slotBytes, int strideWidth)
        {
            int slotShorts = slotBytes / sizeof(short), rounded = (inWidth + 15) & ~15;
            if (strideWidth == 1) return padLeft + rounded + 16 <= slotShorts;
            int half = rowBytes / 2;
            return (padLeft + 1) / 2 + rounded / 2 + 8 <= half && half + padLeft / 2 + rounded / 2 + 8 <= slotShorts;
        }

        public static unsafe void WidenInput(byte* source, byte* slot, int inWidth, int padLeft, int rowBytes, int strideWidth,
            bool signed, int xZeroPoint) =>
            WidenInputNeon(source, (short*)slot, inWidth, padLeft, rowBytes / 2, strideWidth, signed, xZeroPoint);
    }

    /// <summary>See <see cref="NeonWidener.WidenInput"/>; <paramref name="half"/> = RowBytes / 2.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void WidenInputNeon(byte* source, short* slot, int inWidth, int padLeft, int half, int strideWidth,
        bool signed, int xZeroPoint)
    {
        var padding = Vector128.Create((short)xZeroPoint);
        if (strideWidth == 1)
        {
            short* dst = slot + padLeft;
            if (signed)
                for (int j = 0; j < inWidth; j += 16)
                {
                    var bytes = AdvSimd.LoadVector128((sbyte*)source + j);
                    AdvSimd.Store(dst + j, AdvSimd.SignExtendWideningLower(bytes.GetLower()));
                    AdvSimd.Store(dst + j + 8, AdvSimd.SignExtendWideningUpper(bytes));
                }
            else
                for (int j = 0; j < inWidth; j += 16)
                {
                    var bytes = AdvSimd.LoadVector128(source + j);
                    AdvSimd.Store(dst + j, AdvSimd.ZeroExtendWideningLower(bytes.GetLower()).AsInt16());
                    AdvSimd.Store(dst + j + 8, AdvSimd.ZeroExtendWideningUpper(bytes).AsInt16());
                }
            AdvSimd.Store(dst + inWidth, padding);
            AdvSimd.Store(dst + inWidth + 8, padding);
            return;
        }
        // Input column 2k (padded column PadLeft + 2k) and 2k + 1.
        short* evenInput, oddInput;
        if ((padLeft & 1) == 0)
        {
            evenInput = slot + padLeft / 2;
            oddInput = slot + half + padLeft / 2;
        }
        else
        {
            evenInput = slot + half + padLeft / 2;
            oddInput = slot + (padLeft + 1) / 2;
        }
        for (int j = 0; j < inWidth; j += 16)
        {
            // Little-endian: the even column is the low byte of each 16-bit lane, the odd column the high byte.
            var pairs = AdvSimd.LoadVector128(source + j).AsInt16();
            Vector128<short> even, odd;
            if (signed)
            {
                even = AdvSimd.ShiftRightArithmetic(AdvSimd.ShiftLeftLogical(pairs, 8), 8);
                odd = AdvSimd.ShiftRightArithmetic(pairs, 8);
            }
            else
            {
                even = AdvSimd.And(pairs, Vector128.Create((short)0xFF));
                odd = AdvSimd.ShiftRightLogical(pairs.AsUInt16(), 8).AsInt16();
            }
            AdvSimd.Store(evenInput + j / 2, even);
            AdvSimd.Store(oddInput + j / 2, odd);
        }
        AdvSimd.Store(evenInput + (inWidth + 1) / 2, padding);
        AdvSimd.Store(oddInput + inWidth / 2, padding);
    }

    /// <summary>
    /// 3×3: 16 then 8 outputs per step, tap t's weight taken by element from <paramref name="w0to7"/> (t &lt; 8) or lane 0
    /// of <paramref name="w8"/>. Column offsets of taps 1 and 2 are <paramref name="o1"/>, <paramref name="o2"/> (tap 0: 0).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void OutputRowNeon3x3(short* r0, short* r1, short* r2, nint o1, nint o2, Vector128<short> w0to7, Vector128<short> w8,
        Vector128<int> bias, int outWidth, int rowSpace, in NeonRequantizer requant, byte* yRow)
    {
        var rq = requant;
        // Byte offsets of taps 1 and 2, and one pointer per kernel row, so each tap's address is one ADD.
        nint b1 = o1 * sizeof(short), b2 = o2 * sizeof(short);
        short* p0 = r0, p1 = r1, p2 = r2;
        int ow = 0;
        for (; ow + 8 < outWidth; ow += 16, p0 += 16, p1 += 16, p2 += 16)
        {
            var a0 = bias;
            var a1 = bias;
            var a2 = bias;
            var a3 = bias;
            Mac16(ref a0, ref a1, ref a2, ref a3, p0, w0to7, 0);
            Mac16(ref a0, ref a1, ref a2, ref a3, At(p0, b1), w0to7, 1);
            Mac16(ref a0, ref a1, ref a2, ref a3, At(p0, b2), w0to7, 2);
            Mac16(ref a0, ref a1, ref a2, ref a3, p1, w0to7, 3);
            Mac16(ref a0, ref a1, ref a2, ref a3, At(p1, b1), w0to7, 4);
            Mac16(ref a0, ref a1, ref a2, ref a3, At(p1, b2), w0to7, 5);
            Mac16(ref a0, ref a1, ref a2, ref a3, p2, w0to7, 6);
            Mac16(ref a0, ref a1, ref a2, ref a3, At(p2, b1), w0to7, 7);
            Mac16(ref a0, ref a1, ref a2, ref a3, At(p2, b2), w8, 0);
            rq.Store16(a0, a1, a2, a3, yRow + ow, rowSpace - ow);
        }
        if (ow < outWidth) OutputRowNeon3x3Tail(r0, r1, r2, o1, o2, w0to7, w8, bias, ow, rowSpace, rq, yRow);
    }

    /// <summary>
    /// Stride-1 3×3, two output rows at once (rows oh and oh + 1 from input rows <paramref name="r0"/>..<paramref name="r3"/>):
    /// each loaded input vector feeds both rows. Output row oh + 1 starts at <c>yRow + outWidth</c>. Blocks run from the
    /// last to the first, so the bytes a full store of row oh's last block writes past its end (into row oh + 1) are
    /// rewritten by row oh + 1's first block, stored last.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void OutputRowPairNeon3x3(short* r0, short* r1, short* r2, short* r3, nint o1, nint o2,
        Vector128<short> w0to7, Vector128<short> w8, Vector128<int> bias, int outWidth, int rowSpace, in NeonRequantizer requant, byte* yRow)
    {
        var rq = requant;
        byte* yNext = yRow + outWidth;
        int nextSpace = rowSpace - outWidth;
        nint tap1Bytes = o1 * sizeof(short), tap2Bytes = o2 * sizeof(short); // one ADD per tap address
        int blocks16 = outWidth > 8 ? (outWidth - 8 + 15) / 16 : 0;
        int tail = 16 * blocks16;
        if (tail < outWidth)
        {
            OutputRowNeon3x3Tail(r0, r1, r2, o1, o2, w0to7, w8, bias, tail, rowSpace, rq, yRow);
            OutputRowNeon3x3Tail(r1, r2, r3, o1, o2, w0to7, w8, bias, tail, nextSpace, rq, yNext);
        }
        for (int ow = tail - 16; ow >= 0; ow -= 16)
        {
            var a0 = bias; var a1 = bias; var a2 = bias; var a3 = bias;
            var b0 = bias; var b1 = bias; var b2 = bias; var b3 = bias;
            Vector128<short> s0, s1;
            short* p = r0 + ow;
            Load16(p, out s0, out s1);
            Mac16(ref a0, ref a1, ref a2, ref a3, s0, s1, w0to7, 0);
            Load16(At(p, tap1Bytes), out s0, out s1);
            Mac16(ref a0, ref a1, ref a2, ref a3, s0, s1, w0to7, 1);
            Load16(At(p, tap2Bytes), out s0, out s1);
            Mac16(ref a0, ref a1, ref a2, ref a3, s0, s1, w0to7, 2);
            p = r1 + ow;
            Load16(p, out s0, out s1);
            Mac16Twice(ref a0, ref a1, ref a2, ref a3, ref b0, ref b1, ref b2, ref b3, s0, s1, w0to7, 3, w0to7, 0);
            Load16(At(p, tap1Bytes), out s0, out s1);
            Mac16Twice(ref a0, ref a1, ref a2, ref a3, ref b0, ref b1, ref b2, ref b3, s0, s1, w0to7, 4, w0to7, 1);
            Load16(At(p, tap2Bytes), out s0, out s1);
            Mac16Twice(ref a0, ref a1, ref a2, ref a3, ref b0, ref b1, ref b2, ref b3, s0, s1, w0to7, 5, w0to7, 2);
            p = r2 + ow;
            Load16(p, out s0, out s1);
            Mac16Twice(ref a0, ref a1, ref a2, ref a3, ref b0, ref b1, ref b2, ref b3, s0, s1, w0to7, 6, w0to7, 3);
            Load16(At(p, tap1Bytes), out s0, out s1);
            Mac16Twice(ref a0, ref a1, ref a2, ref a3, ref b0, ref b1, ref b2, ref b3, s0, s1, w0to7, 7, w0to7, 4);
            Load16(At(p, tap2Bytes), out s0, out s1);
            Mac16Twice(ref a0, ref a1, ref a2, ref a3, ref b0, ref b1, ref b2, ref b3, s0, s1, w8, 0, w0to7, 5);
            p = r3 + ow;
            Load16(p, out s0, out s1);
            Mac16(ref b0, ref b1, ref b2, ref b3, s0, s1, w0to7, 6);
            Load16(At(p, tap1Bytes), out s0, out s1);
            Mac16(ref b0, ref b1, ref b2, ref b3, s0, s1, w0to7, 7);
            Load16(At(p, tap2Bytes), out s0, out s1);
            Mac16(ref b0, ref b1, ref b2, ref b3, s0, s1, w8, 0);
            rq.Store16(a0, a1, a2, a3, yRow + ow, rowSpace - ow);
            rq.Store16(b0, b1, b2, b3, yNext + ow, nextSpace - ow);
        }
    }

    /// <summary>The last 8 outputs (from <paramref name="ow"/>) of a 3×3 row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void OutputRowNeon3x3Tail(short* r0, short* r1, short* r2, nint o1, nint o2, Vector128<short> w0to7, Vector128<short> w8,
        Vector128<int> bias, int ow, int rowSpace, in NeonRequantizer rq, byte* yRow)
    {
        var a0 = bias;
        var a1 = bias;
        short* p = r0 + ow;
        Mac8(ref a0, ref a1, p, w0to7, 0);
        Mac8(ref a0, ref a1, p + o1, w0to7, 1);
        Mac8(ref a0, ref a1, p + o2, w0to7, 2);
        p = r1 + ow;
        Mac8(ref a0, ref a1, p, w0to7, 3);
        Mac8(ref a0, ref a1, p + o1, w0to7, 4);
        Mac8(ref a0, ref a1, p + o2, w0to7, 5);
        p = r2 + ow;
        Mac8(ref a0, ref a1, p, w0to7, 6);
        Mac8(ref a0, ref a1, p + o1, w0to7, 7);
        Mac8(ref a0, ref a1, p + o2, w8, 0);
        rq.Store8(a0, a1, yRow + ow, rowSpace - ow);
    }

    /// <summary>The address <paramref name="byteOffset"/> bytes after <paramref name="p"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe short* At(short* p, nint byteOffset) => (short*)((byte*)p + byteOffset);

    /// <summary>16 int16 inputs at <paramref name="source"/> in two registers (one LDP of Q registers).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Load16(short* source, out Vector128<short> s0, out Vector128<short> s1) =>
        (s0, s1) = AdvSimd.Arm64.LoadPairVector128(source);

    /// <summary>
    /// 16 outputs += 16 loaded inputs × lane <paramref name="lane"/> of <paramref name="weights"/> (SMLAL and SMLAL2 by
    /// element: outputs 0-3 from the low half of <paramref name="s0"/>, 4-7 from its high half, 8-15 likewise from <paramref name="s1"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Mac16(ref Vector128<int> a0, ref Vector128<int> a1, ref Vector128<int> a2, ref Vector128<int> a3,
        Vector128<short> s0, Vector128<short> s1, Vector128<short> weights, [ConstantExpected(Max = (byte)7)] byte lane)
    {
        // Upper halves first: GetLower() as the last use of a register lets the JIT read its D half in place (used
        // before SMLAL2, it copies the whole register first).
        a1 = AdvSimd.MultiplyBySelectedScalarWideningUpperAndAdd(a1, s0, weights, lane);
        a3 = AdvSimd.MultiplyBySelectedScalarWideningUpperAndAdd(a3, s1, weights, lane);
        a0 = AdvSimd.MultiplyBySelectedScalarWideningLowerAndAdd(a0, s0.GetLower(), weights, lane);
        a2 = AdvSimd.MultiplyBySelectedScalarWideningLowerAndAdd(a2, s1.GetLower(), weights, lane);
    }

    /// <summary>
    /// <see cref="Mac16(ref Vector128{int}, ref Vector128{int}, ref Vector128{int}, ref Vector128{int}, Vector128{short}, Vector128{short}, Vector128{short}, byte)"/>
    /// into two output rows (a: <paramref name="weightsA"/>[<paramref name="laneA"/>], b: <paramref name="weightsB"/>[<paramref name="laneB"/>])
    /// from the same inputs, all SMLAL2 first and each low half taken once, so the JIT copies no register.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Mac16Twice(ref Vector128<int> a0, ref Vector128<int> a1, ref Vector128<int> a2, ref Vector128<int> a3,
        ref Vector128<int> b0, ref Vector128<int> b1, ref Vector128<int> b2, ref Vector128<int> b3, Vector128<short> s0, Vector128<short> s1,
        Vector128<short> weightsA, [ConstantExpected(Max = (byte)7)] byte laneA, Vector128<short> weightsB, [ConstantExpected(Max = (byte)7)] byte laneB)
    {
        a1 = AdvSimd.MultiplyBySelectedScalarWideningUpperAndAdd(a1, s0, weightsA, laneA);
        a3 = AdvSimd.MultiplyBySelectedScalarWideningUpperAndAdd(a3, s1, weightsA, laneA);
        b1 = AdvSimd.MultiplyBySelectedScalarWideningUpperAndAdd(b1, s0, weightsB, laneB);
        b3 = AdvSimd.MultiplyBySelectedScalarWideningUpperAndAdd(b3, s1, weightsB, laneB);
        var low0 = s0.GetLower();
        var low1 = s1.GetLower();
        a0 = AdvSimd.MultiplyBySelectedScalarWideningLowerAndAdd(a0, low0, weightsA, laneA);
        a2 = AdvSimd.MultiplyBySelectedScalarWideningLowerAndAdd(a2, low1, weightsA, laneA);
        b0 = AdvSimd.MultiplyBySelectedScalarWideningLowerAndAdd(b0, low0, weightsB, laneB);
        b2 = AdvSimd.MultiplyBySelectedScalarWideningLowerAndAdd(b2, low1, weightsB, laneB);
    }

    /// <summary>16 outputs += 16 int16 inputs at <paramref name="source"/> × lane <paramref name="lane"/> of <paramref name="weights"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Mac16(ref Vector128<int> a0, ref Vector128<int> a1, ref Vector128<int> a2, ref Vector128<int> a3,
        short* source, Vector128<short> weights, [ConstantExpected(Max = (byte)7)] byte lane)
    {
        Load16(source, out var s0, out var s1);
        Mac16(ref a0, ref a1, ref a2, ref a3, s0, s1, weights, lane);
    }

    /// <summary>8 outputs += 8 int16 inputs at <paramref name="source"/> × lane <paramref name="lane"/> of <paramref name="weights"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Mac8(ref Vector128<int> a0, ref Vector128<int> a1, short* source, Vector128<short> weights,
        [ConstantExpected(Max = (byte)7)] byte lane)
    {
        var values = AdvSimd.LoadVector128(source);
        a0 = AdvSimd.MultiplyBySelectedScalarWideningLowerAndAdd(a0, values.GetLower(), weights, lane);
        a1 = AdvSimd.MultiplyBySelectedScalarWideningUpperAndAdd(a1, values, weights, lane);
    }

    /// <summary>Any kernel: every tap's weight broadcast in <paramref name="tapWeights"/>, 16 then 8 outputs per step.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void OutputRowNeon(short** rows, int kernelHeight, int kernelWidth, int* columnOffsets, Vector128<short>* tapWeights,
        Vector128<int> bias, int outWidth, int rowSpace, in NeonRequantizer requant, byte* yRow)
    {
        int ow = 0;
        for (; ow + 8 < outWidth; ow += 16)
        {
            var a0 = bias;
            var a1 = bias;
            var a2 = bias;
            var a3 = bias;
            Vector128<short>* wt = tapWeights;
            for (int kh = 0; kh < kernelHeight; kh++)
            {
                short* origin = rows[kh] + ow;
                for (int kw = 0; kw < kernelWidth; kw++, wt++)
                {
                    short* source = origin + columnOffsets[kw];
                    var weight = *wt;
                    var s0 = AdvSimd.LoadVector128(source);
                    var s1 = AdvSimd.LoadVector128(source + 8);
                    a0 = AdvSimd.MultiplyWideningLowerAndAdd(a0, s0.GetLower(), weight.GetLower());
                    a1 = AdvSimd.MultiplyWideningUpperAndAdd(a1, s0, weight);
                    a2 = AdvSimd.MultiplyWideningLowerAndAdd(a2, s1.GetLower(), weight.GetLower());
                    a3 = AdvSimd.MultiplyWideningUpperAndAdd(a3, s1, weight);
                }
            }
            requant.Store16(a0, a1, a2, a3, yRow + ow, rowSpace - ow);
        }
        if (ow < outWidth)
        {
            var a0 = bias;
            var a1 = bias;
            Vector128<short>* wt = tapWeights;
            for (int kh = 0; kh < kernelHeight; kh++)
            {
                short* origin = rows[kh] + ow;
                for (int kw = 0; kw < kernelWidth; kw++, wt++)
                {
                    var weight = *wt;
                    var s0 = AdvSimd.LoadVector128(origin + columnOffsets[kw]);
                    a0 = AdvSimd.MultiplyWideningLowerAndAdd(a0, s0.GetLower(), weight.GetLower());
                    a1 = AdvSimd.MultiplyWideningUpperAndAdd(a1, s0, weight);
                }
            }
            requant.Store8(a0, a1, yRow + ow, rowSpace - ow);
        }
    }

    /// <summary>
    /// Converts the first <paramref name="count"/> bytes of a padded byte row into int16 raw values (stride 2: even
    /// columns, then odd columns from <paramref name="half"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void BuildValueRowNeon(byte* row, short* dst, int count, int half, int strideWidth, bool signed)
    {
        if (strideWidth == 1)
        {
            if (signed)
                for (int j = 0; j < count; j += 16)
                {
                    var bytes = AdvSimd.LoadVector128((sbyte*)row + j);
                    AdvSimd.Store(dst + j, AdvSimd.SignExtendWideningLower(bytes.GetLower()));
                    AdvSimd.Store(dst + j + 8, AdvSimd.SignExtendWideningUpper(bytes));
                }
            else
                for (int j = 0; j < count; j += 16)
                {
                    var bytes = AdvSimd.LoadVector128(row + j);
                    AdvSimd.Store(dst + j, AdvSimd.ZeroExtendWideningLower(bytes.GetLower()).AsInt16());
                    AdvSimd.Store(dst + j + 8, AdvSimd.ZeroExtendWideningUpper(bytes).AsInt16());
                }
        }
        else
        {
            for (int j = 0; j < count; j += 16)
            {
                // Little-endian: the even column is the low byte of each 16-bit lane, the odd column the high byte.
                var pairs = AdvSimd.LoadVector128(row + j).AsInt16();
                Vector128<short> even, odd;
                if (signed)
                {
                    even = AdvSimd.ShiftRightArithmetic(AdvSimd.ShiftLeftLogical(pairs, 8), 8);
                    odd = AdvSimd.ShiftRightArithmetic(pairs, 8);
                }
                else
                {
                    even = AdvSimd.And(pairs, Vector128.Create((short)0xFF));
                    odd = AdvSimd.ShiftRightLogical(pairs.AsUInt16(), 8).AsInt16();
                }
                AdvSimd.Store(dst + j / 2, even);
                AdvSimd.Store(dst + half + j / 2, odd);
            }
        }
    }

    /// <summary>
    /// <see cref="Requantization.Requantize"/> for one channel on accumulators that include the bias: SCVTF (round to
    /// nearest even), FMUL, FCVTNS (round half to even, saturating), SQXTN to int16, SQADD the zero point, SQXTN/SQXTUN
    /// to bytes, then the clamp to [yMin, yMax] on bytes. Exact: the clamp range lies inside the final byte type and
    /// every saturating step is monotone and keeps the values of that range, so saturating early never changes a
    /// clamped result; the multiplier is finite, so the product is never NaN.
    /// </summary>
    private struct NeonRequantizer(int yZeroPoint, int yMin, int yMax, bool packSigned)
    {
        public readonly int YZeroPoint = yZeroPoint, YMin = yMin, YMax = yMax;

        private readonly Vector128<short> zeroPoint = Vector128.Create((short)yZeroPoint);
        private readonly Vector128<byte> low = packSigned ? Vector128.Create((sbyte)yMin).AsByte() : Vector128.Create((byte)yMin);
        private readonly Vector128<byte> high = packSigned ? Vector128.Create((sbyte)yMax).AsByte() : Vector128.Create((byte)yMax);
        private readonly bool packSigned = packSigned;
        private Vector128<float> multiplier;

        public void SetChannel(float channelMultiplier) => multiplier = Vector128.Create(channelMultiplier);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private readonly Vector128<int> ToInt(Vector128<int> acc) =>
            AdvSimd.ConvertToInt32RoundToEven(AdvSimd.Multiply(AdvSimd.ConvertToSingle(acc), multiplier));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private readonly Vector128<short> ToShorts(Vector128<int> first, Vector128<int> second) =>
            AdvSimd.AddSaturate(AdvSimd.ExtractNarrowingSaturateUpper(AdvSimd.ExtractNarrowingSaturateLower(ToInt(first)), ToInt(second)), zeroPoint);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private readonly Vector128<byte> ToBytes(Vector128<short> first, Vector128<short> second)
        {
            if (packSigned)
            {
                var bytes = AdvSimd.ExtractNarrowingSaturateUpper(AdvSimd.ExtractNarrowingSaturateLower(first), second);
                return AdvSimd.Min(AdvSimd.Max(bytes, low.AsSByte()), high.AsSByte()).AsByte();
            }
            var unsignedBytes = AdvSimd.ExtractNarrowingSaturateUnsignedUpper(AdvSimd.ExtractNarrowingSaturateUnsignedLower(first), second);
            return AdvSimd.Min(AdvSimd.Max(unsignedBytes, low), high);
        }

        /// <summary>Writes min(16, <paramref name="available"/>) output bytes.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly unsafe void Store16(Vector128<int> a0, Vector128<int> a1, Vector128<int> a2, Vector128<int> a3, byte* destination, int available)
        {
            var bytes = ToBytes(ToShorts(a0, a1), ToShorts(a2, a3));
            if (available >= 16) AdvSimd.Store(destination, bytes);
            else StorePartial(bytes, destination, available);
        }

        /// <summary>Writes min(8, <paramref name="available"/>) output bytes.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly unsafe void Store8(Vector128<int> a0, Vector128<int> a1, byte* destination, int available)
        {
            var shorts = ToShorts(a0, a1);
            var bytes = ToBytes(shorts, shorts);
            if (available >= 8) AdvSimd.Store(destination, bytes.GetLower());
            else StorePartial(bytes, destination, available);
        }
    }
}
