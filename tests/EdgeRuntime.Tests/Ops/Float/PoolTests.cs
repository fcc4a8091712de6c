using EdgeRuntime.Onnx;
using EdgeRuntime.Tensors;
using EdgeRuntime.Tests.Infrastructure;
using Xunit;
using static EdgeRuntime.Tests.Ops.Float.ConvFamilyOracle;

namespace EdgeRuntime.Tests.Ops.Float;

/// <summary>MaxPool / AveragePool / Global*Pool against ONNX Runtime. Float tolerance |ours - ort| &lt;= 1e-4 + 1e-4*|ort|; uint8/int8 exact.</summary>
public sealed class PoolTests
{
    private static readonly (int H, int W)[] Kernels = [(1, 1), (2, 2), (3, 3), (3, 2)];
    private static readonly string[] Paddings = ["none", "symmetric", "asymmetric", "SAME_UPPER", "SAME_LOWER", "VALID"];

    private static List<OracleCase> Combinations(string opType, TensorElementType type, int seed, bool withCountIncludePad)
    {
        var rng = new Random(seed);
        var cases = new List<OracleCase>();
        foreach (var kernel in Kernels)
        foreach (var stride in new[] { 1, 2, 3 })
        foreach (var dilation in new[] { 1, 2 })
        foreach (var ceil in new[] { 0, 1 })
        foreach (var padding in Paddings)
        foreach (var countIncludePad in withCountIncludePad ? new[] { 0, 1 } : [0])
        {
            // ONNX Runtime's SAME_* padding for pools ignores the dilation and goes negative when the kernel is smaller
            // than the stride (it then fails or reads outside the window); EdgeRuntime follows the ONNX spec there, so the
            // oracle can only check the cases where both agree.
            if (padding.StartsWith("SAME", StringComparison.Ordinal) && (dilation != 1 || kernel.H < stride || kernel.W < stride)) continue;
            int effH = (kernel.H - 1) * dilation + 1, effW = (kernel.W - 1) * dilation + 1;
            int n = rng.Next(1, 3), c = rng.Next(1, 4), h = effH + rng.Next(0, 9), w = effW + rng.Next(0, 11);
            var x = type == TensorElementType.Float32 ? RandomFloats(rng, n, c, h, w) : RandomBytes(rng, type, n, c, h, w);
            var oc = new OracleCase
            {
                OpType = opType,
                OutputType = type,
                Description = $"kernel={kernel.H}x{kernel.W} stride={stride} dilation={dilation} ceil={ceil} pad={padding} cip={countIncludePad} x=[{n},{c},{h},{w}] {type}",
                Inputs = [x],
            };
            oc.With("kernel_shape", new long[] { kernel.H, kernel.W }).With("strides", new long[] { stride, stride });
            if (dilation != 1) oc.With("dilations", new long[] { dilation, dilation });
            if (ceil != 0) oc.With("ceil_mode", 1L);
            if (countIncludePad != 0) oc.With("count_include_pad", 1L);
            // ONNX Runtime requires every pad to be smaller than the kernel extent.
            long Pad(int k) => rng.Next(0, k);
            switch (padding)
            {
                case "symmetric": { long ph = Pad(kernel.H), pw = Pad(kernel.W); oc.With("pads", new[] { ph, pw, ph, pw }); break; }
                case "asymmetric": oc.With("pads", new[] { Pad(kernel.H), Pad(kernel.W), Pad(kernel.H), Pad(kernel.W) }); break;
                case "none": break;
                default: oc.With("auto_pad", padding); break;
            }
            cases.Add(oc);
        }
        return cases;
    }

    [Theory]
    [InlineData(TensorElementType.Float32)]
    [InlineData(TensorElementType.UInt8)]
    [InlineData(TensorElementType.Int8)]
    public void MaxPoolMatchesOnnxRuntime(TensorElementType type) =>
        AssertAllMatch(12, Combinations("MaxPool", type, seed: 11 + (int)type, withCountIncludePad: false), chunkSize: 150);

    [Fact]
    public void AveragePoolMatchesOnnxRuntime() =>
        AssertAllMatch(19, Combinations("AveragePool", TensorElementType.Float32, seed: 21, withCountIncludePad: true), chunkSize: 150);

