using EdgeRuntime.Kernels.Common;
using EdgeRuntime.Kernels.Gemm;

namespace EdgeRuntime.Kernels.SelfTest;

/// <summary>
/// A named group of kernel checks: <see cref="Run"/> exercises one <see cref="IsaPath"/> and reports every case to the
/// <see cref="SelfTestRecorder"/> (pass, or fail with a description). Add new kernels (depthwise convolution,
/// element-wise ops, …) by appending a group to <see cref="KernelSelfTest.Groups"/>.
/// </summary>
/// <param name="Name">Short name shown in reports, e.g. <c>qgemm.multiply</c>.</param>
/// <param name="Run">Runs every case of the group on the given path, comparing against the scalar definition.</param>
public sealed record KernelCheckGroup(string Name, Action<IsaPath, SelfTestRecorder> Run);

/// <summary>Collects pass/fail counts of one group on one path and keeps the first few failures in detail.</summary>
public sealed class SelfTestRecorder(int maxDetails)
{
    private readonly List<string> _details = [];

    /// <summary>Cases that matched.</summary>
    public int Passed { get; private set; }

    /// <summary>Cases that did not match (or threw).</summary>
    public int Failed { get; private set; }

    /// <summary>Descriptions of the first failures (at most the number given at construction).</summary>
    public IReadOnlyList<string> Details => _details;

    /// <summary>Records a matching case.</summary>
    public void Pass() => Passed++;

    /// <summary>Records a failing case: <paramref name="testCase"/> names its parameters, <paramref name="detail"/> the first difference.</summary>
    public void Fail(string testCase, string detail)
    {
        Failed++;
        if (_details.Count < maxDetails) _details.Add($"{testCase}: {detail}");
    }

    /// <summary>Records <paramref name="ok"/> as a pass, or as a failure described lazily.</summary>
    public void Check(bool ok, Func<string> testCase, Func<string> detail)
    {
        if (ok) Pass();
        else Fail(testCase(), detail());
    }
}

/// <summary>Outcome of one check group on one path.</summary>
public sealed record SelfTestGroupResult(string Group, IsaPath Path, int Passed, int Failed, IReadOnlyList<string> Failures);

/// <summary>Outcome of a whole self-test run.</summary>
/// <param name="Supported">Paths this CPU supports, fastest first.</param>
/// <param name="Exercised">Paths whose kernels were run and compared with the scalar definition.</param>
/// <param name="Groups">Per group and path counts.</param>
public sealed record SelfTestReport(IReadOnlyList<IsaPath> Supported, IReadOnlyList<IsaPath> Exercised, IReadOnlyList<SelfTestGroupResult> Groups)
{
    /// <summary>Total passing cases.</summary>
    public int Passed => Groups.Sum(g => g.Passed);

    /// <summary>Total failing cases.</summary>
    public int Failed => Groups.Sum(g => g.Failed);
}

/// <summary>
/// Checks that every SIMD path of the int8 kernels gives bit-identical results to the scalar definition on this CPU,
/// over sweeps of sizes just below, at and above every block size of every path, odd and even widths, strided inputs,
/// extreme operands (-128·-128 everywhere, ±127 mixes, int32 wrap-around) and seeded random data. Pure compute; used by
/// <c>edgerun selftest</c> on real devices and under emulation.
/// </summary>
public static class KernelSelfTest
{
    /// <summary>Output channel / M values (blocks of 4, 8, 16, 32 rows are all straddled).</summary>
    public static IReadOnlyList<int> RowCounts { get; } = [1, 2, 3, 4, 7, 8, 15, 16, 17, 31, 32, 33, 64];

