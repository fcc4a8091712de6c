using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
using EdgeRuntime.Kernels.Common;

namespace EdgeRuntime.Kernels.Elementwise;

/// <summary>
/// QLinearAdd dispatched by instruction-set path. Every non-scalar path runs the portable <see cref="Vector128{T}"/>
/// code below (it compiles to SSE/AVX on x86 and AdvSimd on ARM): the same float32 operations as
/// <see cref="QLinearAddReference.Compute"/> in the same order — widen, subtract the zero point, multiply by the
/// scale, add, divide by the output scale, clamp in float (NaN → 0), round half to even, add the zero point — so the
/// result is bit-exact with the reference. Rows where an input is broadcast along the row use the reference. On the AVX2
/// paths, each row (a whole same-shape tensor, as in residual additions, is one row) first runs the same float32
/// arithmetic on 256-bit vectors with fewer instructions around it (<see cref="RowAvx2{T, TQuotient}"/>), as
/// <see cref="RowNeon"/> does on ARM64 (see there); the portable code finishes its tail.
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
        var fast = FastRowFor(isa, p);
        if (a.Length == plan.OutputCount && b.Length == plan.OutputCount)
        {
            // Same shapes (residual connections): the rows are consecutive, so run the whole tensor as one row.
            int n = plan.OutputCount;
            int done = FastRow(fast, a[..n], b[..n], c[..n], p);
            Row(a[done..n], b[done..n], c[done..n], p);
            return;
        }
        int inner = plan.InnerLength;
        for (int r = 0; r < plan.RowOffsetsA.Length; r++)
        {
            var ra = a.Slice(plan.RowOffsetsA[r], inner);
            var rb = b.Slice(plan.RowOffsetsB[r], inner);
            var rc = c.Slice(r * inner, inner);
            int done = FastRow(fast, ra, rb, rc, p);
            Row(ra[done..], rb[done..], rc[done..], p);
        }
    }

    /// <summary>Which ISA-specific row runs ahead of the portable <see cref="Row"/> (chosen once per call).</summary>
    private enum FastRowKind { None, Avx2Signed, Avx2SignedMaybeNaN, Avx2Unsigned, Avx2UnsignedMaybeNaN, NeonSigned, NeonUnsigned }

    private static FastRowKind FastRowFor(IsaPath isa, in QLinearBinaryParameters p)
    {
        if (isa is IsaPath.Avx2 or IsaPath.AvxVnni or IsaPath.Avx512Vnni && Avx2.IsSupported && ZeroPointCApplies(p))
        {
            bool finite = QuotientsAreNeverNaN(p);
            return p.Signed ? finite ? FastRowKind.Avx2Signed : FastRowKind.Avx2SignedMaybeNaN
                            : finite ? FastRowKind.Avx2Unsigned : FastRowKind.Avx2UnsignedMaybeNaN;
        }
        if (AdvSimd.Arm64.IsSupported && NeonApplies(p)) return p.Signed ? FastRowKind.NeonSigned : FastRowKind.NeonUnsigned;
        return FastRowKind.None;
    }

    /// <summary>Runs the row of <paramref name="kind"/>; returns how many leading elements it computed (the rest is for <see cref="Row"/>).</summary>
    private static int FastRow(FastRowKind kind, ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, Span<byte> c, in QLinearBinaryParameters p) => kind switch
    {
        FastRowKind.Avx2Signed => RowAvx2<sbyte, NeverNaN>(a, b, c, p),
        FastRowKind.Avx2SignedMaybeNaN => RowAvx2<sbyte, MaybeNaN>(a, b, c, p),
        FastRowKind.Avx2Unsigned => RowAvx2<byte, NeverNaN>(a, b, c, p),
        FastRowKind.Avx2UnsignedMaybeNaN => RowAvx2<byte, MaybeNaN>(a, b, c, p),
        FastRowKind.NeonSigned => RowNeon<sbyte>(a, b, c, p),
        FastRowKind.NeonUnsigned => RowNeon<byte>(a, b, c, p),
        _ => 0,
    };

    /// <summary>
    /// Whether <see cref="RowAvx2{T, TQuotient}"/> may run: the output zero point must be a value of the 8-bit type (ONNX
    /// requires it; the reference accepts any int) for its saturating clamp.
    /// </summary>
    private static bool ZeroPointCApplies(in QLinearBinaryParameters p) =>
        p.ZeroPointC >= Requantization.MinOf(p.Signed) && p.ZeroPointC <= Requantization.MaxOf(p.Signed);

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
    /// AVX2 row, 32 elements per step; <typeparamref name="T"/> is <see cref="byte"/> (uint8) or <see cref="sbyte"/> (int8),
    /// <typeparamref name="TQuotient"/> says whether the quotients can be NaN (see <see cref="QuotientsAreNeverNaN"/>).
    /// The float32 steps are the reference's — <c>ScaleA·(float)(a − zpA) + ScaleB·(float)(b − zpB)</c>, divided by
    /// <c>ScaleC</c> — written with the x86 instructions themselves rather than the portable <see cref="Vector256"/>
    /// operations, whose IEEE min/max and saturating float → int conversion cost about four times the instructions; the
    /// integer steps around them are shortened, each exactly:
    /// <list type="bullet">
    /// <item>VPMOVZXBD / VPMOVSXBD widen eight bytes straight from memory, and the zero points subtract in int32 (exact for
    /// any int).</item>
    /// <item>VCVTPS2DQ rounds with MXCSR's mode, which .NET leaves at round-to-nearest-even.</item>
    /// <item>Clamp and zero point: the rounded quotients saturate to int16 (VPACKSSDW), <c>zpC</c> is added with
    /// saturation (VPADDSW) and the sums saturate to the 8-bit type (VPACKUSWB for uint8, VPACKSSWB for int8), which is
    /// the clamp to [min, max]. Because the reference's float clamp bounds <c>min − zpC</c> and <c>max − zpC</c> are
    /// integers and rounding is monotonic, clamping the rounded value equals rounding the clamped one; values saturated
    /// at ±32767 stay beyond [min, max] after adding <c>zpC</c>, a value of the 8-bit type (the caller checks; see
    /// <see cref="ZeroPointCApplies"/>). VCVTPS2DQ turns quotients beyond the int32 range into int.MinValue, right for
    /// large negative ones; large positive ones are first capped at 32767 (VMINPS).</item>
    /// <item>NaN quotients (degenerate scales only) would convert to int.MinValue instead of the reference's 0, so when
    /// they can occur they become 0 first (VCMPPS + VANDPS, placed before VMINPS, which returns its second operand for
    /// NaN).</item>
    /// </list>
    /// The packs work within 128-bit halves; one VPERMD puts the 4-byte groups back in element order. Returns how many
    /// leading elements it computed (a multiple of 32); the caller finishes the rest.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe int RowAvx2<T, TQuotient>(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, Span<byte> c, in QLinearBinaryParameters p)
        where T : unmanaged where TQuotient : struct, IQuotientKind
    {
        int n = c.Length & ~31;
        if (n == 0) return 0;
        a = a[..n]; // checked once: the loop reads through pointers
        b = b[..n];
        var zpA = Vector256.Create(p.ZeroPointA);
        var zpB = Vector256.Create(p.ZeroPointB);
        var scaleA = Vector256.Create(p.ScaleA);
        var scaleB = Vector256.Create(p.ScaleB);
        var scaleC = Vector256.Create(p.ScaleC);
        var cap = Vector256.Create(32767f);
        var zpC = Vector256.Create((short)p.ZeroPointC);
        var order = Vector256.Create(0, 4, 1, 5, 2, 6, 3, 7);
        fixed (byte* pa = a)
        fixed (byte* pb = b)
        fixed (byte* pc = c)
        {
            for (int i = 0; i < n; i += 32)
            {
                var q0 = OctetAvx2<T, TQuotient>(pa + i, pb + i, zpA, zpB, scaleA, scaleB, scaleC, cap);
                var q1 = OctetAvx2<T, TQuotient>(pa + i + 8, pb + i + 8, zpA, zpB, scaleA, scaleB, scaleC, cap);
                var q2 = OctetAvx2<T, TQuotient>(pa + i + 16, pb + i + 16, zpA, zpB, scaleA, scaleB, scaleC, cap);
                var q3 = OctetAvx2<T, TQuotient>(pa + i + 24, pb + i + 24, zpA, zpB, scaleA, scaleB, scaleC, cap);
                // Halves: w01 = [q0 0–3, q1 0–3 | q0 4–7, q1 4–7], likewise w23; the bytes then hold 4-byte groups
                // q0 0–3, q1 0–3, q2 0–3, q3 0–3, q0 4–7, q1 4–7, q2 4–7, q3 4–7.
                var w01 = Avx2.AddSaturate(Avx2.PackSignedSaturate(q0, q1), zpC);
                var w23 = Avx2.AddSaturate(Avx2.PackSignedSaturate(q2, q3), zpC);
                var bytes = typeof(T) == typeof(sbyte) ? Avx2.PackSignedSaturate(w01, w23).AsInt32() : Avx2.PackUnsignedSaturate(w01, w23).AsInt32();
                Avx.Store((int*)(pc + i), Avx2.PermuteVar8x32(bytes, order));
            }
        }
        return n;
    }

    /// <summary>
    /// The rounded quotients <c>(ScaleA·(a − zpA) + ScaleB·(b − zpB)) / ScaleC</c> of the eight elements at
    /// <paramref name="a"/> and <paramref name="b"/>, NaN → 0, capped at <paramref name="cap"/> (see <see cref="RowAvx2{T, TQuotient}"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector256<int> OctetAvx2<T, TQuotient>(byte* a, byte* b, Vector256<int> zpA, Vector256<int> zpB,
        Vector256<float> scaleA, Vector256<float> scaleB, Vector256<float> scaleC, Vector256<float> cap) where TQuotient : struct, IQuotientKind
    {
        Vector256<int> va, vb;
        if (typeof(T) == typeof(sbyte))
        {
            va = Avx2.ConvertToVector256Int32((sbyte*)a);
            vb = Avx2.ConvertToVector256Int32((sbyte*)b);
        }
        else
        {
            va = Avx2.ConvertToVector256Int32(a).AsInt32();
            vb = Avx2.ConvertToVector256Int32(b).AsInt32();
        }
        var fa = Avx.Multiply(scaleA, Avx.ConvertToVector256Single(Avx2.Subtract(va, zpA)));
        var fb = Avx.Multiply(scaleB, Avx.ConvertToVector256Single(Avx2.Subtract(vb, zpB)));
        var quotient = Avx.Divide(Avx.Add(fa, fb), scaleC);
        if (TQuotient.MayBeNaN) quotient = Avx.And(quotient, Avx.CompareEqual(quotient, quotient)); // NaN → +0
        return Avx.ConvertToVector256Int32(Avx.Min(quotient, cap));
    }

    /// <summary>Whether the quotients of <see cref="RowAvx2{T, TQuotient}"/> can be NaN (then they need a step turning NaN into 0).</summary>
    private interface IQuotientKind { static abstract bool MayBeNaN { get; } }
    private readonly struct NeverNaN : IQuotientKind { public static bool MayBeNaN => false; }
    private readonly struct MaybeNaN : IQuotientKind { public static bool MayBeNaN => true; }

    /// <summary>
    /// True when no inputs can make <c>(ScaleA·(float)(a − zpA) + ScaleB·(float)(b − zpB)) / ScaleC</c> NaN: both products
    /// are finite for the largest difference of the 8-bit type (float rounding is monotonic, so every other difference
    /// gives a product no larger), so their sum is never ∞ − ∞; and ScaleC is finite and nonzero, so the quotient is
    /// never 0/0 or ∞/∞. Degenerate scales (an infinite or zero output scale, an input scale too large for its
    /// products) fail the test and take the path with the NaN step.
    /// </summary>
    private static bool QuotientsAreNeverNaN(in QLinearBinaryParameters p)
    {
        int min = Requantization.MinOf(p.Signed), max = Requantization.MaxOf(p.Signed);
        static float LargestDifference(int min, int max, int zeroPoint) => Math.Max(Math.Abs((float)min - zeroPoint), Math.Abs((float)max - zeroPoint));
        return float.IsFinite(p.ScaleA * LargestDifference(min, max, p.ZeroPointA))
            && float.IsFinite(p.ScaleB * LargestDifference(min, max, p.ZeroPointB))
            && float.IsFinite(p.ScaleC) && p.ScaleC != 0f;
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
