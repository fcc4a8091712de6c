using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeRuntime.Kernels.Depthwise;

/// <summary>
/// AVX2 channel groups, for small planes (MobileNets' 7×7 to 56×56 layers), where the per-channel work of the plane
/// layouts (widening a 9×9 plane, 7-wide rows in 16-wide vectors, copying 7-byte rows out) outweighs the 441
/// multiply-adds of a channel. Sixteen channels go through together, as in an NHWC kernel: their padded planes are
/// transposed into <c>[padded row][padded column][16 channels]</c> bytes, each output pixel is then one vector of 16
/// channels per tap, and the 16 output planes are transposed back.
/// <para>Per pair of taps (t0, t1): both 16-channel byte vectors widened to int16 and interleaved (VPUNPCKLWD/HWD), so
/// that one VPMADDWD per half multiplies each channel's (x[t0], x[t1]) by its (w[t0], w[t1]): 2 × 16 MACs in 8
/// instructions, against the plane layouts' ~50 instructions for 16 outputs of one channel. An odd last tap is
/// paired with itself and weight 0.</para>
/// <para>Within-lane unpacking puts channels (0–3, 8–11) in the low accumulator and (4–7, 12–15) in the high one; the
/// weights, biases and multipliers are loaded in that order , and VPACKSSDW(low, high)
/// restores channel order. The sums and the requantization are those of the other AVX2 layouts (raw input values,
/// <c>bias − xZeroPoint·Σw</c>, padding = the raw zero point), so every output is the reference's.</para>
/// </summary>
public static partial class DepthwiseConv
{
    /// <summary>Channels per group: one byte per channel in a 16-byte vector.</summary>
    private const int GroupChannels = 16;

    /// <summary>
    /// Largest output plane computed in channel groups: 14×14 at any stride, up to 56×56 at stride 1 (measured on
    /// MobileNetV2's layers: 7×7 s1 55 → 33 µs, 14×14 s2 40 → 25, 14×14 s1 77 → 62, 28×28 s1 86 → 78, 56×56 s1
    /// 239 → 228, but 28×28 s2 73 → 88: a stride-2 group transposes four input pixels per output; 112×112 s1 gained
    /// nothing for 400 KB more scratch). Larger planes amortize the plane layouts' per-channel work.
    /// </summary>
    private const int MaxGroupOutPlane = 196, MaxGroupOutPlaneStride1 = 3136;

    /// <summary>Test switch for this thread: when true, the AVX2 path never uses channel groups (the self-test checks both).</summary>
    [ThreadStatic] internal static bool NoChannelGroups;

    /// <summary>The padded input a group reads: rows and columns of the padded plane that some output reads.</summary>
    private static (int Rows, int Columns) GroupPaddedSize(in DepthwiseConvGeometry g) =>
        ((g.OutHeight - 1) * g.StrideHeight + g.KernelHeight, (g.OutWidth - 1) * g.StrideWidth + g.KernelWidth);

    /// <summary>Whether channel groups apply to <paramref name="g"/> (AVX2; the ranges still need 16 channels).</summary>
    private static bool ChannelGroupsApply(in DepthwiseConvGeometry g) =>
        !NoChannelGroups && !RowRingOnly && g.Channels >= GroupChannels
        && (g.OutPlane <= MaxGroupOutPlane || g.OutPlane <= MaxGroupOutPlaneStride1 && g.StrideHeight == 1 && g.StrideWidth == 1)
        && GroupPaddedSize(g).Rows * GroupPaddedSize(g).Columns <= 64 * 64;

    /// <summary>
    /// Ints of scratch for channel groups: the transposed padded input, the transposed output (with 16 pixels of
    /// slack for the last transpose block), and the group's weight pairs in lane order.
    /// </summary>
    private static int ChannelGroupScratchInts(in DepthwiseConvGeometry g)
    {
        var (rows, columns) = GroupPaddedSize(g);
        int tapPairs = (g.Taps + 1) / 2;
        return rows * columns * GroupChannels / sizeof(int) + (g.OutPlane + 16) * GroupChannels / sizeof(int) + tapPairs * 16;
    }

