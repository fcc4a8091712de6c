using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
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
/// <item>NCHW whole-plane windows (one output per plane whose window is the whole input plane: MobileNet's final 7×7
/// average): on ARM64 four planes side by side, one per lane (see <see cref="RunWholePlanes{T}"/>); on the AVX2 paths
/// eight planes per 256-bit vector, two vectors at a time (see <see cref="RunWholePlanesAvx2{T}"/>).</item>
/// </list>
/// </summary>
public static class QLinearAveragePool
{
    /// <summary>Widest kernel the vector path handles (its column table lives on the stack); wider pools use the reference.</summary>
    private const int MaxVectorKernelWidth = 256;

    /// <summary>Floats of scratch <see cref="Run"/> needs for <paramref name="g"/> (0 for channels-last).</summary>
    public static int ScratchLength(in QLinearPoolGeometry g) =>
        g.ChannelsLast ? 0 : Math.Max(g.InHeight * g.StrideWidth * PhaseLength(g), IsWholePlane(g) ? 8 * g.InHeight * g.InWidth : 0);

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
        else if (isa is IsaPath.Avx2 or IsaPath.AvxVnni or IsaPath.Avx512Vnni && Avx2.IsSupported && IsWholePlane(g))
        {
            if (signed) RunWholePlanesAvx2<sbyte>(g, x, xScale, xZeroPoint, yScale, yZeroPoint, y, scratch[..ScratchLength(g)]);
            else RunWholePlanesAvx2<byte>(g, x, xScale, xZeroPoint, yScale, yZeroPoint, y, scratch[..ScratchLength(g)]);
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
    /// Whole-plane windows on the AVX2 paths; <typeparamref name="T"/> is <see cref="byte"/> (uint8) or <see cref="sbyte"/>
    /// (int8). As in <see cref="RunWholePlanes{T}"/>, each output is the reference's sequential float sum of its plane's
    /// terms <c>xScale·(float)(x − xZeroPoint)</c> in memory order, which no reassociation may change, so planes go side
    /// by side, one per lane: eight per 256-bit vector, and four vectors (32 planes) per step so that four independent
    /// add chains hide the add latency (two chains measured ~7% slower on Zen 3, one chain about twice as slow).
    /// Layout of <paramref name="scratch"/>, viewed as bytes: four regions of 8·plane bytes, region q holding group q of
    /// the step transposed, <c>bytes[8·plane·q + 8·i + j] = x[plane 8q + j of the step, element i]</c>
    /// (see <see cref="TransposePlanes"/>). The sum then widens the eight bytes of each element to int32
    /// (VPMOVZXBD / VPMOVSXBD), subtracts the zero point in int32 (exact for any int zero point), converts to float,
    /// multiplies by the scale and adds, element by element; the rest of the reference's steps (<c>/ count</c>,
    /// <c>/ yScale</c>, <c>+ yZeroPoint</c>, NaN → 0, clamp, round half to even) run per lane. Groups of eight planes
    /// left over after the steps of 32 run one chain at a time; the last 1–7 planes use <see cref="ScalarOutput"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void RunWholePlanesAvx2<T>(in QLinearPoolGeometry g, ReadOnlySpan<byte> x, float xScale, int xZeroPoint,
        float yScale, int yZeroPoint, Span<byte> y, Span<float> scratch) where T : unmanaged
    {
        bool signed = typeof(T) == typeof(sbyte);
        int min = Requantization.MinOf(signed), max = Requantization.MaxOf(signed);
        int inPlane = g.InHeight * g.InWidth, planes = g.Batch * g.Channels;
        int count = g.CountIncludePad ? g.KernelHeight * g.KernelWidth : inPlane;
        var countVector = Vector256.Create((float)count);
        var yScaleVector = Vector256.Create(yScale);
        var zeroPointVector = Vector256.Create((float)yZeroPoint);
        var low = Vector256.Create((float)min);
        var high = Vector256.Create((float)max);
        var scale = Vector256.Create(xScale);
        var zp = Vector256.Create(xZeroPoint);
        x = x[..(planes * inPlane)]; // checked once: the loops below read through pointers
        y = y[..planes];
        var bytes = MemoryMarshal.AsBytes(scratch)[..(32 * inPlane)];
        int plane = 0;
        fixed (byte* px = x)
        fixed (byte* py = y)
        fixed (byte* t0 = bytes)
        {
            byte* t1 = t0 + 8 * inPlane, t2 = t0 + 16 * inPlane, t3 = t0 + 24 * inPlane;
            for (; plane <= planes - 32; plane += 32)
            {
                TransposePlanes(px + plane * inPlane, inPlane, t0);
                TransposePlanes(px + (plane + 8) * inPlane, inPlane, t1);
                TransposePlanes(px + (plane + 16) * inPlane, inPlane, t2);
                TransposePlanes(px + (plane + 24) * inPlane, inPlane, t3);
                Vector256<float> sum0 = default, sum1 = default, sum2 = default, sum3 = default;
                for (int e = 0; e < 8 * inPlane; e += 8) // element by element, in memory order
                {
                    sum0 += Terms<T>(t0 + e, zp, scale);
                    sum1 += Terms<T>(t1 + e, zp, scale);
                    sum2 += Terms<T>(t2 + e, zp, scale);
                    sum3 += Terms<T>(t3 + e, zp, scale);
                }
                StoreEight(Quantize(sum0, countVector, yScaleVector, zeroPointVector, low, high), py + plane);
                StoreEight(Quantize(sum1, countVector, yScaleVector, zeroPointVector, low, high), py + plane + 8);
                StoreEight(Quantize(sum2, countVector, yScaleVector, zeroPointVector, low, high), py + plane + 16);
                StoreEight(Quantize(sum3, countVector, yScaleVector, zeroPointVector, low, high), py + plane + 24);
            }
            for (; plane <= planes - 8; plane += 8)
            {
                TransposePlanes(px + plane * inPlane, inPlane, t0);
                var sum = Vector256<float>.Zero;
                for (int e = 0; e < 8 * inPlane; e += 8) sum += Terms<T>(t0 + e, zp, scale);
                StoreEight(Quantize(sum, countVector, yScaleVector, zeroPointVector, low, high), py + plane);
            }
        }
        for (; plane < planes; plane++)
            y[plane] = ScalarOutput(g, x.Slice(plane * inPlane, inPlane), signed, xScale, xZeroPoint, yScale, yZeroPoint, 0, g.InHeight, 0, min, max);
    }

