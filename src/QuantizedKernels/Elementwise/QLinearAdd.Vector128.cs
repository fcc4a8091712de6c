using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using EdgeRuntime.Kernels.Common;

namespace EdgeRuntime.Kernels.Elementwise;

/// <summary>
/// QLinearAdd dispatched by instruction-set path. Every non-scalar path runs the portable <see cref="Vector128{T}"/>
/// code below (it compiles to SSE/AVX on x86 and AdvSimd on ARM): the same float32 operations as
/// <see cref="QLinearAddReference.Compute"/> in the same order — widen, subtract the zero point, multiply by the
/// scale, add, divide by the output scale, clamp in float (NaN → 0), round half to even, add the zero point — so the
/// result is bit-exact with the reference. Rows where an input is broadcast along the row use the reference. On the AVX2
/// paths, same-shape tensors (residual additions) run those operations on 256-bit vectors. On ARM64, <see cref="RowNeon"/>
/// runs the same float32 arithmetic with fewer instructions around it (see there).
/// </summary>
public static class QLinearAdd
{
    /// <summary>Broadcasting add over whole tensors with the code of <paramref name="isa"/>.</summary>
    public static void Run(IsaPath isa, QuantizedBroadcast plan, ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, Span<byte> c, in QLinearBinaryParameters p)
    {
        if (isa == IsaPath.Scalar || !Vector128.IsHardwareAccelerated || plan.InnerStrideA != 1 || plan.InnerStrideB != 1)
        {
            QLinearAddReference.Run(plan, a, b, c, p);
            return;
        }
        if (a.Length == plan.OutputCount && b.Length == plan.OutputCount)
        {
            // Same shapes (residual connections): the rows are consecutive, so run the whole tensor as one row.
            int n = plan.OutputCount, done = 0;
            if (isa is IsaPath.Avx2 or IsaPath.AvxVnni or IsaPath.Avx512Vnni && Vector256.IsHardwareAccelerated)
                done = Row256(a[..n], b[..n], c[..n], p); // 32 at a time with 256-bit vectors, the same operations
            else if (AdvSimd.Arm64.IsSupported && NeonApplies(p))
                done = p.Signed ? RowNeon<sbyte>(a[..n], b[..n], c[..n], p) : RowNeon<byte>(a[..n], b[..n], c[..n], p);
            Row(a[done..n], b[done..n], c[done..n], p);
            return;
        }
        int inner = plan.InnerLength;
        bool neon = AdvSimd.Arm64.IsSupported && NeonApplies(p);
        for (int r = 0; r < plan.RowOffsetsA.Length; r++)
        {
            var ra = a.Slice(plan.RowOffsetsA[r], inner);
            var rb = b.Slice(plan.RowOffsetsB[r], inner);
            var rc = c.Slice(r * inner, inner);
            int done = !neon ? 0 : p.Signed ? RowNeon<sbyte>(ra, rb, rc, p) : RowNeon<byte>(ra, rb, rc, p);
            Row(ra[done..], rb[done..], rc[done..], p);
        }
    }

    /// <summary>
    /// Whether <see cref="RowNeon{T}"/> may run: the zero points must be values of the 8-bit type (ONNX requires it; the
    /// reference accepts any int) because it subtracts them from the bytes in 8-bit lanes.
    /// </summary>
    private static bool NeonApplies(in QLinearBinaryParameters p)
    {
        int min = Requantization.MinOf(p.Signed), max = Requantization.MaxOf(p.Signed);
        return p.ZeroPointA >= min && p.ZeroPointA <= max && p.ZeroPointB >= min && p.ZeroPointB <= max
            && p.ZeroPointC >= min && p.ZeroPointC <= max;
    }

