using EdgeRuntime.Execution;
using EdgeRuntime.Graph.Passes;
using EdgeRuntime.Tensors;
using EdgeRuntime.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;
using static EdgeRuntime.Tests.Ops.Quantized.QuantizedTestSupport;

namespace EdgeRuntime.Tests.Ops.Quantized;

/// <summary>
/// QDQ patterns the quantizer emits for Concat and SiLU, and the float SiLU pattern: the graph after the passes holds the
/// fused op (and nothing of the pattern), and the results agree with ONNX Runtime running the unfused model.
/// </summary>
public sealed class QdqConcatSiluFusionTests(ITestOutputHelper output)
{
    private static TensorElementType TypeOf(bool signed) => signed ? TensorElementType.Int8 : TensorElementType.UInt8;

    private static int[] Ints(Tensor t) => ToInts(t);

    /// <summary>Largest |native - ORT| in LSB over two quantized tensors; counts exact elements.</summary>
    private static int WorstDifference(Tensor ort, Tensor native, ref long exact)
    {
        Assert.Equal(ort.Shape, native.Shape);
        var a = Ints(ort);
        var b = Ints(native);
        int worst = 0;
        for (int i = 0; i < a.Length; i++)
        {
            int d = Math.Abs(a[i] - b[i]);
            worst = Math.Max(worst, d);
            if (d == 0) exact++;
        }
        return worst;
    }

    /// <summary>x_k (quantized inputs) → DQ_k → Concat(axis) → Q(y) → yq, one input sharing y's parameters.</summary>
    [Theory]
    [InlineData(false, 1)]
    [InlineData(true, 1)]
    [InlineData(false, -1)]
    [InlineData(true, 0)]
    public void DqConcatQ_FusesToQLinearConcat_AndMatchesOrt(bool signed, int axis)
    {
        var rng = new Random(400 + axis + (signed ? 10 : 0));
        var type = TypeOf(signed);
        int zp(int v) => signed ? v - 128 : v;
        int[][] shapes = axis switch
        {
            1 => [[2, 3, 5, 4], [2, 1, 5, 4], [2, 6, 5, 4]],
            0 => [[1, 3, 7], [3, 3, 7], [2, 3, 7]],
            _ => [[2, 3, 5], [2, 3, 1], [2, 3, 8]],
        };
        var b = new OnnxModelBuilder(13);
        b.Initializer("ys", Scalar(0.05f)).Initializer("yz", ZeroPoint(signed, zp(128)));
        var dqOutputs = new List<string>();
        var feeds = new Dictionary<string, Tensor>();
        for (int k = 0; k < shapes.Length; k++)
        {
            b.Input($"x{k}", type, shapes[k]);
            feeds[$"x{k}"] = Random8(rng, signed, shapes[k]);
            string s = k == 1 ? "ys" : $"s{k}", z = k == 1 ? "yz" : $"z{k}"; // input 1 shares y's parameters: a copy
            if (k != 1) b.Initializer(s, Scalar(k == 0 ? 0.02f : 0.11f)).Initializer(z, ZeroPoint(signed, zp(100 + 20 * k)));
            b.Node("DequantizeLinear", [$"x{k}", s, z], [$"f{k}"]);
            dqOutputs.Add($"f{k}");
        }
        b.Node("Concat", dqOutputs.ToArray(), ["cat"], a => a.Int("axis", axis));
        b.Node("QuantizeLinear", ["cat", "ys", "yz"], ["y"]);
        b.Output("y", type);

        var graph = ToGraph(b.Proto);
        Assert.Equal(1, QdqFusion.Fuse(graph));
        Assert.Equal(["QLinearConcat"], graph.Nodes.Select(n => n.OpType).ToArray());
        Assert.Equal(2 + 3 * shapes.Length, graph.Nodes[0].Inputs.Length);

        var ort = OrtRunner.Run(b.Build(), feeds)["y"];
        var native = RunGraph(graph, feeds)["y"];
        long exact = 0;
        Assert.Equal(0, WorstDifference(ort, native, ref exact)); // the per-input table is exactly QuantizeLinear(DequantizeLinear(x))
        output.WriteLine($"QDQ Concat signed {signed} axis {axis}: {exact}/{ort.ElementCount} exact");
    }

