using EdgeRuntime.Kernels.Common;
using EdgeRuntime.Kernels.SelfTest;

namespace EdgeRuntime.Kernels.Gemm;

/// <summary>
/// Self-test group for <see cref="QGemm.MultiplyRequantize"/>: on every path that has it, the fused kernel must write
/// exactly the bytes of the unfused definition (<see cref="QGemm.MultiplyScalar"/> on the raw weights, then
/// <see cref="QGemmRequantization.RowsScalar"/> with the row offsets as weight zero points and
/// <see cref="QGemm.ColumnSumsScalar"/>), and nothing into the row padding of y. Shapes: the M/K/N sweeps of
/// <see cref="KernelSelfTest"/>, scratch sized for N and for a wider tile (AVX2's two loop orders), strided B, int8 and uint8 output ranges, narrowed (fused activation) clamps, extreme
/// operands and zero points, and MobileNetV2 pointwise shapes.
/// </summary>
public static class QGemmFusedSelfTest
{
    /// <summary>
    /// Runs the sweep on <paramref name="path"/>, recording one result per case. Where the path has no fused kernel,
    /// the same cases check the unfused composition callers use there (Multiply, ColumnSums, Rows on that path).
    /// </summary>
    public static void Check(IsaPath path, SelfTestRecorder recorder)
    {
        var random = new Random(20261128);
        int caseIndex = 0;
        foreach (int m in KernelSelfTest.RowCounts)
            foreach (int k in KernelSelfTest.DepthCounts)
            {
                int n = KernelSelfTest.ColumnCounts[(caseIndex * 7 + m) % KernelSelfTest.ColumnCounts.Count];
                int ldb = caseIndex % 2 == 0 ? n : n + 1 + caseIndex % 13;
                Case(path, recorder, random, m, n, k, ldb, caseIndex % Variants);
                caseIndex++;
            }
        foreach (var (m, n, k) in new[] { (96, 196, 24), (24, 144, 96), (160, 49, 96), (1001, 1, 320), (32, 50176 / 64, 27), (6, 16, 4096) })
            for (int variant = 0; variant < Variants; variant++)
                Case(path, recorder, random, m, n, k, n, variant);
        if (!QGemm.HasMatrixVector(path)) return;
        // The matrix-vector kernel (dense layers), with all-zero and with any row offsets (subtracted as offset·Σb on AVX2).
        caseIndex = 0;
        foreach (int m in KernelSelfTest.RowCounts)
            foreach (int k in KernelSelfTest.DepthCounts)
            {
                Case(path, recorder, random, m, 1, k, 1 + caseIndex % 3, caseIndex % Variants, MatrixVector.ZeroOffsets);
                Case(path, recorder, random, m, 1, k, 1, (caseIndex + 3) % Variants, MatrixVector.AnyOffsets);
                caseIndex++;
            }
        for (int variant = 0; variant < Variants; variant++)
        {
            Case(path, recorder, random, 1001, 1, 1280, 1, variant, MatrixVector.ZeroOffsets);
            Case(path, recorder, random, 1001, 1, 1280, 1, variant, MatrixVector.AnyOffsets);
        }
    }

    private static readonly (int, int)[] AtLimitPairs = [(64, 64), (100, 28), (28, 100), (127, 1), (-64, -64), (-100, -28), (-128, 0), (0, -128), (127, -128), (-128, 127), (5, -7)];
    private static readonly (int, int)[] BeyondLimitPairs = [(100, 29), (29, 100), (127, 2), (-100, -29), (-29, -100), (-128, -1), (127, 127), (-128, -128)];

    /// <summary>Which kernel a case runs: the fused GEMM, or the matrix-vector one with all-zero or with any row offsets.</summary>
    private enum MatrixVector { No, ZeroOffsets, AnyOffsets }

    private const int Variants = 12;

