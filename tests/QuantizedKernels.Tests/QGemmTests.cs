using EdgeRuntime.Kernels.Common;
using EdgeRuntime.Kernels.Gemm;
using Xunit;
using Xunit.Abstractions;

namespace EdgeRuntime.Kernels.Tests;

/// <summary>Every SIMD path of <see cref="QGemm"/> and <see cref="QGemmRequantization"/> must equal the scalar definition bit for bit.</summary>
public sealed class QGemmTests(ITestOutputHelper output)
{
    private static readonly int[] Ms = [1, 2, 3, 4, 7, 8, 15, 16, 17, 31, 32, 33, 64];
    private static readonly int[] Ks = [1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 31, 32, 33, 64, 100];
    private static readonly int[] Ns = [1, 2, 3, 7, 8, 15, 16, 17, 33, 64, 100];

    public static TheoryData<IsaPath> VectorPaths() =>
        new(Enum.GetValues<IsaPath>().Where(p => p != IsaPath.Scalar));

    private bool Skip(IsaPath isa)
    {
        if (CpuFeatures.IsSupported(isa)) return false;
        output.WriteLine($"SKIPPED: this CPU does not support {CpuFeatures.Name(isa)}");
        return true;
    }

    /// <summary>How the operands are filled: random, or constant extremes that stress exactness.</summary>
    private enum Fill { Random, AllMinimum, AllMaximum, Mixed }

    private static void FillValues(sbyte[] values, Fill fill, Random random, bool isWeights)
    {
        for (int i = 0; i < values.Length; i++)
            values[i] = fill switch
            {
                Fill.AllMinimum => sbyte.MinValue,
                Fill.AllMaximum => sbyte.MaxValue,
                // weights -128 against activations alternating -128/127: the largest |products| of both signs
                Fill.Mixed => isWeights ? sbyte.MinValue : (i % 3 == 0 ? sbyte.MaxValue : sbyte.MinValue),
                _ => (sbyte)random.Next(-128, 128),
            };
    }

    /// <summary>Runs one case on <paramref name="isa"/> and the scalar definition; returns a message on mismatch.</summary>
    private static string? CompareMultiply(IsaPath isa, int m, int k, int n, int ldb, Fill fill, Random random)
    {
        var a = new sbyte[m * k];
        var b = new sbyte[(k - 1) * ldb + n];
        FillValues(a, fill, random, isWeights: true);
        FillValues(b, fill, random, isWeights: false);
        int ldAcc = n + 3;
        var expected = new int[m * ldAcc];
        var actual = new int[m * ldAcc];
        Array.Fill(expected, 0x5A5A5A5A); // padding between rows must stay untouched
        Array.Fill(actual, 0x5A5A5A5A);
        QGemm.MultiplyScalar(m, n, k, a, b, ldb, expected, ldAcc);
        var packed = new sbyte[QGemm.PackedALength(isa, m, k)];
        QGemm.PackA(isa, a, m, k, packed);
        var scratch = new int[QGemm.ScratchLength(isa, m, n, k)];
        QGemm.Multiply(isa, m, n, k, packed, b, ldb, actual, ldAcc, scratch);
        for (int i = 0; i < expected.Length; i++)
            if (expected[i] != actual[i])
                return $"{isa} m={m} k={k} n={n} ldb={ldb} fill={fill}: acc[{i / ldAcc},{i % ldAcc}] = {actual[i]}, scalar {expected[i]}";
        return null;
    }

    [Theory]
    [MemberData(nameof(VectorPaths))]
    public void Multiply_MatchesScalar_OverShapeSweep(IsaPath isa)
    {
        if (Skip(isa)) return;
        var random = new Random(20240611);
        var failures = new List<string>();
        int cases = 0;
        foreach (int m in Ms)
            foreach (int k in Ks)
                foreach (int n in Ns)
                {
                    int ldb = (m + k + n) % 4 == 0 ? n + 5 : n; // a quarter of the cases with a wider row stride
                    var fill = (cases % 11) switch { 0 => Fill.AllMinimum, 1 => Fill.AllMaximum, 2 => Fill.Mixed, _ => Fill.Random };
                    if (CompareMultiply(isa, m, k, n, ldb, fill, random) is { } failure) failures.Add(failure);
                    cases++;
                }
        output.WriteLine($"{isa}: {cases} shapes compared");
        Assert.True(failures.Count == 0, $"{failures.Count} of {cases} cases differ, e.g.\n{string.Join("\n", failures.Take(10))}");
    }

