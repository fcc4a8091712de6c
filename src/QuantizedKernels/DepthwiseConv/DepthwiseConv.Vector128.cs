using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using EdgeRuntime.Kernels.Common;

namespace EdgeRuntime.Kernels.Depthwise;

public static partial class DepthwiseConv
{
    // Portable Vector128 path. A ring slot holds int32 raw values:
    //   stride 1: slot[j] = v[j]                                  tap kw of output ow reads ow + kw
    //   stride 2: slot[j] = v[2j], slot[half + j] = v[2j+1]        tap kw of output ow reads
    //             (kw odd ? half : 0) + ow + kw/2, with half = RowInts / 2
    // Each tap is a 32-bit multiply-add of 4 outputs by the broadcast weight; 3×3 keeps its 9 weights in registers.

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void RunVector128(in RowBand band, ReadOnlySpan<byte> x, bool xSigned, int xZeroPoint,
        DepthwiseConvWeights weights, ReadOnlySpan<int> bias, ReadOnlySpan<float> multipliers,
        int yZeroPoint, int yMin, int yMax, Span<byte> y, Span<int> scratch, int cFirst, int cCount)
    {
        var g = band.Rows;
        nint xStride = band.XPlaneStride, yStride = band.YPlaneStride;
        var plan = PlanePlan.For(g);
        int kernelHeight = g.KernelHeight, taps = g.Taps;
        int half = plan.RowInts / 2;
        Span<int> columnOffsets = stackalloc int[g.KernelWidth];
        for (int kw = 0; kw < g.KernelWidth; kw++) columnOffsets[kw] = TapColumnOffset(kw, g.StrideWidth, half);
        Span<Vector128<int>> tapWeights = stackalloc Vector128<int>[taps];
        int ring = RingSlots(g);
        byte** rowPointers = stackalloc byte*[ring];
        int** rows = (int**)rowPointers;
        var low = Vector128.Create((float)(yMin - yZeroPoint));
        var high = Vector128.Create((float)(yMax - yZeroPoint));
        var zeroPoint = Vector128.Create(yZeroPoint);

        fixed (int* scratchBase = scratch)
        fixed (int* offsetBase = columnOffsets)
        fixed (Vector128<int>* weightBase = tapWeights)
        fixed (byte* yLayer = y)
        fixed (byte* xLayer = x)
        {
            byte* xBase = xLayer + band.XOffset, yBase = yLayer + band.YOffset;
            var rowRing = new RowRing(g, plan, xBase, x.Length - band.XOffset, xSigned, xZeroPoint, (byte*)scratchBase, plan.RowInts * sizeof(int),
                (byte*)(scratchBase + ScratchSlots(g, plan) * plan.RowInts), rowPointers);
            rowRing.Initialize<Vector128Widener>();
            for (int c = cFirst; c < cFirst + cCount; c++)
            {
                if (!float.IsFinite(multipliers[c]))
                {
                    DepthwiseConvReference.Run(band.Layer, x, xSigned, xZeroPoint, weights.Values, bias, multipliers, yZeroPoint, yMin, yMax, y, c, 1, band.RowFirst, g.OutHeight);
                    continue;
                }
                var w = weights.Values.Slice(c * taps, taps);
                for (int t = 0; t < taps; t++) tapWeights[t] = Vector128.Create((int)w[t]);
                var channelBias = Vector128.Create(RawValueBias(weights, bias, c, xZeroPoint));
                var multiplier = Vector128.Create(multipliers[c]);

                rowRing.StartChannel(xBase + c * xStride);
                byte* yPlane = yBase + c * yStride;
                for (int oh = 0; oh < g.OutHeight; oh++)
                {
                    rowRing.Advance<Vector128Widener>(oh * g.StrideHeight, kernelHeight);
                    rowRing.Step(1);
                    byte* yRow = yPlane + oh * g.OutWidth;
                    int rowSpace = (g.OutHeight - oh) * g.OutWidth;
                    bool threeByThree = kernelHeight == 3 && g.KernelWidth == 3;
                    for (int ow = 0; ow < g.OutWidth; ow += 8)
                    {
                        var a0 = channelBias;
                        var a1 = channelBias;
                        if (threeByThree)
                        {
                            int o1 = offsetBase[1], o2 = offsetBase[2];
                            for (int kh = 0; kh < 3; kh++)
                            {
                                int* source = rows[kh] + ow;
                                Vector128<int>* wk = weightBase + 3 * kh;
                                a0 += Vector128.Load(source) * wk[0] + Vector128.Load(source + o1) * wk[1] + Vector128.Load(source + o2) * wk[2];
                                a1 += Vector128.Load(source + 4) * wk[0] + Vector128.Load(source + o1 + 4) * wk[1] + Vector128.Load(source + o2 + 4) * wk[2];
                            }
                        }
                        else
                        {
                            Vector128<int>* wt = weightBase;
                            for (int kh = 0; kh < kernelHeight; kh++)
                            {
                                int* origin = rows[kh] + ow;
                                for (int kw = 0; kw < g.KernelWidth; kw++, wt++)
                                {
                                    int* source = origin + offsetBase[kw];
                                    a0 += Vector128.Load(source) * *wt;
                                    a1 += Vector128.Load(source + 4) * *wt;
                                }
                            }
                        }
                        var v0 = RequantizeVector128(a0, multiplier, low, high, zeroPoint);
                        var v1 = RequantizeVector128(a1, multiplier, low, high, zeroPoint);
                        // Narrow truncates: the low byte of each value, as the scalar (byte) cast.
                        var bytes = Vector128.Narrow(Vector128.Narrow(v0, v1), Vector128<short>.Zero).AsByte();
                        int available = rowSpace - ow; // may spill into the next row, rewritten later
                        if (available >= 8) Unsafe.WriteUnaligned(yRow + ow, bytes.AsUInt64().ToScalar());
                        else StorePartial(bytes, yRow + ow, available);
                    }
                }
            }
        }
    }

