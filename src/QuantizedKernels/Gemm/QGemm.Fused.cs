using EdgeRuntime.Kernels.Common;

namespace EdgeRuntime.Kernels.Gemm;

/// <summary>
/// GEMM with the requantization in its epilogue: the microkernel turns its int32 accumulators into 8-bit outputs while
/// they are still in registers, so no M×N int32 matrix is written and read back, and the weight zero points are
/// folded into the packed weights, so no column sums of B are needed:
/// <code>y[i * ldy + j] = (byte)Requantization.Requantize(Σ_kk (a[i, kk] - rowOffsets[i]) * b[kk * ldb + j] + bias[i],
///                                                  multipliers[i], yZeroPoint, yMin, yMax)</code>
/// (int32 arithmetic wrapping like <see cref="QGemm.MultiplyScalar"/> followed by
/// <see cref="QGemmRequantization.RowsScalar"/> with <c>weightZeroPoints = rowOffsets</c>, which it equals bit for bit).
/// Available where <see cref="HasFusedRequantization"/> says so; elsewhere callers use <see cref="Multiply"/> and
/// <see cref="QGemmRequantization.Rows"/>.
/// </summary>
public static partial class QGemm
{
    /// <summary>True when <paramref name="isa"/> implements <see cref="PackAWithRowOffsets"/> and <see cref="MultiplyRequantize"/>.</summary>
    public static bool HasFusedRequantization(IsaPath isa) => isa is IsaPath.Avx2 or IsaPath.Avx512Vnni or IsaPath.Neon or IsaPath.NeonDot or IsaPath.Scalar;

    /// <summary>
    /// Number of sbytes <see cref="PackAWithRowOffsets"/> needs for an M×K matrix on <paramref name="isa"/>: the buffer
    /// to pack into. The packed form itself may take less (its return value).
    /// </summary>
    public static int PackedAWithRowOffsetsLength(IsaPath isa, int m, int k) => isa switch
    {
        IsaPath.Avx2 or IsaPath.Avx512Vnni => Avx2FusedPackedALength(m, k),
        IsaPath.Neon or IsaPath.NeonDot => ArmFusedPackedALength(isa, m, k),
        IsaPath.Scalar => checked(m * k * sizeof(short)),
        _ => throw UnsupportedFused(isa),
    };

    /// <summary>
    /// Ints of scratch <see cref="MultiplyRequantize"/> should get on <paramref name="isa"/> for an M×N×K product. On
    /// AVX2 less is accepted, down to one 16-column panel (<see cref="ScratchLength"/>): a call of at most 64 columns
    /// then runs chunk by chunk instead of weight-stationary, and a wider one packs fewer panels per chunk (same
    /// results; see QGemm.Avx2.Fused.cs). So scratch sized for a wide tile also serves a narrow last tile.
    /// </summary>
    public static int FusedScratchLength(IsaPath isa, int m, int n, int k) => isa switch
    {
        IsaPath.Avx2 or IsaPath.Avx512Vnni => Avx2FusedScratchLength(n, k),
        IsaPath.Neon or IsaPath.NeonDot => ArmFusedScratchLength(isa, n, k),
        IsaPath.Scalar => 0,
        _ => throw UnsupportedFused(isa),
    };