    /// <summary>
    /// One case. <paramref name="variant"/>: 0 int8 output, 1 uint8 output, 2 narrowed int8 clamp, 3 extreme operands
    /// (all −128 with offsets +127, so |a − offset| = 255), 4 multipliers that saturate most outputs, 5 weights in
    /// [−127, 127] as real models have (the Neon kernel's two-products-per-lane path), 6 weights in a narrow range
    /// [−100, 40] with offsets near and far from it (per-row shifts of the ARM packing) and B holding −128 often,
    /// 7 multipliers of 1 and above up to 1e30 (products beyond int32, which AVX2 must cap before converting), 8 a
    /// non-finite multiplier (NaN, ±∞) in some rows, 9 multipliers just below 1 with biases near ±2³¹ (the largest
    /// products AVX2 converts without a cap), 10 small weights with small offsets and a few extreme ones (AVX2's
    /// VPMADDUBSW format with corrections: weight pairs whose sum or value does not fit its int16/int8 operands),
    /// 11 weight pairs whose sums lie at VPMADDUBSW's int16 limit (±128) and, rarely, just beyond it, against
    /// activations that are often 127 (u = 255). Variants 0–9 mostly have too many pairs beyond the limit, and AVX2
    /// packs them in its int16 pair format.
    /// </summary>
    private static void Case(IsaPath path, SelfTestRecorder recorder, Random random, int m, int n, int k, int ldb, int variant,
        MatrixVector matrixVector = MatrixVector.No)
    {
        var a = new sbyte[m * k];
        var b = new sbyte[k == 0 ? 0 : (k - 1) * ldb + n];
        var offsets = new int[m];
        var bias = new int[m];
        var multipliers = new float[m];
        for (int i = 0; i < a.Length; i++)
            a[i] = variant switch
            {
                3 => sbyte.MinValue,
                5 => (sbyte)random.Next(-127, 128),
                6 => (sbyte)random.Next(-100, 41),
                10 => random.Next(200) == 0 ? (random.Next(2) == 0 ? sbyte.MinValue : sbyte.MaxValue) : (sbyte)random.Next(-30, 31),
                _ => (sbyte)random.Next(-128, 128),
            };
        if (variant == 11)
            for (int i = 0; i + 1 < a.Length; i += 2)
            {
                // Pairs at VPMADDUBSW's limit: sums of ±128 fit int16 against any uint8 activations (255·128 = 32640),
                // sums of ±129 (one pair in 128) must be split, or 255·129 saturates.
                var (low, high) = random.Next(128) == 0
                    ? BeyondLimitPairs[random.Next(BeyondLimitPairs.Length)]
                    : AtLimitPairs[random.Next(AtLimitPairs.Length)];
                (a[i], a[i + 1]) = ((sbyte)low, (sbyte)high);
            }
        if (variant == 10 && a.Length > 1)
            for (int extreme = 0; extreme < 3; extreme++) // at least a few corrections, also in small matrices
            {
                int at = random.Next(a.Length - 1);
                (a[at], a[at + 1]) = random.Next(2) == 0 ? (sbyte.MaxValue, (sbyte)100) : (sbyte.MinValue, (sbyte)-90);
            }
        for (int i = 0; i < b.Length; i++)
            b[i] = variant == 3 || variant == 11 && random.Next(2) == 0 ? sbyte.MaxValue : variant == 6 && random.Next(3) == 0 ? sbyte.MinValue : (sbyte)random.Next(-128, 128);
        for (int i = 0; i < m; i++)
        {
            offsets[i] = variant == 3 ? 127 : random.Next(4) == 0 ? 0 : random.Next(-128, 128);
            bias[i] = random.Next(-50_000, 50_000);
            // Scale so that outputs spread over the 8-bit range (≈ 1/(128·√K) per unit of acc) or saturate.
            float typical = 1f / (64f * MathF.Sqrt(Math.Max(k, 1)) * 96f);
            multipliers[i] = typical * (variant == 4 ? 50f : 0.25f + (float)random.NextDouble());
            if (variant == 7) multipliers[i] = random.Next(4) switch { 0 => 1f, 1 => 2.5f, 2 => 1e6f, _ => 1e30f };
            if (variant == 9)
            {
                multipliers[i] = random.Next(2) == 0 ? 0.99999994f : 0.5f + 0.49f * (float)random.NextDouble();
                bias[i] = random.Next(2) == 0 ? int.MaxValue - random.Next(1000) : int.MinValue + random.Next(1000);
            }
            if (variant == 8 && random.Next(3) == 0) multipliers[i] = random.Next(3) switch { 0 => float.NaN, 1 => float.PositiveInfinity, _ => float.NegativeInfinity };
        }
        bool unsignedOutput = variant == 1;
        int yZeroPoint = unsignedOutput ? random.Next(0, 256) : random.Next(-128, 128);
        int yMin = unsignedOutput ? 0 : -128, yMax = unsignedOutput ? 255 : 127;
        if (variant == 6) for (int i = 0; i < m; i++) offsets[i] = random.Next(2) == 0 ? random.Next(-30, 0) : random.Next(-128, 128);
        if (variant == 10) for (int i = 0; i < m; i++) offsets[i] = random.Next(3) == 0 ? 0 : random.Next(-20, 21);
        if (variant == 11) Array.Clear(offsets);
        if (matrixVector == MatrixVector.ZeroOffsets) Array.Clear(offsets);
        if (variant == 2) { yMin = Math.Max(yMin, yZeroPoint); yMax = Math.Min(yMax, yZeroPoint + 60); }

        int ldy = n + 3;
        const byte Sentinel = 0xA5;
        var expected = new byte[m * ldy];
        var actual = new byte[m * ldy];
        Array.Fill(expected, Sentinel);
        Array.Fill(actual, Sentinel);
        var acc = new int[m * n];
        var sums = new int[n];
        QGemm.MultiplyScalar(m, n, k, a, b, ldb, acc, n);
        QGemm.ColumnSumsScalar(b, k, n, ldb, sums);
        QGemmRequantization.RowsScalar(acc, n, m, n, bias, offsets, sums, multipliers, yZeroPoint, yMin, yMax, 0, expected, ldy);

        string Describe() => $"{(matrixVector == MatrixVector.No ? "" : $"matrix-vector ({matrixVector}) ")}m={m} n={n} k={k} ldb={ldb} variant={variant} y=[{yMin},{yMax}] zp={yZeroPoint}";
        try
        {
            if (matrixVector != MatrixVector.No)
            {
                var packed = new sbyte[QGemm.PackedMatrixVectorALength(path, m, k)];
                QGemm.PackMatrixVectorA(path, a, m, k, offsets, packed);
                var scratch = new int[QGemm.MatrixVectorScratchLength(path, k)];
                QGemm.MultiplyVectorRequantize(path, m, k, packed, b, ldb, bias, multipliers, yZeroPoint, yMin, yMax, actual, ldy, scratch);
            }
            else if (QGemm.HasFusedRequantization(path))
            {
                var packed = new sbyte[QGemm.PackedAWithRowOffsetsLength(path, m, k)];
                QGemm.PackAWithRowOffsets(path, a, m, k, offsets, packed);
                // Scratch sized for a wider tile half the time: on AVX2, N <= 64 then runs the panel-by-panel order
                // instead of the weight-stationary one (both must give the reference's bytes).
                int scratchColumns = (m + n + k + variant) % 2 == 0 ? n : Math.Max(n, 65);
                var scratch = new int[QGemm.FusedScratchLength(path, m, scratchColumns, k)];
                // Multipliers classified by the caller (as a model's kernel does once at load) or on the call.
                var range = variant % 2 == 0 ? QGemm.ClassifyMultipliers(multipliers) : QGemm.MultiplierRange.Unclassified;
                QGemm.MultiplyRequantize(path, m, n, k, packed, b, ldb, bias, multipliers, yZeroPoint, yMin, yMax, actual, ldy, scratch, range);
            }
            else
            {
                var packed = new sbyte[QGemm.PackedALength(path, m, k)];
                QGemm.PackA(path, a, m, k, packed);
                var scratch = new int[QGemm.ScratchLength(path, m, n, k)];
                var pathAcc = new int[m * n];
                var pathSums = new int[n];
                QGemm.Multiply(path, m, n, k, packed, b, ldb, pathAcc, n, scratch);
                QGemm.ColumnSums(path, b, k, n, ldb, pathSums);
                QGemmRequantization.Rows(path, pathAcc, n, m, n, bias, offsets, pathSums, multipliers, yZeroPoint, yMin, yMax, 0, actual, ldy);
            }
        }
        catch (Exception ex)
        {
            recorder.Fail(Describe(), $"{ex.GetType().Name}: {ex.Message}");
            return;
        }
        int first = -1;
        for (int i = 0; i < expected.Length && first < 0; i++) if (expected[i] != actual[i]) first = i;
        recorder.Check(first < 0, Describe, () => first % ldy < n
            ? $"y[{first / ldy},{first % ldy}] = {actual[first]}, expected {expected[first]}"
            : $"wrote {actual[first]} into row padding at y[{first / ldy},{first % ldy}]");
    }
}