    /// <summary>
    /// The terms <c>scale·(float)(v − zeroPoint)</c> of the eight bytes at <paramref name="p"/>, read as
    /// <typeparamref name="T"/> (uint8 or int8) and widened to int32 so that any int zero point subtracts exactly.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector256<float> Terms<T>(byte* p, Vector256<int> zeroPoint, Vector256<float> scale)
    {
        var values = typeof(T) == typeof(sbyte) ? Avx2.ConvertToVector256Int32((sbyte*)p) : Avx2.ConvertToVector256Int32(p).AsInt32();
        return scale * Avx.ConvertToVector256Single(Avx2.Subtract(values, zeroPoint));
    }

    /// <summary>
    /// Transposes eight planes of <paramref name="inPlane"/> bytes (plane j at <c>source + j·inPlane</c>) into
    /// <c>destination[8·i + j]</c> = element i of plane j (see <see cref="RunWholePlanesAvx2{T}"/>): blocks of 32
    /// elements, then one more block ending at the plane's end (overlapping the previous one and rewriting its bytes with
    /// the same values) so that nothing past the planes is read; planes of 16–31 elements go the same way by blocks of
    /// 16, and smaller ones byte by byte.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void TransposePlanes(byte* source, int inPlane, byte* destination)
    {
        if (inPlane >= 32)
        {
            for (int i = 0; i < inPlane - 32; i += 32) TransposeBlock32(source + i, inPlane, destination + 8 * i);
            TransposeBlock32(source + inPlane - 32, inPlane, destination + 8 * (inPlane - 32));
        }
        else if (inPlane >= 16)
        {
            TransposeBlock16(source, inPlane, destination);
            TransposeBlock16(source + inPlane - 16, inPlane, destination + 8 * (inPlane - 16));
        }
        else
        {
            for (int i = 0; i < inPlane; i++)
                for (int j = 0; j < 8; j++)
                    destination[8 * i + j] = source[j * inPlane + i];
        }
    }