    /// <summary>Variants of the SiLU pattern.</summary>
    public enum SiluForm { QdqSigmoid, QdqSigmoidSwapped, QdqSigmoidSeparateDq, QdqSigmoidUint8Intermediate, FloatSigmoid }

    public static TheoryData<SiluForm, bool> SiluCases()
    {
        var data = new TheoryData<SiluForm, bool>();
        foreach (var form in Enum.GetValues<SiluForm>())
            foreach (var signed in new[] { false, true })
                data.Add(form, signed);
        return data;
    }

    /// <summary>
    /// Every possible input byte through the SiLU pattern: one lookup-table op after loading, within 1 LSB of ORT on the
    /// unfused graph (the table includes the intermediate sigmoid quantization exactly).
    /// </summary>
    [Theory]
    [MemberData(nameof(SiluCases))]
    public void SiluPattern_FusesToOneTable_AndMatchesOrt(SiluForm form, bool signed)
    {
        var type = TypeOf(signed);
        int zp(int v) => signed ? v - 128 : v;
        var b = new OnnxModelBuilder(13)
            .Input("x", type, 1, 256)
            .Initializer("xs", Scalar(0.06f)).Initializer("xz", ZeroPoint(signed, zp(110)))
            .Initializer("ys", Scalar(0.035f)).Initializer("yz", ZeroPoint(signed, zp(20)))
            .Node("DequantizeLinear", ["x", "xs", "xz"], ["xf"])
            .Node("Sigmoid", ["xf"], ["sig"]);
        string mulOther = "xf";
        if (form == SiluForm.FloatSigmoid) b.Node("Mul", ["xf", "sig"], ["prod"]);
        else
        {
            bool uint8Sigmoid = form == SiluForm.QdqSigmoidUint8Intermediate;
            b.Initializer("ss", Scalar(1f / 256)).Initializer("sz", uint8Sigmoid ? U8([], 0) : ZeroPoint(signed, zp(0)));
            b.Node("QuantizeLinear", ["sig", "ss", "sz"], ["sq"]).Node("DequantizeLinear", ["sq", "ss", "sz"], ["sf"]);
            if (form == SiluForm.QdqSigmoidSeparateDq)
            {
                b.Node("DequantizeLinear", ["x", "xs", "xz"], ["xf2"]);
                mulOther = "xf2";
            }
            if (form == SiluForm.QdqSigmoidSwapped) b.Node("Mul", ["sf", mulOther], ["prod"]);
            else b.Node("Mul", [mulOther, "sf"], ["prod"]);
        }
        var bytes = b.Node("QuantizeLinear", ["prod", "ys", "yz"], ["y"]).Output("y", type).Build();

        var graph = ToGraph(b.Proto);
        QdqFusion.Fuse(graph);
        var fused = Assert.Single(graph.Nodes);
        Assert.Equal("QLinearSilu", fused.OpType);
        Assert.Equal(QdqFusion.EdgeDomain, fused.Domain);
        Assert.Equal(form == SiluForm.FloatSigmoid ? 5 : 7, fused.Inputs.Length);

        var x = new Tensor(type, [1, 256]);
        for (int i = 0; i < 256; i++) x.Bytes[i] = (byte)i;
        using var model = EdgeModel.Load(bytes, "silu.onnx", new EdgeModelOptions { Backend = BackendKind.Native });
        Assert.Equal("QLinearSilu", Assert.Single(model.Plan!.Steps).Node.OpType);
        var native = model.Run(x)[0];
        var ort = OrtRunner.Run(bytes, new Dictionary<string, Tensor> { ["x"] = x })["y"];
        long exact = 0;
        int worst = WorstDifference(ort, native, ref exact);
        output.WriteLine($"SiLU {form} signed {signed}: {exact}/256 exact, worst {worst} LSB");
        Assert.True(worst <= 1, $"{form}: worst difference {worst} LSB");
    }

