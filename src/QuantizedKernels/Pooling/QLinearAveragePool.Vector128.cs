using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using EdgeRuntime.Kernels.Common;

namespace EdgeRuntime.Kernels.Pooling;

/// <summary>
/// QLinearAveragePool dispatched by instruction-set path; bit-exact with <see cref="QLinearAveragePoolReference"/>
/// because every output is the same sequence of float32 operations: the same dequantized terms
/// <c>xScale * (float)(x - xZeroPoint)</c> added in the same row-major window order, then <c>/ count</c>,
/// <c>/ yScale</c>, <c>+ yZeroPoint</c>, clamp, round half to even. Vectors only change which outputs are computed
/// side by side:
/// <list type="bullet">
/// <item>NCHW: each plane is first dequantized into <c>scratch</c> split into stride phases
/// (<c>phase[h][p][j] = term(h, p + stride·j)</c>) so that the inputs of four horizontally adjacent outputs are
/// contiguous for every stride; outputs whose window lies inside the width run four at a time, the rest one at a
/// time.</item>
/// <item>Channels-last: sixteen channels of one output position at a time.</item>
/// <item>NCHW whole-plane windows on ARM64 (one output per plane whose window is the whole input plane: MobileNet's final
/// 7×7 average): four planes side by side, one per lane (see <see cref="RunWholePlanes{T}"/>).</item>
/// </list>
/// </summary>
public static class QLinearAveragePool
{
    /// <summary>Widest kernel the vector path handles (its column table lives on the stack); wider pools use the reference.</summary>
    private const int MaxVectorKernelWidth = 256;

    /// <summary>Floats of scratch <see cref="Run"/> needs for <paramref name="g"/> (0 for channels-last).</summary>
    public static int ScratchLength(in QLinearPoolGeometry g) =>
        g.ChannelsLast ? 0 : Math.Max(g.InHeight * g.StrideWidth * PhaseLength(g), IsWholePlane(g) ? 4 * g.InHeight * g.InWidth : 0);

    /// <summary>NCHW pools with one output per plane whose window is the whole input plane (read in memory order).</summary>
    private static bool IsWholePlane(in QLinearPoolGeometry g) =>
        !g.ChannelsLast && g.OutHeight == 1 && g.OutWidth == 1
        && g.KernelHeight - g.PadTop >= g.InHeight && g.KernelWidth - g.PadLeft >= g.InWidth;

    private static int PhaseLength(in QLinearPoolGeometry g) => (g.InWidth + g.StrideWidth - 1) / g.StrideWidth;

