using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using EdgeRuntime.Kernels.Common;

namespace EdgeRuntime.Kernels.Elementwise;

/// <summary>
/// QLinearMul dispatched by instruction-set path. Every non-scalar path runs the portable <see cref="Vector128{T}"/>
/// code below: the exact int32 product <c>(A - ZeroPointA) * (B - ZeroPointB)</c>, converted to float, one float32
/// multiplication by <see cref="QLinearMulReference.Multiplier"/>, clamp in float (NaN → 0), round half to even, add the
/// zero point — the operations of <see cref="QLinearMulReference.Compute"/> in the same order, so the result is
/// bit-exact with the reference.
/// <para>
/// Shapes: same-shape tensors run as one flat row; rows where one input is broadcast along the row (inner stride 0)
/// multiply by that input's single value, and consecutive such rows that reuse the same broadcast value over contiguous
/// data of the other input are merged into one run — so the squeeze-and-excitation product
/// <c>[N,C,H,W] × [N,C,1,1]</c> runs as N·C runs of H·W elements even when W is small. Anything else runs row by row.
/// </para>
/// </summary>
public static class QLinearMul
{
    /// <summary>Broadcasting multiply over whole tensors with the code of <paramref name="isa"/>.</summary>
    public static void Run(IsaPath isa, QuantizedBroadcast plan, ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, Span<byte> c, in QLinearBinaryParameters p)
    {
        if (isa == IsaPath.Scalar || !Vector128.IsHardwareAccelerated || plan.OutputCount == 0)
        {
            QLinearMulReference.Run(plan, a, b, c, p);
            return;
        }
        float multiplier = QLinearMulReference.Multiplier(p);
        int inner = plan.InnerLength, rows = plan.RowOffsetsA.Length;
        if (a.Length == plan.OutputCount && b.Length == plan.OutputCount)
        {
            Row(a[..plan.OutputCount], b[..plan.OutputCount], c[..plan.OutputCount], multiplier, p);
            return;
        }
        if (plan.InnerStrideA == 1 && plan.InnerStrideB == 1)
        {
            for (int r = 0; r < rows; r++)
                Row(a.Slice(plan.RowOffsetsA[r], inner), b.Slice(plan.RowOffsetsB[r], inner), c.Slice(r * inner, inner), multiplier, p);
            return;
        }
        if (plan.InnerStrideA == 1 && plan.InnerStrideB == 0)
        {
            BroadcastRuns(plan.RowOffsetsA, plan.RowOffsetsB, inner, a, b, c, multiplier, p);
            return;
        }
        if (plan.InnerStrideA == 0 && plan.InnerStrideB == 1)
        {
            // The integer product and the float multiplier are symmetric in A and B, so swapping the operands is exact.
            var swapped = p with { ScaleA = p.ScaleB, ZeroPointA = p.ZeroPointB, ScaleB = p.ScaleA, ZeroPointB = p.ZeroPointA };
            BroadcastRuns(plan.RowOffsetsB, plan.RowOffsetsA, inner, b, a, c, multiplier, swapped);
            return;
        }
        QLinearMulReference.Run(plan, a, b, c, p);
    }

