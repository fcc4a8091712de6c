using EdgeRuntime.Kernels.Common;

namespace EdgeRuntime.Kernels.Gemm;

/// <summary>
/// Int8 matrix multiplication with exact int32 accumulation, the engine under pointwise, general and grouped
/// convolution and dense layers:
/// <code>acc[m * ldAcc + n] = Σ_{k &lt; K} A[m, k] * B[k * ldb + n]     (A, B signed 8-bit, acc int32)</code>
/// A (weights, M×K) is packed once at load by <see cref="PackA"/> into the layout of one <see cref="IsaPath"/>;
/// B (activations, K×N, row stride ldb — an NCHW channel plane or an im2col matrix) is read as it is and repacked
/// internally into <c>scratch</c>. Every path produces exactly the same acc as <see cref="IsaPath.Scalar"/>.
/// Zero points and requantization are not part of the GEMM: the caller folds them (see <see cref="QGemmRequantization"/>).
/// </summary>
public static partial class QGemm
{
    /// <summary>Number of sbytes <see cref="PackA"/> writes for an M×K matrix on <paramref name="isa"/>.</summary>
    public static int PackedALength(IsaPath isa, int m, int k) => isa switch
    {
        IsaPath.Avx2 => Avx2PackedALength(m, k),
        IsaPath.AvxVnni => AvxVnniPackedALength(m, k),
        IsaPath.Avx512Vnni => AvxVnniPackedALength(m, k), // the AVX-VNNI layout, machine-code kernel
        IsaPath.Vector128 => Vector128PackedALength(m, k),
        IsaPath.Neon => PackedALengthNeon(m, k),
        IsaPath.NeonDot => PackedALengthNeonDot(m, k),
        _ => checked(m * k),
    };

    /// <summary>Ints of scratch <see cref="Multiply"/> needs for these dimensions on <paramref name="isa"/>.</summary>
    public static int ScratchLength(IsaPath isa, int m, int n, int k) => isa switch
    {
        IsaPath.Avx2 => Avx2ScratchLength(k),
        IsaPath.AvxVnni => AvxVnniScratchLength(k),
        IsaPath.Avx512Vnni => AvxVnniScratchLength(k),
        IsaPath.Vector128 => Vector128ScratchLength(k),
        IsaPath.Neon => ScratchLengthNeon(k),
        IsaPath.NeonDot => ScratchLengthNeonDot(k),
        _ => 0,
    };

    /// <summary>Packs row-major <c>a[m * k + kk]</c> for <paramref name="isa"/>.</summary>
    public static void PackA(IsaPath isa, ReadOnlySpan<sbyte> a, int m, int k, Span<sbyte> packed)
    {
        switch (isa)
        {
            case IsaPath.Avx2:
                PackAAvx2(a, m, k, packed);
                break;
            case IsaPath.AvxVnni or IsaPath.Avx512Vnni:
                PackAAvxVnni(a, m, k, packed);
                break;
            case IsaPath.Vector128:
                PackAVector128(a, m, k, packed);
                break;
            case IsaPath.Neon: PackANeon(a, m, k, packed); break;
            case IsaPath.NeonDot: PackANeonDot(a, m, k, packed); break;
            default:
                a[..(m * k)].CopyTo(packed);
                break;
        }
    }

    /// <summary>
    /// <c>acc[i * ldAcc + j] = Σ_kk A[i, kk] * b[kk * ldb + j]</c> for i &lt; m, j &lt; n, overwriting acc.
    /// <paramref name="packedA"/> must come from <see cref="PackA"/> with the same <paramref name="isa"/>, m and k.
    /// </summary>
    public static void Multiply(IsaPath isa, int m, int n, int k, ReadOnlySpan<sbyte> packedA,
        ReadOnlySpan<sbyte> b, int ldb, Span<int> acc, int ldAcc, Span<int> scratch)
    {
        switch (isa)
        {
            case IsaPath.Avx2:
                MultiplyAvx2(m, n, k, packedA, b, ldb, acc, ldAcc, scratch);
                break;
            case IsaPath.AvxVnni:
                MultiplyAvxVnni(m, n, k, packedA, b, ldb, acc, ldAcc, scratch);
                break;
            case IsaPath.Avx512Vnni:
                MultiplyAvx512Vnni(m, n, k, packedA, b, ldb, acc, ldAcc, scratch);
                break;
            case IsaPath.Vector128:
                MultiplyVector128(m, n, k, packedA, b, ldb, acc, ldAcc, scratch);
                break;
            case IsaPath.Neon: MultiplyNeon(m, n, k, packedA, b, ldb, acc, ldAcc, scratch); break;
            case IsaPath.NeonDot: MultiplyNeonDot(m, n, k, packedA, b, ldb, acc, ldAcc, scratch); break;
            default:
                MultiplyScalar(m, n, k, packedA, b, ldb, acc, ldAcc);
                break;
        }
    }

    /// <summary>The definition: plain loops over row-major A.</summary>
    public static void MultiplyScalar(int m, int n, int k, ReadOnlySpan<sbyte> a, ReadOnlySpan<sbyte> b, int ldb, Span<int> acc, int ldAcc)
    {
        for (int i = 0; i < m; i++)
        {
            var row = acc.Slice(i * ldAcc, n);
            row.Clear();
            for (int kk = 0; kk < k; kk++)
            {
                int w = a[i * k + kk];
                if (w == 0) continue;
                var bRow = b.Slice(kk * ldb, n);
                for (int j = 0; j < n; j++) row[j] += w * bRow[j];
            }
        }
    }