    [Theory]
    [MemberData(nameof(VectorPaths))]
    public void Multiply_MatchesScalar_OnExtremesAndLargerShapes(IsaPath isa)
    {
        if (Skip(isa)) return;
        var random = new Random(7);
        var failures = new List<string>();
        foreach (var fill in Enum.GetValues<Fill>())
            foreach (var (m, k, n) in new[] { (64, 960, 49), (70, 300, 200), (16, 1000, 37), (33, 257, 129) })
                if (CompareMultiply(isa, m, k, n, n + 16, fill, random) is { } failure) failures.Add(failure);
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Theory]
    [MemberData(nameof(VectorPaths))]
    public void Multiply_WithZeroSizedDimensions_WritesZerosOrNothing(IsaPath isa)
    {
        if (Skip(isa)) return;
        // K = 0: the empty sum is 0.
        var acc = new int[6];
        Array.Fill(acc, 99);
        var packed = new sbyte[QGemm.PackedALength(isa, 2, 0)];
        QGemm.PackA(isa, [], 2, 0, packed);
        QGemm.Multiply(isa, 2, 3, 0, packed, [], 3, acc, 3, new int[QGemm.ScratchLength(isa, 2, 3, 0)]);
        Assert.All(acc, v => Assert.Equal(0, v));
        // M = 0 or N = 0: nothing to write.
        QGemm.Multiply(isa, 0, 3, 4, [], new sbyte[12], 3, [], 3, new int[QGemm.ScratchLength(isa, 0, 3, 4)]);
        QGemm.Multiply(isa, 2, 0, 4, new sbyte[QGemm.PackedALength(isa, 2, 4)], [], 0, [], 0, new int[QGemm.ScratchLength(isa, 2, 0, 4)]);
    }

    [Theory]
    [MemberData(nameof(VectorPaths))]
    public void Multiply_RejectsTooSmallBuffers(IsaPath isa)
    {
        if (Skip(isa)) return;
        int m = 5, k = 9, n = 20;
        var packed = new sbyte[QGemm.PackedALength(isa, m, k)];
        var b = new sbyte[k * n];
        var acc = new int[m * n];
        var scratch = new int[QGemm.ScratchLength(isa, m, n, k)];
        Assert.Throws<ArgumentException>(() => QGemm.Multiply(isa, m, n, k, packed.AsSpan(1), b, n, acc, n, scratch));
        Assert.Throws<ArgumentException>(() => QGemm.Multiply(isa, m, n, k, packed, b.AsSpan(1), n, acc, n, scratch));
        Assert.Throws<ArgumentException>(() => QGemm.Multiply(isa, m, n, k, packed, b, n, acc.AsSpan(1), n, scratch));
        if (scratch.Length > 0)
            Assert.Throws<ArgumentException>(() => QGemm.Multiply(isa, m, n, k, packed, b, n, acc, n, scratch.AsSpan(1)));
    }

    [Theory]
    [MemberData(nameof(VectorPaths))]
    public void ColumnSums_MatchScalar(IsaPath isa)
    {
        if (Skip(isa)) return;
        var random = new Random(3);
        int cases = 0;
        foreach (int k in new[] { 0, 1, 2, 17, 100, 255, 256, 257, 600 })
            foreach (int n in new[] { 1, 7, 8, 9, 15, 16, 17, 33, 100 })
                foreach (var fill in Enum.GetValues<Fill>())
                {
                    int ldb = n + (k % 3);
                    var b = new sbyte[Math.Max(0, (k - 1) * ldb + n)];
                    FillValues(b, fill, random, isWeights: false);
                    var expected = new int[n + 2];
                    var actual = new int[n + 2];
                    expected[n] = actual[n] = 77;
                    QGemm.ColumnSums(IsaPath.Scalar, b, k, n, ldb, expected);
                    QGemm.ColumnSums(isa, b, k, n, ldb, actual);
                    Assert.True(expected.AsSpan().SequenceEqual(actual), $"{isa} k={k} n={n} fill={fill}: [{string.Join(",", actual)}] vs scalar [{string.Join(",", expected)}]");
                    cases++;
                }
        output.WriteLine($"{isa}: {cases} column-sum cases compared");
    }