    /// <summary>
    /// Packs <c>a[i, kk] - rowOffsets[i]</c> (row-major A, M×K; each difference must fit in int16, which holds for
    /// int8 weights minus an int8 zero point) for <see cref="MultiplyRequantize"/>. Paths whose microkernels multiply
    /// int8 weights (Neon, NeonDot) keep A as it is and store the offsets beside it; the epilogue then subtracts
    /// <c>rowOffsets[i]·Σ_kk b[kk, j]</c>. AVX2 stores the differences as int8 pairs VPMADDUBSW cannot saturate on,
    /// plus a list of corrections for the rest, or as int16 pairs when that list would be long (QGemm.Avx2.Quads.cs);
    /// the packed bytes start with a header that <see cref="MultiplyRequantize"/> checks. An empty
    /// <paramref name="rowOffsets"/> means all zero.
    /// </summary>
    /// <returns>
    /// The bytes the packed form occupies, from the start of <paramref name="packed"/>: at most
    /// <see cref="PackedAWithRowOffsetsLength"/>, about half of it for AVX2's VPMADDUBSW format. A caller that keeps
    /// the packed weights (a model, for its lifetime) may keep only <c>packed[..returned]</c>.
    /// </returns>
    public static int PackAWithRowOffsets(IsaPath isa, ReadOnlySpan<sbyte> a, int m, int k, ReadOnlySpan<int> rowOffsets, Span<sbyte> packed)
    {
        if (!rowOffsets.IsEmpty && rowOffsets.Length < m) throw new ArgumentException($"{rowOffsets.Length} row offsets for {m} rows", nameof(rowOffsets));
        switch (isa)
        {
            case IsaPath.Avx2:
                return PackAFusedAvx2(a, m, k, rowOffsets, packed);
            case IsaPath.Avx512Vnni: // the AVX2 layout as exact quads: corrected only where a weight does not fit int8 (VPDPBUSD cannot saturate)
                return PackAFusedAvx2(a, m, k, rowOffsets, packed, exactQuads: true);
            case IsaPath.Neon or IsaPath.NeonDot:
                PackAWithRowOffsetsArm(isa, a, m, k, rowOffsets, packed);
                break;
            case IsaPath.Scalar:
            {
                CheckPackArguments(a, m, k, packed, PackedAWithRowOffsetsLength(isa, m, k));
                var destination = System.Runtime.InteropServices.MemoryMarshal.Cast<sbyte, short>(packed);
                for (int i = 0; i < m; i++)
                    for (int kk = 0; kk < k; kk++)
                        destination[i * k + kk] = checked((short)(a[i * k + kk] - (rowOffsets.IsEmpty ? 0 : rowOffsets[i])));
                break;
            }
            default:
                throw UnsupportedFused(isa);
        }
        return PackedAWithRowOffsetsLength(isa, m, k);
    }

    /// <summary>What the AVX2 epilogue needs to know of a row set's multipliers (<see cref="ClassifyMultipliers"/>).</summary>
    public enum MultiplierRange
    {
        /// <summary>Not classified: <see cref="MultiplyRequantize"/> classifies them itself, on every call.</summary>
        Unclassified,
        /// <summary>Some multiplier is NaN or infinite.</summary>
        NotAllFinite,
        /// <summary>All finite, some with |multiplier| &gt;= 1.</summary>
        Finite,
        /// <summary>All finite and strictly inside (−1, 1).</summary>
        FiniteBelowOne,
    }

    /// <summary>
    /// The class of <paramref name="multipliers"/> for <see cref="MultiplyRequantize"/>. Multipliers are fixed at model
    /// load, so a caller classifies them once there instead of letting every call (every tile of every run) do it.
    /// </summary>
    public static MultiplierRange ClassifyMultipliers(ReadOnlySpan<float> multipliers)
    {
        bool belowOne = true;
        foreach (float v in multipliers)
        {
            if (!float.IsFinite(v)) return MultiplierRange.NotAllFinite;
            belowOne &= Math.Abs(v) < 1f;
        }
        return belowOne ? MultiplierRange.FiniteBelowOne : MultiplierRange.Finite;
    }

