using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
using System.Runtime.InteropServices;

namespace EdgeRuntime.Kernels.Conv;

/// <summary>
/// Builds the int8 GEMM operand B for one group of a QLinearConv: a K×T tile (K = InChannelsPerGroup·KH·KW rows,
/// T output pixels starting at pixel p0, row stride T) in signed form:
/// <code>col[k * T + j] = inside ? (sbyte)(x[c, ih, iw] ^ xorMask) : paddingValue</code>
/// with k = (c·KH + kh)·KW + kw, p = p0 + j, oh = p / OW, ow = p % OW, ih = oh·SH - PadTop + kh·DH,
/// iw = ow·SW - PadLeft + kw·DW. <c>xorMask</c> is 0x80 for uint8 input (x - 128) and 0 for int8; the padding
/// value is the input zero point in the same signed form, so padded positions contribute nothing after the
/// zero-point correction.
/// </summary>
public static class QLinearConvIm2Col
{
    /// <summary>Fills <paramref name="col"/> (at least K·<paramref name="tileLength"/> bytes); see the class summary.</summary>
    /// <param name="g">Convolution geometry.</param>
    /// <param name="groupInput">The group's input planes <c>[C/group, H, W]</c> of one image.</param>
    /// <param name="xorMask">0x80 for uint8 input, 0 for int8.</param>
    /// <param name="paddingValue">Input zero point in signed form.</param>
    /// <param name="firstPixel">First output pixel (row-major over OH×OW) of the tile.</param>
    /// <param name="tileLength">Output pixels in the tile (the row stride of <paramref name="col"/>).</param>
    /// <param name="col">Receives K rows of <paramref name="tileLength"/> values.</param>
    public static void Tile(in QLinearConvGeometry g, ReadOnlySpan<byte> groupInput, int xorMask, sbyte paddingValue,
        int firstPixel, int tileLength, Span<sbyte> col)
    {
        int kh = g.KernelHeight, kw = g.KernelWidth, ow = g.OutWidth;
        int inH = g.InHeight, inW = g.InWidth;
        var colBytes = MemoryMarshal.AsBytes(col);
        if (kh == 1 && kw == 1 && g.StrideHeight == 1 && g.StrideWidth == 1 && g.PadTop == 0 && g.PadLeft == 0
            && g.OutHeight == inH && g.OutWidth == inW)
        {
            // Pointwise: output pixel p reads input pixel p, so each row is one contiguous run of the input plane.
            for (int c = 0; c < g.InChannelsPerGroup; c++)
                CopyXor(groupInput.Slice(c * inH * inW + firstPixel, tileLength), colBytes.Slice(c * tileLength, tileLength), (byte)xorMask);
            return;
        }
        // The tile is walked one output-row segment at a time (pixels of one output row), and within it one kernel column
        // s at a time: the segment's division by OW and the column's split into padding / inside / padding outputs (two
        // divisions by the stride) are then shared by the C·KH rows k = (c·KH + r)·KW + s that use them.
        int stride = g.StrideWidth, channels = g.InChannelsPerGroup;
        byte pad = (byte)paddingValue, mask = (byte)xorMask;
        int j = 0, p = firstPixel;
        while (j < tileLength)
        {
            int oh = p / ow, owStart = p % ow;
            int run = Math.Min(ow - owStart, tileLength - j); // pixels left in this output row
            int ihBase = oh * g.StrideHeight - g.PadTop;
            if (stride == 2 && kw == 3 && g.DilationWidth == 1
                && (AdvSimd.Arm64.IsSupported
                    ? StrideTwoThreeColumns<NeonStrideTwoCopy>(g, groupInput, colBytes, tileLength, j, run, owStart * 2 - g.PadLeft, ihBase, mask, pad)
                    : Avx2.IsSupported
                      && StrideTwoThreeColumns<Avx2StrideTwoCopy>(g, groupInput, colBytes, tileLength, j, run, owStart * 2 - g.PadLeft, ihBase, mask, pad)))
            {
                j += run;
                p += run;
                continue;
            }
            for (int s = 0; s < kw; s++)
            {
                int iwBase = owStart * stride - g.PadLeft + s * g.DilationWidth;
                // Outputs t in [first, last) read inside the row: those are copied by vectors for strides 1 and 2; the
                // padding outputs before and after them are filled one by one.
                int first = iwBase >= 0 ? 0 : Math.Min(run, (-iwBase + stride - 1) / stride);
                int last = Math.Max(first, Math.Min(run, inW - iwBase <= 0 ? 0 : (inW - iwBase + stride - 1) / stride));
                int from = iwBase + first * stride, count = last - first;
                for (int c = 0; c < channels; c++)
                {
                    for (int r = 0; r < kh; r++)
                    {
                        int k = (c * kh + r) * kw + s;
                        var dst = colBytes.Slice(k * tileLength + j, run);
                        int ih = ihBase + r * g.DilationHeight;
                        if ((uint)ih >= (uint)inH)
                        {
                            dst.Fill(pad);
                            continue;
                        }
                        var src = groupInput.Slice((c * inH + ih) * inW, inW);
                        for (int t = 0; t < first; t++) dst[t] = pad;
                        if (count > 0 && stride == 1) CopyXor(src.Slice(from, count), dst.Slice(first, count), mask);
                        else if (count > 0 && stride == 2) CopyEvenXor(src.Slice(from, 2 * count - 1), dst.Slice(first, count), mask);
                        else
                            for (int t = first; t < last; t++) dst[t] = (byte)(src[iwBase + t * stride] ^ mask);
                        for (int t = last; t < run; t++) dst[t] = pad;
                    }
                }
            }
            j += run;
            p += run;
        }
    }

