using EdgeRuntime.Kernels.Gemm;
using EdgeRuntime.Onnx;
using EdgeRuntime.Tensors;
using EdgeRuntime.Tests.Infrastructure;
using Xunit;
using static EdgeRuntime.Tests.Ops.Float.ConvFamilyOracle;

namespace EdgeRuntime.Tests.Ops.Float;

/// <summary>Gemm and MatMul against ONNX Runtime. Tolerance |ours - ort| &lt;= 1e-4 + 1e-4*|ort|.</summary>
public sealed class GemmTests
{
    [Fact]
    public void GemmAllCombinationsMatchOnnxRuntime()
    {
        var rng = new Random(31);
        var cases = new List<OracleCase>();
        string[] cForms = ["none", "scalar", "[1]", "[N]", "[M,1]", "[1,N]", "[M,N]"];
        foreach (var transA in new[] { 0, 1 })
        foreach (var transB in new[] { 0, 1 })
        foreach (var alpha in new[] { 1f, 0.5f })
        foreach (var beta in new[] { 1f, 0f, -2f })
        foreach (var cForm in cForms)
        foreach (var constantB in new[] { true, false })
        {
            if (cForm == "none" && beta != 1f) continue;
            int m = rng.Next(1, 23), n = rng.Next(1, 41), k = rng.Next(1, 37);
            var a = RandomFloats(rng, transA == 1 ? [k, m] : [m, k]);
            var b = RandomFloats(rng, transB == 1 ? [n, k] : [k, n]);
            Tensor? c = cForm switch
            {
                "none" => null,
                "scalar" => RandomFloats(rng),
                "[1]" => RandomFloats(rng, 1),
                "[N]" => RandomFloats(rng, n),
                "[M,1]" => RandomFloats(rng, m, 1),
                "[1,N]" => RandomFloats(rng, 1, n),
                _ => RandomFloats(rng, m, n),
            };
            var oc = new OracleCase
            {
                OpType = "Gemm",
                Description = $"transA={transA} transB={transB} alpha={alpha} beta={beta} C={cForm} constB={constantB} m={m} n={n} k={k}",
                Inputs = c == null ? [a, b] : [a, b, c],
                ConstantInputs = constantB ? [1] : [],
            };
            if (transA != 0) oc.With("transA", 1L);
            if (transB != 0) oc.With("transB", 1L);
            if (alpha != 1f) oc.With("alpha", alpha);
            if (beta != 1f) oc.With("beta", beta);
            cases.Add(oc);
        }
        AssertAllMatch(13, cases, chunkSize: 200);
    }

    [Fact]
    public void GemmAtOpset7WithRequiredCMatchesOnnxRuntime()
    {
        var rng = new Random(2);
        var cases = Enumerable.Range(0, 6).Select(i =>
        {
            int m = rng.Next(1, 9), n = rng.Next(1, 30), k = rng.Next(1, 20);
            return new OracleCase
            {
                OpType = "Gemm",
                Description = $"opset7 #{i} m={m} n={n} k={k}",
                Inputs = [RandomFloats(rng, m, k), RandomFloats(rng, n, k), RandomFloats(rng, n)],
                ConstantInputs = [1, 2],
            }.With("transB", 1L);
        }).ToList();
        AssertAllMatch(7, cases);
    }

