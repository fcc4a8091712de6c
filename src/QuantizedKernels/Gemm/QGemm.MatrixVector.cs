using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using EdgeRuntime.Kernels.Common;

namespace EdgeRuntime.Kernels.Gemm;

/// <summary>
/// Matrix-vector products with requantization (N = 1: dense layers, a 1×1 convolution on a 1×1 input), the same
/// result as <see cref="MultiplyRequantize"/> with n = 1:
/// <code>y[i * ldy] = (byte)Requantization.Requantize(Σ_kk (a[i, kk] - rowOffsets[i]) * b[kk * ldb] + bias[i], multipliers[i], yZeroPoint, yMin, yMax)</code>
/// (int32 sums wrapping). Each weight is used once per run, so such a layer streams its whole weight matrix from
/// memory (MobileNetV2's 1001×1280 classifier: 1.3 MB) and is bound by the bytes read, not by multiplies. The AVX2
/// packing therefore keeps the weights as int8, half the bytes of the int16 pairs (a − offset) the tiled kernel
/// needs, and applies the row offsets afterwards: Σ (a − offset)·b = Σ a·b − offset·Σ b, with Σ b taken once per run
/// (equal in wrapping int32 arithmetic).
/// <para>AVX2 packed A: M int32 row offsets, then the rows as int8 weights zero padded to <c>KP = RoundUp(K, 16)</c>:
/// rows <c>4g .. 4g+3</c> as one block of <c>4·KP</c> bytes, interleaved by 16-weight step (step s of row 4g+r at
/// <c>64·s + 16·r</c> in the block), and the last <c>M % 4</c> rows after them as plain rows of KP bytes. The kernel
/// then reads the matrix as one sequential stream, which the hardware prefetcher follows; four row streams 1280 bytes
/// apart with software prefetch took 122–135 µs for MobileNetV2's classifier inside an inference (its weights come from
/// memory there), one stream 46–55 µs (<c>edgerun bench --threads 1 --profile</c>, Zen 4, 2026-11-28).</para>
/// </summary>
public static partial class QGemm
{
    /// <summary>True when <paramref name="isa"/> implements <see cref="PackMatrixVectorA"/> and <see cref="MultiplyVectorRequantize"/>.</summary>
    public static bool HasMatrixVector(IsaPath isa) => isa is IsaPath.Avx2 or IsaPath.Avx512Vnni or IsaPath.Scalar;

    /// <summary>Number of sbytes <see cref="PackMatrixVectorA"/> writes for an M×K matrix on <paramref name="isa"/>.</summary>
    public static int PackedMatrixVectorALength(IsaPath isa, int m, int k) => isa switch
    {
        IsaPath.Avx2 or IsaPath.Avx512Vnni => checked(m * sizeof(int) + m * RoundUpTo16(k)), // avx512vnni: the AVX2 kernel
        IsaPath.Scalar => PackedAWithRowOffsetsLength(isa, m, k),
        _ => throw UnsupportedMatrixVector(isa),
    };

    /// <summary>Ints of scratch <see cref="MultiplyVectorRequantize"/> needs on <paramref name="isa"/>.</summary>
    public static int MatrixVectorScratchLength(IsaPath isa, int k) => isa switch
    {
        IsaPath.Avx2 or IsaPath.Avx512Vnni => RoundUpTo16(k) / 2,
        IsaPath.Scalar => 0,
        _ => throw UnsupportedMatrixVector(isa),
    };