    /// <summary>
    /// For a run of stride-2 outputs t whose kernel column s reads input column <c>b + s + 2t</c>: how many leading
    /// outputs of kernel columns 0, 1 and 2 read inside the row, t &lt; ceil((inW - b - s) / 2) for column s, capped at
    /// <paramref name="run"/>.
    /// </summary>
    private static (int Column0, int Column1, int Column2) StrideTwoInsideOutputs(int inW, int b, int run) =>
        (Math.Min(run, Math.Max(0, inW - b + 1) / 2), Math.Min(run, Math.Max(0, inW - b) / 2), Math.Min(run, Math.Max(0, inW - b - 1) / 2));

    /// <summary>
    /// Stride 2 with three kernel columns (the 3×3 stride-2 stem convolution): the segment's three rows
    /// k = (c·KH + r)·3 + s of one input row at once. Column s reads <c>src[b + s + 2t]</c> (b = the first input column
    /// of column 0). Applies when b ≥ 0 (no left padding in the segment) and at least <c>TCopy.MinInside</c> outputs of
    /// column 2 (m of them) read inside the row; returns false otherwise, leaving the segment to the general code.
    /// Outputs t &lt; m of the three columns are copied by <typeparamref name="TCopy"/>'s vectors, which read nothing past
    /// <c>src[b + 2m]</c> (column 2's last inside input); rows outside the input are padding, and the rest of each
    /// column (at most one more inside output, then right padding) is filled one by one.
    /// </summary>
    private static unsafe bool StrideTwoThreeColumns<TCopy>(in QLinearConvGeometry g, ReadOnlySpan<byte> groupInput, Span<byte> colBytes,
        int tileLength, int j, int run, int b, int ihBase, byte mask, byte pad) where TCopy : struct, IStrideTwoThreeColumnsCopy
    {
        int inW = g.InWidth, inH = g.InHeight, kh = g.KernelHeight;
        if (b < 0) return false;
        var (last0, last1, m) = StrideTwoInsideOutputs(inW, b, run);
        if (m < TCopy.MinInside) return false;
        int channels = g.InChannelsPerGroup;
        // Checked once: the loops below work on pointers (rows of the tile, rows of the input, both inside these).
        colBytes = colBytes[..(channels * kh * 3 * tileLength)];
        groupInput = groupInput[..(channels * inH * inW)];
        if ((uint)j > (uint)tileLength || (uint)run > (uint)(tileLength - j)) throw new ArgumentOutOfRangeException(nameof(run));
        fixed (byte* input = groupInput)
        fixed (byte* col = colBytes)
        {
            for (int c = 0; c < channels; c++)
            {
                for (int r = 0; r < kh; r++)
                {
                    byte* p0 = col + (c * kh + r) * 3 * tileLength + j, p1 = p0 + tileLength, p2 = p1 + tileLength;
                    int ih = ihBase + r * g.DilationHeight;
                    if ((uint)ih >= (uint)inH)
                    {
                        new Span<byte>(p0, run).Fill(pad);
                        new Span<byte>(p1, run).Fill(pad);
                        new Span<byte>(p2, run).Fill(pad);
                        continue;
                    }
                    byte* sp = input + (c * inH + ih) * inW + b; // column 0's first input; the row ends at sp[inW - b - 1] ≥ sp[2m]
                    TCopy.CopyInside(sp, p0, p1, p2, m, mask);
                    for (int t = m; t < last0; t++) p0[t] = (byte)(sp[2 * t] ^ mask);
                    for (int t = last0; t < run; t++) p0[t] = pad;
                    for (int t = m; t < last1; t++) p1[t] = (byte)(sp[2 * t + 1] ^ mask);
                    for (int t = last1; t < run; t++) p1[t] = pad;
                    for (int t = m; t < run; t++) p2[t] = pad;
                }
            }
        }
        return true;
    }