    /// <summary>Runs the pool with the code of <paramref name="isa"/>; <paramref name="scratch"/> holds at least <see cref="ScratchLength"/> floats.</summary>
    public static void Run(IsaPath isa, in QLinearPoolGeometry g, ReadOnlySpan<byte> x, bool signed, float xScale, int xZeroPoint,
        float yScale, int yZeroPoint, Span<byte> y, Span<float> scratch)
    {
        if (isa == IsaPath.Scalar || !Vector128.IsHardwareAccelerated || g.KernelWidth > MaxVectorKernelWidth)
        {
            QLinearAveragePoolReference.Run(g, x, signed, xScale, xZeroPoint, yScale, yZeroPoint, y);
            return;
        }
        if (g.ChannelsLast) RunChannelsLast(g, x, signed, xScale, xZeroPoint, yScale, yZeroPoint, y);
        else if (AdvSimd.Arm64.IsSupported && IsWholePlane(g) && g.InHeight * g.InWidth >= 16
                 && xZeroPoint >= Requantization.MinOf(signed) && xZeroPoint <= Requantization.MaxOf(signed))
        {
            if (signed) RunWholePlanes<sbyte>(g, x, xScale, xZeroPoint, yScale, yZeroPoint, y, scratch[..ScratchLength(g)]);
            else RunWholePlanes<byte>(g, x, xScale, xZeroPoint, yScale, yZeroPoint, y, scratch[..ScratchLength(g)]);
        }
        else RunPlanes(g, x, signed, xScale, xZeroPoint, yScale, yZeroPoint, y, scratch[..ScratchLength(g)]);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunPlanes(in QLinearPoolGeometry g, ReadOnlySpan<byte> x, bool signed, float xScale, int xZeroPoint,
        float yScale, int yZeroPoint, Span<byte> y, Span<float> phases)
    {
        int min = Requantization.MinOf(signed), max = Requantization.MaxOf(signed);
        int inPlane = g.InHeight * g.InWidth, outPlane = g.OutHeight * g.OutWidth;
        int stride = g.StrideWidth, phaseLength = PhaseLength(g), rowLength = stride * phaseLength;
        // Outputs whose window [ow·s - padLeft, +kernelW) lies inside [0, W).
        int interiorBegin = Math.Min(g.OutWidth, (g.PadLeft + stride - 1) / stride);
        int interiorEnd = g.InWidth + g.PadLeft - g.KernelWidth < 0 ? 0 : Math.Min(g.OutWidth, (g.InWidth + g.PadLeft - g.KernelWidth) / stride + 1);
        if (interiorEnd < interiorBegin) interiorEnd = interiorBegin;
        var yScaleVector = Vector128.Create(yScale);
        var zeroPointVector = Vector128.Create((float)yZeroPoint);
        var low = Vector128.Create((float)min);
        var high = Vector128.Create((float)max);
        ref float rp = ref MemoryMarshal.GetReference(phases);
        var flip = Vector128.Create((byte)QuantizedByte.FlipMask(signed));
        var zeroPoint = Vector128.Create(xZeroPoint + QuantizedByte.Offset(signed));
        var scaleVector = Vector128.Create(xScale);
        // Input column o·s + d (d = kw - padLeft) is (o + shift)·s + p: four adjacent outputs read four adjacent floats of
        // phase p, at p·phaseLength + shift + o within the row (≥ 0 for interior outputs).
        Span<int> columnOffsets = stackalloc int[g.KernelWidth];
        for (int kw = 0; kw < columnOffsets.Length; kw++)
        {
            int d = kw - g.PadLeft;
            int p = ((d % stride) + stride) % stride;
            columnOffsets[kw] = p * phaseLength + (d - p) / stride;
        }

        for (int plane = 0; plane < g.Batch * g.Channels; plane++)
        {
            var input = x.Slice(plane * inPlane, inPlane);
            // The dequantized rows feed only the vector loop over interior outputs (none when the window covers the
            // whole plane, as in MobileNet's final 7×7 average).
            for (int h = 0; h < g.InHeight && interiorEnd - interiorBegin >= 4; h++)
            {
                var inputRow = input.Slice(h * g.InWidth, g.InWidth);
                var phaseRow = phases.Slice(h * rowLength, rowLength);
                if (stride == 1)
                {
                    DequantizeRow(inputRow, phaseRow, flip, zeroPoint, scaleVector, signed, xScale, xZeroPoint);
                    continue;
                }
                for (int p = 0; p < stride; p++)
                {
                    var phase = phaseRow.Slice(p * phaseLength, phaseLength);
                    for (int j = 0, w = p; w < inputRow.Length; j++, w += stride)
                        phase[j] = xScale * (QuantizedByte.Value(inputRow[w], signed) - xZeroPoint);
                }
            }

            for (int oh = 0; oh < g.OutHeight; oh++)
            {
                int hStart = oh * g.StrideHeight - g.PadTop;
                int hEnd = Math.Min(hStart + g.KernelHeight, g.InHeight);
                hStart = Math.Max(hStart, 0);
                var outRow = y.Slice(plane * outPlane + oh * g.OutWidth, g.OutWidth);
                for (int ow = 0; ow < interiorBegin; ow++) outRow[ow] = ScalarOutput(g, input, signed, xScale, xZeroPoint, yScale, yZeroPoint, hStart, hEnd, ow, min, max);
                int interiorCount = g.CountIncludePad ? g.KernelHeight * g.KernelWidth : Math.Max(0, hEnd - hStart) * g.KernelWidth;
                var countVector = Vector128.Create((float)interiorCount);
                int o = interiorBegin;
                {
                    for (; o <= interiorEnd - 4; o += 4)
                    {
                        var sum = Vector128<float>.Zero;
                        for (int h = hStart; h < hEnd; h++)
                        {
                            int rowBase = h * rowLength;
                            for (int kw = 0; kw < columnOffsets.Length; kw++)
                                sum += Vector128.LoadUnsafe(ref rp, (nuint)(rowBase + columnOffsets[kw] + o));
                        }
                        StoreFour(Quantize(sum, countVector, yScaleVector, zeroPointVector, low, high), outRow.Slice(o, 4));
                    }
                }
                for (; o < g.OutWidth; o++) outRow[o] = ScalarOutput(g, input, signed, xScale, xZeroPoint, yScale, yZeroPoint, hStart, hEnd, o, min, max);
            }
        }
    }

    /// <summary>
    /// Whole-plane windows on ARM64; <typeparamref name="T"/> is <see cref="byte"/> (uint8) or <see cref="sbyte"/> (int8).
    /// Each output is the reference's sequential float sum of its plane's terms <c>xScale·(float)(x − xZeroPoint)</c> in
    /// memory order (the window's row-major order), which no reassociation may change, so vectors run four planes side by
    /// side, one per lane, each lane adding its own plane's terms in order. Layout of <paramref name="terms"/> (4·plane
    /// floats): <c>terms[4·i + j] = term(plane j of the group, element i)</c>. It is filled sixteen elements of each of the
    /// four planes at a time: a widening byte subtract (USUBL/SSUBL; the difference fits a signed 16-bit lane), sign
    /// extension, int → float and the scale multiply give four vectors of four consecutive terms per plane, and ST4 stores
    /// the four planes' vectors interleaved. A rest of 4–15 elements is one more block starting at plane − 16 (rewriting
    /// some terms with the same values), so the plane must hold at least 16 elements; a rest of 1–3 is computed one term
    /// at a time. The sum then adds one 4-float row of <paramref name="terms"/> per element, and the rest of the
    /// reference's steps (<c>/ count</c>, <c>/ yScale</c>, <c>+ yZeroPoint</c>, NaN → 0, clamp, round half to even) run
    /// per lane. Planes left over after the groups of four use <see cref="ScalarOutput"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void RunWholePlanes<T>(in QLinearPoolGeometry g, ReadOnlySpan<byte> x, float xScale, int xZeroPoint,
        float yScale, int yZeroPoint, Span<byte> y, Span<float> terms) where T : unmanaged
    {
        bool signed = typeof(T) == typeof(sbyte);
        int min = Requantization.MinOf(signed), max = Requantization.MaxOf(signed);
        int inPlane = g.InHeight * g.InWidth, planes = g.Batch * g.Channels;
        int count = g.CountIncludePad ? g.KernelHeight * g.KernelWidth : inPlane;
        var countVector = Vector128.Create((float)count);
        var yScaleVector = Vector128.Create(yScale);
        var zeroPointVector = Vector128.Create((float)yZeroPoint);
        var low = Vector128.Create((float)min);
        var high = Vector128.Create((float)max);
        var scale = Vector128.Create(xScale);
        var zp = Vector64.Create((byte)xZeroPoint);
        var zp128 = Vector128.Create((byte)xZeroPoint);
        x = x[..(planes * inPlane)]; // checked once: the loops below load without bounds checks
        terms = terms[..(4 * inPlane)];
        ref byte rx = ref MemoryMarshal.GetReference(x);
        int full = inPlane & ~15, rest = inPlane - full; // a rest of 1–3 elements is cheaper one term at a time
        int plane = 0;
        fixed (float* t = terms)
        {
            for (; plane <= planes - 4; plane += 4)
            {
                int baseIndex = plane * inPlane;
                for (int i = 0; i < full; i += 16) StoreTerms<T>(ref rx, baseIndex + i, inPlane, t + 4 * i, zp, zp128, scale);
                if (rest > 3)
                    StoreTerms<T>(ref rx, baseIndex + inPlane - 16, inPlane, t + 4 * (inPlane - 16), zp, zp128, scale);
                else
                    for (int i = full; i < inPlane; i++)
                        for (int j = 0; j < 4; j++)
                        {
                            byte v = x[baseIndex + j * inPlane + i];
                            t[4 * i + j] = xScale * ((signed ? (sbyte)v : v) - xZeroPoint);
                        }
                var sum = Vector128<float>.Zero;
                int e = 0;
                for (; e <= inPlane - 4; e += 4)
                {
                    var (v0, v1, v2, v3) = AdvSimd.Arm64.Load4xVector128(t + 4 * e);
                    sum = sum + v0 + v1 + v2 + v3; // left to right: element e, then e + 1, …
                }
                for (; e < inPlane; e++) sum += Vector128.Load(t + 4 * e);
                StoreFour(Quantize(sum, countVector, yScaleVector, zeroPointVector, low, high), y.Slice(plane, 4));
            }
        }
        for (; plane < planes; plane++)
            y[plane] = ScalarOutput(g, x.Slice(plane * inPlane, inPlane), signed, xScale, xZeroPoint, yScale, yZeroPoint, 0, g.InHeight, 0, min, max);
    }