    [Theory]
    [MemberData(nameof(VectorPaths))]
    public void Rows_MatchScalar(IsaPath isa)
    {
        if (Skip(isa)) return;
        var random = new Random(11);
        int cases = 0;
        foreach (int n in new[] { 1, 7, 8, 9, 16, 23, 64 })
            foreach (bool withWeightZeroPoints in new[] { false, true })
                foreach (var (yZeroPoint, yMin, yMax, outputXor) in new[] { (0, -128, 127, 0), (-128, -128, 127, 0x80), (5, -128, 127, 0), (-20, -10, 100, 0x80), (0, 0, 6, 0) })
                {
                    int m = 5, ldAcc = n + 2, ldy = n + 1;
                    var acc = new int[m * ldAcc];
                    for (int i = 0; i < acc.Length; i++)
                        acc[i] = (i % 9) switch
                        {
                            0 => int.MaxValue, 1 => int.MinValue, 2 => 2 * (i % 7) + 1, // odd × 0.5 gives ties
                            _ => random.Next(-200000, 200000),
                        };
                    var bias = new[] { 0, 17, -100000, 1 << 28, -3 };
                    var multipliers = new[] { 0.5f, 1f / 1024, 3.1e-4f, 1e30f, float.NaN };
                    var weightZeroPoints = withWeightZeroPoints ? new[] { 0, 3, -128, 127, 1 } : [];
                    var columnSums = Enumerable.Range(0, n).Select(j => random.Next(-30000, 30000)).ToArray();
                    var expected = new byte[m * ldy];
                    var actual = new byte[m * ldy];
                    expected[^1] = actual[^1] = 0xEE;
                    QGemmRequantization.Rows(IsaPath.Scalar, acc, ldAcc, m, n, bias, weightZeroPoints, columnSums, multipliers, yZeroPoint, yMin, yMax, outputXor, expected, ldy);
                    QGemmRequantization.Rows(isa, acc, ldAcc, m, n, bias, weightZeroPoints, columnSums, multipliers, yZeroPoint, yMin, yMax, outputXor, actual, ldy);
                    Assert.True(expected.AsSpan().SequenceEqual(actual),
                        $"{isa} n={n} wz={withWeightZeroPoints} zp={yZeroPoint} range=[{yMin},{yMax}] xor={outputXor}: [{string.Join(",", actual)}] vs scalar [{string.Join(",", expected)}]");
                    cases++;
                }
        output.WriteLine($"{isa}: {cases} requantization cases compared");
    }

    [Theory]
    [MemberData(nameof(VectorPaths))]
    public void Rows_TiesRoundToEven(IsaPath isa)
    {
        if (Skip(isa)) return;
        // acc × 0.5 = k + 0.5 for every k in -20..19: halves go to the even neighbour, exactly as the scalar path.
        int n = 40;
        var acc = Enumerable.Range(-20, n).Select(v => 2 * v + 1).ToArray();
        var expected = new byte[n];
        var actual = new byte[n];
        QGemmRequantization.Rows(IsaPath.Scalar, acc, n, 1, n, [0], [], [], [0.5f], 0, -128, 127, 0, expected, n);
        QGemmRequantization.Rows(isa, acc, n, 1, n, [0], [], [], [0.5f], 0, -128, 127, 0, actual, n);
        Assert.Equal(expected, actual);
        Assert.Equal(unchecked((byte)-20), actual[0]); // -19.5 → -20
        Assert.Equal(0, actual[19]);               // -0.5 → 0
        Assert.Equal(0, actual[20]);               // 0.5 → 0
        Assert.Equal(2, actual[21]);               // 1.5 → 2
    }