    /// <summary>Float Mul(Sigmoid(x), x) becomes one Silu kernel, bit-identical to the unfused native ops and close to ORT.</summary>
    [Fact]
    public void FloatMulSigmoid_FusesToSilu()
    {
        var rng = new Random(405);
        var b = new OnnxModelBuilder(13)
            .Input("x", TensorElementType.Float32, 1, 5, 7, 9)
            .Node("Sigmoid", ["x"], ["s"])
            .Node("Mul", ["s", "x"], ["y"])
            .Output("y", TensorElementType.Float32);
        var graph = ToGraph(b.Proto);
        Assert.Equal(1, SiluFusion.Fuse(graph));
        var node = Assert.Single(graph.Nodes);
        Assert.Equal(("Silu", QdqFusion.EdgeDomain), (node.OpType, node.Domain));

        var x = Tensor.FromFloats([1, 5, 7, 9], Enumerable.Range(0, 315).Select(i => i < 4 ? new[] { 0f, -0f, 30f, -100f }[i] : (float)(rng.NextDouble() * 20 - 10)).ToArray());
        var feeds = new Dictionary<string, Tensor> { ["x"] = x };
        var fused = RunGraph(graph, feeds)["y"].ToFloatArray();
        var unfused = RunGraph(ToGraph(b.Proto), feeds)["y"].ToFloatArray();
        Assert.Equal(unfused, fused);
        using var model = EdgeModel.Load(b.Build(), "silu_float.onnx", new EdgeModelOptions { Backend = BackendKind.Native });
        Assert.Equal("Silu", Assert.Single(model.Plan!.Steps).Node.OpType);
        var ort = OrtRunner.Run(b.Build(), feeds)["y"].ToFloatArray();
        for (int i = 0; i < ort.Length; i++)
            Assert.True(Math.Abs(ort[i] - fused[i]) <= 1e-5f + 1e-5f * Math.Abs(ort[i]), $"element {i}: native {fused[i]} vs ORT {ort[i]}");
    }

    /// <summary>A sigmoid output that is also used elsewhere (or a Mul by another tensor) is left alone.</summary>
    [Fact]
    public void FloatSilu_NotFusedWhenSigmoidHasOtherUses()
    {
        var b = new OnnxModelBuilder(13)
            .Input("x", TensorElementType.Float32, 2, 3).Input("z", TensorElementType.Float32, 2, 3)
            .Node("Sigmoid", ["x"], ["s"])
            .Node("Mul", ["x", "s"], ["y"])
            .Node("Mul", ["z", "s"], ["w"])
            .Output("y", TensorElementType.Float32).Output("w", TensorElementType.Float32);
        var graph = ToGraph(b.Proto);
        Assert.Equal(0, SiluFusion.Fuse(graph));
        Assert.Equal(["Sigmoid", "Mul", "Mul"], graph.Nodes.Select(n => n.OpType).ToArray());
    }