    /// <summary>Ring slots of int32 raw values (stride 2: even columns, then odd columns from RowInts / 2).</summary>
    private readonly struct Vector128Widener : IRowWidener
    {
        public static unsafe void Widen(byte* row, byte* slot, int count, int rowBytes, int strideWidth, bool signed) =>
            BuildValueRowVector128(row, (int*)slot, count, rowBytes / 2, strideWidth, signed);

        public static unsafe void FillPadding(byte* slot, int rowBytes, int xZeroPoint) => new Span<int>(slot, rowBytes).Fill(xZeroPoint);
    }

    /// <summary>Slot column (within a ring slot) read by tap column <paramref name="kw"/> for output column 0.</summary>
    private static int TapColumnOffset(int kw, int strideWidth, int half) =>
        strideWidth == 1 ? kw : (kw & 1) * half + kw / 2;

    /// <summary>
    /// Converts the first <paramref name="count"/> bytes of a padded byte row into int32 raw values (stride 2: even
    /// columns, then odd columns from <paramref name="half"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void BuildValueRowVector128(byte* row, int* dst, int count, int half, int strideWidth, bool signed)
    {
        if (strideWidth == 1)
        {
            for (int j = 0; j < count; j += 16)
            {
                var bytes = Vector128.Load(row + j);
                Vector128<int> v0, v1, v2, v3;
                if (signed)
                {
                    var (lo, hi) = Vector128.Widen(bytes.AsSByte());
                    (v0, v1) = Vector128.Widen(lo);
                    (v2, v3) = Vector128.Widen(hi);
                }
                else
                {
                    var (lo, hi) = Vector128.Widen(bytes);
                    (v0, v1) = Vector128.Widen(lo).AsInt32Pair();
                    (v2, v3) = Vector128.Widen(hi).AsInt32Pair();
                }
                v0.Store(dst + j);
                v1.Store(dst + j + 4);
                v2.Store(dst + j + 8);
                v3.Store(dst + j + 12);
            }
        }
        else
        {
            for (int j = 0; j < count; j += 16)
            {
                var pairs = Vector128.Load(row + j).AsInt16();
                // Little-endian: the even column is the low byte of each 16-bit lane, the odd column the high byte.
                var even = signed ? (pairs << 8) >> 8 : pairs & Vector128.Create((short)0xFF);
                var odd = signed ? pairs >> 8 : (pairs.AsUInt16() >>> 8).AsInt16();
                var (e0, e1) = Vector128.Widen(even);
                var (o0, o1) = Vector128.Widen(odd);
                e0.Store(dst + j / 2);
                e1.Store(dst + j / 2 + 4);
                o0.Store(dst + half + j / 2);
                o1.Store(dst + half + j / 2 + 4);
            }
        }
    }

    private static (Vector128<int>, Vector128<int>) AsInt32Pair(this (Vector128<uint>, Vector128<uint>) pair) =>
        (pair.Item1.AsInt32(), pair.Item2.AsInt32());

    /// <summary>
    /// <see cref="Requantization.Requantize"/> on 4 accumulators (bias included, finite multiplier so no NaN): int → float
    /// rounds to nearest even, one multiply, clamp in float, round half to even, + zero point.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> RequantizeVector128(Vector128<int> acc, Vector128<float> multiplier, Vector128<float> low, Vector128<float> high, Vector128<int> zeroPoint)
    {
        var scaled = Vector128.ConvertToSingle(acc) * multiplier;
        scaled = Vector128.MinNative(Vector128.MaxNative(scaled, low), high);
        return Vector128.ConvertToInt32(Vector128.Round(scaled)) + zeroPoint;
    }
}
