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
}