    /// <summary>Rows of <paramref name="full"/> (contiguous) times one element of <paramref name="single"/> per row.</summary>
    private static void BroadcastRuns(int[] fullOffsets, int[] singleOffsets, int inner, ReadOnlySpan<byte> full, ReadOnlySpan<byte> single,
        Span<byte> c, float multiplier, in QLinearBinaryParameters p)
    {
        int rows = fullOffsets.Length;
        for (int r = 0; r < rows;)
        {
            int end = r + 1;
            while (end < rows && singleOffsets[end] == singleOffsets[r] && fullOffsets[end] == fullOffsets[end - 1] + inner) end++;
            int length = (end - r) * inner;
            ScalarRow(full.Slice(fullOffsets[r], length), single[singleOffsets[r]], c.Slice(r * inner, length), multiplier, p);
            r = end;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Row(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, Span<byte> c, float multiplier, in QLinearBinaryParameters p)
    {
        var flip = Vector128.Create((byte)QuantizedByte.FlipMask(p.Signed)); // signed bytes → unsigned order for widening
        int offset = QuantizedByte.Offset(p.Signed);
        var zpA = Vector128.Create(p.ZeroPointA + offset);
        var zpB = Vector128.Create(p.ZeroPointB + offset);
        var m = Vector128.Create(multiplier);
        int min = Requantization.MinOf(p.Signed), max = Requantization.MaxOf(p.Signed);
        var low = Vector128.Create((float)(min - p.ZeroPointC));
        var high = Vector128.Create((float)(max - p.ZeroPointC));
        var zpC = Vector128.Create(p.ZeroPointC);
        ref byte ra = ref MemoryMarshal.GetReference(a);
        ref byte rb = ref MemoryMarshal.GetReference(b);
        ref byte rc = ref MemoryMarshal.GetReference(c);
        int i = 0;
        for (; i <= c.Length - 16; i += 16)
        {
            var (a0, a1) = Vector128.Widen(Vector128.LoadUnsafe(ref ra, (nuint)i) ^ flip);
            var (b0, b1) = Vector128.Widen(Vector128.LoadUnsafe(ref rb, (nuint)i) ^ flip);
            var (a00, a01) = Vector128.Widen(a0);
            var (a10, a11) = Vector128.Widen(a1);
            var (b00, b01) = Vector128.Widen(b0);
            var (b10, b11) = Vector128.Widen(b1);
            var q0 = Quad((a00.AsInt32() - zpA) * (b00.AsInt32() - zpB), m, low, high, zpC);
            var q1 = Quad((a01.AsInt32() - zpA) * (b01.AsInt32() - zpB), m, low, high, zpC);
            var q2 = Quad((a10.AsInt32() - zpA) * (b10.AsInt32() - zpB), m, low, high, zpC);
            var q3 = Quad((a11.AsInt32() - zpA) * (b11.AsInt32() - zpB), m, low, high, zpC);
            Vector128.Narrow(Vector128.Narrow(q0, q1), Vector128.Narrow(q2, q3)).AsByte().StoreUnsafe(ref rc, (nuint)i);
        }
        for (; i < c.Length; i++) c[i] = QLinearMulReference.Compute(a[i], b[i], multiplier, p);
    }

    /// <summary><c>c[i] = Compute(a[i], b)</c> with B fixed: the factor <c>b - ZeroPointB</c> is broadcast.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ScalarRow(ReadOnlySpan<byte> a, byte b, Span<byte> c, float multiplier, in QLinearBinaryParameters p)
    {
        var flip = Vector128.Create((byte)QuantizedByte.FlipMask(p.Signed));
        var zpA = Vector128.Create(p.ZeroPointA + QuantizedByte.Offset(p.Signed));
        var factor = Vector128.Create(QuantizedByte.Value(b, p.Signed) - p.ZeroPointB);
        var m = Vector128.Create(multiplier);
        int min = Requantization.MinOf(p.Signed), max = Requantization.MaxOf(p.Signed);
        var low = Vector128.Create((float)(min - p.ZeroPointC));
        var high = Vector128.Create((float)(max - p.ZeroPointC));
        var zpC = Vector128.Create(p.ZeroPointC);
        ref byte ra = ref MemoryMarshal.GetReference(a);
        ref byte rc = ref MemoryMarshal.GetReference(c);
        int i = 0;
        for (; i <= c.Length - 16; i += 16)
        {
            var (a0, a1) = Vector128.Widen(Vector128.LoadUnsafe(ref ra, (nuint)i) ^ flip);
            var (a00, a01) = Vector128.Widen(a0);
            var (a10, a11) = Vector128.Widen(a1);
            var q0 = Quad((a00.AsInt32() - zpA) * factor, m, low, high, zpC);
            var q1 = Quad((a01.AsInt32() - zpA) * factor, m, low, high, zpC);
            var q2 = Quad((a10.AsInt32() - zpA) * factor, m, low, high, zpC);
            var q3 = Quad((a11.AsInt32() - zpA) * factor, m, low, high, zpC);
            Vector128.Narrow(Vector128.Narrow(q0, q1), Vector128.Narrow(q2, q3)).AsByte().StoreUnsafe(ref rc, (nuint)i);
        }
        for (; i < c.Length; i++) c[i] = QLinearMulReference.Compute(a[i], b, multiplier, p);
    }

    /// <summary>Requantizes four exact products: float32 multiply, clamp in float (NaN → 0), round half to even, add the zero point.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<int> Quad(Vector128<int> product, Vector128<float> multiplier, Vector128<float> low, Vector128<float> high, Vector128<int> zeroPoint)
    {
        var scaled = Vector128.ConvertToSingle(product) * multiplier;
        scaled = Vector128.ConditionalSelect(Vector128.Equals(scaled, scaled), scaled, Vector128<float>.Zero); // NaN → 0
        scaled = Vector128.Min(Vector128.Max(scaled, low), high);
        return Vector128.ConvertToInt32(Vector128.Round(scaled)) + zeroPoint;
    }
}