    /// <summary>K values: below, at and above k groups of 2, 4, 8, 16, 32 and 64.</summary>
    public static IReadOnlyList<int> DepthCounts { get; } = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65];

    /// <summary>N values: 1, odd and even, around vector widths and column panels, and several panels plus a tail.</summary>
    public static IReadOnlyList<int> ColumnCounts { get; } = [1, 2, 3, 4, 5, 8, 15, 16, 17, 31, 32, 33, 47, 64, 100];

    /// <summary>The check groups, in report order.</summary>
    public static IReadOnlyList<KernelCheckGroup> Groups { get; } =
    [
        new("qgemm.multiply", CheckMultiply),
        new("qgemm.columnsums", CheckColumnSums),
        new("qgemm.requantize", CheckRequantizeRows),
        new("qgemm.fused", Gemm.QGemmFusedSelfTest.Check),
        new("depthwise.conv", CheckDepthwise),
        new("qlinear.add", CheckQLinearAdd),
        new("qlinear.mul", ElementwiseSelfTest.CheckQLinearMul),
        new("qlinear.gap", ElementwiseSelfTest.CheckQLinearGlobalAveragePool),
        new("qlinear.avgpool", ElementwiseSelfTest.CheckQLinearAveragePool),
        new("conv.im2col", Im2ColSelfTest.Check),
    ];

    /// <summary>Depthwise convolution: the sweep of <see cref="Depthwise.DepthwiseConvSelfTest.Cases"/> against the reference.</summary>
    private static void CheckDepthwise(IsaPath isa, SelfTestRecorder recorder)
    {
        foreach (var testCase in Depthwise.DepthwiseConvSelfTest.Cases())
        {
            var mismatch = Depthwise.DepthwiseConvSelfTest.Check(isa, testCase);
            if (mismatch == null) recorder.Pass();
            else recorder.Fail(testCase.ToString(), mismatch);
        }
    }

    /// <summary>
    /// QLinearAdd: same-shape and broadcast tensors, uint8 and int8, random and saturating scales (quotients beyond the
    /// int32 range with variant 7), and degenerate scales (output scale 0: ±infinity and 0/0 = NaN quotients; an infinite
    /// input scale) for the NaN and saturation handling.
    /// </summary>
    private static void CheckQLinearAdd(IsaPath isa, SelfTestRecorder recorder)
    {
        var rng = new Random(4242);
        foreach (var signed in new[] { false, true })
            foreach (var length in ColumnCounts)
                for (int variant = 0; variant < 8; variant++)
                {
                    int channels = 1 + rng.Next(5);
                    int[] shape = [1, channels, 1, length];
                    // variant 3 broadcasts B per channel (stride 0 along rows); 4 repeats one row of B for every channel.
                    int[] shapeB = variant switch { 3 => [1, channels, 1, 1], 4 => [1, 1, 1, length], _ => shape };
                    var plan = Elementwise.QuantizedBroadcast.Create(shape, shapeB)!;
                    var a = new byte[plan.OutputCount];
                    var b = new byte[shapeB[1] * shapeB[3]];
                    rng.NextBytes(a);
                    rng.NextBytes(b);
                    int lo = signed ? -128 : 0, hi = signed ? 127 : 255;
                    var p = new Elementwise.QLinearBinaryParameters(
                        variant == 6 ? float.PositiveInfinity : (float)(rng.NextDouble() * 0.1 + 1e-3), rng.Next(lo, hi + 1),
                        (float)(rng.NextDouble() * 0.1 + 1e-3), rng.Next(lo, hi + 1),
                        variant switch { 1 => 1e-6f, 5 => 0f, 7 => 1e-35f, _ => (float)(rng.NextDouble() * 0.1 + 1e-3) }, rng.Next(lo, hi + 1), signed);
                    var expected = new byte[plan.OutputCount];
                    var actual = new byte[plan.OutputCount];
                    Elementwise.QLinearAddReference.Run(plan, a, b, expected, p);
                    Elementwise.QLinearAdd.Run(isa, plan, a, b, actual, p);
                    int at = expected.AsSpan().CommonPrefixLength(actual);
                    if (at == expected.Length) recorder.Pass();
                    else recorder.Fail($"{(signed ? "int8" : "uint8")} [{string.Join(",", shape)}]+[{string.Join(",", shapeB)}]", $"element {at}: expected {expected[at]} got {actual[at]}");
                }
    }

    /// <summary>
    /// Runs every group on each of <paramref name="paths"/> that this CPU supports (all supported paths when null).
    /// Unsupported requested paths are skipped, not failed; see <see cref="SelfTestReport.Exercised"/>.
    /// </summary>
    public static SelfTestReport Run(IEnumerable<IsaPath>? paths = null, int maxDetailsPerGroup = 5)
    {
        var supported = CpuFeatures.Supported;
        var exercised = (paths ?? supported).Distinct().Where(CpuFeatures.IsSupported).ToArray();
        var results = new List<SelfTestGroupResult>();
        foreach (var path in exercised)
            foreach (var group in Groups)
            {
                var recorder = new SelfTestRecorder(maxDetailsPerGroup);
                try
                {
                    group.Run(path, recorder);
                }
                catch (Exception ex)
                {
                    recorder.Fail("(group aborted)", $"{ex.GetType().Name}: {ex.Message}");
                }
                results.Add(new SelfTestGroupResult(group.Name, path, recorder.Passed, recorder.Failed, recorder.Details));
            }
        return new SelfTestReport(supported, exercised, results);
    }

    // ---- operand patterns -------------------------------------------------------------------------------------------

    /// <summary>How a test matrix is filled.</summary>
    private enum Fill { Random, AllMinus128, All127, Extremes, Alternating }

    private static void FillBytes(Span<sbyte> data, Fill fill, Random random)
    {
        for (int i = 0; i < data.Length; i++)
            data[i] = fill switch
            {
                Fill.AllMinus128 => sbyte.MinValue,
                Fill.All127 => sbyte.MaxValue,
                Fill.Extremes => random.Next(4) switch { 0 => sbyte.MinValue, 1 => sbyte.MaxValue, 2 => (sbyte)-127, _ => (sbyte)random.Next(-128, 128) },
                Fill.Alternating => (i & 1) == 0 ? sbyte.MinValue : sbyte.MaxValue,
                _ => (sbyte)random.Next(-128, 128),
            };
    }

    // ---- QGemm.Multiply (+ PackA) ------------------------------------------------------------------------------------

    private static void CheckMultiply(IsaPath path, SelfTestRecorder recorder)
    {
        var random = new Random(20261127);
        var fills = Enum.GetValues<Fill>();
        int caseIndex = 0;
        foreach (int m in RowCounts)
            foreach (int k in DepthCounts)
            {
                // Two widths per (m, k), cycling through the N list; every other case uses a strided B and a padded acc.
                for (int t = 0; t < 2; t++)
                {
                    int n = ColumnCounts[(caseIndex * 7 + t * 5 + m) % ColumnCounts.Count];
                    int ldb = caseIndex % 2 == 0 ? n : n + 1 + caseIndex % 13;
                    var fill = fills[caseIndex % fills.Length];
                    MultiplyCase(path, recorder, random, m, n, k, ldb, fill, fill);
                    caseIndex++;
                }
            }
        // Operands that break 16-bit intermediate sums: every product is (-128)·(-128) = 16384, or signs alternate.
        foreach (var (m, n, k) in new[] { (4, 16, 4096), (5, 21, 1027), (17, 33, 257), (1, 1, 2048), (8, 100, 960) })
        {
            MultiplyCase(path, recorder, random, m, n, k, n, Fill.AllMinus128, Fill.AllMinus128);
            MultiplyCase(path, recorder, random, m, n, k, n + 3, Fill.All127, Fill.AllMinus128);
            MultiplyCase(path, recorder, random, m, n, k, n, Fill.Alternating, Fill.Alternating);
        }
        // int32 wrap-around: K·16384 > 2^31 must wrap exactly like the scalar definition.
        MultiplyCase(path, recorder, random, 2, 17, 140_000, 17, Fill.AllMinus128, Fill.AllMinus128);
        // Larger, MobileNetV2-like shapes (pointwise convolutions on a tile of N), random data.
        foreach (var (m, n, k) in new[] { (96, 196, 24), (24, 144, 96), (160, 49, 96), (1001, 1, 1280 / 4) })
            MultiplyCase(path, recorder, random, m, n, k, n, Fill.Random, Fill.Random);
    }

    private static void MultiplyCase(IsaPath path, SelfTestRecorder recorder, Random random, int m, int n, int k, int ldb, Fill fillA, Fill fillB)
    {
        var a = new sbyte[m * k];
        var b = new sbyte[k == 0 ? 0 : (k - 1) * ldb + n];
        FillBytes(a, fillA, random);
        FillBytes(b, fillB, random);
        int ldAcc = n + 2;
        const int Sentinel = 0x5A5A5A5A;
        var expected = new int[m * ldAcc];
        var actual = new int[m * ldAcc];
        Array.Fill(expected, Sentinel);
        Array.Fill(actual, Sentinel);
        QGemm.MultiplyScalar(m, n, k, a, b, ldb, expected, ldAcc);

        string Describe() => $"m={m} n={n} k={k} ldb={ldb} A={fillA} B={fillB}";
        try
        {
            var packed = new sbyte[QGemm.PackedALength(path, m, k)];
            QGemm.PackA(path, a, m, k, packed);
            var scratch = new int[QGemm.ScratchLength(path, m, n, k)];
            QGemm.Multiply(path, m, n, k, packed, b, ldb, actual, ldAcc, scratch);
        }
        catch (Exception ex)
        {
            recorder.Fail(Describe(), $"{ex.GetType().Name}: {ex.Message}");
            return;
        }
        int first = FirstDifference(expected, actual);
        recorder.Check(first < 0, Describe, () => first % ldAcc < n
            ? $"acc[{first / ldAcc},{first % ldAcc}] = {actual[first]}, expected {expected[first]}"
            : $"wrote {actual[first]} into row padding at acc[{first / ldAcc},{first % ldAcc}] (ldAcc={ldAcc})");
    }

    private static int FirstDifference<T>(ReadOnlySpan<T> expected, ReadOnlySpan<T> actual) where T : IEquatable<T>
    {
        for (int i = 0; i < expected.Length; i++)
            if (!expected[i].Equals(actual[i])) return i;
        return -1;
    }

    // ---- QGemm.ColumnSums ----------------------------------------------------------------------------------------------

    private static void CheckColumnSums(IsaPath path, SelfTestRecorder recorder)
    {
        var random = new Random(1127);
        var fills = Enum.GetValues<Fill>();
        int[] depths = [.. DepthCounts, 255, 256, 257, 511, 513, 1000];
        int caseIndex = 0;
        foreach (int k in depths)
            foreach (int n in ColumnCounts)
            {
                int ldb = caseIndex % 3 == 0 ? n : n + caseIndex % 11 + 1;
                var fill = fills[caseIndex % fills.Length];
                var b = new sbyte[(k - 1) * ldb + n];
                FillBytes(b, fill, random);
                var expected = new int[n + 1];
                var actual = new int[n + 1];
                expected[n] = actual[n] = 0x5A5A5A5A;
                QGemm.ColumnSumsScalar(b, k, n, ldb, expected);
                QGemm.ColumnSums(path, b, k, n, ldb, actual);
                int first = FirstDifference<int>(expected, actual);
                recorder.Check(first < 0, () => $"k={k} n={n} ldb={ldb} B={fill}", () => $"sums[{first}] = {actual[first]}, expected {expected[first]}");
                caseIndex++;
            }
    }

    // ---- QGemmRequantization.Rows ---------------------------------------------------------------------------------------

    private static readonly (int ZeroPoint, int Min, int Max, int Xor)[] OutputRanges =
    [
        (128, 0, 255, 0x80), (0, -128, 127, 0), (-3, -128, 127, 0), (0, 0, 255, 0x80), (10, 10, 255, 0x80),
        (255, 0, 255, 0x80), (-128, -128, 127, 0), (5, -20, 60, 0), (0, 0, 6, 0),
        // Zero point outside [min, max] (fused clips): NaN products must still become the clamped zero point.
        (0, 5, 100, 0), (200, 0, 150, 0x80), (-100, -90, -10, 0),
    ];

    private static void CheckRequantizeRows(IsaPath path, SelfTestRecorder recorder)
    {
        var random = new Random(42);
        int caseIndex = 0;
        foreach (int m in RowCounts)
            foreach (int n in ColumnCounts)
            {
                var range = OutputRanges[caseIndex % OutputRanges.Length];
                RequantizeCase(path, recorder, random, m, n, caseIndex, range);
                caseIndex++;
            }
    }

    private static void RequantizeCase(IsaPath path, SelfTestRecorder recorder, Random random, int m, int n, int caseIndex,
        (int ZeroPoint, int Min, int Max, int Xor) range)
    {
        int ldAcc = n + caseIndex % 3, ldy = n + caseIndex % 2 + 1;
        bool withWeightZeroPoints = caseIndex % 2 == 1;
        var acc = new int[(m - 1) * ldAcc + n];
        var bias = new int[m];
        var weightZeroPoints = withWeightZeroPoints ? new int[m] : [];
        var columnSums = new int[n];
        var multipliers = new float[m];
        for (int i = 0; i < acc.Length; i++) acc[i] = SampleAccumulator(random);
        for (int i = 0; i < m; i++)
        {
            bias[i] = random.Next(4) == 0 ? SampleAccumulator(random) : random.Next(-5000, 5000);
            if (withWeightZeroPoints) weightZeroPoints[i] = random.Next(3) == 0 ? 0 : random.Next(-128, 128);
            multipliers[i] = SampleMultiplier(random, i + caseIndex);
        }
        for (int j = 0; j < n; j++) columnSums[j] = random.Next(3) == 0 ? random.Next(int.MinValue, int.MaxValue) : random.Next(-128 * 960, 127 * 960);

        var expected = new byte[(m - 1) * ldy + n + 1];
        var actual = new byte[expected.Length];
        for (int i = 0; i < expected.Length; i++) expected[i] = actual[i] = 0xA5;
        QGemmRequantization.RowsScalar(acc, ldAcc, m, n, bias, weightZeroPoints, columnSums, multipliers,
            range.ZeroPoint, range.Min, range.Max, range.Xor, expected, ldy);
        string Describe() => $"m={m} n={n} ldAcc={ldAcc} ldy={ldy} zp={range.ZeroPoint} range=[{range.Min},{range.Max}] xor={range.Xor:x} wz={(withWeightZeroPoints ? "yes" : "no")}";
        try
        {
            QGemmRequantization.Rows(path, acc, ldAcc, m, n, bias, weightZeroPoints, columnSums, multipliers,
                range.ZeroPoint, range.Min, range.Max, range.Xor, actual, ldy);
        }
        catch (Exception ex)
        {
            recorder.Fail(Describe(), $"{ex.GetType().Name}: {ex.Message}");
            return;
        }
        int first = FirstDifference<byte>(expected, actual);
        recorder.Check(first < 0, Describe, () =>
        {
            int i = first / ldy, j = first % ldy;
            if (j >= n) return $"wrote {actual[first]} into padding at y[{i},{j}]";
            return $"y[{i},{j}] = {actual[first]}, expected {expected[first]} (acc={acc[i * ldAcc + j]} bias={bias[i]} " +
                $"wz={(withWeightZeroPoints ? weightZeroPoints[i] : 0)} colsum={columnSums[j]} multiplier={multipliers[i]:R})";
        });
    }

    /// <summary>Accumulators around interesting points: small, rounding ties after scaling, ±2^24 (float exactness), int32 limits.</summary>
    private static int SampleAccumulator(Random random) => random.Next(8) switch
    {
        0 => int.MinValue + random.Next(0, 3),
        1 => int.MaxValue - random.Next(0, 3),
        2 => (1 << 24) + random.Next(-3, 4),
        3 => -(1 << 24) + random.Next(-3, 4),
        4 => random.Next(int.MinValue, int.MaxValue),
        5 => random.Next(-64, 64) * 2 + 1, // odd: x.5 ties with a multiplier of 0.5
        _ => random.Next(-200_000, 200_000),
    };

    /// <summary>Typical requantization multipliers plus exact halves, zero, negative, subnormal and non-finite values.</summary>
    private static float SampleMultiplier(Random random, int index) => (index % 16) switch
    {
        0 => 0.5f,
        1 => 0.25f,
        2 => 0f,
        3 => float.NaN,
        4 => float.PositiveInfinity,
        5 => -0.0037f,
        6 => float.Epsilon,
        7 => 1.5f,
        _ => (float)Math.Pow(2, -random.NextDouble() * 14) * (float)(0.5 + random.NextDouble()),
    };
}
