using EdgeRuntime.Execution;
using EdgeRuntime.Tensors;
using EdgeRuntime.Tests.Infrastructure;
using ModelConverter.Quantization;
using Xunit;
using Xunit.Abstractions;
using static EdgeRuntime.Tests.ModelConverter.QuantizeTestSupport;

namespace EdgeRuntime.Tests.ModelConverter;

/// <summary>
/// modelconv quantize on a seeded float CNN holding every supported pattern: the int8 model runs on ONNX Runtime and
/// natively with outputs within 1 LSB, in every form (int8/uint8 activations, QDQ/QOperator, per-channel/per-tensor).
/// </summary>
public sealed class QuantizeSyntheticTests(ITestOutputHelper output)
{
    public static TheoryData<bool, bool, bool> Forms()
    {
        var d = new TheoryData<bool, bool, bool>();
        foreach (var unsigned in new[] { false, true })
            foreach (var qoperator in new[] { false, true })
                foreach (var perChannel in new[] { true, false })
                    d.Add(unsigned, qoperator, perChannel);
        return d;
    }

    [Theory]
    [MemberData(nameof(Forms))]
    public void Native_matches_OnnxRuntime_within_one_LSB(bool unsigned, bool qoperator, bool perChannel)
    {
        var format = qoperator ? QuantFormat.QOperator : QuantFormat.Qdq;
        var dir = TempDir();
        try
        {
            var floatModel = AllPatternsModel();
            var path = Save(dir, "float.onnx", floatModel);
            var photos = SharedData.AllPhotos();
            var settings = new QuantizeSettings { UnsignedActivations = unsigned, Format = format, PerChannel = perChannel };
            var result = Quantize(path, photos[..8], settings, UnitRange);
            var q = result.Model;
            var graph = Read(q);
            Assert.Equal("x", graph.Inputs[0].Name);
            Assert.Equal(TensorElementType.Float32, graph.Inputs[0].ElementType);
            Assert.Equal([1, 3, 20, 20], graph.Inputs[0].Shape);
            Assert.Equal("logits", graph.Outputs[0].Name);
            float lsb = graph.Initializers["logits_scale"].AsSpan<float>()[0];
            var zpType = graph.Initializers["logits_zero_point"].ElementType;
            Assert.Equal(unsigned ? TensorElementType.UInt8 : TensorElementType.Int8, zpType);
            if (format == QuantFormat.QOperator) Assert.Contains(graph.Nodes, n => n.OpType == "QLinearConv");
            else Assert.DoesNotContain(graph.Nodes, n => n.OpType.StartsWith("QLinear", StringComparison.Ordinal));

            // ONNX Runtime's uint8×int8 integer kernels saturate 16-bit pair sums on x86 without VNNI (documented ORT
            // behaviour for U8S8): for uint8 QOperator models the oracle is ORT's exact float emulation of the same
            // quantization, i.e. the QDQ form written with the same calibration and settings.
            var oracle = unsigned && format == QuantFormat.QOperator
                ? Quantize(path, photos[..8], settings with { Format = QuantFormat.Qdq }, UnitRange).Model
                : q;
            var inputs = Inputs(path, floatModel, photos[8..], UnitRange);
            double worst = 0;
            foreach (var input in inputs)
            {
                var native = RunNative(q, input).AsSpan<float>().ToArray();
                var ort = RunOrt(oracle, "x", input).AsSpan<float>().ToArray();
                for (int i = 0; i < native.Length; i++) worst = Math.Max(worst, Math.Abs(native[i] - ort[i]) / lsb);
            }
            output.WriteLine($"{(unsigned ? "uint8" : "int8")} {format} {(perChannel ? "per-channel" : "per-tensor")}: worst |native - ORT| = {worst:F2} LSB; {result.QuantizedNodes} quantized, {result.FloatNodes} float");
            Assert.True(worst <= 1.0001, $"native differs from ONNX Runtime by {worst:F2} LSB (scale {lsb})");
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Quantized_model_tracks_the_float_model()
    {
        var dir = TempDir();
        try
        {
            var floatModel = AllPatternsModel();
            var path = Save(dir, "float.onnx", floatModel);
            var photos = SharedData.AllPhotos();
            var q = Quantize(path, photos, new QuantizeSettings(), UnitRange).Model;
            double signal = 0, noise = 0;
            foreach (var input in Inputs(path, floatModel, photos, UnitRange))
            {
                var f = RunOrt(floatModel, "x", input).AsSpan<float>().ToArray();
                var n = RunNative(q, input).AsSpan<float>();
                for (int i = 0; i < f.Length; i++) { signal += f[i] * f[i]; noise += (f[i] - n[i]) * (f[i] - n[i]); }
            }
            double sqnr = 10 * Math.Log10(signal / noise);
            output.WriteLine($"logits SQNR int8 vs float: {sqnr:F1} dB");
            Assert.True(sqnr > 15, $"SQNR {sqnr:F1} dB");
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Same_inputs_give_byte_identical_models()
    {
        var dir = TempDir();
        try
        {
            var path = Save(dir, "float.onnx", AllPatternsModel());
            var photos = SharedData.AllPhotos()[..5];
            foreach (var method in new[] { RangeMethod.MinMax, RangeMethod.Percentile, RangeMethod.Entropy })
            {
                var s = new QuantizeSettings { Method = method };
                Assert.Equal(Quantize(path, photos, s, UnitRange).Model, Quantize(path, photos, s, UnitRange).Model);
            }
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Preparation_folds_BatchNorm_exactly_and_recognises_patterns()
    {
        var floatModel = AllPatternsModel(softmax: true, opset: 11);
        var prepared = GraphPreparation.Prepare(floatModel, "float", []);
        var g = prepared.Graph;
        Assert.DoesNotContain(g.Nodes, n => n.OpType == "BatchNormalization");
        Assert.DoesNotContain(g.Nodes, n => n.OpType == "HardSigmoid");
        Assert.Contains(g.Nodes, n => n.OpType == "HardSwish" && n.Name == "hswish_mul");
        Assert.DoesNotContain(g.Nodes, n => n.Name is "relu6" or "relu2" or "se_relu"); // fused into the producers' ranges
        Assert.Equal((0f, 6f), prepared.Clamps["r1"]);
        Assert.Contains("sc3", prepared.UnitInternal);
        Assert.True(g.DefaultOpset >= 14);

        // The float reference (preparation before activation fusion: BN folded, HardSwish fused, opset raised, Softmax
        // rewritten for opset 13) computes the same function as the original model.
        var input = Normal(new Random(3), [1, 3, 20, 20], 1f);
        var expected = OrtRunner.Run(floatModel, new Dictionary<string, Tensor> { ["x"] = input });
        var actual = OrtRunner.Run(prepared.FloatReference, new Dictionary<string, Tensor> { ["x"] = input });
        foreach (var name in new[] { "logits", "probs" })
        {
            var e = expected[name].AsSpan<float>().ToArray();
            var a = actual[name].AsSpan<float>().ToArray();
            for (int i = 0; i < e.Length; i++) Assert.True(Math.Abs(e[i] - a[i]) <= 1e-4f + 1e-4f * Math.Abs(e[i]), $"{name}[{i}]: {a[i]} vs {e[i]}");
        }

        var bnOnly = new OnnxModelBuilder(9);
        var rng = new Random(5);
        bnOnly.Input("x", TensorElementType.Float32, 1, 3, 9, 9).Output("y", TensorElementType.Float32, [1, 6, 9, 9]);
        bnOnly.Initializer("W", Weights(rng, [6, 3, 3, 3])).Initializer("B", Normal(rng, [6], 0.1f));
        bnOnly.Initializer("g", Uniform(rng, [6], 0.5f, 1.5f)).Initializer("b", Normal(rng, [6], 0.1f)).Initializer("m", Normal(rng, [6], 0.2f)).Initializer("v", Uniform(rng, [6], 0.2f, 2f));
        bnOnly.Node("Conv", ["x", "W", "B"], ["c"], a => a.Ints("pads", 1, 1, 1, 1));
        bnOnly.Node("BatchNormalization", ["c", "g", "b", "m", "v"], ["y"]);
        var bnModel = bnOnly.Build();
        var folded = GraphPreparation.Prepare(bnModel, "bn", []);
        Assert.Single(folded.Graph.Nodes);
        var x = Normal(rng, [1, 3, 9, 9], 1f);
        var want = OrtRunner.Run(bnModel, new Dictionary<string, Tensor> { ["x"] = x })["y"].AsSpan<float>().ToArray();
        var got = OrtRunner.Run(OnnxGraphWriter.ToBytes(folded.Graph), new Dictionary<string, Tensor> { ["x"] = x })["y"].AsSpan<float>().ToArray();
        for (int i = 0; i < want.Length; i++) Assert.True(Math.Abs(want[i] - got[i]) <= 1e-5f + 1e-5f * Math.Abs(want[i]), $"element {i}: {got[i]} vs {want[i]}");

    }

    [Fact]
    public void Keep_float_keeps_the_named_node_float_and_auto_keep_float_uses_SQNR()
    {
        var dir = TempDir();
        try
        {
            var path = Save(dir, "float.onnx", AllPatternsModel(softmax: true));
            var photos = SharedData.AllPhotos()[..4];
            var result = Quantize(path, photos, new QuantizeSettings(), UnitRange, keepFloat: ["conv4"]);
            var g = Read(result.Model);
            var conv4 = g.Nodes.Single(n => n.Name == "conv4");
            Assert.Equal("conv4_W", conv4.Inputs[1]); // the float weight, not a DequantizeLinear output
            Assert.Equal(TensorElementType.Float32, g.Initializers["conv4_W"].ElementType);
            Assert.Contains(g.Nodes, n => n.OpType == "DequantizeLinear" && n.Outputs[0] == conv4.Inputs[0]); // Q/DQ around it
            Assert.Contains(g.Nodes, n => n.OpType == "Softmax" && !n.Inputs[0].EndsWith("_quantized", StringComparison.Ordinal));
            Assert.Contains("conv4", result.KeptFloat);

            var all = Quantize(path, photos, new QuantizeSettings(), UnitRange, autoKeepFloat: 1000);
            Assert.NotEmpty(all.Sqnr);
            Assert.Contains("conv1", all.KeptFloat);
            var none = Quantize(path, photos, new QuantizeSettings(), UnitRange, autoKeepFloat: -1000);
            Assert.Empty(none.KeptFloat);
            output.WriteLine(string.Join("\n", all.Sqnr.OrderBy(kv => kv.Value).Select(kv => $"{kv.Key}: {kv.Value:F1} dB")));
        }
        finally { Directory.Delete(dir, true); }
    }
}