    [Fact]
    public void MatMulShapesMatchOnnxRuntime()
    {
        var rng = new Random(41);
        var cases = new List<OracleCase>();
        // Shapes with placeholders: M, K, N and batch sizes are drawn per case.
        string[][] forms =
        [
            ["K", "K"], ["K", "K,N"], ["M,K", "K"], ["B,M,K", "K"], ["K", "B,K,N"], ["M,K", "K,N"], ["B,M,K", "K,N"],
            ["B,M,K", "B,K,N"], ["1,M,K", "B,K,N"], ["B,1,M,K", "C,K,N"], ["B,C,M,K", "C,K,N"], ["M,K", "B,C,K,N"], ["B,M,K", "1,K,N"],
        ];
        foreach (var form in forms)
        foreach (var constantB in new[] { true, false })
        for (int rep = 0; rep < 3; rep++)
        {
            var dims = new Dictionary<string, int> { ["M"] = rng.Next(1, 13), ["K"] = rng.Next(1, 40), ["N"] = rng.Next(1, 37), ["B"] = rng.Next(2, 4), ["C"] = rng.Next(2, 4), ["1"] = 1 };
            int[] Shape(string f) => f.Split(',').Select(d => dims[d]).ToArray();
            var a = RandomFloats(rng, Shape(form[0]));
            var b = RandomFloats(rng, Shape(form[1]));
            cases.Add(new OracleCase
            {
                OpType = "MatMul",
                Description = $"A={TensorShape.Format(a.Shape)} B={TensorShape.Format(b.Shape)} constB={constantB}",
                Inputs = [a, b],
                ConstantInputs = constantB ? [1] : [],
            });
        }
        AssertAllMatch(13, cases);
    }

    [Fact]
    public void PackedGemmMatchesReference()
    {
        var rng = new Random(4);
        for (int rep = 0; rep < 40; rep++)
        {
            int m = rng.Next(1, 20), n = rng.Next(1, 50), k = rng.Next(0, 30);
            bool ta = rng.Next(2) == 0, tb = rng.Next(2) == 0;
            var a = RandomFloats(rng, m * k).ToArray<float>();
            var b = RandomFloats(rng, k * n).ToArray<float>();
            var expected = RandomFloats(rng, m * n).ToArray<float>();
            var actual = (float[])expected.Clone();
            GemmFloatReference.Multiply(m, n, k, a, ta ? m : k, ta, b, tb ? k : n, tb, expected, n, 0.75f, accumulate: true);
            var pa = new float[GemmFloatPacked.PackedALength(m, k)];
            var pb = new float[GemmFloatPacked.PackedBLength(k, n)];
            GemmFloatPacked.PackA(a, ta ? m : k, ta, m, k, pa);
            GemmFloatPacked.PackB(b, tb ? k : n, tb, k, n, pb);
            GemmFloatPacked.Multiply(m, n, k, pa, pb, actual, n, new GemmFloatEpilogue { Alpha = 0.75f, Accumulate = true });
            for (int i = 0; i < actual.Length; i++)
                Assert.True(Math.Abs(actual[i] - expected[i]) <= 1e-4 + 1e-4 * Math.Abs(expected[i]), $"m={m} n={n} k={k} ta={ta} tb={tb} [{i}]: {actual[i]} vs {expected[i]}");
        }
    }

    [Fact]
    public void BadShapesAreRejected()
    {
        var f = TensorElementType.Float32;
        Assert.Contains("inner", Assert.Throws<ModelFormatException>(() => OpHarness.Run(OpHarness.MakeNode("Gemm", 2), [new Tensor(f, [3, 4]), new Tensor(f, [5, 6])], [1])).Message);
        Assert.Contains("broadcast", Assert.Throws<ModelFormatException>(() => OpHarness.Run(OpHarness.MakeNode("Gemm", 3), [new Tensor(f, [3, 4]), new Tensor(f, [4, 6]), new Tensor(f, [3, 5])], [1])).Message);
        Assert.Throws<ModelFormatException>(() => OpHarness.Run(OpHarness.MakeNode("Gemm", 2), [new Tensor(f, [2, 3, 4]), new Tensor(f, [4, 6])], [1]));
        Assert.Contains("inner", Assert.Throws<ModelFormatException>(() => OpHarness.Run(OpHarness.MakeNode("MatMul", 2), [new Tensor(f, [3, 4]), new Tensor(f, [5, 6])], [])).Message);
        Assert.Contains("broadcast", Assert.Throws<ModelFormatException>(() => OpHarness.Run(OpHarness.MakeNode("MatMul", 2), [new Tensor(f, [2, 3, 4]), new Tensor(f, [3, 4, 6])], [])).Message);
        Assert.Throws<ModelFormatException>(() => OpHarness.Run(OpHarness.MakeNode("MatMul", 2), [new Tensor(TensorElementType.Int32, [3, 4]), new Tensor(f, [4, 6])], []));
    }
}