    /// <summary>
    /// Channels c0 .. c0 + 15 of the depthwise convolution, into their output planes (nothing is stored outside them).
    /// <paramref name="work"/> holds <see cref="ChannelGroupScratchInts"/> ints, its padding filled by
    /// <see cref="FillGroupPadding"/> for this call; <paramref name="xEnd"/> is the end of the input (no load passes it).
    /// </summary>
    private static unsafe void RunChannelGroupAvx2(in DepthwiseConvGeometry g, byte* xBase, nint xStride, byte* xEnd, bool xSigned, int xZeroPoint,
        DepthwiseConvWeights weights, ReadOnlySpan<int> bias, ReadOnlySpan<float> multipliers, int yZeroPoint, int yMin, int yMax,
        byte* yBase, nint yStride, int c0, int* work)
    {
        if (xSigned) RunChannelGroupAvx2<SignedBytesAvx2>(g, xBase, xStride, xEnd, xZeroPoint, weights, bias, multipliers, yZeroPoint, yMin, yMax, yBase, yStride, c0, work);
        else RunChannelGroupAvx2<UnsignedBytesAvx2>(g, xBase, xStride, xEnd, xZeroPoint, weights, bias, multipliers, yZeroPoint, yMin, yMax, yBase, yStride, c0, work);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void RunChannelGroupAvx2<TBytes>(in DepthwiseConvGeometry g, byte* xBase, nint xStride, byte* xEnd, int xZeroPoint,
        DepthwiseConvWeights weights, ReadOnlySpan<int> bias, ReadOnlySpan<float> multipliers, int yZeroPoint, int yMin, int yMax,
        byte* yBase, nint yStride, int c0, int* work)
        where TBytes : struct, IAvx2Bytes
    {
        var (paddedRows, paddedColumns) = GroupPaddedSize(g);
        int taps = g.Taps, tapPairs = (taps + 1) / 2;
        byte* input = (byte*)work;
        byte* output = input + paddedRows * paddedColumns * GroupChannels;
        int* lanes = (int*)(output + (g.OutPlane + 16) * GroupChannels); // tapPairs × 16 weight pairs in lane order

        // Weight pairs of the 16 channels in lane order (see the class summary): per pair, channels c0..c0+7 and
        // c0+8..c0+15 loaded, then (0–3, 8–11) and (4–7, 12–15) taken from their 128-bit halves.
        Vector256<int> biasLow, biasHigh;
        Vector256<float> multiplierLow, multiplierHigh;
        fixed (int* pairs = weights.Avx2ChannelPairs)
        fixed (int* sums = weights.Sums)
        fixed (float* multiplierBase = multipliers)
        fixed (int* biasBase = bias)
        {
            int stride = weights.Avx2ChannelPairStride;
            for (int p = 0; p < tapPairs; p++)
            {
                var first = Avx.LoadVector256(pairs + p * stride + c0);
                var second = Avx.LoadVector256(pairs + p * stride + c0 + 8);
                Avx.Store(lanes + p * 16, Avx2.Permute2x128(first, second, 0x20));
                Avx.Store(lanes + p * 16 + 8, Avx2.Permute2x128(first, second, 0x31));
            }
            // bias − xZeroPoint·Σw (RawValueBias), wrapping, in lane order.
            var zeroPoint = Vector256.Create(xZeroPoint);
            var start0 = Avx2.Subtract(bias.IsEmpty ? Vector256<int>.Zero : Avx.LoadVector256(biasBase + c0), Avx2.MultiplyLow(zeroPoint, Avx.LoadVector256(sums + c0)));
            var start1 = Avx2.Subtract(bias.IsEmpty ? Vector256<int>.Zero : Avx.LoadVector256(biasBase + c0 + 8), Avx2.MultiplyLow(zeroPoint, Avx.LoadVector256(sums + c0 + 8)));
            biasLow = Avx2.Permute2x128(start0, start1, 0x20);
            biasHigh = Avx2.Permute2x128(start0, start1, 0x31);
            var m0 = Avx.LoadVector256(multiplierBase + c0);
            var m1 = Avx.LoadVector256(multiplierBase + c0 + 8);
            multiplierLow = Avx.Permute2x128(m0, m1, 0x20);
            multiplierHigh = Avx.Permute2x128(m0, m1, 0x31);
        }

        TransposeInGroup(g, xBase + c0 * xStride, xStride, xEnd, input, paddedRows, paddedColumns);

        var requantizer = new GroupRequantizer(biasLow, biasHigh, multiplierLow, multiplierHigh, yZeroPoint, yMin, yMax);
        long rowBytes = (long)paddedColumns * GroupChannels;
        byte* destination = output;
        if (g.KernelHeight == 3 && g.KernelWidth == 3)
        {
            for (int oh = 0; oh < g.OutHeight; oh++)
            {
                byte* window = input + oh * g.StrideHeight * rowBytes;
                for (int ow = 0; ow < g.OutWidth; ow++, destination += GroupChannels, window += g.StrideWidth * GroupChannels)
                    Sse2.Store(destination, Pixel3x3<TBytes>(window, rowBytes, lanes, requantizer));
            }
        }
        else
        {
            // Tap offsets in the transposed input (bytes), per tap pair; an odd last tap pairs with itself (weight 0).
            int* offsets = stackalloc int[2 * tapPairs];
            for (int t = 0; t < 2 * tapPairs; t++)
            {
                int tap = Math.Min(t, taps - 1);
                offsets[t] = (int)(tap / g.KernelWidth * rowBytes + tap % g.KernelWidth * GroupChannels);
            }
            for (int oh = 0; oh < g.OutHeight; oh++)
            {
                byte* window = input + oh * g.StrideHeight * rowBytes;
                for (int ow = 0; ow < g.OutWidth; ow++, destination += GroupChannels, window += g.StrideWidth * GroupChannels)
                {
                    var accLow = biasLow;
                    var accHigh = biasHigh;
                    for (int p = 0; p < tapPairs; p++)
                        TapPair<TBytes>(window + offsets[2 * p], window + offsets[2 * p + 1], lanes + p * 16, ref accLow, ref accHigh);
                    Sse2.Store(destination, requantizer.Bytes(accLow, accHigh));
                }
            }
        }
        TransposeOutGroup(output, g.OutPlane, yBase + c0 * yStride, yStride);
    }

    /// <summary>
    /// Channels c0 .. c0 + 15 of a 3×3 depthwise convolution on the avx512vnni path with AVX512_VBMI: the same transposed
    /// input and output as <see cref="RunChannelGroupAvx2"/>, but the pixels are computed by edge_dwgroup3x3z_s{1,2}
    /// (<paramref name="code"/>), which adds a kernel row of all sixteen channels with one VPDPBUSD (three per output
    /// pixel, against fifteen VPMADDWD-and-add steps of 256 bits). The caller guarantees that the sixteen channels'
    /// weights fit int8 (<see cref="DepthwiseConvWeights.FitsInt8"/>) and that their multipliers are finite;
    /// <paramref name="context"/> was made for this call's geometry and output type (<see cref="VnniGroupContext"/>).
    /// </summary>
    private static unsafe void RunChannelGroupVnni3x3(in DepthwiseConvGeometry g, byte* xBase, nint xStride, byte* xEnd, bool xSigned,
        int xZeroPoint, DepthwiseConvWeights weights, ReadOnlySpan<int> bias, ReadOnlySpan<float> multipliers, byte* yBase, nint yStride,
        int c0, int* work, VnniGroupContext* context, delegate* unmanaged[SuppressGCTransition]<byte*, byte*, long, long, void*, void> code)
    {
        var (paddedRows, paddedColumns) = GroupPaddedSize(g);
        byte* input = (byte*)work;
        byte* output = input + paddedRows * paddedColumns * GroupChannels;
        // The code sees int8 input flipped to uint8 (x + 128), so its zero point is the input's + 128 (see RawValueBias).
        int codeZeroPoint = xSigned ? xZeroPoint + 128 : xZeroPoint;
        fixed (sbyte* dotRows = weights.DotRows)
            for (int c = 0; c < GroupChannels; c++)
                context->SetChannel(c, (int*)(dotRows + 16 * (c0 + c)), RawValueBias(weights, bias, c0 + c, codeZeroPoint), multipliers[c0 + c]);
        TransposeInGroup(g, xBase + c0 * xStride, xStride, xEnd, input, paddedRows, paddedColumns);
        code(input, output, g.OutHeight, g.OutWidth, context);
        TransposeOutGroup(output, g.OutPlane, yBase + c0 * yStride, yStride);
    }

    /// <summary>
    /// The context edge_dwgroup3x3z_s{1,2} reads (layout in QGemm.Avx512Vnni.s): per channel the kernel rows' weight
    /// dwords, accumulator start and multiplier, then the requantization bounds and the input's strides. It holds
    /// nothing the code can derive (the VPERMB indices are a constant of the code image, DWG_TAPS).
    /// </summary>
    [StructLayout(LayoutKind.Explicit, Size = 352)]
    internal unsafe struct VnniGroupContext
    {
        [FieldOffset(0)] private fixed int rowWeights[3 * GroupChannels]; // [kernel row][channel]: (w0, w1, w2, 0) as int8 bytes
        [FieldOffset(192)] private fixed int starts[GroupChannels];
        [FieldOffset(256)] private fixed float channelMultipliers[GroupChannels];
        [FieldOffset(320)] private float low;
        [FieldOffset(324)] private float high;
        [FieldOffset(328)] private int zeroPoint;
        [FieldOffset(332)] private uint flip;
        [FieldOffset(336)] private long rowBytes;
        [FieldOffset(344)] private long rowStep;

        /// <summary>The context of one call: the geometry's strides, the input type and the output's requantization.</summary>
        /// <param name="paddedColumns">Columns of the transposed padded input (<see cref="GroupPaddedSize"/>).</param>
        /// <param name="strideHeight">Input rows between two output rows.</param>
        /// <param name="xSigned">Int8 input, which the code flips to uint8 (XOR 0x80).</param>
        /// <param name="yZeroPoint">Output zero point.</param>
        /// <param name="yMin">Least output value (the output type's minimum or a fused clamp's).</param>
        /// <param name="yMax">Greatest output value.</param>
        public VnniGroupContext(int paddedColumns, int strideHeight, bool xSigned, int yZeroPoint, int yMin, int yMax)
        {
            low = yMin - yZeroPoint;
            high = yMax - yZeroPoint;
            zeroPoint = yZeroPoint;
            flip = xSigned ? 0x80808080u : 0u;
            rowBytes = (long)paddedColumns * GroupChannels;
            rowStep = strideHeight * rowBytes;
        }

        /// <summary>Sets channel <paramref name="c"/> of the group: its three <c>DotRows</c> dwords, accumulator start and multiplier.</summary>
        public void SetChannel(int c, int* dotRows, int start, float multiplier)
        {
            for (int kh = 0; kh < 3; kh++) rowWeights[kh * GroupChannels + c] = dotRows[kh];
            starts[c] = start;
            channelMultipliers[c] = multiplier;
        }
    }

    /// <summary>Adds one tap pair of 16 channels: (x[t0], x[t1]) interleaved per channel, times its weight pairs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void TapPair<TBytes>(byte* tap0, byte* tap1, int* weightPairs, ref Vector256<int> accLow, ref Vector256<int> accHigh)
        where TBytes : struct, IAvx2Bytes
    {
        var x0 = TBytes.Widen(Sse2.LoadVector128(tap0));
        var x1 = TBytes.Widen(Sse2.LoadVector128(tap1));
        accLow = Avx2.Add(accLow, Avx2.MultiplyAddAdjacent(Avx2.UnpackLow(x0, x1), Avx.LoadVector256((short*)weightPairs)));
        accHigh = Avx2.Add(accHigh, Avx2.MultiplyAddAdjacent(Avx2.UnpackHigh(x0, x1), Avx.LoadVector256((short*)(weightPairs + 8))));
    }

    /// <summary>One output pixel of 16 channels of a 3×3 kernel: tap pairs (0,1) (2,3) (4,5) (6,7) (8,8), unrolled.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector128<byte> Pixel3x3<TBytes>(byte* window, long rowBytes, int* lanes, in GroupRequantizer requantizer)
        where TBytes : struct, IAvx2Bytes
    {
        var accLow = requantizer.BiasLow;
        var accHigh = requantizer.BiasHigh;
        byte* row1 = window + rowBytes, row2 = window + 2 * rowBytes;
        TapPair<TBytes>(window, window + 16, lanes, ref accLow, ref accHigh);
        TapPair<TBytes>(window + 32, row1, lanes + 16, ref accLow, ref accHigh);
        TapPair<TBytes>(row1 + 16, row1 + 32, lanes + 32, ref accLow, ref accHigh);
        TapPair<TBytes>(row2, row2 + 16, lanes + 48, ref accLow, ref accHigh);
        TapPair<TBytes>(row2 + 32, row2 + 32, lanes + 64, ref accLow, ref accHigh);
        return requantizer.Bytes(accLow, accHigh);
    }

    /// <summary>
    /// The requantization of Avx2Requantizer with per-lane biases and multipliers (lane order): float multiply, clamp
    /// to [yMin − zp, yMax − zp], round half to even, pack to int16 (channels back in order), + zp, pack to bytes.
    /// </summary>
    private readonly struct GroupRequantizer(Vector256<int> biasLow, Vector256<int> biasHigh, Vector256<float> multiplierLow,
        Vector256<float> multiplierHigh, int yZeroPoint, int yMin, int yMax)
    {
        public readonly Vector256<int> BiasLow = biasLow, BiasHigh = biasHigh;
        private readonly Vector256<float> multiplierLow = multiplierLow, multiplierHigh = multiplierHigh;
        private readonly Vector256<float> low = Vector256.Create((float)(yMin - yZeroPoint)), high = Vector256.Create((float)(yMax - yZeroPoint));
        private readonly Vector256<short> zeroPoint = Vector256.Create((short)yZeroPoint);
        private readonly bool packSigned = PackSigned(yMin, yMax);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector128<byte> Bytes(Vector256<int> accLow, Vector256<int> accHigh)
        {
            var qLow = Avx.ConvertToVector256Int32(Avx.Min(Avx.Max(Avx.Multiply(Avx.ConvertToVector256Single(accLow), multiplierLow), low), high));
            var qHigh = Avx.ConvertToVector256Int32(Avx.Min(Avx.Max(Avx.Multiply(Avx.ConvertToVector256Single(accHigh), multiplierHigh), low), high));
            var shorts = Avx2.AddSaturate(Avx2.PackSignedSaturate(qLow, qHigh), zeroPoint); // channels 0..7 | 8..15
            return packSigned
                ? Sse2.PackSignedSaturate(shorts.GetLower(), shorts.GetUpper()).AsByte()
                : Sse2.PackUnsignedSaturate(shorts.GetLower(), shorts.GetUpper());
        }
    }

    /// <summary>
    /// Fills a group's transposed input (the start of <paramref name="work"/>, <c>[padded rows][padded columns][16]</c>)
    /// with the input zero point: once per call, since <see cref="TransposeInGroup"/> writes only the pixels that
    /// hold input, the same ones for every group, and the padding around them stays.
    /// </summary>
    private static unsafe void FillGroupPadding(in DepthwiseConvGeometry g, int* work, byte zeroPoint)
    {
        var (paddedRows, paddedColumns) = GroupPaddedSize(g);
        byte* input = (byte*)work;
        var fill = Vector256.Create(zeroPoint);
        int bytes = paddedRows * paddedColumns * GroupChannels; // a multiple of 16
        int i = 0;
        for (; i + 32 <= bytes; i += 32) Avx.Store(input + i, fill);
        if (i < bytes) Sse2.Store(input + i, fill.GetLower());
    }

    /// <summary>
    /// Transposes each input row of the 16 planes at <paramref name="planes"/> (<paramref name="planeStride"/> bytes apart) into its row of
    /// <paramref name="input"/> (padding already filled by <see cref="FillGroupPadding"/>): 16 columns at a time, 16
    /// bytes per channel loaded (through a copy where that would read past <paramref name="xEnd"/>).
    /// </summary>
    private static unsafe void TransposeInGroup(in DepthwiseConvGeometry g, byte* planes, nint planeStride, byte* xEnd, byte* input,
        int paddedRows, int paddedColumns)
    {
        byte* staging = stackalloc byte[16 * 16]; // 16 source rows, where they end near xEnd
        for (int ih = 0; ih < g.InHeight; ih++)
        {
            int pr = ih + g.PadTop;
            if (pr < 0 || pr >= paddedRows) continue;
            for (int iw0 = 0; iw0 < g.InWidth; iw0 += 16)
            {
                byte* source = planes + ih * g.InWidth + iw0;
                long stride = planeStride;
                if (source + 15 * stride + 16 > xEnd)
                {
                    // The last channels' rows end near the end of x: copy what exists, so no load reads past it.
                    for (int ch = 0; ch < 16; ch++)
                        for (int b = 0; b < 16; b++) staging[ch * 16 + b] = source + ch * stride + b < xEnd ? source[ch * stride + b] : (byte)0;
                    source = staging;
                    stride = 16;
                }
                // Row j of the transposed block is input column iw0 + j: 16 channels, stored at its padded pixel.
                int first = iw0 + g.PadLeft;
                int columns = Math.Min(Math.Min(16, g.InWidth - iw0), paddedColumns - first);
                if (columns > 0) Transpose16x16(source, stride, input + (pr * paddedColumns + first) * GroupChannels, GroupChannels, columns);
            }
        }
    }

    /// <summary>
    /// Transposes <c>[pixels][16 channels]</c> bytes at <paramref name="output"/> into 16 output planes of
    /// <paramref name="pixels"/> bytes at <paramref name="planes"/>, <paramref name="planeStride"/> bytes apart; the last
    /// (partial) block of 16 pixels is stored byte-exact, so nothing is written past any plane's <paramref name="pixels"/>.
    /// </summary>
    private static unsafe void TransposeOutGroup(byte* output, int pixels, byte* planes, nint planeStride)
    {
        byte* transposed = stackalloc byte[16 * 16];
        int p0 = 0;
        for (; p0 + 16 <= pixels; p0 += 16) Transpose16x16(output + p0 * GroupChannels, GroupChannels, planes + p0, planeStride, 16);
        if (p0 == pixels) return;
        // The last pixels: byte-exact stores, so that nothing lands past the 16th plane.
        Transpose16x16(output + p0 * GroupChannels, GroupChannels, transposed, 16, 16); // rows past the last pixel: scratch slack
        for (int ch = 0; ch < 16; ch++) StorePartial(Sse2.LoadVector128(transposed + ch * 16), planes + ch * planeStride + p0, pixels - p0);
    }

    /// <summary>
    /// Transposes the 16×16 bytes at <paramref name="source"/> (row r at <c>source + r·sourceStride</c>) and stores
    /// its first <paramref name="rows"/> rows (row k = byte k of every source row) at <c>destination + k·destinationStride</c>:
    /// four rounds of unpacks of 8-, 16-, 32- and 64-bit units, all in registers.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Transpose16x16(byte* source, long sourceStride, byte* destination, long destinationStride, int rows)
    {
        var r0 = Sse2.LoadVector128(source + 0 * sourceStride);
        var r1 = Sse2.LoadVector128(source + 1 * sourceStride);
        var r2 = Sse2.LoadVector128(source + 2 * sourceStride);
        var r3 = Sse2.LoadVector128(source + 3 * sourceStride);
        var r4 = Sse2.LoadVector128(source + 4 * sourceStride);
        var r5 = Sse2.LoadVector128(source + 5 * sourceStride);
        var r6 = Sse2.LoadVector128(source + 6 * sourceStride);
        var r7 = Sse2.LoadVector128(source + 7 * sourceStride);
        var r8 = Sse2.LoadVector128(source + 8 * sourceStride);
        var r9 = Sse2.LoadVector128(source + 9 * sourceStride);
        var r10 = Sse2.LoadVector128(source + 10 * sourceStride);
        var r11 = Sse2.LoadVector128(source + 11 * sourceStride);
        var r12 = Sse2.LoadVector128(source + 12 * sourceStride);
        var r13 = Sse2.LoadVector128(source + 13 * sourceStride);
        var r14 = Sse2.LoadVector128(source + 14 * sourceStride);
        var r15 = Sse2.LoadVector128(source + 15 * sourceStride);
        var a0 = Sse2.UnpackLow(r0, r1).AsByte();
        var a8 = Sse2.UnpackHigh(r0, r1).AsByte();
        var a1 = Sse2.UnpackLow(r2, r3).AsByte();
        var a9 = Sse2.UnpackHigh(r2, r3).AsByte();
        var a2 = Sse2.UnpackLow(r4, r5).AsByte();
        var a10 = Sse2.UnpackHigh(r4, r5).AsByte();
        var a3 = Sse2.UnpackLow(r6, r7).AsByte();
        var a11 = Sse2.UnpackHigh(r6, r7).AsByte();
        var a4 = Sse2.UnpackLow(r8, r9).AsByte();
        var a12 = Sse2.UnpackHigh(r8, r9).AsByte();
        var a5 = Sse2.UnpackLow(r10, r11).AsByte();
        var a13 = Sse2.UnpackHigh(r10, r11).AsByte();
        var a6 = Sse2.UnpackLow(r12, r13).AsByte();
        var a14 = Sse2.UnpackHigh(r12, r13).AsByte();
        var a7 = Sse2.UnpackLow(r14, r15).AsByte();
        var a15 = Sse2.UnpackHigh(r14, r15).AsByte();
        var b0 = Sse2.UnpackLow(a0.AsInt16(), a1.AsInt16()).AsByte();
        var b4 = Sse2.UnpackHigh(a0.AsInt16(), a1.AsInt16()).AsByte();
        var b1 = Sse2.UnpackLow(a2.AsInt16(), a3.AsInt16()).AsByte();
        var b5 = Sse2.UnpackHigh(a2.AsInt16(), a3.AsInt16()).AsByte();
        var b2 = Sse2.UnpackLow(a4.AsInt16(), a5.AsInt16()).AsByte();
        var b6 = Sse2.UnpackHigh(a4.AsInt16(), a5.AsInt16()).AsByte();
        var b3 = Sse2.UnpackLow(a6.AsInt16(), a7.AsInt16()).AsByte();
        var b7 = Sse2.UnpackHigh(a6.AsInt16(), a7.AsInt16()).AsByte();
        var b8 = Sse2.UnpackLow(a8.AsInt16(), a9.AsInt16()).AsByte();
        var b12 = Sse2.UnpackHigh(a8.AsInt16(), a9.AsInt16()).AsByte();
        var b9 = Sse2.UnpackLow(a10.AsInt16(), a11.AsInt16()).AsByte();
        var b13 = Sse2.UnpackHigh(a10.AsInt16(), a11.AsInt16()).AsByte();
        var b10 = Sse2.UnpackLow(a12.AsInt16(), a13.AsInt16()).AsByte();
        var b14 = Sse2.UnpackHigh(a12.AsInt16(), a13.AsInt16()).AsByte();
        var b11 = Sse2.UnpackLow(a14.AsInt16(), a15.AsInt16()).AsByte();
        var b15 = Sse2.UnpackHigh(a14.AsInt16(), a15.AsInt16()).AsByte();
        var c0 = Sse2.UnpackLow(b0.AsInt32(), b1.AsInt32()).AsByte();
        var c2 = Sse2.UnpackHigh(b0.AsInt32(), b1.AsInt32()).AsByte();
        var c1 = Sse2.UnpackLow(b2.AsInt32(), b3.AsInt32()).AsByte();
        var c3 = Sse2.UnpackHigh(b2.AsInt32(), b3.AsInt32()).AsByte();
        var c4 = Sse2.UnpackLow(b4.AsInt32(), b5.AsInt32()).AsByte();
        var c6 = Sse2.UnpackHigh(b4.AsInt32(), b5.AsInt32()).AsByte();
        var c5 = Sse2.UnpackLow(b6.AsInt32(), b7.AsInt32()).AsByte();
        var c7 = Sse2.UnpackHigh(b6.AsInt32(), b7.AsInt32()).AsByte();
        var c8 = Sse2.UnpackLow(b8.AsInt32(), b9.AsInt32()).AsByte();
        var c10 = Sse2.UnpackHigh(b8.AsInt32(), b9.AsInt32()).AsByte();
        var c9 = Sse2.UnpackLow(b10.AsInt32(), b11.AsInt32()).AsByte();
        var c11 = Sse2.UnpackHigh(b10.AsInt32(), b11.AsInt32()).AsByte();
        var c12 = Sse2.UnpackLow(b12.AsInt32(), b13.AsInt32()).AsByte();
        var c14 = Sse2.UnpackHigh(b12.AsInt32(), b13.AsInt32()).AsByte();
        var c13 = Sse2.UnpackLow(b14.AsInt32(), b15.AsInt32()).AsByte();
        var c15 = Sse2.UnpackHigh(b14.AsInt32(), b15.AsInt32()).AsByte();
        var d0 = Sse2.UnpackLow(c0.AsInt64(), c1.AsInt64()).AsByte();
        var d1 = Sse2.UnpackHigh(c0.AsInt64(), c1.AsInt64()).AsByte();
        var d2 = Sse2.UnpackLow(c2.AsInt64(), c3.AsInt64()).AsByte();
        var d3 = Sse2.UnpackHigh(c2.AsInt64(), c3.AsInt64()).AsByte();
        var d4 = Sse2.UnpackLow(c4.AsInt64(), c5.AsInt64()).AsByte();
        var d5 = Sse2.UnpackHigh(c4.AsInt64(), c5.AsInt64()).AsByte();
        var d6 = Sse2.UnpackLow(c6.AsInt64(), c7.AsInt64()).AsByte();
        var d7 = Sse2.UnpackHigh(c6.AsInt64(), c7.AsInt64()).AsByte();
        var d8 = Sse2.UnpackLow(c8.AsInt64(), c9.AsInt64()).AsByte();
        var d9 = Sse2.UnpackHigh(c8.AsInt64(), c9.AsInt64()).AsByte();
        var d10 = Sse2.UnpackLow(c10.AsInt64(), c11.AsInt64()).AsByte();
        var d11 = Sse2.UnpackHigh(c10.AsInt64(), c11.AsInt64()).AsByte();
        var d12 = Sse2.UnpackLow(c12.AsInt64(), c13.AsInt64()).AsByte();
        var d13 = Sse2.UnpackHigh(c12.AsInt64(), c13.AsInt64()).AsByte();
        var d14 = Sse2.UnpackLow(c14.AsInt64(), c15.AsInt64()).AsByte();
        var d15 = Sse2.UnpackHigh(c14.AsInt64(), c15.AsInt64()).AsByte();
        if (rows > 0) Sse2.Store(destination + 0 * destinationStride, d0);
        if (rows > 1) Sse2.Store(destination + 1 * destinationStride, d1);
        if (rows > 2) Sse2.Store(destination + 2 * destinationStride, d2);
        if (rows > 3) Sse2.Store(destination + 3 * destinationStride, d3);
        if (rows > 4) Sse2.Store(destination + 4 * destinationStride, d4);
        if (rows > 5) Sse2.Store(destination + 5 * destinationStride, d5);
        if (rows > 6) Sse2.Store(destination + 6 * destinationStride, d6);
        if (rows > 7) Sse2.Store(destination + 7 * destinationStride, d7);
        if (rows > 8) Sse2.Store(destination + 8 * destinationStride, d8);
        if (rows > 9) Sse2.Store(destination + 9 * destinationStride, d9);
        if (rows > 10) Sse2.Store(destination + 10 * destinationStride, d10);
        if (rows > 11) Sse2.Store(destination + 11 * destinationStride, d11);
        if (rows > 12) Sse2.Store(destination + 12 * destinationStride, d12);
        if (rows > 13) Sse2.Store(destination + 13 * destinationStride, d13);
        if (rows > 14) Sse2.Store(destination + 14 * destinationStride, d14);
        if (rows > 15) Sse2.Store(destination + 15 * destinationStride, d15);

    }
}
