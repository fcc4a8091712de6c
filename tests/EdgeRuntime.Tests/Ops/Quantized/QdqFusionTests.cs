using System.Diagnostics;
using EdgeRuntime.Graph;
using EdgeRuntime.Graph.Passes;
using EdgeRuntime.Onnx.Proto;
using EdgeRuntime.Tensors;
using EdgeRuntime.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;
using static EdgeRuntime.Tests.Ops.Quantized.QuantizedTestSupport;

namespace EdgeRuntime.Tests.Ops.Quantized;

/// <summary>QDQ fusion: structure of the rewritten graph and numerical agreement with ORT on the unfused QDQ model.</summary>
public sealed class QdqFusionTests(ITestOutputHelper output)
{
    /// <summary>
    /// x → Q → DQ ─┬→ Conv(DQ w per-channel, DQ bias) → Relu → Q → DQ ─→ Add → Q → DQ → MaxPool → Q → DQ → GAP → Q → DQ → y
    ///             └──────────────────────────────────────────────────↗
    /// </summary>
    private static OnnxModelBuilder BuildResidualModel(bool signed, Random rng, bool convOutputIsGraphOutput = false)
    {
        const int c = 4;
        var b = new OnnxModelBuilder(13);
        float xs = 0.02f, ys = 0.03f, adds = 0.04f, gs = 0.035f;
        int zp(int v) => signed ? v - 128 : v;
        var wScales = Enumerable.Range(0, c).Select(_ => 0.002f + (float)rng.NextDouble() * 0.004f).ToArray();
        b.Input("x", TensorElementType.Float32, 1, c, 9, 9);
        b.Initializer("xs", Scalar(xs)).Initializer("xzp", ZeroPoint(signed, zp(120)));
        b.Initializer("ys", Scalar(ys)).Initializer("yzp", ZeroPoint(signed, zp(125)));
        b.Initializer("as", Scalar(adds)).Initializer("azp", ZeroPoint(signed, zp(130)));
        b.Initializer("gs", Scalar(gs)).Initializer("gzp", ZeroPoint(signed, zp(128)));
        b.Initializer("w", Random8(rng, true, [c, c, 3, 3], -60, 60));
        b.Initializer("ws", Tensor.FromFloats([c], wScales)).Initializer("wzp", I8([c], new int[c]));
        b.Initializer("bias", Tensor.FromArray<int>(TensorElementType.Int32, [c], Enumerable.Range(0, c).Select(_ => rng.Next(-3000, 3000)).ToArray()));
        b.Initializer("bs", Tensor.FromFloats([c], wScales.Select(w => xs * w).ToArray())).Initializer("bzp", Tensor.FromArray<int>(TensorElementType.Int32, [c], new int[c]));
        b.Node("QuantizeLinear", ["x", "xs", "xzp"], ["xq"]);
        b.Node("DequantizeLinear", ["xq", "xs", "xzp"], ["xf"]);
        b.Node("DequantizeLinear", ["w", "ws", "wzp"], ["wf"], a => a.Int("axis", 0));
        b.Node("DequantizeLinear", ["bias", "bs", "bzp"], ["bf"], a => a.Int("axis", 0));
        b.Node("Conv", ["xf", "wf", "bf"], ["conv"], a => a.Ints("pads", 1, 1, 1, 1));
        b.Node("Relu", ["conv"], ["relu"]);
        b.Node("QuantizeLinear", ["relu", "ys", "yzp"], ["yq"]);
        b.Node("DequantizeLinear", ["yq", "ys", "yzp"], ["yf"]);
        b.Node("Add", ["yf", "xf"], ["sum"]);
        b.Node("QuantizeLinear", ["sum", "as", "azp"], ["sumq"]);
        b.Node("DequantizeLinear", ["sumq", "as", "azp"], ["sumf"]);
        b.Node("MaxPool", ["sumf"], ["pool"], a => a.Ints("kernel_shape", 2, 2).Ints("strides", 2, 2));
        b.Node("QuantizeLinear", ["pool", "as", "azp"], ["poolq"]);
        b.Node("DequantizeLinear", ["poolq", "as", "azp"], ["poolf"]);
        b.Node("GlobalAveragePool", ["poolf"], ["gap"]);
        b.Node("QuantizeLinear", ["gap", "gs", "gzp"], ["gq"]);
        b.Node("DequantizeLinear", ["gq", "gs", "gzp"], ["y"]);
        b.Output("y", TensorElementType.Float32);
        if (convOutputIsGraphOutput) b.Output("conv", TensorElementType.Float32);
        return b;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ResidualQdqGraph_FusesAndMatchesOrt(bool signed)
    {
        var rng = new Random(signed ? 2 : 1);
        var model = BuildResidualModel(signed, rng);
        var graph = ToGraph(model.Proto);
        int fusions = QdqFusion.Fuse(graph);
        var ops = graph.Nodes.Select(n => n.OpType).ToArray();
        output.WriteLine(string.Join(" → ", ops));
        Assert.Equal(4, fusions);
        Assert.Equal(["QuantizeLinear", "QLinearConv", "QLinearAdd", "MaxPool", "QLinearGlobalAveragePool", "DequantizeLinear"], ops);
        Assert.Equal(1, graph.OpsetFor("com.microsoft"));
        var conv = graph.Nodes.Single(n => n.OpType == "QLinearConv");
        // Relu folds into the clamp only when the zero point is above the type minimum.
        Assert.Equal(signed ? -3 : 125, conv.Attributes["edge_clamp_min"].Int);

        for (int trial = 0; trial < 3; trial++)
        {
            var x = Tensor.FromFloats([1, 4, 9, 9], Enumerable.Range(0, 324).Select(_ => (float)(rng.NextDouble() * 5 - 2.5)).ToArray());
            var ort = OrtRunner.Run(model.Build(), new Dictionary<string, Tensor> { ["x"] = x })["y"].ToFloatArray();
            var native = RunGraph(graph, new Dictionary<string, Tensor> { ["x"] = x })["y"].ToFloatArray();
            for (int i = 0; i < ort.Length; i++)
                Assert.True(Math.Abs(ort[i] - native[i]) <= 0.035f * 1.001f, $"signed {signed} trial {trial} element {i}: native {native[i]} vs ORT {ort[i]}");
        }
    }

    /// <summary>x → Q → DQ → MatMul(DQ per-column const) → Q → DQ → LeakyRelu → Q → DQ → Sigmoid → Q → DQ → Mul(DQ(z)) → Q → DQ → Reshape → Q → DQ → y.</summary>
    [Fact]
    public void MatMulActivationMulReshapeChain_FusesAndMatchesOrt()
    {
        var rng = new Random(21);
        var b = new OnnxModelBuilder(13);
        b.Input("x", TensorElementType.Float32, 3, 6).Input("z", TensorElementType.Float32, 3, 5);
        b.Initializer("s0", Scalar(0.03f)).Initializer("z0", U8([], 128));
        b.Initializer("s1", Scalar(0.05f)).Initializer("z1", U8([], 120));
        b.Initializer("s2", Scalar(1f / 256)).Initializer("z2", U8([], 0));
        b.Initializer("s3", Scalar(0.002f)).Initializer("z3", U8([], 5));
        b.Initializer("w", Random8(rng, false, [6, 5]));
        b.Initializer("ws", Tensor.FromFloats([5], [0.01f, 0.02f, 0.015f, 0.012f, 0.03f])).Initializer("wz", U8([5], 128, 120, 130, 127, 125));
        b.Initializer("shape", Tensor.FromArray<long>(TensorElementType.Int64, [2], [5, 3]));
        b.Node("QuantizeLinear", ["x", "s0", "z0"], ["xq"]).Node("DequantizeLinear", ["xq", "s0", "z0"], ["xf"]);
        b.Node("QuantizeLinear", ["z", "s0", "z0"], ["zq"]).Node("DequantizeLinear", ["zq", "s0", "z0"], ["zf"]);
        b.Node("DequantizeLinear", ["w", "ws", "wz"], ["wf"], a => a.Int("axis", 1));
        b.Node("MatMul", ["xf", "wf"], ["mm"]).Node("QuantizeLinear", ["mm", "s1", "z1"], ["mmq"]).Node("DequantizeLinear", ["mmq", "s1", "z1"], ["mmf"]);
        b.Node("LeakyRelu", ["mmf"], ["lr"], a => a.Float("alpha", 0.1f)).Node("QuantizeLinear", ["lr", "s1", "z1"], ["lrq"]).Node("DequantizeLinear", ["lrq", "s1", "z1"], ["lrf"]);
        b.Node("Sigmoid", ["lrf"], ["sg"]).Node("QuantizeLinear", ["sg", "s2", "z2"], ["sgq"]).Node("DequantizeLinear", ["sgq", "s2", "z2"], ["sgf"]);
        b.Node("Mul", ["sgf", "zf"], ["mul"]).Node("QuantizeLinear", ["mul", "s3", "z3"], ["mulq"]).Node("DequantizeLinear", ["mulq", "s3", "z3"], ["mulf"]);
        b.Node("Reshape", ["mulf", "shape"], ["rs"]).Node("QuantizeLinear", ["rs", "s3", "z3"], ["rsq"]).Node("DequantizeLinear", ["rsq", "s3", "z3"], ["y"]);
        b.Output("y", TensorElementType.Float32);
        var graph = ToGraph(b.Proto);
        int fusions = QdqFusion.Fuse(graph);
        output.WriteLine(string.Join(" → ", graph.Nodes.Select(n => n.OpType)));
        Assert.Equal(5, fusions);
        Assert.Equal(["QuantizeLinear", "QuantizeLinear", "QLinearMatMul", "QLinearLeakyRelu", "QLinearSigmoid", "QLinearMul", "Reshape", "DequantizeLinear"], graph.Nodes.Select(n => n.OpType).ToArray());
        for (int trial = 0; trial < 3; trial++)
        {
            var feeds = new Dictionary<string, Tensor>
            {
                ["x"] = Tensor.FromFloats([3, 6], Enumerable.Range(0, 18).Select(_ => (float)(rng.NextDouble() * 6 - 3)).ToArray()),
                ["z"] = Tensor.FromFloats([3, 5], Enumerable.Range(0, 15).Select(_ => (float)(rng.NextDouble() * 6 - 3)).ToArray()),
            };
            var ort = OrtRunner.Run(b.Build(), feeds)["y"].ToFloatArray();
            var native = RunGraph(graph, feeds)["y"].ToFloatArray();
            for (int i = 0; i < ort.Length; i++)
                Assert.True(Math.Abs(ort[i] - native[i]) <= 0.002f * 1.001f, $"trial {trial} element {i}: native {native[i]} vs ORT {ort[i]}");
        }
    }

    /// <summary>x → Q → DQ → Conv(DQ uint8 w, float bias) → Clip(0, 6) → Q → DQ → AveragePool → Q → DQ → y.</summary>
    [Theory]
    [InlineData(11)]
    [InlineData(10)]
    public void ConvClipAveragePool_FusesAndMatchesOrt(int opset)
    {
        var rng = new Random(opset);
        var b = new OnnxModelBuilder(opset);
        b.Input("x", TensorElementType.Float32, 1, 3, 8, 8);
        b.Initializer("xs", Scalar(0.02f)).Initializer("xz", U8([], 128));
        b.Initializer("ys", Scalar(0.03f)).Initializer("yz", U8([], 20)); // quantized 0..6 is 20..220: both bounds clamp
        b.Initializer("w", Random8(rng, false, [5, 3, 3, 3])).Initializer("ws", Scalar(0.01f)).Initializer("wz", U8([], 128));
        b.Initializer("bias", Tensor.FromFloats([5], [0.5f, -0.25f, 1f, 0f, 3f]));
        b.Node("QuantizeLinear", ["x", "xs", "xz"], ["xq"]).Node("DequantizeLinear", ["xq", "xs", "xz"], ["xf"]);
        b.Node("DequantizeLinear", ["w", "ws", "wz"], ["wf"]);
        b.Node("Conv", ["xf", "wf", "bias"], ["c"], a => a.Ints("strides", 2, 2).Ints("pads", 1, 1, 0, 0));
        if (opset >= 11)
        {
            b.Initializer("lo", Scalar(0f)).Initializer("hi", Scalar(6f));
            b.Node("Clip", ["c", "lo", "hi"], ["r"]);
        }
        else b.Node("Clip", ["c"], ["r"], a => a.Float("min", 0f).Float("max", 6f));
        b.Node("QuantizeLinear", ["r", "ys", "yz"], ["rq"]).Node("DequantizeLinear", ["rq", "ys", "yz"], ["rf"]);
        b.Node("AveragePool", ["rf"], ["p"], a => a.Ints("kernel_shape", 2, 2).Ints("pads", 0, 0, 1, 1).Int("count_include_pad", 1));
        b.Node("QuantizeLinear", ["p", "ys", "yz"], ["pq"]).Node("DequantizeLinear", ["pq", "ys", "yz"], ["y"]);
        b.Output("y", TensorElementType.Float32);
        var graph = ToGraph(b.Proto);
        Assert.Equal(2, QdqFusion.Fuse(graph));
        Assert.Equal(["QuantizeLinear", "QLinearConv", "QLinearAveragePool", "DequantizeLinear"], graph.Nodes.Select(n => n.OpType).ToArray());
        var conv = graph.Nodes[1];
        Assert.Equal(20, conv.Attributes["edge_clamp_min"].Int);
        Assert.Equal(220, conv.Attributes["edge_clamp_max"].Int);
        var x = Tensor.FromFloats([1, 3, 8, 8], Enumerable.Range(0, 192).Select(_ => (float)(rng.NextDouble() * 5 - 2.5)).ToArray());
        var ort = OrtRunner.Run(b.Build(), new Dictionary<string, Tensor> { ["x"] = x })["y"].ToFloatArray();
        var native = RunGraph(graph, new Dictionary<string, Tensor> { ["x"] = x })["y"].ToFloatArray();
        for (int i = 0; i < ort.Length; i++)
            Assert.True(Math.Abs(ort[i] - native[i]) <= 0.03f * 1.001f, $"element {i}: native {native[i]} vs ORT {ort[i]}");
    }

    [Fact]
    public void IntermediateGraphOutput_IsNotFused()
    {
        var graph = ToGraph(BuildResidualModel(false, new Random(3), convOutputIsGraphOutput: true).Proto);
        QdqFusion.Fuse(graph);
        Assert.Contains(graph.Nodes, n => n.OpType == "Conv");
        Assert.Contains(graph.Nodes, n => n.OpType == "QLinearAdd");
        // xf still feeds the float Conv, so its DQ stays.
        Assert.Contains(graph.Nodes, n => n.OpType == "DequantizeLinear" && n.Outputs[0] == "xf");
    }

    [Fact]
    public void DataMovement_WithDifferentScales_StaysFloat()
    {
        var b = new OnnxModelBuilder(13);
        b.Input("xq", TensorElementType.UInt8, 1, 2, 4, 4);
        b.Initializer("s1", Scalar(0.1f)).Initializer("s2", Scalar(0.2f)).Initializer("z", U8([], 128));
        b.Node("DequantizeLinear", ["xq", "s1", "z"], ["xf"]);
        b.Node("MaxPool", ["xf"], ["p"], a => a.Ints("kernel_shape", 2, 2));
        b.Node("QuantizeLinear", ["p", "s2", "z"], ["y"]);
        b.Output("y", TensorElementType.UInt8);
        var graph = ToGraph(b.Proto);
        Assert.Equal(0, QdqFusion.Fuse(graph));
        Assert.Equal(3, graph.Nodes.Count);
    }

    [Theory]
    [InlineData("mobilenet_v1_0.25_128_quant.onnx")]
    [InlineData("mobilenet_v2_1.0_224_quant.onnx")]
    public void ConvertedCoralModels_ResidualsAndPoolsFuse(string file)
    {
        var path = SharedData.Path(Path.Combine("models", "converted", file));
        var graph = ToGraph(ModelProto.Parser.ParseFrom(File.ReadAllBytes(path)));
        string Summary() => string.Join(", ", graph.Nodes.GroupBy(n => n.OpType).Select(g => $"{g.Key}×{g.Count()}"));
        output.WriteLine("before: " + Summary());
        int fusions = QdqFusion.Fuse(graph);
        output.WriteLine($"after {fusions} fusions: " + Summary());
        Assert.DoesNotContain(graph.Nodes, n => n.OpType is "Add" or "AveragePool" && n.Domain.Length == 0);
        if (file.Contains("v2")) Assert.Contains(graph.Nodes, n => n.OpType == "QLinearAdd");
        Assert.Contains(graph.Nodes, n => n.OpType == "QLinearAveragePool");
    }
}
