using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using EdgeRuntime.Kernels.Common;

namespace EdgeRuntime.Kernels.Depthwise;

public static partial class DepthwiseConv
{
    // ARM64 AdvSimd path. The plane holds int16 values v = x - xZeroPoint (|v| <= 255), laid out like the Vector128
    // path's (stride 2: even columns, then odd columns from half = RowBytes / 2), but in shorts. Each tap is
    // SMLAL + SMLAL2: 8 int16 inputs times the broadcast int16 weight, widened and added into two int32x4 accumulators.

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void RunNeon(in DepthwiseConvGeometry g, ReadOnlySpan<byte> x, bool xSigned, int xZeroPoint,
        ReadOnlySpan<short> weights, ReadOnlySpan<int> bias, ReadOnlySpan<float> multipliers,
        int yZeroPoint, int yMin, int yMax, Span<byte> y, Span<int> scratch, int cFirst, int cCount)
    {
        var plan = PlanePlan.For(g);
        int taps = g.Taps;
        int rowShorts = plan.RowBytes; // each padded row uses RowBytes shorts of its RowInts ints
        Span<int> tapOffsets = stackalloc int[taps];
        for (int kh = 0; kh < g.KernelHeight; kh++)
            for (int kw = 0; kw < g.KernelWidth; kw++)
                tapOffsets[kh * g.KernelWidth + kw] = kh * rowShorts + TapColumnOffset(kw, g.StrideWidth, rowShorts / 2);
        Span<Vector128<short>> tapWeights = stackalloc Vector128<short>[taps];

        var planeShorts = MemoryMarshal.Cast<int, short>(scratch[..(plan.Rows * plan.RowInts)]);
        var byteRow = MemoryMarshal.AsBytes(scratch.Slice(plan.Rows * plan.RowInts, (plan.RowBytes + ByteRowSlack) / sizeof(int)));
        InitPaddedByteRow(byteRow, xZeroPoint);
        byte flip = (byte)QuantizedByte.FlipMask(xSigned);
        int subtract = xZeroPoint + QuantizedByte.Offset(xSigned); // (b ^ flip) - subtract == value - xZeroPoint
        var low = Vector128.Create((float)(yMin - yZeroPoint));
        var high = Vector128.Create((float)(yMax - yZeroPoint));
        var zeroPoint = Vector128.Create(yZeroPoint);

        fixed (short* planeBase = planeShorts)
        fixed (byte* rowBase = byteRow)
        fixed (int* offsetBase = tapOffsets)
        fixed (Vector128<short>* weightBase = tapWeights)
        fixed (byte* yBase = y)
        {
            for (int c = cFirst; c < cFirst + cCount; c++)
            {
                var w = weights.Slice(c * taps, taps);
                for (int t = 0; t < taps; t++) tapWeights[t] = Vector128.Create(w[t]);

                var xPlane = x.Slice(c * g.InPlane, g.InPlane);
                for (int r = 0; r < plan.Rows; r++)
                {
                    if (!CopyInputRow(g, xPlane, r, byteRow)) { planeShorts.Slice(r * rowShorts, rowShorts).Clear(); continue; }
                    BuildValueRowNeon(rowBase, planeBase + r * rowShorts, plan.RowBytes, g.StrideWidth, flip, subtract);
                }

                var channelBias = Vector128.Create(bias.IsEmpty ? 0 : bias[c]);
                var multiplier = Vector128.Create(multipliers[c]);
                byte* yPlane = yBase + c * g.OutPlane;
                for (int oh = 0; oh < g.OutHeight; oh++)
                {
                    short* rowStart = planeBase + oh * g.StrideHeight * rowShorts;
                    byte* yRow = yPlane + oh * g.OutWidth;
                    int ow = 0;
                    for (; ow + 8 < g.OutWidth; ow += 16)
                    {
                        var a0 = channelBias;
                        var a1 = channelBias;
                        var a2 = channelBias;
                        var a3 = channelBias;
                        short* origin = rowStart + ow;
                        for (int t = 0; t < taps; t++)
                        {
                            short* source = origin + offsetBase[t];
                            var weight = weightBase[t];
                            var s0 = AdvSimd.LoadVector128(source);
                            var s1 = AdvSimd.LoadVector128(source + 8);
                            a0 = AdvSimd.MultiplyWideningLowerAndAdd(a0, s0.GetLower(), weight.GetLower());
                            a1 = AdvSimd.MultiplyWideningUpperAndAdd(a1, s0, weight);
                            a2 = AdvSimd.MultiplyWideningLowerAndAdd(a2, s1.GetLower(), weight.GetLower());
                            a3 = AdvSimd.MultiplyWideningUpperAndAdd(a3, s1, weight);
                        }
                        var bytes = Vector128.Create(
                            NarrowToBytesNeon(RequantizeNeon(a0, multiplier, low, high, zeroPoint), RequantizeNeon(a1, multiplier, low, high, zeroPoint)),
                            NarrowToBytesNeon(RequantizeNeon(a2, multiplier, low, high, zeroPoint), RequantizeNeon(a3, multiplier, low, high, zeroPoint)));
                        int available = (g.OutHeight - oh) * g.OutWidth - ow; // may spill into the next row, rewritten later
                        if (available >= 16) AdvSimd.Store(yRow + ow, bytes);
                        else StorePartial(bytes, yRow + ow, available);
                    }
                    for (; ow < g.OutWidth; ow += 8)
                    {
                        var a0 = channelBias;
                        var a1 = channelBias;
                        short* origin = rowStart + ow;
                        for (int t = 0; t < taps; t++)
                        {
                            var weight = weightBase[t];
                            var s0 = AdvSimd.LoadVector128(origin + offsetBase[t]);
                            a0 = AdvSimd.MultiplyWideningLowerAndAdd(a0, s0.GetLower(), weight.GetLower());
                            a1 = AdvSimd.MultiplyWideningUpperAndAdd(a1, s0, weight);
                        }
                        var bytes = NarrowToBytesNeon(RequantizeNeon(a0, multiplier, low, high, zeroPoint), RequantizeNeon(a1, multiplier, low, high, zeroPoint));
                        int available = (g.OutHeight - oh) * g.OutWidth - ow; // may spill into the next row, rewritten later
                        if (available >= 8) AdvSimd.Store(yRow + ow, bytes);
                        else StorePartial(Vector128.Create(bytes, Vector64<byte>.Zero), yRow + ow, available);
                    }
                }
            }
        }
    }