    /// <summary>The vector part of <see cref="StrideTwoThreeColumns{TCopy}"/> on one instruction set.</summary>
    private interface IStrideTwoThreeColumnsCopy
    {
        /// <summary>Fewest inside outputs of column 2 the copy needs (its last step overlaps the one before).</summary>
        static abstract int MinInside { get; }

        /// <summary><c>p_s[t] = sp[2t + s] ^ mask</c> for s = 0, 1, 2 and t &lt; <paramref name="m"/>, reading nothing past <c>sp[2m]</c>.</summary>
        static abstract unsafe void CopyInside(byte* sp, byte* p0, byte* p1, byte* p2, int m, byte mask);
    }

    /// <summary>
    /// ARM64: one LD2 at b + 2t yields columns 0 and 1 (even and odd bytes) and a second at b + 2t + 2 yields column 2,
    /// 16 outputs per step; the last block overlaps the previous one and is loaded one byte earlier for columns 0 (odd
    /// bytes of b + 2t − 1) and 1 (even bytes of b + 2t + 1, whose odd bytes are column 2).
    /// </summary>
    private readonly struct NeonStrideTwoCopy : IStrideTwoThreeColumnsCopy
    {
        public static int MinInside => 17;

        public static unsafe void CopyInside(byte* sp, byte* p0, byte* p1, byte* p2, int m, byte mask)
        {
            var vMask = Vector128.Create(mask);
            int t = 0;
            for (; t + 17 <= m; t += 16) // reads sp[2t .. 2t + 33] ≤ sp[2m]
            {
                var (even, odd) = AdvSimd.Arm64.Load2xVector128AndUnzip(sp + 2 * t);
                (even ^ vMask).Store(p0 + t);
                (odd ^ vMask).Store(p1 + t);
                (AdvSimd.Arm64.Load2xVector128AndUnzip(sp + 2 * t + 2).Item1 ^ vMask).Store(p2 + t);
            }
            t = m - 16;
            (AdvSimd.Arm64.Load2xVector128AndUnzip(sp + 2 * t - 1).Item2 ^ vMask).Store(p0 + t);
            var (odd1, even2) = AdvSimd.Arm64.Load2xVector128AndUnzip(sp + 2 * t + 1);
            (odd1 ^ vMask).Store(p1 + t);
            (even2 ^ vMask).Store(p2 + t);
        }
    }

