using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using EdgeRuntime.Kernels.Common;

namespace EdgeRuntime.Kernels.Depthwise;

public static partial class DepthwiseConv
{
    // Portable Vector128 path. The plane holds int32 values v = x - xZeroPoint:
    //   stride 1: plane[r][j] = v[r][j]                                   tap kw of output ow reads ow + kw
    //   stride 2: plane[r][j] = v[r][2j], plane[r][half + j] = v[r][2j+1] tap kw of output ow reads
    //             (kw odd ? half : 0) + ow + kw/2, with half = RowInts / 2
    // Each tap is a 32-bit multiply-add of 4 outputs by the broadcast weight.

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void RunVector128(in DepthwiseConvGeometry g, ReadOnlySpan<byte> x, bool xSigned, int xZeroPoint,
        ReadOnlySpan<short> weights, ReadOnlySpan<int> bias, ReadOnlySpan<float> multipliers,
        int yZeroPoint, int yMin, int yMax, Span<byte> y, Span<int> scratch, int cFirst, int cCount)
    {
        var plan = PlanePlan.For(g);
        int taps = g.Taps;
        Span<int> tapOffsets = stackalloc int[taps];
        for (int kh = 0; kh < g.KernelHeight; kh++)
            for (int kw = 0; kw < g.KernelWidth; kw++)
                tapOffsets[kh * g.KernelWidth + kw] = kh * plan.RowInts + TapColumnOffset(kw, g.StrideWidth, plan.RowInts / 2);
        Span<Vector128<int>> tapWeights = stackalloc Vector128<int>[taps];

        var planeInts = scratch[..(plan.Rows * plan.RowInts)];
        var byteRow = MemoryMarshal.AsBytes(scratch.Slice(plan.Rows * plan.RowInts, (plan.RowBytes + ByteRowSlack) / sizeof(int)));
        InitPaddedByteRow(byteRow, xZeroPoint);
        byte flip = (byte)QuantizedByte.FlipMask(xSigned);
        int subtract = xZeroPoint + QuantizedByte.Offset(xSigned); // (b ^ flip) - subtract == value - xZeroPoint
        var low = Vector128.Create((float)(yMin - yZeroPoint));
        var high = Vector128.Create((float)(yMax - yZeroPoint));
        var zeroPoint = Vector128.Create(yZeroPoint);

        fixed (int* planeBase = planeInts)
        fixed (byte* rowBase = byteRow)
        fixed (int* offsetBase = tapOffsets)
        fixed (Vector128<int>* weightBase = tapWeights)
        fixed (byte* yBase = y)
        {
            for (int c = cFirst; c < cFirst + cCount; c++)
            {
                var w = weights.Slice(c * taps, taps);
                for (int t = 0; t < taps; t++) tapWeights[t] = Vector128.Create((int)w[t]);

                var xPlane = x.Slice(c * g.InPlane, g.InPlane);
                for (int r = 0; r < plan.Rows; r++)
                {
                    if (!CopyInputRow(g, xPlane, r, byteRow)) { planeInts.Slice(r * plan.RowInts, plan.RowInts).Clear(); continue; }
                    BuildValueRowVector128(rowBase, planeBase + r * plan.RowInts, plan.RowBytes, g.StrideWidth, flip, subtract);
                }

                var channelBias = Vector128.Create(bias.IsEmpty ? 0 : bias[c]);
                var multiplier = Vector128.Create(multipliers[c]);
                byte* yPlane = yBase + c * g.OutPlane;
                for (int oh = 0; oh < g.OutHeight; oh++)
                {
                    int* rowStart = planeBase + oh * g.StrideHeight * plan.RowInts;
                    byte* yRow = yPlane + oh * g.OutWidth;
                    for (int ow = 0; ow < g.OutWidth; ow += 8)
                    {
                        var a0 = channelBias;
                        var a1 = channelBias;
                        int* origin = rowStart + ow;
                        for (int t = 0; t < taps; t++)
                        {
                            int* source = origin + offsetBase[t];
                            var weight = weightBase[t];
                            a0 += Vector128.Load(source) * weight;
                            a1 += Vector128.Load(source + 4) * weight;
                        }
                        var v0 = RequantizeVector128(a0, multiplier, low, high, zeroPoint);
                        var v1 = RequantizeVector128(a1, multiplier, low, high, zeroPoint);
                        // Narrow truncates: the low byte of each value, as the scalar (byte) cast.
                        var bytes = Vector128.Narrow(Vector128.Narrow(v0, v1), Vector128<short>.Zero).AsByte();
                        int available = (g.OutHeight - oh) * g.OutWidth - ow; // may spill into the next row, rewritten later
                        if (available >= 8) Unsafe.WriteUnaligned(yRow + ow, bytes.AsUInt64().ToScalar());
                        else StorePartial(bytes, yRow + ow, available);
                    }
                }
            }
        }
    }

    /// <summary>Plane column (within a padded row) read by tap column <paramref name="kw"/> for output column 0.</summary>
    private static int TapColumnOffset(int kw, int strideWidth, int half) =>
        strideWidth == 1 ? kw : (kw & 1) * half + kw / 2;

    /// <summary>Converts a padded byte row into int32 values (stride 2: even columns, then odd columns from <c>count / 2</c>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void BuildValueRowVector128(byte* row, int* dst, int count, int strideWidth, byte flip, int subtract)
    {
        var flipVector = Vector128.Create(flip);
        var subtractVector = Vector128.Create(subtract);
        if (strideWidth == 1)
        {
            for (int j = 0; j < count; j += 16)
            {
                var bytes = Vector128.Load(row + j) ^ flipVector;
                var (lo, hi) = Vector128.Widen(bytes);
                var (v0, v1) = Vector128.Widen(lo);
                var (v2, v3) = Vector128.Widen(hi);
                (v0.AsInt32() - subtractVector).Store(dst + j);
                (v1.AsInt32() - subtractVector).Store(dst + j + 4);
                (v2.AsInt32() - subtractVector).Store(dst + j + 8);
                (v3.AsInt32() - subtractVector).Store(dst + j + 12);
            }
        }
        else
        {
            int half = count / 2;
            for (int j = 0; j < count; j += 16)
            {
                var pairs = (Vector128.Load(row + j) ^ flipVector).AsUInt16();
                var (e0, e1) = Vector128.Widen(pairs & Vector128.Create((ushort)0xFF));
                var (o0, o1) = Vector128.Widen(pairs >>> 8);
                (e0.AsInt32() - subtractVector).Store(dst + j / 2);
                (e1.AsInt32() - subtractVector).Store(dst + j / 2 + 4);
                (o0.AsInt32() - subtractVector).Store(dst + half + j / 2);
                (o1.AsInt32() - subtractVector).Store(dst + half + j / 2 + 4);
            }
        }
    }

    /// <summary>
    /// <see cref="Requantization.Requantize"/> on 4 accumulators (bias included): int → float rounds to nearest even,
    /// one multiply, NaN → 0, clamp in float, round half to even, + zero point.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> RequantizeVector128(Vector128<int> acc, Vector128<float> multiplier, Vector128<float> low, Vector128<float> high, Vector128<int> zeroPoint)
    {
        var scaled = Vector128.ConvertToSingle(acc) * multiplier;
        scaled &= Vector128.Equals(scaled, scaled);
        scaled = Vector128.MinNative(Vector128.MaxNative(scaled, low), high);
        return Vector128.ConvertToInt32(Vector128.Round(scaled)) + zeroPoint;
    }
}