    /// <summary>Packs row-major <c>a[i * k + kk] - rowOffsets[i]</c> (empty offsets: all zero) for <see cref="MultiplyVectorRequantize"/>.</summary>
    public static void PackMatrixVectorA(IsaPath isa, ReadOnlySpan<sbyte> a, int m, int k, ReadOnlySpan<int> rowOffsets, Span<sbyte> packed)
    {
        if (!rowOffsets.IsEmpty && rowOffsets.Length < m) throw new ArgumentException($"{rowOffsets.Length} row offsets for {m} rows", nameof(rowOffsets));
        int length = PackedMatrixVectorALength(isa, m, k);
        CheckPackArguments(a, m, k, packed, length);
        if (isa == IsaPath.Scalar)
        {
            PackAWithRowOffsets(isa, a, m, k, rowOffsets, packed);
            return;
        }
        var offsets = System.Runtime.InteropServices.MemoryMarshal.Cast<sbyte, int>(packed[..(m * sizeof(int))]);
        for (int i = 0; i < m; i++) offsets[i] = rowOffsets.IsEmpty ? 0 : rowOffsets[i];
        var rows = packed[(m * sizeof(int))..length];
        int kPadded = RoundUpTo16(k);
        rows.Clear();
        // Groups of four rows interleaved by 16-weight step (see the class summary); the last m % 4 rows as plain rows.
        int grouped = m / 4 * 4;
        for (int i = 0; i < grouped; i++)
            for (int kk = 0; kk < k; kk += 16)
                a.Slice(i * k + kk, Math.Min(16, k - kk)).CopyTo(rows[(i / 4 * 4 * kPadded + kk * 4 + i % 4 * 16)..]);
        for (int i = grouped; i < m; i++) a.Slice(i * k, k).CopyTo(rows[(i * kPadded)..]);
    }

    /// <summary>
    /// The matrix-vector product of the class summary into <c>y[i * ldy]</c>, i &lt; M; <paramref name="packedA"/> comes
    /// from <see cref="PackMatrixVectorA"/> with the same <paramref name="isa"/>, m, k and offsets.
    /// </summary>
    public static void MultiplyVectorRequantize(IsaPath isa, int m, int k, ReadOnlySpan<sbyte> packedA, ReadOnlySpan<sbyte> b, int ldb,
        ReadOnlySpan<int> bias, ReadOnlySpan<float> multipliers, int yZeroPoint, int yMin, int yMax, Span<byte> y, int ldy, Span<int> scratch)
    {
        if (m < 0 || k < 0) throw new ArgumentOutOfRangeException(nameof(m), $"negative GEMM dimension m={m}, k={k}");
        if (m == 0) return;
        if (bias.Length < m || multipliers.Length < m) throw new ArgumentException($"bias ({bias.Length}) and multipliers ({multipliers.Length}) need {m} values");
        if (ldy < 1 || y.Length < (long)(m - 1) * ldy + 1) throw new ArgumentException($"y ({y.Length} bytes, ldy {ldy}) is too small for {m} rows", nameof(y));
        if (k > 0 && (ldb < 1 || b.Length < (long)(k - 1) * ldb + 1)) throw new ArgumentException($"b ({b.Length} bytes, ldb {ldb}) is too small for {k} values", nameof(b));
        if (yMin < -128 || yMax > 255 || yMin > yMax) throw new ArgumentOutOfRangeException(nameof(yMin), $"output range [{yMin}, {yMax}] is not an 8-bit range");
        if (scratch.Length < MatrixVectorScratchLength(isa, k)) throw new ArgumentException($"scratch holds {scratch.Length} ints, needs {MatrixVectorScratchLength(isa, k)}", nameof(scratch));
        if (isa == IsaPath.Scalar)
        {
            if (packedA.Length < PackedAWithRowOffsetsLength(isa, m, k)) throw new ArgumentException($"packed A holds {packedA.Length} bytes, needs {PackedAWithRowOffsetsLength(isa, m, k)}", nameof(packedA));
            MultiplyRequantizeScalar(m, 1, k, packedA, b, ldb, bias, multipliers, yZeroPoint, yMin, yMax, y, ldy);
            return;
        }
        if (isa is not (IsaPath.Avx2 or IsaPath.Avx512Vnni)) throw UnsupportedMatrixVector(isa);
        int length = PackedMatrixVectorALength(isa, m, k);
        if (packedA.Length < length) throw new ArgumentException($"packed A holds {packedA.Length} bytes, needs {length}", nameof(packedA));
        MultiplyVectorInt8RowsAvx2(m, k, packedA[..length], b, ldb, bias, multipliers, yZeroPoint, yMin, yMax, y, ldy, scratch);
    }