    [Fact]
    public void OlderOpsetPoolsMatchOnnxRuntime()
    {
        var rng = new Random(8);
        var cases = new List<OracleCase>();
        foreach (var op in new[] { "MaxPool", "AveragePool" })
        for (int i = 0; i < 12; i++)
        {
            int k = rng.Next(1, 4), s = rng.Next(1, 3);
            var oc = new OracleCase { OpType = op, Description = $"{op} k={k} s={s} #{i}", Inputs = [RandomFloats(rng, 1, 2, k + rng.Next(0, 9), k + rng.Next(0, 9))] }
                .With("kernel_shape", new long[] { k, k }).With("strides", new long[] { s, s })
                .With("pads", new long[] { rng.Next(0, k), rng.Next(0, k), rng.Next(0, k), rng.Next(0, k) });
            if (op == "AveragePool" && i % 2 == 0) oc.With("count_include_pad", 1L);
            cases.Add(oc);
        }
        AssertAllMatch(7, cases);
    }

    [Fact]
    public void GlobalPoolsMatchOnnxRuntime()
    {
        var rng = new Random(9);
        var cases = new List<OracleCase>();
        foreach (var op in new[] { "GlobalAveragePool", "GlobalMaxPool" })
        foreach (var shape in new[] { new[] { 1, 3, 7 }, [2, 5, 9, 11], [1, 64, 7, 7], [1, 3, 2, 3, 5], [2, 4, 1, 1] })
            cases.Add(new OracleCase { OpType = op, Description = $"{op} {TensorShape.Format(shape)}", Inputs = [RandomFloats(rng, shape)] });
        AssertAllMatch(13, cases);
    }

    [Fact]
    public void MaxPoolIndicesOutputIsRejected()
    {
        var node = OpHarness.MakeNode("MaxPool", 1, 2, "", OpHarness.Ints("kernel_shape", 2, 2));
        var ex = Assert.Throws<ModelFormatException>(() => OpHarness.Run(node, [new Tensor(TensorElementType.Float32, [1, 1, 4, 4])], []));
        Assert.Contains("Indices", ex.Message);
    }

    [Theory]
    [InlineData("MaxPool", new long[] { 2, 2 }, new long[] { -1, 0, 0, 0 }, "negative")]
    [InlineData("MaxPool", new long[] { 2, 2 }, new long[] { 2, 0, 0, 0 }, "smaller than the kernel")]
    [InlineData("AveragePool", new long[] { 3 }, new long[] { 0, 0, 0, 0 }, "kernel_shape")]
    [InlineData("AveragePool", new long[] { 9, 9 }, new long[] { 0, 0, 0, 0 }, "does not fit")]
    [InlineData("AveragePool", new long[] { 0, 2 }, new long[] { 0, 0, 0, 0 }, "positive")]
    public void BadAttributesAreRejected(string op, long[] kernel, long[] pads, string expected)
    {
        var node = OpHarness.MakeNode(op, 1, 1, "", OpHarness.Ints("kernel_shape", kernel), OpHarness.Ints("pads", pads));
        var ex = Assert.Throws<ModelFormatException>(() => OpHarness.Run(node, [new Tensor(TensorElementType.Float32, [1, 2, 5, 5])], []));
        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public void MissingKernelShapeWrongRankAndWrongTypeAreRejected()
    {
        Assert.Throws<ModelFormatException>(() => OpHarness.Run(OpHarness.MakeNode("MaxPool", 1), [new Tensor(TensorElementType.Float32, [1, 2, 5, 5])], []));
        Assert.Throws<ModelFormatException>(() => OpHarness.Run(OpHarness.MakeNode("MaxPool", 1, 1, "", OpHarness.Ints("kernel_shape", 2)), [new Tensor(TensorElementType.Float32, [1, 2, 5])], []));
        Assert.Throws<ModelFormatException>(() => OpHarness.Run(OpHarness.MakeNode("AveragePool", 1, 1, "", OpHarness.Ints("kernel_shape", 2, 2)), [new Tensor(TensorElementType.UInt8, [1, 2, 5, 5])], []));
        Assert.Throws<ModelFormatException>(() => OpHarness.Run(OpHarness.MakeNode("GlobalAveragePool", 1), [new Tensor(TensorElementType.Float32, [1, 2])], []));
    }
}