    /// <summary>
    /// AVX2, 32 outputs per step. Viewed as 16-bit words, a 32-byte load holds even-index bytes in the low halves
    /// (AND 0xFF) and odd-index bytes in the high halves (shift right by 8); VPACKUSWB of two such loads 32 bytes apart
    /// gives 32 outputs, whose 8-byte groups one VPERMQ puts in order (the pack works within 128-bit halves). Loads at
    /// b + 2t give columns 0 (even bytes) and 1 (odd bytes), loads at b + 2t + 1 column 2 (odd bytes). Steps read up to
    /// <c>src[b + 2t + 64]</c> while that is at most <c>src[b + 2m]</c>, then one step at t = m − 32 overlaps the previous
    /// ones (rewriting outputs with the same values), with column 0 taken from the odd bytes of loads at b + 2t − 1 and
    /// column 1 from the even bytes of those at b + 2t + 1, so that it too ends at <c>src[b + 2m]</c>. Measured on the
    /// MobileNetV2 stem (3×224×224 → 112×112): the whole im2col 48.5 → 17.4 µs (a VPSHUFB split instead of AND / shift
    /// took 18.9 µs).
    /// </summary>
    private readonly struct Avx2StrideTwoCopy : IStrideTwoThreeColumnsCopy
    {
        public static int MinInside => 33;

        public static unsafe void CopyInside(byte* sp, byte* p0, byte* p1, byte* p2, int m, byte mask)
        {
            var vMask = Vector256.Create(mask);
            var low = Vector256.Create((ushort)0xFF);
            int t = 0;
            for (; t + 32 <= m; t += 32) // reads sp[2t .. 2t + 64] ≤ sp[2m]
            {
                var a0 = Avx.LoadVector256(sp + 2 * t).AsUInt16();
                var a1 = Avx.LoadVector256(sp + 2 * t + 32).AsUInt16();
                var b0 = Avx.LoadVector256(sp + 2 * t + 1).AsUInt16();
                var b1 = Avx.LoadVector256(sp + 2 * t + 33).AsUInt16();
                StoreInOrder(Avx2.PackUnsignedSaturate(Avx2.And(a0, low).AsInt16(), Avx2.And(a1, low).AsInt16()), vMask, p0 + t);
                StoreInOrder(Avx2.PackUnsignedSaturate(Avx2.ShiftRightLogical(a0, 8).AsInt16(), Avx2.ShiftRightLogical(a1, 8).AsInt16()), vMask, p1 + t);
                StoreInOrder(Avx2.PackUnsignedSaturate(Avx2.ShiftRightLogical(b0, 8).AsInt16(), Avx2.ShiftRightLogical(b1, 8).AsInt16()), vMask, p2 + t);
            }
            if (t < m)
            {
                t = m - 32; // ≥ 1: the loads at 2t − 1 stay inside
                var a0 = Avx.LoadVector256(sp + 2 * t - 1).AsUInt16();
                var a1 = Avx.LoadVector256(sp + 2 * t + 31).AsUInt16();
                var b0 = Avx.LoadVector256(sp + 2 * t + 1).AsUInt16();
                var b1 = Avx.LoadVector256(sp + 2 * t + 33).AsUInt16();
                StoreInOrder(Avx2.PackUnsignedSaturate(Avx2.ShiftRightLogical(a0, 8).AsInt16(), Avx2.ShiftRightLogical(a1, 8).AsInt16()), vMask, p0 + t);
                StoreInOrder(Avx2.PackUnsignedSaturate(Avx2.And(b0, low).AsInt16(), Avx2.And(b1, low).AsInt16()), vMask, p1 + t);
                StoreInOrder(Avx2.PackUnsignedSaturate(Avx2.ShiftRightLogical(b0, 8).AsInt16(), Avx2.ShiftRightLogical(b1, 8).AsInt16()), vMask, p2 + t);
            }
        }

        /// <summary>
        /// Stores 32 outputs whose 8-byte groups arrive as outputs 0–7, 16–23, 8–15, 24–31 (a pack of two loads: the
        /// first load's group, then the second's, per 128-bit half), in order and XORed with <paramref name="mask"/>.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static unsafe void StoreInOrder(Vector256<byte> groups, Vector256<byte> mask, byte* destination) =>
            Avx.Store(destination, Avx2.Xor(Avx2.Permute4x64(groups.AsUInt64(), 0b11_01_10_00).AsByte(), mask));
    }