    public static TheoryData<IsaPath> AllPaths() => new(Enum.GetValues<IsaPath>());

    /// <summary>The fused GEMM + requantization equals Multiply → ColumnSums → Rows (scalar) over the self-test sweep.</summary>
    [Theory]
    [MemberData(nameof(AllPaths))]
    public void MultiplyRequantize_MatchesUnfusedDefinition(IsaPath isa)
    {
        if (Skip(isa)) return;
        var recorder = new EdgeRuntime.Kernels.SelfTest.SelfTestRecorder(5);
        QGemmFusedSelfTest.Check(isa, recorder);
        Assert.True(recorder.Failed == 0, string.Join("\n", recorder.Details));
        Assert.True(recorder.Passed > 200, $"only {recorder.Passed} cases ran");
        if (!QGemm.HasFusedRequantization(isa)) output.WriteLine($"{isa}: no fused kernel; checked Multiply + ColumnSums + Rows");
    }

    [Theory]
    [MemberData(nameof(AllPaths))]
    public void MultiplyRequantize_RejectsBadArguments(IsaPath isa)
    {
        if (Skip(isa) || !QGemm.HasFusedRequantization(isa)) return;
        int m = 7, n = 20, k = 9;
        var packed = new sbyte[QGemm.PackedAWithRowOffsetsLength(isa, m, k)];
        QGemm.PackAWithRowOffsets(isa, new sbyte[m * k], m, k, new int[m], packed);
        var scratch = new int[QGemm.FusedScratchLength(isa, m, n, k)];
        var b = new sbyte[k * n];
        Assert.Throws<ArgumentException>(() => QGemm.MultiplyRequantize(isa, m, n, k, packed, b, n, new int[m], new float[m], 0, -128, 127, new byte[m * n - 1], n, scratch));
        Assert.Throws<ArgumentException>(() => QGemm.MultiplyRequantize(isa, m, n, k, packed, b.AsSpan(1), n, new int[m], new float[m], 0, -128, 127, new byte[m * n], n, scratch));
        Assert.Throws<ArgumentException>(() => QGemm.MultiplyRequantize(isa, m, n, k, packed, b, n, new int[m - 1], new float[m], 0, -128, 127, new byte[m * n], n, scratch));
        Assert.Throws<ArgumentOutOfRangeException>(() => QGemm.MultiplyRequantize(isa, m, n, k, packed, b, n, new int[m], new float[m], 0, -129, 127, new byte[m * n], n, scratch));
        Assert.Throws<OverflowException>(() => QGemm.PackAWithRowOffsets(isa, Enumerable.Repeat((sbyte)-128, m * k).ToArray(), m, k, Enumerable.Repeat(32700, m).ToArray(), packed));
    }