    /// <summary>
    /// Sixteen consecutive bytes of eight rows (row j at <c>source + j·stride</c>) stored as sixteen 8-byte columns:
    /// <c>destination[8·e + j] = source[j·stride + e]</c>. Unpacking bytes of row pairs, then words of pair pairs, then
    /// dwords of the two halves leaves elements 2i and 2i + 1 of all eight rows in vector i.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void TransposeBlock16(byte* source, int stride, byte* destination)
    {
        var r0 = Sse2.LoadVector128(source);
        var r1 = Sse2.LoadVector128(source + stride);
        var r2 = Sse2.LoadVector128(source + 2 * stride);
        var r3 = Sse2.LoadVector128(source + 3 * stride);
        var r4 = Sse2.LoadVector128(source + 4 * stride);
        var r5 = Sse2.LoadVector128(source + 5 * stride);
        var r6 = Sse2.LoadVector128(source + 6 * stride);
        var r7 = Sse2.LoadVector128(source + 7 * stride);
        // a: rows (0,1) (2,3) (4,5) (6,7) interleaved by byte, elements 0–7 (low) and 8–15 (high).
        var a0 = Sse2.UnpackLow(r0, r1).AsInt16();
        var a1 = Sse2.UnpackHigh(r0, r1).AsInt16();
        var a2 = Sse2.UnpackLow(r2, r3).AsInt16();
        var a3 = Sse2.UnpackHigh(r2, r3).AsInt16();
        var a4 = Sse2.UnpackLow(r4, r5).AsInt16();
        var a5 = Sse2.UnpackHigh(r4, r5).AsInt16();
        var a6 = Sse2.UnpackLow(r6, r7).AsInt16();
        var a7 = Sse2.UnpackHigh(r6, r7).AsInt16();
        // b: rows 0–3 (b0–b3) and 4–7 (b4–b7) of elements 0–3, 4–7, 8–11, 12–15, four bytes per element.
        var b0 = Sse2.UnpackLow(a0, a2).AsInt32();
        var b1 = Sse2.UnpackHigh(a0, a2).AsInt32();
        var b2 = Sse2.UnpackLow(a1, a3).AsInt32();
        var b3 = Sse2.UnpackHigh(a1, a3).AsInt32();
        var b4 = Sse2.UnpackLow(a4, a6).AsInt32();
        var b5 = Sse2.UnpackHigh(a4, a6).AsInt32();
        var b6 = Sse2.UnpackLow(a5, a7).AsInt32();
        var b7 = Sse2.UnpackHigh(a5, a7).AsInt32();
        Sse2.Store(destination, Sse2.UnpackLow(b0, b4).AsByte());
        Sse2.Store(destination + 16, Sse2.UnpackHigh(b0, b4).AsByte());
        Sse2.Store(destination + 32, Sse2.UnpackLow(b1, b5).AsByte());
        Sse2.Store(destination + 48, Sse2.UnpackHigh(b1, b5).AsByte());
        Sse2.Store(destination + 64, Sse2.UnpackLow(b2, b6).AsByte());
        Sse2.Store(destination + 80, Sse2.UnpackHigh(b2, b6).AsByte());
        Sse2.Store(destination + 96, Sse2.UnpackLow(b3, b7).AsByte());
        Sse2.Store(destination + 112, Sse2.UnpackHigh(b3, b7).AsByte());
    }