    /// <summary><c>sums[j] = Σ_kk b[kk * ldb + j]</c> (needed when weight zero points are not zero).</summary>
    public static void ColumnSums(IsaPath isa, ReadOnlySpan<sbyte> b, int k, int n, int ldb, Span<int> sums)
    {
        switch (isa)
        {
            case IsaPath.Avx2:
            case IsaPath.AvxVnni:
            case IsaPath.Avx512Vnni:
                ColumnSumsAvx2(b, k, n, ldb, sums);
                break;
            case IsaPath.Vector128:
                ColumnSumsVector128(b, k, n, ldb, sums);
                break;
            case IsaPath.Neon or IsaPath.NeonDot:
                ColumnSumsNeon(b, k, n, ldb, sums);
                break;
            default:
                ColumnSumsScalar(b, k, n, ldb, sums);
                break;
        }
    }

    /// <summary>The definition of <see cref="ColumnSums"/>: plain loops.</summary>
    public static void ColumnSumsScalar(ReadOnlySpan<sbyte> b, int k, int n, int ldb, Span<int> sums)
    {
        sums[..n].Clear();
        for (int kk = 0; kk < k; kk++)
        {
            var bRow = b.Slice(kk * ldb, n);
            for (int j = 0; j < n; j++) sums[j] += bRow[j];
        }
    }
}

/// <summary>
/// Turns GEMM accumulators into 8-bit outputs. With activations and weights in signed form
/// (<c>x' = x - 128</c> for uint8 data, likewise zero points) the exact convolution sum is
/// <code>Σ (x' - xz')(w' - wz'[m]) = acc[m, n] - xz'·Σ_k w'[m, k] + K·xz'·wz'[m] - wz'[m]·colsum[n]</code>
/// so <see cref="Rows"/> computes, per element,
/// <code>y[m * ldy + n] = (byte)(clamp(RoundHalfToEven((float)(acc[m, n] + bias[m] - wz'[m] * colsum[n]) * multiplier[m]) + yZeroPoint, yMin, yMax) ^ outputXor)</code>
/// where <c>bias[m]</c> already holds the model bias plus the two constant terms (folded at load) and the float
/// arithmetic is <see cref="Requantization.Requantize"/>'s. <c>outputXor</c> is 0 for the signed-form value written
/// as int8, 0x80 to write uint8.
/// </summary>
public static partial class QGemmRequantization
{
    /// <summary>Requantizes an M×N accumulator tile (see the class summary). An empty <paramref name="weightZeroPoints"/> means all zero.</summary>
    public static void Rows(IsaPath isa, ReadOnlySpan<int> acc, int ldAcc, int m, int n,
        ReadOnlySpan<int> bias, ReadOnlySpan<int> weightZeroPoints, ReadOnlySpan<int> columnSums,
        ReadOnlySpan<float> multipliers, int yZeroPoint, int yMin, int yMax, int outputXor, Span<byte> y, int ldy)
    {
        switch (isa)
        {
            case IsaPath.Avx2:
            case IsaPath.AvxVnni:
            case IsaPath.Avx512Vnni:
                RowsAvx2(acc, ldAcc, m, n, bias, weightZeroPoints, columnSums, multipliers, yZeroPoint, yMin, yMax, outputXor, y, ldy);
                break;
            case IsaPath.Vector128:
                RowsVector128(acc, ldAcc, m, n, bias, weightZeroPoints, columnSums, multipliers, yZeroPoint, yMin, yMax, outputXor, y, ldy);
                break;
            case IsaPath.Neon or IsaPath.NeonDot:
                RowsNeon(acc, ldAcc, m, n, bias, weightZeroPoints, columnSums, multipliers, yZeroPoint, yMin, yMax, outputXor, y, ldy);
                break;
            default:
                RowsScalar(acc, ldAcc, m, n, bias, weightZeroPoints, columnSums, multipliers, yZeroPoint, yMin, yMax, outputXor, y, ldy);
                break;
        }
    }

    /// <summary>The definition of <see cref="Rows"/>: <see cref="Requantization.Requantize"/> per element.</summary>
    public static void RowsScalar(ReadOnlySpan<int> acc, int ldAcc, int m, int n,
        ReadOnlySpan<int> bias, ReadOnlySpan<int> weightZeroPoints, ReadOnlySpan<int> columnSums,
        ReadOnlySpan<float> multipliers, int yZeroPoint, int yMin, int yMax, int outputXor, Span<byte> y, int ldy)
    {
        for (int i = 0; i < m; i++)
        {
            int wz = weightZeroPoints.IsEmpty ? 0 : weightZeroPoints[i];
            int b = bias[i];
            float mult = multipliers[i];
            var accRow = acc.Slice(i * ldAcc, n);
            var yRow = y.Slice(i * ldy, n);
            if (wz == 0)
                for (int j = 0; j < n; j++) yRow[j] = (byte)(Requantization.Requantize(accRow[j] + b, mult, yZeroPoint, yMin, yMax) ^ outputXor);
            else
                for (int j = 0; j < n; j++) yRow[j] = (byte)(Requantization.Requantize(accRow[j] + b - wz * columnSums[j], mult, yZeroPoint, yMin, yMax) ^ outputXor);
        }
    }
}