    /// <summary>
    /// The fused GEMM + requantization of the class summary, writing M rows of N bytes at stride
    /// <paramref name="ldy"/>. <paramref name="packedA"/> comes from <see cref="PackAWithRowOffsets"/> with the same
    /// <paramref name="isa"/>, m and k. Output bytes are the int8 (two's complement) or uint8 value, as the clamp
    /// range [<paramref name="yMin"/>, <paramref name="yMax"/>] implies. <paramref name="range"/>: what
    /// <see cref="ClassifyMultipliers"/> returns for <c>multipliers[..m]</c> (a wrong class gives wrong bytes), or
    /// <see cref="MultiplierRange.Unclassified"/> to have it computed here.
    /// </summary>
    public static void MultiplyRequantize(IsaPath isa, int m, int n, int k, ReadOnlySpan<sbyte> packedA, ReadOnlySpan<sbyte> b, int ldb,
        ReadOnlySpan<int> bias, ReadOnlySpan<float> multipliers, int yZeroPoint, int yMin, int yMax, Span<byte> y, int ldy, Span<int> scratch,
        MultiplierRange range = MultiplierRange.Unclassified)
    {
        if (m < 0 || n < 0 || k < 0) throw new ArgumentOutOfRangeException(nameof(m), $"negative GEMM dimension m={m}, n={n}, k={k}");
        if (m == 0 || n == 0) return;
        if (bias.Length < m || multipliers.Length < m) throw new ArgumentException($"bias ({bias.Length}) and multipliers ({multipliers.Length}) need {m} values");
        if (ldy < n || y.Length < (long)(m - 1) * ldy + n) throw new ArgumentException($"y ({y.Length} bytes, ldy {ldy}) is too small for {m}x{n}", nameof(y));
        if (k > 0 && (ldb < n || b.Length < (long)(k - 1) * ldb + n)) throw new ArgumentException($"B ({b.Length} bytes, ldb {ldb}) is too small for {k}x{n}", nameof(b));
        // AVX2 checks the length its packed format needs (which may be less than the bound) from the header, below.
        bool avx2Packing = isa is IsaPath.Avx2 or IsaPath.Avx512Vnni;
        if (!avx2Packing && packedA.Length < PackedAWithRowOffsetsLength(isa, m, k)) throw new ArgumentException($"packed A holds {packedA.Length} bytes, needs {PackedAWithRowOffsetsLength(isa, m, k)}", nameof(packedA));
        int minimumScratch = avx2Packing ? Avx2ScratchLength(k) : FusedScratchLength(isa, m, n, k);
        if (scratch.Length < minimumScratch) throw new ArgumentException($"scratch holds {scratch.Length} ints, needs {minimumScratch}", nameof(scratch));
        if (yMin < -128 || yMax > 255 || yMin > yMax) throw new ArgumentOutOfRangeException(nameof(yMin), $"output range [{yMin}, {yMax}] is not an 8-bit range");
        switch (isa)
        {
            case IsaPath.Neon or IsaPath.NeonDot:
                MultiplyRequantizeArm(isa, m, n, k, packedA, b, ldb, bias, multipliers, yZeroPoint, yMin, yMax, y, ldy, scratch);
                break;
            case IsaPath.Avx2 or IsaPath.Avx512Vnni:
                if (range == MultiplierRange.Unclassified) range = ClassifyMultipliers(multipliers[..m]);
                MultiplyRequantizeAvx2(m, n, k, packedA, b, ldb, bias, multipliers, yZeroPoint, yMin, yMax, y, ldy, scratch, range,
                    vnni: isa == IsaPath.Avx512Vnni);
                break;
            case IsaPath.Scalar:
                MultiplyRequantizeScalar(m, n, k, packedA, b, ldb, bias, multipliers, yZeroPoint, yMin, yMax, y, ldy);
                break;
            default:
                throw UnsupportedFused(isa);
        }
    }

    /// <summary>The definition of <see cref="MultiplyRequantize"/> over the scalar packing (row-major int16 <c>a - rowOffset</c>).</summary>
    public static void MultiplyRequantizeScalar(int m, int n, int k, ReadOnlySpan<sbyte> packedA, ReadOnlySpan<sbyte> b, int ldb,
        ReadOnlySpan<int> bias, ReadOnlySpan<float> multipliers, int yZeroPoint, int yMin, int yMax, Span<byte> y, int ldy)
    {
        var a = System.Runtime.InteropServices.MemoryMarshal.Cast<sbyte, short>(packedA);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                int sum = 0;
                for (int kk = 0; kk < k; kk++) sum = unchecked(sum + a[i * k + kk] * b[kk * ldb + j]);
                y[i * ldy + j] = (byte)Requantization.Requantize(unchecked(sum + bias[i]), multipliers[i], yZeroPoint, yMin, yMax);
            }
    }

    private static NotSupportedException UnsupportedFused(IsaPath isa) =>
        new($"fused GEMM requantization is not implemented on the {isa} path (check QGemm.HasFusedRequantization)");
}