    /// <summary>
    /// Scratch sized for a wide tile must serve a narrow last tile (N ≤ 64, where AVX2 would like more scratch for its
    /// weight-stationary order): the call is accepted and writes the same bytes; less than a wide tile's scratch is refused.
    /// </summary>
    [Theory]
    [MemberData(nameof(AllPaths))]
    public void MultiplyRequantize_NarrowTileWithWideTileScratch_GivesSameBytes(IsaPath isa)
    {
        if (Skip(isa) || !QGemm.HasFusedRequantization(isa)) return;
        int m = 20, n = 49, k = 40;
        var random = new Random(7);
        var a = new sbyte[m * k];
        var b = new sbyte[k * n];
        random.NextBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(a.AsSpan()));
        random.NextBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(b.AsSpan()));
        var offsets = Enumerable.Range(0, m).Select(i => i % 5 - 2).ToArray();
        var bias = Enumerable.Range(0, m).Select(i => i * 37 - 300).ToArray();
        var multipliers = Enumerable.Range(0, m).Select(i => 0.002f + i * 1e-4f).ToArray();
        var packed = new sbyte[QGemm.PackedAWithRowOffsetsLength(isa, m, k)];
        QGemm.PackAWithRowOffsets(isa, a, m, k, offsets, packed);
        byte[] Run(int scratchLength)
        {
            var y = new byte[m * n];
            QGemm.MultiplyRequantize(isa, m, n, k, packed, b, n, bias, multipliers, 3, -128, 127, y, n, new int[scratchLength]);
            return y;
        }
        var narrow = Run(QGemm.FusedScratchLength(isa, m, n, k));
        var wide = Run(QGemm.FusedScratchLength(isa, m, 65, k));
        Assert.Equal(narrow, wide);
        var expected = new byte[m * n];
        QGemm.MultiplyRequantize(IsaPath.Scalar, m, n, k, PackScalar(a, m, k, offsets), b, n, bias, multipliers, 3, -128, 127, expected, n, []);
        Assert.Equal(expected, narrow);
        // AVX2's fused GEMM (also avx512vnni's) accepts down to one 16-column panel (QGemm.ScratchLength on AVX2),
        // running panel by panel.
        bool avx2Fused = isa is IsaPath.Avx2 or IsaPath.Avx512Vnni;
        int minimum = avx2Fused ? QGemm.ScratchLength(IsaPath.Avx2, m, n, k) : Math.Min(QGemm.FusedScratchLength(isa, m, n, k), QGemm.FusedScratchLength(isa, m, 65, k));
        if (avx2Fused) Assert.Equal(expected, Run(minimum));
        if (minimum > 0) Assert.Throws<ArgumentException>(() => Run(minimum - 1));
    }

    /// <summary>
    /// Wide B on AVX2 runs in chunks of up to four 16-column panels, as many as the scratch holds: whatever the scratch
    /// (one panel's worth, the documented length, or room for more than four), with partial last chunks, partial last
    /// panels and 1–2-column vector tails, both packed formats give the scalar definition's bytes.
    /// </summary>
    [Theory]
    [InlineData(IsaPath.Avx2, true)]
    [InlineData(IsaPath.Avx2, false)]
    [InlineData(IsaPath.Avx512Vnni, true)]
    [InlineData(IsaPath.Avx512Vnni, false)]
    public void MultiplyRequantize_WideB_AnyChunking_GivesScalarBytes(IsaPath isa, bool trainedLike)
    {
        if (Skip(isa)) return;
        var random = new Random(trainedLike ? 11 : 12);
        foreach (int k in new[] { 16, 40, 384, 600 })
            foreach (int n in new[] { 65, 100, 129, 130, 200, 257 })
            {
                int m = 13;
                var a = trainedLike ? TrainedLikeWeights(m * k, random) : Enumerable.Range(0, m * k).Select(_ => (sbyte)random.Next(-128, 128)).ToArray();
                var b = new sbyte[k * n];
                random.NextBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(b.AsSpan()));
                var offsets = Enumerable.Range(0, m).Select(i => i % 3 - 1).ToArray();
                var bias = Enumerable.Range(0, m).Select(i => i * 53 - 400).ToArray();
                var multipliers = Enumerable.Range(0, m).Select(i => 0.3f / (k + 16) * (1 + i % 4)).ToArray();
                var packed = new sbyte[QGemm.PackedAWithRowOffsetsLength(isa, m, k)];
                QGemm.PackAWithRowOffsets(isa, a, m, k, offsets, packed);
                var expected = new byte[m * n];
                QGemm.MultiplyRequantize(IsaPath.Scalar, m, n, k, PackScalar(a, m, k, offsets), b, n, bias, multipliers, -5, -128, 127, expected, n, []);
                int onePanel = QGemm.ScratchLength(IsaPath.Avx2, m, n, k);
                foreach (int scratchLength in new[] { onePanel, QGemm.FusedScratchLength(isa, m, n, k), 9 * onePanel })
                {
                    var y = new byte[m * n];
                    QGemm.MultiplyRequantize(isa, m, n, k, packed, b, n, bias, multipliers, -5, -128, 127, y, n, new int[scratchLength]);
                    Assert.True(expected.AsSpan().SequenceEqual(y), $"k={k} n={n} scratch={scratchLength} ints (one panel {onePanel})");
                }
            }
    }

    /// <summary>Weights spread like a trained layer's: about normal with σ = 25 int8 steps.</summary>
    private static sbyte[] TrainedLikeWeights(int count, Random random) =>
        Enumerable.Range(0, count).Select(_ =>
            (sbyte)Math.Clamp(Math.Round(25 * Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble())), -128, 127)).ToArray();

    /// <summary>
    /// AVX2 packs trained-like weights in its VPMADDUBSW (quad) format, with a few corrections for the pairs that could
    /// saturate, and uniform int8 weights minus offsets (about half their pairs could) in the int16 pair format; both
    /// give the scalar definition's bytes. The format is the packed header's first int, the correction count its second.
    /// avx512vnni packs the trained-like weights as exact quads (no corrections) and the others like AVX2.
    /// </summary>
    [Theory]
    [InlineData(IsaPath.Avx2, true, 1)]
    [InlineData(IsaPath.Avx2, false, 0)]
    [InlineData(IsaPath.Avx512Vnni, true, 1)]
    [InlineData(IsaPath.Avx512Vnni, false, 0)]
    public void PackAWithRowOffsets_Avx2_PicksTheFormatByWeights_AndBothGiveTheDefinition(IsaPath isa, bool trainedLike, int expectedFormat)
    {
        if (Skip(isa)) return;
        int m = 96, n = 196, k = 576;
        var random = new Random(11);
        var a = trainedLike ? TrainedLikeWeights(m * k, random) : Enumerable.Range(0, m * k).Select(_ => (sbyte)random.Next(-128, 128)).ToArray();
        var b = new sbyte[k * n];
        random.NextBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(b.AsSpan()));
        var offsets = trainedLike ? new int[m] : Enumerable.Range(0, m).Select(_ => random.Next(-128, 128)).ToArray();
        var bias = Enumerable.Range(0, m).Select(_ => random.Next(-100_000, 100_000)).ToArray();
        var multipliers = Enumerable.Range(0, m).Select(_ => 1f / 40_000 * (0.5f + (float)random.NextDouble())).ToArray();
        var bound = new sbyte[QGemm.PackedAWithRowOffsetsLength(isa, m, k)];
        int used = QGemm.PackAWithRowOffsets(isa, a, m, k, offsets, bound);
        var header = System.Runtime.InteropServices.MemoryMarshal.Cast<sbyte, int>(bound);
        Assert.Equal(expectedFormat, header[0]);
        // AVX2: a few pairs beyond VPMADDUBSW's limit, as in real models. avx512vnni: exact quads (header int 4), the
        // weights as they are and no correction, since VPDPBUSD cannot saturate.
        if (trainedLike && isa == IsaPath.Avx2) Assert.InRange(header[1], 1, m * k / 1000);
        if (trainedLike && isa == IsaPath.Avx512Vnni) Assert.Equal((0, 1), (header[1], header[4]));
        if (!trainedLike) Assert.Equal(0, header[4]); // weights minus offsets beyond int8: the pair format
        // The quad format takes a byte per weight, the pair format two: a model keeps only the bytes used.
        Assert.InRange(used, m * k * (expectedFormat == 1 ? 1 : 2), m * k * (expectedFormat == 1 ? 1.1 : 2.1));
        Assert.All(bound[used..], value => Assert.Equal(0, value));
        var packed = bound[..used];
        var scratch = new int[QGemm.FusedScratchLength(isa, m, n, k)];
        var actual = new byte[m * n];
        QGemm.MultiplyRequantize(isa, m, n, k, packed, b, n, bias, multipliers, 5, -128, 127, actual, n, scratch);
        var error = Assert.Throws<ArgumentException>(() => QGemm.MultiplyRequantize(isa, m, n, k, packed.AsSpan(..^1), b, n, bias, multipliers, 5, -128, 127, new byte[m * n], n, scratch));
        Assert.Contains($"needs {used}", error.Message);
        var expected = new byte[m * n];
        QGemm.MultiplyRequantize(IsaPath.Scalar, m, n, k, PackScalar(a, m, k, offsets), b, n, bias, multipliers, 5, -128, 127, expected, n, []);
        Assert.Equal(expected, actual);
    }

    /// <summary>
    /// avx512vnni's exact quads with corrections: trained-like weights whose zero point (row offset −1) puts a few of them
    /// at 128, past int8, so those are clamped and corrected while the rest go in as they are. Shapes with a last block
    /// of fewer than six rows, 1–2 matrix-vector tail columns (N = 49, 17, 18) and full panels give the scalar
    /// definition's bytes; the packed header says quads, exact, and as many corrections as weights at 128.
    /// </summary>
    [Theory]
    [InlineData(16, 27, 49)]
    [InlineData(32, 144, 17)]
    [InlineData(96, 576, 18)]
    [InlineData(20, 64, 196)]
    public void PackAWithRowOffsets_Avx512Vnni_ExactQuadsCorrectOnlyWeightsPastInt8(int m, int k, int n)
    {
        if (Skip(IsaPath.Avx512Vnni)) return;
        var isa = IsaPath.Avx512Vnni;
        var random = new Random(m + k + n);
        var a = TrainedLikeWeights(m * k, random);
        for (int r = 0; r < m; r += 5) a[r * k + r % k] = 127; // 127 − (−1) = 128: past int8
        int pastInt8 = a.Count(w => w == 127);
        var offsets = Enumerable.Repeat(-1, m).ToArray();
        var b = new sbyte[k * n];
        random.NextBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(b.AsSpan()));
        var bias = Enumerable.Range(0, m).Select(_ => random.Next(-1_000, 1_000)).ToArray();
        // Outputs spread over about ±60 steps, so that a missing correction (±128 in a sum) changes bytes.
        var multipliers = Enumerable.Range(0, m).Select(_ => (float)(1 / (16 * Math.Sqrt(k)) * (0.5 + random.NextDouble()))).ToArray();
        var packed = new sbyte[QGemm.PackedAWithRowOffsetsLength(isa, m, k)];
        QGemm.PackAWithRowOffsets(isa, a, m, k, offsets, packed);
        var header = System.Runtime.InteropServices.MemoryMarshal.Cast<sbyte, int>(packed);
        Assert.Equal((1, pastInt8, 1), (header[0], header[1], header[4]));
        var actual = new byte[m * n];
        QGemm.MultiplyRequantize(isa, m, n, k, packed, b, n, bias, multipliers, 3, -128, 127, actual, n, new int[QGemm.FusedScratchLength(isa, m, n, k)]);
        var expected = new byte[m * n];
        QGemm.MultiplyRequantize(IsaPath.Scalar, m, n, k, PackScalar(a, m, k, offsets), b, n, bias, multipliers, 3, -128, 127, expected, n, []);
        Assert.Equal(expected, actual);
    }

    /// <summary>
    /// The quad format's corrections name a k and a row that the kernel reads B and writes accumulators by, so packed
    /// bytes that do not match M and K, or a correction past K, are refused before any kernel runs.
    /// </summary>
    [Theory]
    [InlineData(IsaPath.Avx2)]
    [InlineData(IsaPath.Avx512Vnni)]
    public void MultiplyRequantize_Avx2_RefusesInconsistentPackedA(IsaPath isa)
    {
        if (Skip(isa)) return;
        int m = 12, n = 20, k = 16;
        var a = new sbyte[m * k];
        a[0] = 127;
        a[1] = 127; // one pair beyond the limit: one correction
        var packed = new sbyte[QGemm.PackedAWithRowOffsetsLength(isa, m, k)];
        QGemm.PackAWithRowOffsets(isa, a, m, k, [], packed);
        var header = System.Runtime.InteropServices.MemoryMarshal.Cast<sbyte, int>(packed);
        void RunOn(IsaPath path, sbyte[] p) => QGemm.MultiplyRequantize(path, m, n, k, p, new sbyte[k * n], n, new int[m], Enumerable.Repeat(0.01f, m).ToArray(),
            0, -128, 127, new byte[m * n], n, new int[QGemm.FusedScratchLength(path, m, n, k)]);
        void Run(sbyte[] p) => RunOn(isa, p);
        if (isa == IsaPath.Avx512Vnni)
        {
            // Exact quads: no correction, marked in header int 4; a wrong mark, or the AVX2 kernels (which could
            // saturate on them), are refused. The corrections' checks are the AVX2 case's (the same code).
            Assert.Equal((1, 0, 1), (header[0], header[1], header[4]));
            Run(packed);
            sbyte[] Mark(int value)
            {
                var copy = (sbyte[])packed.Clone();
                System.Runtime.InteropServices.MemoryMarshal.Cast<sbyte, int>(copy.AsSpan())[4] = value;
                return copy;
            }
            Assert.Throws<ArgumentException>(() => Run(Mark(2)));
            Assert.Contains("avx512vnni", Assert.Throws<ArgumentException>(() => RunOn(IsaPath.Avx2, packed)).Message);
            return;
        }
        Assert.Equal((1, 1), (header[0], header[1]));
        Run(packed);
        int correction = Array.FindLastIndex(System.Runtime.InteropServices.MemoryMarshal.Cast<sbyte, int>(packed).ToArray(), v => v == 1 * 8 + 0); // (k = 1, row 0) of the first block
        Assert.True(correction > 0);
        sbyte[] Corrupt(int index, int value)
        {
            var copy = (sbyte[])packed.Clone();
            var copyInts = System.Runtime.InteropServices.MemoryMarshal.Cast<sbyte, int>(copy.AsSpan());
            copyInts[index] = value;
            return copy;
        }
        Assert.Throws<ArgumentException>(() => Run(Corrupt(correction, k * 8)));     // k past K
        Assert.Throws<ArgumentException>(() => Run(Corrupt(correction, 6)));         // row 6 of a 6-row block
        Assert.Throws<ArgumentException>(() => Run(Corrupt(1, 1 << 20)));           // more corrections than the format holds
        Assert.Throws<ArgumentException>(() => Run(Corrupt(0, 7)));                 // unknown format
        Assert.Throws<ArgumentException>(() => Run(Corrupt(3, k + 1)));             // packed for another K
        // A block start between the index's ends is not checked per call (that would be O(M) on every call); the tile
        // loop clamps it into the list, so any value gives some bytes, never an access outside the buffers.
        int paddedRows = 12, quads = k / 4, blockStarts = 16 + paddedRows + paddedRows * quads;
        Assert.Equal((0, 1), (header[blockStarts], header[blockStarts + 2]));
        foreach (int start in new[] { int.MinValue, -5, 7, int.MaxValue }) Run(Corrupt(blockStarts + 1, start));
    }

    private static sbyte[] PackScalar(sbyte[] a, int m, int k, int[] offsets)
    {
        var packed = new sbyte[QGemm.PackedAWithRowOffsetsLength(IsaPath.Scalar, m, k)];
        QGemm.PackAWithRowOffsets(IsaPath.Scalar, a, m, k, offsets, packed);
        return packed;
    }

    [Theory]
    [InlineData(new[] { 0.5f, -0.999f, 0f }, QGemm.MultiplierRange.FiniteBelowOne)]
    [InlineData(new[] { 0.5f, 1f }, QGemm.MultiplierRange.Finite)]
    [InlineData(new[] { -1f }, QGemm.MultiplierRange.Finite)]
    [InlineData(new[] { 0.5f, float.NaN, 2f }, QGemm.MultiplierRange.NotAllFinite)]
    [InlineData(new[] { float.NegativeInfinity }, QGemm.MultiplierRange.NotAllFinite)]
    public void ClassifyMultipliers_NamesTheRange(float[] multipliers, QGemm.MultiplierRange expected) =>
        Assert.Equal(expected, QGemm.ClassifyMultipliers(multipliers));
}