    /// <summary>
    /// ARM64 row, 32 elements per step (then one step of 16); <typeparamref name="T"/> is <see cref="byte"/> (uint8) or <see cref="sbyte"/> (int8).
    /// The float32 steps are the reference's — <c>ScaleA·(float)(a − zpA) + ScaleB·(float)(b − zpB)</c>, divided by
    /// <c>ScaleC</c> — and only the integer steps around them are shortened, each exactly:
    /// <list type="bullet">
    /// <item><c>a − zpA</c> is formed by one widening subtract of bytes (USUBL/SSUBL; the difference, within ±255, fits
    /// the 16-bit lane as a signed value) and then sign-extended to 32 bits.</item>
    /// <item>Clamp, round and zero point: FCVTNS rounds half to even straight to int32 (NaN → 0, saturating beyond the
    /// int32 range), then saturating narrows to 16 bits, a saturating add of <c>zpC</c>, and a saturating narrow to the
    /// 8-bit type. Because the clamp bounds <c>min − zpC</c> and <c>max − zpC</c> are integers and rounding is
    /// monotonic, clamping the rounded value equals rounding the clamped one, and a NaN quotient gives <c>zpC</c> as the
    /// reference's NaN → 0 does; values saturated at ±32767 stay beyond the 8-bit range after adding <c>zpC</c>.</item>
    /// </list>
    /// Returns the elements done (a multiple of 16); the caller finishes the rest.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int RowNeon<T>(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, Span<byte> c, in QLinearBinaryParameters p)
        where T : unmanaged
    {
        var zpA = Vector128.Create((byte)p.ZeroPointA);
        var zpB = Vector128.Create((byte)p.ZeroPointB);
        var zpA64 = Vector64.Create((byte)p.ZeroPointA); // separate 64-bit copies: GetLower in the loop would copy a register
        var zpB64 = Vector64.Create((byte)p.ZeroPointB);
        var zpC = Vector128.Create((short)p.ZeroPointC);
        var scaleA = Vector128.Create(p.ScaleA);
        var scaleB = Vector128.Create(p.ScaleB);
        var scaleC = Vector128.Create(p.ScaleC);
        ref byte ra = ref MemoryMarshal.GetReference(a);
        ref byte rb = ref MemoryMarshal.GetReference(b);
        ref byte rc = ref MemoryMarshal.GetReference(c);
        int i = 0;
        for (; i <= c.Length - 32; i += 32) // two blocks per step: half the loop overhead
        {
            BlockNeon<T>(ref ra, ref rb, ref rc, i, zpA, zpB, zpA64, zpB64, zpC, scaleA, scaleB, scaleC);
            BlockNeon<T>(ref ra, ref rb, ref rc, i + 16, zpA, zpB, zpA64, zpB64, zpC, scaleA, scaleB, scaleC);
        }
        if (i <= c.Length - 16)
        {
            BlockNeon<T>(ref ra, ref rb, ref rc, i, zpA, zpB, zpA64, zpB64, zpC, scaleA, scaleB, scaleC);
            i += 16;
        }
        return i;
    }