    /// <summary>
    /// The terms of sixteen consecutive elements of four planes — the first plane's bytes at <paramref name="index"/>, each
    /// next plane's <paramref name="inPlane"/> further on — stored interleaved: <c>row[4·e + j]</c> = term of the block's
    /// element e of plane j.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void StoreTerms<T>(ref byte rx, int index, int inPlane, float* row, Vector64<byte> zp, Vector128<byte> zp128,
        Vector128<float> scale)
    {
        var (a0, a1, a2, a3) = Terms<T>(Vector128.LoadUnsafe(ref rx, (nuint)index), zp, zp128, scale);
        var (b0, b1, b2, b3) = Terms<T>(Vector128.LoadUnsafe(ref rx, (nuint)(index + inPlane)), zp, zp128, scale);
        var (c0, c1, c2, c3) = Terms<T>(Vector128.LoadUnsafe(ref rx, (nuint)(index + 2 * inPlane)), zp, zp128, scale);
        var (d0, d1, d2, d3) = Terms<T>(Vector128.LoadUnsafe(ref rx, (nuint)(index + 3 * inPlane)), zp, zp128, scale);
        AdvSimd.Arm64.StoreVectorAndZip(row, (a0, b0, c0, d0));
        AdvSimd.Arm64.StoreVectorAndZip(row + 16, (a1, b1, c1, d1));
        AdvSimd.Arm64.StoreVectorAndZip(row + 32, (a2, b2, c2, d2));
        AdvSimd.Arm64.StoreVectorAndZip(row + 48, (a3, b3, c3, d3));
    }

    /// <summary>The terms <c>scale·(float)(v − zeroPoint)</c> of sixteen bytes as four vectors of four consecutive terms.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector128<float>, Vector128<float>, Vector128<float>, Vector128<float>) Terms<T>(Vector128<byte> v,
        Vector64<byte> zeroPoint, Vector128<byte> zeroPoint128, Vector128<float> scale)
    {
        // Upper halves before lower ones: GetLower of a vector still live afterwards costs a register copy.
        Vector128<short> lo, hi;
        if (typeof(T) == typeof(sbyte))
        {
            hi = AdvSimd.SubtractWideningUpper(v.AsSByte(), zeroPoint128.AsSByte());
            lo = AdvSimd.SubtractWideningLower(v.AsSByte().GetLower(), zeroPoint.AsSByte());
        }
        else
        {
            hi = AdvSimd.SubtractWideningUpper(v, zeroPoint128).AsInt16();
            lo = AdvSimd.SubtractWideningLower(v.GetLower(), zeroPoint).AsInt16();
        }
        var t1 = scale * AdvSimd.ConvertToSingle(AdvSimd.SignExtendWideningUpper(lo));
        var t0 = scale * AdvSimd.ConvertToSingle(AdvSimd.SignExtendWideningLower(lo.GetLower()));
        var t3 = scale * AdvSimd.ConvertToSingle(AdvSimd.SignExtendWideningUpper(hi));
        var t2 = scale * AdvSimd.ConvertToSingle(AdvSimd.SignExtendWideningLower(hi.GetLower()));
        return (t0, t1, t2, t3);
    }

    /// <summary><c>row[w] = xScale * (float)(Value(input[w]) - xZeroPoint)</c>, sixteen at a time.</summary>
    private static void DequantizeRow(ReadOnlySpan<byte> input, Span<float> row, Vector128<byte> flip, Vector128<int> zeroPoint,
        Vector128<float> scale, bool signed, float xScale, int xZeroPoint)
    {
        ref byte rx = ref MemoryMarshal.GetReference(input);
        ref float rr = ref MemoryMarshal.GetReference(row);
        int w = 0;
        for (; w <= input.Length - 16; w += 16)
        {
            var (lo, hi) = Vector128.Widen(Vector128.LoadUnsafe(ref rx, (nuint)w) ^ flip);
            var (a, b) = Vector128.Widen(lo);
            var (c, d) = Vector128.Widen(hi);
            (scale * Vector128.ConvertToSingle(a.AsInt32() - zeroPoint)).StoreUnsafe(ref rr, (nuint)w);
            (scale * Vector128.ConvertToSingle(b.AsInt32() - zeroPoint)).StoreUnsafe(ref rr, (nuint)(w + 4));
            (scale * Vector128.ConvertToSingle(c.AsInt32() - zeroPoint)).StoreUnsafe(ref rr, (nuint)(w + 8));
            (scale * Vector128.ConvertToSingle(d.AsInt32() - zeroPoint)).StoreUnsafe(ref rr, (nuint)(w + 12));
        }
        for (; w < input.Length; w++) row[w] = xScale * (QuantizedByte.Value(input[w], signed) - xZeroPoint);
    }

    /// <summary>One NCHW output exactly as the reference computes it.</summary>
    private static byte ScalarOutput(in QLinearPoolGeometry g, ReadOnlySpan<byte> plane, bool signed, float xScale, int xZeroPoint,
        float yScale, int yZeroPoint, int hStart, int hEnd, int ow, int min, int max)
    {
        int wStart = ow * g.StrideWidth - g.PadLeft;
        int wEnd = Math.Min(wStart + g.KernelWidth, g.InWidth);
        wStart = Math.Max(wStart, 0);
        float sum = 0f;
        if (hEnd > hStart && wEnd > wStart)
        {
            // The reference's sequential float sum, on one checked row slice per window row (no per-element bounds
            // checks or signedness branch): a whole-plane window (MobileNet's final 7×7 average) is all border outputs.
            for (int h = hStart; h < hEnd; h++)
            {
                var row = plane.Slice(h * g.InWidth + wStart, wEnd - wStart);
                if (signed)
                    foreach (byte b in row) sum += xScale * ((sbyte)b - xZeroPoint);
                else
                    foreach (byte b in row) sum += xScale * (b - xZeroPoint);
            }
        }
        int count = g.CountIncludePad ? g.KernelHeight * g.KernelWidth : Math.Max(0, hEnd - hStart) * Math.Max(0, wEnd - wStart);
        float average = sum / count;
        return (byte)Requantization.RoundAndClamp(average / yScale + yZeroPoint, 0, min, max);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunChannelsLast(in QLinearPoolGeometry g, ReadOnlySpan<byte> x, bool signed, float xScale, int xZeroPoint,
        float yScale, int yZeroPoint, Span<byte> y)
    {
        int min = Requantization.MinOf(signed), max = Requantization.MaxOf(signed);
        int channels = g.Channels;
        var flip = Vector128.Create((byte)QuantizedByte.FlipMask(signed));
        var zp = Vector128.Create(xZeroPoint + QuantizedByte.Offset(signed));
        var scale = Vector128.Create(xScale);
        var yScaleVector = Vector128.Create(yScale);
        var zeroPointVector = Vector128.Create((float)yZeroPoint);
        var low = Vector128.Create((float)min);
        var high = Vector128.Create((float)max);
        ref byte rx = ref MemoryMarshal.GetReference(x);
        ref byte ry = ref MemoryMarshal.GetReference(y);
        for (int n = 0; n < g.Batch; n++)
            for (int oh = 0; oh < g.OutHeight; oh++)
            {
                int hStart = oh * g.StrideHeight - g.PadTop;
                int hEnd = Math.Min(hStart + g.KernelHeight, g.InHeight);
                hStart = Math.Max(hStart, 0);
                for (int ow = 0; ow < g.OutWidth; ow++)
                {
                    int wStart = ow * g.StrideWidth - g.PadLeft;
                    int wEnd = Math.Min(wStart + g.KernelWidth, g.InWidth);
                    wStart = Math.Max(wStart, 0);
                    int count = g.CountIncludePad ? g.KernelHeight * g.KernelWidth : Math.Max(0, hEnd - hStart) * Math.Max(0, wEnd - wStart);
                    var countVector = Vector128.Create((float)count);
                    int outBase = ((n * g.OutHeight + oh) * g.OutWidth + ow) * channels;
                    int c = 0;
                    for (; c <= channels - 16; c += 16)
                    {
                        Vector128<float> s0 = default, s1 = default, s2 = default, s3 = default;
                        for (int h = hStart; h < hEnd; h++)
                            for (int w = wStart; w < wEnd; w++)
                            {
                                int index = ((n * g.InHeight + h) * g.InWidth + w) * channels + c;
                                var (lo, hi) = Vector128.Widen(Vector128.LoadUnsafe(ref rx, (nuint)index) ^ flip);
                                var (a, b) = Vector128.Widen(lo);
                                var (d, e) = Vector128.Widen(hi);
                                s0 += scale * Vector128.ConvertToSingle(a.AsInt32() - zp);
                                s1 += scale * Vector128.ConvertToSingle(b.AsInt32() - zp);
                                s2 += scale * Vector128.ConvertToSingle(d.AsInt32() - zp);
                                s3 += scale * Vector128.ConvertToSingle(e.AsInt32() - zp);
                            }
                        var q0 = Finish(s0, countVector, yScaleVector, zeroPointVector, low, high);
                        var q1 = Finish(s1, countVector, yScaleVector, zeroPointVector, low, high);
                        var q2 = Finish(s2, countVector, yScaleVector, zeroPointVector, low, high);
                        var q3 = Finish(s3, countVector, yScaleVector, zeroPointVector, low, high);
                        Vector128.Narrow(Vector128.Narrow(q0, q1), Vector128.Narrow(q2, q3)).AsByte().StoreUnsafe(ref ry, (nuint)(outBase + c));
                    }
                    for (; c < channels; c++)
                    {
                        float sum = 0f;
                        for (int h = hStart; h < hEnd; h++)
                            for (int w = wStart; w < wEnd; w++)
                                sum += xScale * (QuantizedByte.Value(x[((n * g.InHeight + h) * g.InWidth + w) * channels + c], signed) - xZeroPoint);
                        float average = sum / count;
                        y[outBase + c] = (byte)Requantization.RoundAndClamp(average / yScale + yZeroPoint, 0, min, max);
                    }
                }
            }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> Finish(Vector128<float> sum, Vector128<float> count, Vector128<float> yScale, Vector128<float> zeroPoint,
        Vector128<float> low, Vector128<float> high)
    {
        var scaled = sum / count / yScale + zeroPoint;
        scaled = Vector128.ConditionalSelect(Vector128.Equals(scaled, scaled), scaled, Vector128<float>.Zero);
        scaled = Vector128.Min(Vector128.Max(scaled, low), high);
        return Vector128.ConvertToInt32(Vector128.Round(scaled));
    }

    /// <summary>
    /// The reference's float steps on 4 window sums: ÷ count, ÷ output scale, + zero point, NaN → 0, clamp to
    /// [low, high], round half to even.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> Quantize(Vector128<float> sum, Vector128<float> count, Vector128<float> yScale, Vector128<float> zeroPoint,
        Vector128<float> low, Vector128<float> high)
    {
        var scaled = sum / count / yScale + zeroPoint;
        scaled = Vector128.ConditionalSelect(Vector128.Equals(scaled, scaled), scaled, Vector128<float>.Zero); // NaN → 0
        scaled = Vector128.Min(Vector128.Max(scaled, low), high);
        return Vector128.ConvertToInt32(Vector128.Round(scaled));
    }

    /// <summary>The low byte of each of the 4 lanes into <paramref name="destination"/>[0..3].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreFour(Vector128<int> q, Span<byte> destination)
    {
        destination[3] = (byte)q[3];
        destination[0] = (byte)q[0];
        destination[1] = (byte)q[1];
        destination[2] = (byte)q[2];
    }
}