    /// <summary>
    /// An EfficientNet-style squeeze-and-excitation block with a SiLU and a Concat, all in QDQ form:
    /// x → Q → DQ ─┬→ GAP → Q → DQ → Conv1x1 → Q → DQ → SiLU(QDQ) → Conv1x1 → Q → DQ → Sigmoid → Q → DQ ─→ Mul → Q → DQ ─→ Concat → Q → DQ → y
    ///             ├───────────────────────────────────────────────────────────────────────────────↗                 ↗
    ///             └─────────────────────────────────────────────────────────────────────────────────────────────────
    /// The sigmoid of the gate multiplies another tensor, so it stays a QLinearSigmoid (not a SiLU).
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void SqueezeExcitationBlock_FusesAndMatchesOrt(bool signed)
    {
        var rng = new Random(signed ? 7 : 8);
        const int c = 8, r = 4;
        int zp(int v) => signed ? v - 128 : v;
        var b = new OnnxModelBuilder(13);
        b.Input("x", TensorElementType.Float32, 1, c, 9, 9);
        void Q(string name, float scale, int zeroPoint) => b.Initializer(name + "_s", Scalar(scale)).Initializer(name + "_z", ZeroPoint(signed, zp(zeroPoint)));
        Q("x", 0.03f, 128); Q("g", 0.01f, 128); Q("c1", 0.02f, 128); Q("sg", 1f / 256, 0); Q("si", 0.015f, 40); Q("c2", 0.05f, 128); Q("m", 0.02f, 128); Q("y", 0.03f, 128);
        b.Initializer("w1", Random8(rng, true, [r, c, 1, 1], -100, 100)).Initializer("w1s", Scalar(0.01f)).Initializer("w1z", I8([], 0));
        b.Initializer("w2", Random8(rng, true, [c, r, 1, 1], -100, 100)).Initializer("w2s", Scalar(0.02f)).Initializer("w2z", I8([], 0));
        b.Node("QuantizeLinear", ["x", "x_s", "x_z"], ["xq"]).Node("DequantizeLinear", ["xq", "x_s", "x_z"], ["xf"]);
        b.Node("GlobalAveragePool", ["xf"], ["gap"]).Node("QuantizeLinear", ["gap", "g_s", "g_z"], ["gq"]).Node("DequantizeLinear", ["gq", "g_s", "g_z"], ["gf"]);
        b.Node("DequantizeLinear", ["w1", "w1s", "w1z"], ["w1f"]).Node("DequantizeLinear", ["w2", "w2s", "w2z"], ["w2f"]);
        b.Node("Conv", ["gf", "w1f"], ["c1"]).Node("QuantizeLinear", ["c1", "c1_s", "c1_z"], ["c1q"]).Node("DequantizeLinear", ["c1q", "c1_s", "c1_z"], ["c1f"]);
        b.Node("Sigmoid", ["c1f"], ["s1"]).Node("QuantizeLinear", ["s1", "sg_s", "sg_z"], ["s1q"]).Node("DequantizeLinear", ["s1q", "sg_s", "sg_z"], ["s1f"]);
        b.Node("Mul", ["c1f", "s1f"], ["silu"]).Node("QuantizeLinear", ["silu", "si_s", "si_z"], ["siq"]).Node("DequantizeLinear", ["siq", "si_s", "si_z"], ["sif"]);
        b.Node("Conv", ["sif", "w2f"], ["c2"]).Node("QuantizeLinear", ["c2", "c2_s", "c2_z"], ["c2q"]).Node("DequantizeLinear", ["c2q", "c2_s", "c2_z"], ["c2f"]);
        b.Node("Sigmoid", ["c2f"], ["gate"]).Node("QuantizeLinear", ["gate", "sg_s", "sg_z"], ["gateq"]).Node("DequantizeLinear", ["gateq", "sg_s", "sg_z"], ["gatef"]);
        b.Node("Mul", ["xf", "gatef"], ["se"]).Node("QuantizeLinear", ["se", "m_s", "m_z"], ["seq"]).Node("DequantizeLinear", ["seq", "m_s", "m_z"], ["sef"]);
        b.Node("Concat", ["sef", "xf"], ["cat"], a => a.Int("axis", 1)).Node("QuantizeLinear", ["cat", "y_s", "y_z"], ["yq"]).Node("DequantizeLinear", ["yq", "y_s", "y_z"], ["y"]);
        b.Output("y", TensorElementType.Float32);

        var graph = ToGraph(b.Proto);
        QdqFusion.Fuse(graph);
        var ops = graph.Nodes.Select(n => n.OpType).ToArray();
        output.WriteLine(string.Join(" → ", ops));
        Assert.Equal(["QuantizeLinear", "QLinearGlobalAveragePool", "QLinearConv", "QLinearSilu", "QLinearConv", "QLinearSigmoid", "QLinearMul", "QLinearConcat", "DequantizeLinear"], ops);

        long exact = 0, total = 0;
        for (int trial = 0; trial < 3; trial++)
        {
            var x = Tensor.FromFloats([1, c, 9, 9], Enumerable.Range(0, c * 81).Select(_ => (float)(rng.NextDouble() * 6 - 3)).ToArray());
            var feeds = new Dictionary<string, Tensor> { ["x"] = x };
            var ort = OrtRunner.Run(b.Build(), feeds)["y"].ToFloatArray();
            var native = RunGraph(graph, feeds)["y"].ToFloatArray();
            for (int i = 0; i < ort.Length; i++)
            {
                float d = Math.Abs(ort[i] - native[i]);
                Assert.True(d <= 0.03f * 1.001f, $"signed {signed} trial {trial} element {i}: native {native[i]} vs ORT {ort[i]}");
                if (d == 0) exact++;
                total++;
            }
        }
        output.WriteLine($"SE block signed {signed}: {exact}/{total} exact");
    }
}