    /// <summary>Sixteen elements of <see cref="RowNeon{T}"/> at <paramref name="i"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void BlockNeon<T>(ref byte ra, ref byte rb, ref byte rc, int i, Vector128<byte> zpA, Vector128<byte> zpB,
        Vector64<byte> zpA64, Vector64<byte> zpB64, Vector128<short> zpC, Vector128<float> scaleA, Vector128<float> scaleB,
        Vector128<float> scaleC)
    {
        var va = Vector128.LoadUnsafe(ref ra, (nuint)i);
        var vb = Vector128.LoadUnsafe(ref rb, (nuint)i);
        var (a0, a1) = Difference<T>(va, zpA, zpA64);
        var (b0, b1) = Difference<T>(vb, zpB, zpB64);
        var q1 = QuadNeon(a0, b0, true, scaleA, scaleB, scaleC); // upper halves first (see Difference)
        var q0 = QuadNeon(a0, b0, false, scaleA, scaleB, scaleC);
        var q3 = QuadNeon(a1, b1, true, scaleA, scaleB, scaleC);
        var q2 = QuadNeon(a1, b1, false, scaleA, scaleB, scaleC);
        var s0 = AdvSimd.AddSaturate(AdvSimd.ExtractNarrowingSaturateUpper(AdvSimd.ExtractNarrowingSaturateLower(q0), q1), zpC);
        var s1 = AdvSimd.AddSaturate(AdvSimd.ExtractNarrowingSaturateUpper(AdvSimd.ExtractNarrowingSaturateLower(q2), q3), zpC);
        Vector128<byte> packed = typeof(T) == typeof(sbyte)
            ? AdvSimd.ExtractNarrowingSaturateUpper(AdvSimd.ExtractNarrowingSaturateLower(s0), s1).AsByte()
            : AdvSimd.ExtractNarrowingSaturateUnsignedUpper(AdvSimd.ExtractNarrowingSaturateUnsignedLower(s0), s1);
        packed.StoreUnsafe(ref rc, (nuint)i);
    }

    /// <summary><c>v − zeroPoint</c> of 16 bytes as two vectors of eight int16 (low and high halves); <paramref name="zeroPoint64"/> is the low half of <paramref name="zeroPoint"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector128<short> Low, Vector128<short> High) Difference<T>(Vector128<byte> v, Vector128<byte> zeroPoint,
        Vector64<byte> zeroPoint64)
    {
        // The upper half first: GetLower of a vector still live afterwards costs a register copy.
        if (typeof(T) == typeof(sbyte))
        {
            var high = AdvSimd.SubtractWideningUpper(v.AsSByte(), zeroPoint.AsSByte());
            return (AdvSimd.SubtractWideningLower(v.AsSByte().GetLower(), zeroPoint64.AsSByte()), high);
        }
        var upper = AdvSimd.SubtractWideningUpper(v, zeroPoint).AsInt16();
        return (AdvSimd.SubtractWideningLower(v.GetLower(), zeroPoint64).AsInt16(), upper);
    }

    /// <summary>FCVTNS((ScaleA·a + ScaleB·b) / ScaleC) of four lanes (the low or high half of the int16 differences).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> QuadNeon(Vector128<short> a, Vector128<short> b, bool upper,
        Vector128<float> scaleA, Vector128<float> scaleB, Vector128<float> scaleC)
    {
        var wa = upper ? AdvSimd.SignExtendWideningUpper(a) : AdvSimd.SignExtendWideningLower(a.GetLower());
        var wb = upper ? AdvSimd.SignExtendWideningUpper(b) : AdvSimd.SignExtendWideningLower(b.GetLower());
        var fa = scaleA * AdvSimd.ConvertToSingle(wa);
        var fb = scaleB * AdvSimd.ConvertToSingle(wb);
        return AdvSimd.ConvertToInt32RoundToEven((fa + fb) / scaleC);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Row(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, Span<byte> c, in QLinearBinaryParameters p)
    {
        int min = Requantization.MinOf(p.Signed), max = Requantization.MaxOf(p.Signed);
        var flip = Vector128.Create((byte)QuantizedByte.FlipMask(p.Signed)); // signed bytes → unsigned order for widening
        int offset = QuantizedByte.Offset(p.Signed);
        var zpA = Vector128.Create(p.ZeroPointA + offset);
        var zpB = Vector128.Create(p.ZeroPointB + offset);
        var scaleA = Vector128.Create(p.ScaleA);
        var scaleB = Vector128.Create(p.ScaleB);
        var scaleC = Vector128.Create(p.ScaleC);
        var low = Vector128.Create((float)(min - p.ZeroPointC));
        var high = Vector128.Create((float)(max - p.ZeroPointC));
        var zpC = Vector128.Create(p.ZeroPointC);
        ref byte ra = ref MemoryMarshal.GetReference(a);
        ref byte rb = ref MemoryMarshal.GetReference(b);
        ref byte rc = ref MemoryMarshal.GetReference(c);
        int i = 0;
        for (; i <= c.Length - 16; i += 16)
        {
            var va = Vector128.LoadUnsafe(ref ra, (nuint)i) ^ flip;
            var vb = Vector128.LoadUnsafe(ref rb, (nuint)i) ^ flip;
            var (a0, a1) = Vector128.Widen(va);
            var (b0, b1) = Vector128.Widen(vb);
            var (a00, a01) = Vector128.Widen(a0);
            var (a10, a11) = Vector128.Widen(a1);
            var (b00, b01) = Vector128.Widen(b0);
            var (b10, b11) = Vector128.Widen(b1);
            var q0 = Quad(a00.AsInt32(), b00.AsInt32(), zpA, zpB, scaleA, scaleB, scaleC, low, high, zpC);
            var q1 = Quad(a01.AsInt32(), b01.AsInt32(), zpA, zpB, scaleA, scaleB, scaleC, low, high, zpC);
            var q2 = Quad(a10.AsInt32(), b10.AsInt32(), zpA, zpB, scaleA, scaleB, scaleC, low, high, zpC);
            var q3 = Quad(a11.AsInt32(), b11.AsInt32(), zpA, zpB, scaleA, scaleB, scaleC, low, high, zpC);
            // Values are within [min, max] of the 8-bit type, so truncating narrows are exact (two's complement for int8).
            var lo = Vector128.Narrow(q0, q1);
            var hi = Vector128.Narrow(q2, q3);
            Vector128.Narrow(lo, hi).AsByte().StoreUnsafe(ref rc, (nuint)i);
        }
        for (; i < c.Length; i++) c[i] = QLinearAddReference.Compute(a[i], b[i], p);
    }

    /// <summary>
    /// <see cref="Row"/> with <see cref="Vector256{T}"/>: the same float32 operations on 8 lanes, 32 elements per step.
    /// Returns how many leading elements it computed (a multiple of 32); the caller finishes the rest.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Row256(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, Span<byte> c, in QLinearBinaryParameters p)
    {
        int min = Requantization.MinOf(p.Signed), max = Requantization.MaxOf(p.Signed);
        var flip = Vector256.Create((byte)QuantizedByte.FlipMask(p.Signed)); // signed bytes → unsigned order for widening
        int offset = QuantizedByte.Offset(p.Signed);
        var zpA = Vector256.Create(p.ZeroPointA + offset);
        var zpB = Vector256.Create(p.ZeroPointB + offset);
        var scaleA = Vector256.Create(p.ScaleA);
        var scaleB = Vector256.Create(p.ScaleB);
        var scaleC = Vector256.Create(p.ScaleC);
        var low = Vector256.Create((float)(min - p.ZeroPointC));
        var high = Vector256.Create((float)(max - p.ZeroPointC));
        var zpC = Vector256.Create(p.ZeroPointC);
        ref byte ra = ref MemoryMarshal.GetReference(a);
        ref byte rb = ref MemoryMarshal.GetReference(b);
        ref byte rc = ref MemoryMarshal.GetReference(c);
        int i = 0;
        for (; i <= c.Length - 32; i += 32)
        {
            var (a0, a1) = Vector256.Widen(Vector256.LoadUnsafe(ref ra, (nuint)i) ^ flip);
            var (b0, b1) = Vector256.Widen(Vector256.LoadUnsafe(ref rb, (nuint)i) ^ flip);
            var (a00, a01) = Vector256.Widen(a0);
            var (a10, a11) = Vector256.Widen(a1);
            var (b00, b01) = Vector256.Widen(b0);
            var (b10, b11) = Vector256.Widen(b1);
            var q0 = Octet(a00.AsInt32(), b00.AsInt32(), zpA, zpB, scaleA, scaleB, scaleC, low, high, zpC);
            var q1 = Octet(a01.AsInt32(), b01.AsInt32(), zpA, zpB, scaleA, scaleB, scaleC, low, high, zpC);
            var q2 = Octet(a10.AsInt32(), b10.AsInt32(), zpA, zpB, scaleA, scaleB, scaleC, low, high, zpC);
            var q3 = Octet(a11.AsInt32(), b11.AsInt32(), zpA, zpB, scaleA, scaleB, scaleC, low, high, zpC);
            Vector256.Narrow(Vector256.Narrow(q0, q1), Vector256.Narrow(q2, q3)).AsByte().StoreUnsafe(ref rc, (nuint)i);
        }
        return i;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Octet(Vector256<int> a, Vector256<int> b, Vector256<int> zpA, Vector256<int> zpB,
        Vector256<float> scaleA, Vector256<float> scaleB, Vector256<float> scaleC, Vector256<float> low, Vector256<float> high, Vector256<int> zpC)
    {
        var fa = scaleA * Vector256.ConvertToSingle(a - zpA);
        var fb = scaleB * Vector256.ConvertToSingle(b - zpB);
        var scaled = (fa + fb) / scaleC;
        scaled = Vector256.ConditionalSelect(Vector256.Equals(scaled, scaled), scaled, Vector256<float>.Zero); // NaN → 0
        scaled = Vector256.Min(Vector256.Max(scaled, low), high);
        return Vector256.ConvertToInt32(Vector256.Round(scaled)) + zpC;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> Quad(Vector128<int> a, Vector128<int> b, Vector128<int> zpA, Vector128<int> zpB,
        Vector128<float> scaleA, Vector128<float> scaleB, Vector128<float> scaleC, Vector128<float> low, Vector128<float> high, Vector128<int> zpC)
    {
        var fa = scaleA * Vector128.ConvertToSingle(a - zpA);
        var fb = scaleB * Vector128.ConvertToSingle(b - zpB);
        var scaled = (fa + fb) / scaleC;
        scaled = Vector128.ConditionalSelect(Vector128.Equals(scaled, scaled), scaled, Vector128<float>.Zero); // NaN → 0
        scaled = Vector128.Min(Vector128.Max(scaled, low), high);
        return Vector128.ConvertToInt32(Vector128.Round(scaled)) + zpC;
    }
}