    /// <summary>
    /// <c>dst[i] = src[2i] ^ mask</c> for i &lt; dst.Length (src holds at least 2·dst.Length − 1 bytes): stride-2 rows.
    /// Sixteen outputs come from 32 source bytes: on ARM64 one LD2 splits them into the even- and odd-index bytes; elsewhere
    /// the even bytes are the low halves of the 16-bit pairs. The last block, which would read one byte past a source of
    /// exactly 2·dst.Length − 1 bytes, instead starts one byte earlier (source offset 2t − 1 for outputs t = n − 16 …) and
    /// keeps the odd-index bytes of that window, rewriting a few outputs with the same values.
    /// </summary>
    public static void CopyEvenXor(ReadOnlySpan<byte> src, Span<byte> dst, byte mask)
    {
        int n = dst.Length, i = 0;
        if (n >= 16 && src.Length >= 2 * n - 1)
        {
            var m = Vector128.Create(mask);
            if (AdvSimd.Arm64.IsSupported)
            {
                unsafe
                {
                    fixed (byte* s = src)
                    fixed (byte* d = dst)
                    {
                        // Blocks whose 32 source bytes lie inside src: i + 16 ≤ n and 2i + 32 ≤ src.Length.
                        int blocks = Math.Min(n, ((src.Length - 32) >> 1) + 16) / 16; // >> floors: src.Length may be 31
                        byte* sp = s, dp = d, pairEnd = d + (blocks & ~1) * 16;
                        for (; dp < pairEnd; sp += 64, dp += 32)
                        {
                            (AdvSimd.Arm64.Load2xVector128AndUnzip(sp).Item1 ^ m).Store(dp);
                            (AdvSimd.Arm64.Load2xVector128AndUnzip(sp + 32).Item1 ^ m).Store(dp + 16);
                        }
                        if ((blocks & 1) != 0) (AdvSimd.Arm64.Load2xVector128AndUnzip(sp).Item1 ^ m).Store(dp);
                        i = blocks * 16;
                        if (i < n && n > 16)
                        {
                            int t = n - 16;
                            (AdvSimd.Arm64.Load2xVector128AndUnzip(s + 2 * t - 1).Item2 ^ m).Store(d + t);
                            i = n;
                        }
                    }
                }
            }
            else if (Vector128.IsHardwareAccelerated)
            {
                var low = Vector128.Create((ushort)0xFF);
                for (; i + 16 <= n && 2 * i + 32 <= src.Length; i += 16)
                {
                    var pairs0 = Vector128.Create(src.Slice(2 * i, 16)).AsUInt16() & low;
                    var pairs1 = Vector128.Create(src.Slice(2 * i + 16, 16)).AsUInt16() & low;
                    (Vector128.Narrow(pairs0, pairs1) ^ m).CopyTo(dst.Slice(i, 16));
                }
                if (i < n && n > 16)
                {
                    int t = n - 16;
                    var pairs0 = Vector128.Create(src.Slice(2 * t - 1, 16)).AsUInt16() >> 8;
                    var pairs1 = Vector128.Create(src.Slice(2 * t + 15, 16)).AsUInt16() >> 8;
                    (Vector128.Narrow(pairs0, pairs1) ^ m).CopyTo(dst.Slice(t, 16));
                    i = n;
                }
            }
        }
        for (; i < n; i++) dst[i] = (byte)(src[2 * i] ^ mask);
    }

    /// <summary><c>dst[i] = src[i] ^ mask</c>.</summary>
    public static void CopyXor(ReadOnlySpan<byte> src, Span<byte> dst, byte mask)
    {
        if (mask == 0) { src.CopyTo(dst); return; }
        int i = 0;
        if (Vector.IsHardwareAccelerated && src.Length >= Vector<byte>.Count)
        {
            var m = new Vector<byte>(mask);
            for (; i <= src.Length - Vector<byte>.Count; i += Vector<byte>.Count)
                (new Vector<byte>(src.Slice(i)) ^ m).CopyTo(dst.Slice(i));
        }
        for (; i < src.Length; i++) dst[i] = (byte)(src[i] ^ mask);
    }
}