    /// <summary>
    /// Int8 rows: b is sign-extended once into scratch (int16, zero padded to a multiple of 16) and summed, then four
    /// rows at a time (one interleaved block) each 16-weight step is one VPMOVSXBW from memory, one VPMADDWD against the shared b vector and
    /// one VPADDD; three VPHADDDs and one add reduce the four accumulators to the four row sums (int32 sums wrap, so the
    /// order of the additions does not change them), from which offset·Σb is subtracted. Requantization is the scalar
    /// definition, one value per row.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void MultiplyVectorInt8RowsAvx2(int m, int k, ReadOnlySpan<sbyte> packedA, ReadOnlySpan<sbyte> b, int ldb,
        ReadOnlySpan<int> bias, ReadOnlySpan<float> multipliers, int yZeroPoint, int yMin, int yMax, Span<byte> y, int ldy, Span<int> scratch)
    {
        int kPadded = RoundUpTo16(k);
        var offsets = System.Runtime.InteropServices.MemoryMarshal.Cast<sbyte, int>(packedA[..(m * sizeof(int))]);
        var rows = packedA[(m * sizeof(int))..];
        var widened = System.Runtime.InteropServices.MemoryMarshal.Cast<int, short>(scratch)[..kPadded];
        int sumB = 0;
        for (int kk = 0; kk < kPadded; kk++)
        {
            widened[kk] = kk < k ? b[kk * ldb] : (short)0;
            sumB += widened[kk];
        }
        fixed (sbyte* aBase = rows)
        fixed (short* bw = widened)
        {
            int i = 0;
            for (; i + 4 <= m; i += 4)
            {
                sbyte* group = aBase + (long)i * kPadded; // four rows interleaved: 64 bytes per 16-weight step
                Vector256<int> s0 = default, s1 = default, s2 = default, s3 = default;
                for (int kk = 0; kk < kPadded; kk += 16, group += 64)
                {
                    var bv = Avx.LoadVector256(bw + kk);
                    s0 = Avx2.Add(s0, Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(group), bv));
                    s1 = Avx2.Add(s1, Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(group + 16), bv));
                    s2 = Avx2.Add(s2, Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(group + 32), bv));
                    s3 = Avx2.Add(s3, Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(group + 48), bv));
                }
                // (s0 0+1, s0 2+3, s1 0+1, s1 2+3 | 4..7 likewise), then (s0 0..3, s1 0..3, s2 0..3, s3 0..3 | 4..7):
                // adding the halves gives the four row sums.
                var quads = Avx2.HorizontalAdd(Avx2.HorizontalAdd(s0, s1), Avx2.HorizontalAdd(s2, s3));
                var sums = Sse2.Add(quads.GetLower(), quads.GetUpper());
                for (int r = 0; r < 4; r++)
                    y[(i + r) * ldy] = (byte)Requantization.Requantize(unchecked(sums.GetElement(r) - offsets[i + r] * sumB + bias[i + r]), multipliers[i + r], yZeroPoint, yMin, yMax);
            }
            for (; i < m; i++)
            {
                sbyte* row = aBase + (long)i * kPadded;
                Vector256<int> s = default;
                for (int kk = 0; kk < kPadded; kk += 16)
                    s = Avx2.Add(s, Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(row + kk), Avx.LoadVector256(bw + kk)));
                y[i * ldy] = (byte)Requantization.Requantize(unchecked(Vector256.Sum(s) - offsets[i] * sumB + bias[i]), multipliers[i], yZeroPoint, yMin, yMax);
            }
        }
    }

    private static int RoundUpTo16(int k) => checked((k + 15) & ~15);

    private static NotSupportedException UnsupportedMatrixVector(IsaPath isa) =>
        new($"the matrix-vector kernel is not implemented on the {isa} path (check QGemm.HasMatrixVector)");
}
