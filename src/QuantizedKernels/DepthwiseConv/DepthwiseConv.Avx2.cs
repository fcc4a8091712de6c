using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using EdgeRuntime.Kernels.Common;

namespace EdgeRuntime.Kernels.Depthwise;

public static partial class DepthwiseConv
{
    // AVX2 path. The plane holds int32 "pairs": two int16 values (x - xZeroPoint) in one int, so VPMADDWD multiplies a
    // pair by a pair of weights and adds them — two taps per instruction, exact in int32 (|x| <= 255).
    //   stride 1: plane[r][j] = (v[r][j], v[r][j+1])          taps (kw, kw+1) of output ow read pair index ow + kw
    //   stride 2: plane[r][j] = (v[r][2j], v[r][2j+1])        taps (kw, kw+1) of output ow read pair index ow + kw/2
    // (v = padded value row). Tap pairs start at even kw; an odd kernel width pairs its last tap with weight 0.
    // weightPairs[kh * pairsPerRow + p] = (w[kh][2p], w[kh][2p+1] or 0) packed the same way.

    // Output stores: a channel's rows are written in order, so a full vector store may run past the end of row oh
    // into row oh + 1 (rewritten afterwards); only the end of the channel plane (rowSpace bytes from the row start) is
    // a hard limit, which keeps narrow layers (7 columns) on full stores.

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void RunAvx2(in DepthwiseConvGeometry g, ReadOnlySpan<byte> x, bool xSigned, int xZeroPoint,
        ReadOnlySpan<short> weights, ReadOnlySpan<int> bias, ReadOnlySpan<float> multipliers,
        int yZeroPoint, int yMin, int yMax, Span<byte> y, Span<int> scratch, int cFirst, int cCount)
    {
        var plan = PlanePlan.For(g);
        int pairsPerRow = (g.KernelWidth + 1) / 2;
        int pairStep = g.StrideWidth == 1 ? 2 : 1;
        int taps = g.Taps;
        Span<int> weightPairs = stackalloc int[g.KernelHeight * pairsPerRow];
        Span<int> pairOffsets = stackalloc int[g.KernelHeight * pairsPerRow];
        for (int kh = 0; kh < g.KernelHeight; kh++)
            for (int p = 0; p < pairsPerRow; p++)
                pairOffsets[kh * pairsPerRow + p] = kh * plan.RowInts + p * pairStep;

        var planeInts = scratch[..(plan.Rows * plan.RowInts)];
        var byteRow = MemoryMarshal.AsBytes(scratch.Slice(plan.Rows * plan.RowInts, (plan.RowBytes + ByteRowSlack) / sizeof(int)));
        InitPaddedByteRow(byteRow, xZeroPoint);
        byte flip = (byte)QuantizedByte.FlipMask(xSigned);
        int subtract = xZeroPoint + QuantizedByte.Offset(xSigned); // (b ^ flip) - subtract == value - xZeroPoint
        var requant = new Avx2Requantizer(yZeroPoint, yMin, yMax);

        fixed (int* planeBase = planeInts)
        fixed (byte* rowBase = byteRow)
        fixed (int* pairBase = weightPairs)
        fixed (int* offsetBase = pairOffsets)
        fixed (byte* yBase = y)
        {
            for (int c = cFirst; c < cFirst + cCount; c++)
            {
                var w = weights.Slice(c * taps, taps);
                for (int kh = 0; kh < g.KernelHeight; kh++)
                    for (int p = 0; p < pairsPerRow; p++)
                    {
                        int kw = 2 * p;
                        int low = w[kh * g.KernelWidth + kw];
                        int high = kw + 1 < g.KernelWidth ? w[kh * g.KernelWidth + kw + 1] : 0;
                        weightPairs[kh * pairsPerRow + p] = (low & 0xFFFF) | (high << 16);
                    }

                var xPlane = x.Slice(c * g.InPlane, g.InPlane);
                for (int r = 0; r < plan.Rows; r++)
                {
                    if (!CopyInputRow(g, xPlane, r, byteRow)) { planeInts.Slice(r * plan.RowInts, plan.RowInts).Clear(); continue; }
                    int* dst = planeBase + r * plan.RowInts;
                    if (g.StrideWidth == 1) BuildPairRowStride1(rowBase, dst, plan.RowBytes, flip, subtract);
                    else BuildPairRowStride2(rowBase, (short*)dst, plan.RowBytes, flip, subtract);
                }

                requant.SetChannel(bias.IsEmpty ? 0 : bias[c], multipliers[c]);
                byte* yPlane = yBase + c * g.OutPlane;
                for (int oh = 0; oh < g.OutHeight; oh++)
                {
                    int* rowStart = planeBase + oh * g.StrideHeight * plan.RowInts;
                    byte* yRow = yPlane + oh * g.OutWidth;
                    if (g.KernelHeight == 3 && pairsPerRow == 2)
                        OutputRowAvx2_3x3(rowStart, pairBase, plan.RowInts, pairStep, g.OutWidth, (g.OutHeight - oh) * g.OutWidth, requant, yRow);
                    else if (g.KernelHeight == 5 && pairsPerRow == 3)
                        OutputRowAvx2_5x5(rowStart, pairBase, plan.RowInts, pairStep, g.OutWidth, (g.OutHeight - oh) * g.OutWidth, requant, yRow);
                    else
                        OutputRowAvx2(rowStart, pairBase, offsetBase, g.KernelHeight * pairsPerRow, g.OutWidth, (g.OutHeight - oh) * g.OutWidth, requant, yRow);
                }
            }
        }
    }