    /// <summary>
    /// <see cref="TransposeBlock16"/> on 32 consecutive bytes per row with 256-bit unpacks, which work within each
    /// 128-bit half: the low halves of the results are elements 0–15 as there and the high halves elements 16–31, stored
    /// 128 bytes further on.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void TransposeBlock32(byte* source, int stride, byte* destination)
    {
        var r0 = Avx.LoadVector256(source);
        var r1 = Avx.LoadVector256(source + stride);
        var r2 = Avx.LoadVector256(source + 2 * stride);
        var r3 = Avx.LoadVector256(source + 3 * stride);
        var r4 = Avx.LoadVector256(source + 4 * stride);
        var r5 = Avx.LoadVector256(source + 5 * stride);
        var r6 = Avx.LoadVector256(source + 6 * stride);
        var r7 = Avx.LoadVector256(source + 7 * stride);
        var a0 = Avx2.UnpackLow(r0, r1).AsInt16();
        var a1 = Avx2.UnpackHigh(r0, r1).AsInt16();
        var a2 = Avx2.UnpackLow(r2, r3).AsInt16();
        var a3 = Avx2.UnpackHigh(r2, r3).AsInt16();
        var a4 = Avx2.UnpackLow(r4, r5).AsInt16();
        var a5 = Avx2.UnpackHigh(r4, r5).AsInt16();
        var a6 = Avx2.UnpackLow(r6, r7).AsInt16();
        var a7 = Avx2.UnpackHigh(r6, r7).AsInt16();
        var b0 = Avx2.UnpackLow(a0, a2).AsInt32();
        var b1 = Avx2.UnpackHigh(a0, a2).AsInt32();
        var b2 = Avx2.UnpackLow(a1, a3).AsInt32();
        var b3 = Avx2.UnpackHigh(a1, a3).AsInt32();
        var b4 = Avx2.UnpackLow(a4, a6).AsInt32();
        var b5 = Avx2.UnpackHigh(a4, a6).AsInt32();
        var b6 = Avx2.UnpackLow(a5, a7).AsInt32();
        var b7 = Avx2.UnpackHigh(a5, a7).AsInt32();
        StoreHalves(Avx2.UnpackLow(b0, b4), destination);
        StoreHalves(Avx2.UnpackHigh(b0, b4), destination + 16);
        StoreHalves(Avx2.UnpackLow(b1, b5), destination + 32);
        StoreHalves(Avx2.UnpackHigh(b1, b5), destination + 48);
        StoreHalves(Avx2.UnpackLow(b2, b6), destination + 64);
        StoreHalves(Avx2.UnpackHigh(b2, b6), destination + 80);
        StoreHalves(Avx2.UnpackLow(b3, b7), destination + 96);
        StoreHalves(Avx2.UnpackHigh(b3, b7), destination + 112);
    }

    /// <summary>The low 128 bits of <paramref name="v"/> to <paramref name="destination"/>, the high ones 128 bytes further on.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void StoreHalves(Vector256<int> v, byte* destination)
    {
        Sse2.Store(destination, v.GetLower().AsByte());
        Sse2.Store(destination + 128, Avx.ExtractVector128(v, 1).AsByte());
    }

    /// <summary>
    /// The reference's float steps on 8 window sums: ÷ count, ÷ output scale, + zero point, NaN → 0, clamp to
    /// [low, high], round half to even.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Quantize(Vector256<float> sum, Vector256<float> count, Vector256<float> yScale, Vector256<float> zeroPoint,
        Vector256<float> low, Vector256<float> high)
    {
        var scaled = sum / count / yScale + zeroPoint;
        scaled = Vector256.ConditionalSelect(Vector256.Equals(scaled, scaled), scaled, Vector256<float>.Zero); // NaN → 0
        scaled = Vector256.Min(Vector256.Max(scaled, low), high);
        return Vector256.ConvertToInt32(Vector256.Round(scaled));
    }

    /// <summary>The low byte of each of the 8 lanes (values of the 8-bit type, so truncation is exact) to <paramref name="destination"/>[0..7].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void StoreEight(Vector256<int> q, byte* destination)
    {
        var words = Vector128.Narrow(q.GetLower(), q.GetUpper());
        *(ulong*)destination = Vector128.Narrow(words, words).AsUInt64().ToScalar();
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
                        var q0 = Quantize(s0, countVector, yScaleVector, zeroPointVector, low, high);
                        var q1 = Quantize(s1, countVector, yScaleVector, zeroPointVector, low, high);
                        var q2 = Quantize(s2, countVector, yScaleVector, zeroPointVector, low, high);
                        var q3 = Quantize(s3, countVector, yScaleVector, zeroPointVector, low, high);
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