    /// <summary>Converts a padded byte row into int16 values (stride 2: even columns, then odd columns from <c>count / 2</c>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void BuildValueRowNeon(byte* row, short* dst, int count, int strideWidth, byte flip, int subtract)
    {
        var flipVector = Vector128.Create(flip);
        var subtractVector = Vector128.Create((short)subtract);
        if (strideWidth == 1)
        {
            for (int j = 0; j < count; j += 16)
            {
                var bytes = AdvSimd.Xor(AdvSimd.LoadVector128(row + j), flipVector);
                AdvSimd.Store(dst + j, AdvSimd.Subtract(AdvSimd.ZeroExtendWideningLower(bytes.GetLower()).AsInt16(), subtractVector));
                AdvSimd.Store(dst + j + 8, AdvSimd.Subtract(AdvSimd.ZeroExtendWideningUpper(bytes).AsInt16(), subtractVector));
            }
        }
        else
        {
            int half = count / 2;
            var lowByte = Vector128.Create((ushort)0xFF);
            for (int j = 0; j < count; j += 16)
            {
                var pairs = AdvSimd.Xor(AdvSimd.LoadVector128(row + j), flipVector).AsUInt16();
                AdvSimd.Store(dst + j / 2, AdvSimd.Subtract(AdvSimd.And(pairs, lowByte).AsInt16(), subtractVector));
                AdvSimd.Store(dst + half + j / 2, AdvSimd.Subtract(AdvSimd.ShiftRightLogical(pairs, 8).AsInt16(), subtractVector));
            }
        }
    }

    /// <summary>
    /// <see cref="Requantization.Requantize"/> on 4 accumulators (bias included): SCVTF (round to nearest even), FMUL,
    /// NaN → 0, clamp with FMAX/FMIN, FCVTNS (round half to even), + zero point.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> RequantizeNeon(Vector128<int> acc, Vector128<float> multiplier, Vector128<float> low, Vector128<float> high, Vector128<int> zeroPoint)
    {
        var scaled = AdvSimd.Multiply(AdvSimd.ConvertToSingle(acc), multiplier);
        scaled = AdvSimd.And(scaled, AdvSimd.CompareEqual(scaled, scaled));
        scaled = AdvSimd.Min(AdvSimd.Max(scaled, low), high);
        return AdvSimd.Add(AdvSimd.ConvertToInt32RoundToEven(scaled), zeroPoint);
    }

    /// <summary>The low byte of each of 8 ints (XTN twice, truncating like the scalar (byte) cast).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector64<byte> NarrowToBytesNeon(Vector128<int> first, Vector128<int> second)
    {
        var shorts = AdvSimd.ExtractNarrowingUpper(AdvSimd.ExtractNarrowingLower(first), second);
        return AdvSimd.ExtractNarrowingLower(shorts).AsByte();
    }
}