    /// <summary>dst[j] = (v[j] &amp; 0xFFFF) | (v[j+1] &lt;&lt; 16) with v[j] = (row[j] ^ flip) - subtract, for j &lt; count.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void BuildPairRowStride1(byte* row, int* dst, int count, byte flip, int subtract)
    {
        var flipVector = Vector256.Create((int)flip);
        var subtractVector = Vector256.Create(subtract);
        var lowMask = Vector256.Create(0xFFFF);
        for (int j = 0; j < count; j += 8)
        {
            var first = Avx2.Subtract(Avx2.Xor(Avx2.ConvertToVector256Int32(row + j), flipVector), subtractVector);
            var second = Avx2.Subtract(Avx2.Xor(Avx2.ConvertToVector256Int32(row + j + 1), flipVector), subtractVector);
            Avx.Store(dst + j, Avx2.Or(Avx2.And(first, lowMask), Avx2.ShiftLeftLogical(second, 16)));
        }
    }

    /// <summary>dst[j] = (short)((row[j] ^ flip) - subtract) for j &lt; count: read as ints, the pairs (v[2i], v[2i+1]).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void BuildPairRowStride2(byte* row, short* dst, int count, byte flip, int subtract)
    {
        var flipVector = Vector256.Create((short)flip);
        var subtractVector = Vector256.Create((short)subtract);
        for (int j = 0; j < count; j += 16)
            Avx.Store(dst + j, Avx2.Subtract(Avx2.Xor(Avx2.ConvertToVector256Int16(row + j), flipVector), subtractVector));
    }

    /// <summary>Any kernel: <paramref name="pairCount"/> (offset, weight pair) terms per output, 8 outputs per step.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void OutputRowAvx2(int* rowStart, int* weightPairs, int* offsets, int pairCount, int outWidth, int rowSpace,
        in Avx2Requantizer requant, byte* yRow)
    {
        for (int ow = 0; ow < outWidth; ow += 8)
        {
            var acc = Vector256<int>.Zero;
            int* origin = rowStart + ow;
            for (int t = 0; t < pairCount; t++)
                acc = Avx2.Add(acc, Avx2.MultiplyAddAdjacent(Avx.LoadVector256((short*)(origin + offsets[t])), Vector256.Create(weightPairs[t]).AsInt16()));
            requant.Store8(acc, yRow + ow, rowSpace - ow);
        }
    }

    /// <summary>3×3 kernel (3 rows × 2 weight pairs), 16 then 8 outputs per step.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void OutputRowAvx2_3x3(int* rowStart, int* weightPairs, int rowInts, int pairStep, int outWidth, int rowSpace,
        in Avx2Requantizer requant, byte* yRow)
    {
        var w00 = Vector256.Create(weightPairs[0]).AsInt16();
        var w01 = Vector256.Create(weightPairs[1]).AsInt16();
        var w10 = Vector256.Create(weightPairs[2]).AsInt16();
        var w11 = Vector256.Create(weightPairs[3]).AsInt16();
        var w20 = Vector256.Create(weightPairs[4]).AsInt16();
        var w21 = Vector256.Create(weightPairs[5]).AsInt16();
        int ow = 0;
        for (; ow + 8 < outWidth; ow += 16)
        {
            short* r0 = (short*)(rowStart + ow), r1 = (short*)(rowStart + rowInts + ow), r2 = (short*)(rowStart + 2 * rowInts + ow);
            int s = 2 * pairStep; // shorts per pair step
            var a0 = Avx2.MultiplyAddAdjacent(Avx.LoadVector256(r0), w00);
            var a1 = Avx2.MultiplyAddAdjacent(Avx.LoadVector256(r0 + 16), w00);
            a0 = Avx2.Add(a0, Avx2.MultiplyAddAdjacent(Avx.LoadVector256(r0 + s), w01));
            a1 = Avx2.Add(a1, Avx2.MultiplyAddAdjacent(Avx.LoadVector256(r0 + s + 16), w01));
            a0 = Avx2.Add(a0, Avx2.MultiplyAddAdjacent(Avx.LoadVector256(r1), w10));
            a1 = Avx2.Add(a1, Avx2.MultiplyAddAdjacent(Avx.LoadVector256(r1 + 16), w10));
            a0 = Avx2.Add(a0, Avx2.MultiplyAddAdjacent(Avx.LoadVector256(r1 + s), w11));
            a1 = Avx2.Add(a1, Avx2.MultiplyAddAdjacent(Avx.LoadVector256(r1 + s + 16), w11));
            a0 = Avx2.Add(a0, Avx2.MultiplyAddAdjacent(Avx.LoadVector256(r2), w20));
            a1 = Avx2.Add(a1, Avx2.MultiplyAddAdjacent(Avx.LoadVector256(r2 + 16), w20));
            a0 = Avx2.Add(a0, Avx2.MultiplyAddAdjacent(Avx.LoadVector256(r2 + s), w21));
            a1 = Avx2.Add(a1, Avx2.MultiplyAddAdjacent(Avx.LoadVector256(r2 + s + 16), w21));
            requant.Store16(a0, a1, yRow + ow, rowSpace - ow);
        }
        for (; ow < outWidth; ow += 8)
        {
            short* r0 = (short*)(rowStart + ow), r1 = (short*)(rowStart + rowInts + ow), r2 = (short*)(rowStart + 2 * rowInts + ow);
            int s = 2 * pairStep;
            var a = Avx2.MultiplyAddAdjacent(Avx.LoadVector256(r0), w00);
            a = Avx2.Add(a, Avx2.MultiplyAddAdjacent(Avx.LoadVector256(r0 + s), w01));
            a = Avx2.Add(a, Avx2.MultiplyAddAdjacent(Avx.LoadVector256(r1), w10));
            a = Avx2.Add(a, Avx2.MultiplyAddAdjacent(Avx.LoadVector256(r1 + s), w11));
            a = Avx2.Add(a, Avx2.MultiplyAddAdjacent(Avx.LoadVector256(r2), w20));
            a = Avx2.Add(a, Avx2.MultiplyAddAdjacent(Avx.LoadVector256(r2 + s), w21));
            requant.Store8(a, yRow + ow, rowSpace - ow);
        }
    }

    /// <summary>5×5 kernel (5 rows × 3 weight pairs), 16 then 8 outputs per step.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void OutputRowAvx2_5x5(int* rowStart, int* weightPairs, int rowInts, int pairStep, int outWidth, int rowSpace,
        in Avx2Requantizer requant, byte* yRow)
    {
        int s = 2 * pairStep; // shorts per pair step
        int ow = 0;
        for (; ow + 8 < outWidth; ow += 16)
        {
            var a0 = Vector256<int>.Zero;
            var a1 = Vector256<int>.Zero;
            short* r = (short*)(rowStart + ow);
            int* wp = weightPairs;
            for (int kh = 0; kh < 5; kh++, r += 2 * rowInts, wp += 3)
            {
                var p0 = Vector256.Create(wp[0]).AsInt16();
                var p1 = Vector256.Create(wp[1]).AsInt16();
                var p2 = Vector256.Create(wp[2]).AsInt16();
                a0 = Avx2.Add(a0, Avx2.MultiplyAddAdjacent(Avx.LoadVector256(r), p0));
                a1 = Avx2.Add(a1, Avx2.MultiplyAddAdjacent(Avx.LoadVector256(r + 16), p0));
                a0 = Avx2.Add(a0, Avx2.MultiplyAddAdjacent(Avx.LoadVector256(r + s), p1));
                a1 = Avx2.Add(a1, Avx2.MultiplyAddAdjacent(Avx.LoadVector256(r + s + 16), p1));
                a0 = Avx2.Add(a0, Avx2.MultiplyAddAdjacent(Avx.LoadVector256(r + 2 * s), p2));
                a1 = Avx2.Add(a1, Avx2.MultiplyAddAdjacent(Avx.LoadVector256(r + 2 * s + 16), p2));
            }
            requant.Store16(a0, a1, yRow + ow, rowSpace - ow);
        }
        for (; ow < outWidth; ow += 8)
        {
            var a = Vector256<int>.Zero;
            short* r = (short*)(rowStart + ow);
            int* wp = weightPairs;
            for (int kh = 0; kh < 5; kh++, r += 2 * rowInts, wp += 3)
            {
                a = Avx2.Add(a, Avx2.MultiplyAddAdjacent(Avx.LoadVector256(r), Vector256.Create(wp[0]).AsInt16()));
                a = Avx2.Add(a, Avx2.MultiplyAddAdjacent(Avx.LoadVector256(r + s), Vector256.Create(wp[1]).AsInt16()));
                a = Avx2.Add(a, Avx2.MultiplyAddAdjacent(Avx.LoadVector256(r + 2 * s), Vector256.Create(wp[2]).AsInt16()));
            }
            requant.Store8(a, yRow + ow, rowSpace - ow);
        }
    }

    /// <summary>
    /// Vector form of <see cref="Requantization.Requantize"/> for one channel: (float)(acc + bias) (round to nearest even,
    /// as VCVTDQ2PS under the default MXCSR), one float multiply, NaN → 0, clamp to [yMin - zp, yMax - zp] in float,
    /// VCVTPS2DQ (round half to even), + zp, low byte.
    /// </summary>
    private struct Avx2Requantizer(int yZeroPoint, int yMin, int yMax)
    {
        private readonly Vector256<float> low = Vector256.Create((float)(yMin - yZeroPoint));
        private readonly Vector256<float> high = Vector256.Create((float)(yMax - yZeroPoint));
        private readonly Vector256<int> zeroPoint = Vector256.Create(yZeroPoint);
        private Vector256<int> bias;
        private Vector256<float> multiplier;

        public void SetChannel(int channelBias, float channelMultiplier)
        {
            bias = Vector256.Create(channelBias);
            multiplier = Vector256.Create(channelMultiplier);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private readonly Vector256<int> ToInt(Vector256<int> acc)
        {
            var scaled = Avx.Multiply(Avx.ConvertToVector256Single(Avx2.Add(acc, bias)), multiplier);
            scaled = Avx.And(scaled, Avx.CompareEqual(scaled, scaled));
            scaled = Avx.Min(Avx.Max(scaled, low), high);
            return Avx2.And(Avx2.Add(Avx.ConvertToVector256Int32(scaled), zeroPoint), Vector256.Create(0xFF));
        }

        /// <summary>Writes min(8, <paramref name="available"/>) output bytes.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly unsafe void Store8(Vector256<int> acc, byte* destination, int available)
        {
            var v = ToInt(acc);
            var bytes = Sse2.PackUnsignedSaturate(Sse2.PackSignedSaturate(v.GetLower(), v.GetUpper()), Vector128<short>.Zero);
            if (available >= 8) Sse2.StoreScalar((long*)destination, bytes.AsInt64());
            else StorePartial(bytes, destination, available);
        }

        /// <summary>Writes min(16, <paramref name="available"/>) output bytes.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly unsafe void Store16(Vector256<int> acc0, Vector256<int> acc1, byte* destination, int available)
        {
            var v0 = ToInt(acc0);
            var v1 = ToInt(acc1);
            var bytes = Sse2.PackUnsignedSaturate(Sse2.PackSignedSaturate(v0.GetLower(), v0.GetUpper()), Sse2.PackSignedSaturate(v1.GetLower(), v1.GetUpper()));
            if (available >= 16) Sse2.Store(destination, bytes);
            else StorePartial(bytes, destination, available);
        }
    }

    private static unsafe void StorePartial(Vector128<byte> bytes, byte* destination, int count)
    {
        byte* temp = stackalloc byte[16];
        bytes.Store(temp);
        new ReadOnlySpan<byte>(temp, count).CopyTo(new Span<byte>(destination, count));
    }
}
