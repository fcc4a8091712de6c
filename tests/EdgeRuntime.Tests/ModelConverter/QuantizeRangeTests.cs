using EdgeRuntime.Graph;
using EdgeRuntime.Tensors;
using EdgeRuntime.Tests.Infrastructure;
using ModelConverter.Quantization;
using Xunit;
using static EdgeRuntime.Tests.ModelConverter.QuantizeTestSupport;

namespace EdgeRuntime.Tests.ModelConverter;

/// <summary>
/// Range selection and parameter sharing: the entropy (KL) threshold against an independent computation and its
/// indifference to exact zeros, the full range after the last weighted layer, Concat sharing one scale with its inputs
/// (QLinearConcat in QOperator form).
/// </summary>
public sealed class QuantizeRangeTests
{
    /// <summary>Deterministic post-ReLU-like values: a fraction exact zeros, the rest exponential(1) with a few large outliers.</summary>
    private static float[] ReluLike(int count, double zeroFraction, int seed)
    {
        var rng = new Random(seed);
        var v = new float[count];
        for (int i = 0; i < count; i++)
        {
            if (rng.NextDouble() < zeroFraction) continue;
            v[i] = (float)-Math.Log(1 - rng.NextDouble());
            if (i % 5000 == 0) v[i] *= 8; // sparse outliers the KL threshold should clip
        }
        return v;
    }

    /// <summary>
    /// Independent KL threshold: bins of width <paramref name="width"/> over the non-zero |x| built straight from the
    /// values, then TensorRT's search with ε-smoothing written out plainly (no shared code with RangeMethods).
    /// </summary>
    private static double ReferenceThreshold(float[] values, double width, int levels)
    {
        var nonZero = values.Where(x => x != 0).Select(x => Math.Abs((double)x)).ToArray();
        int n = (int)Math.Floor(nonZero.Max() / width) + 1;
        var hist = new double[n];
        foreach (var a in nonZero) hist[Math.Min(n - 1, (int)Math.Floor(a / width))]++;
        static double[] Smoothed(double[] d)
        {
            double sum = d.Sum();
            int zeros = d.Count(x => x == 0);
            return d.Select(x => x == 0 ? 1e-4 : x / sum * (1 - 1e-4 * zeros)).ToArray();
        }
        double best = double.PositiveInfinity;
        int bestI = n;
        for (int i = levels; i <= n; i++)
        {
            var p = hist.Take(i).ToArray();
            p[i - 1] += hist.Skip(i).Sum();
            var q = new double[i];
            for (int l = 0; l < levels; l++)
            {
                int start = (int)((long)l * i / levels), end = (int)((long)(l + 1) * i / levels);
                double total = 0;
                int used = 0;
                for (int j = start; j < end; j++) { total += hist[j]; if (p[j] != 0) used++; }
                for (int j = start; j < end; j++) q[j] = p[j] != 0 ? total / used : 0;
            }
            if (q.Sum() == 0) continue;
            var ps = Smoothed(p);
            var qs = Smoothed(q);
            double kl = 0;
            for (int j = 0; j < i; j++) if (ps[j] > 0) kl += ps[j] * Math.Log(ps[j] / qs[j]);
            if (kl < best) { best = kl; bestI = i; }
        }
        return bestI * width;
    }

    [Fact]
    public void Entropy_threshold_matches_an_independent_KL_search()
    {
        var values = ReluLike(200_000, 0.5, 3);
        var h = new CalibrationHistogram();
        h.Add(values);
        var (lo, hi) = RangeMethods.Compute(h, RangeMethod.Entropy, 99.99, unsigned: false);
        Assert.Equal(0f, lo);
        // The quantizer's |x| histogram has ≤ 2048 bins of width h.Width·2^k covering [0, max].
        double width = h.Width;
        while (Math.Floor(values.Max() / width) + 1 > RangeMethods.EntropyBins) width *= 2;
        double expected = ReferenceThreshold(values, width, 256);
        Assert.Equal(expected, hi, 4);
        Assert.True(hi < values.Max() && hi > 4, $"threshold {hi} should clip the outliers (max {values.Max()}) but keep the bulk");
    }

    [Fact]
    public void Entropy_threshold_ignores_exact_zeros()
    {
        // Exact zeros are exactly representable whatever the range: adding a post-ReLU zero spike must not move the threshold.
        var values = ReluLike(100_000, 0, 5);
        var withZeros = values.Concat(new float[300_000]).ToArray();
        var a = new CalibrationHistogram();
        a.Add(values);
        var b = new CalibrationHistogram();
        b.Add(withZeros);
        Assert.Equal(300_000 + values.Count(v => v == 0), b.Zeros);
        Assert.Equal(a.Width, b.Width);
        Assert.Equal(RangeMethods.Compute(a, RangeMethod.Entropy, 99.99, false), RangeMethods.Compute(b, RangeMethod.Entropy, 99.99, false));
    }

    [Fact]
    public void Entropy_keeps_the_whole_range_of_a_uniform_distribution_and_is_symmetric_for_signed_data()
    {
        var rng = new Random(9);
        var uniform = Enumerable.Range(0, 100_000).Select(_ => rng.NextSingle()).ToArray();
        var h = new CalibrationHistogram();
        h.Add(uniform);
        var (_, hi) = RangeMethods.Compute(h, RangeMethod.Entropy, 99.99, false);
        Assert.True(hi > 0.97 * uniform.Max(), $"uniform [0,1): threshold {hi} clips values that carry as much mass as the rest");

        var signed = uniform.Select(v => 2 * v - 1).ToArray();
        var s = new CalibrationHistogram();
        s.Add(signed);
        var (slo, shi) = RangeMethods.Compute(s, RangeMethod.Entropy, 99.99, false);
        Assert.True(slo < -0.9 && shi > 0.9, $"signed uniform: range [{slo}, {shi}]");
    }

    [Fact]
    public void Output_head_is_everything_after_the_last_weighted_layer()
    {
        var graph = EdgeRuntime.Onnx.OnnxModelReader.ReadBytes(AllPatternsModel(softmax: true), "all");
        var head = QuantizationPlan.OutputHead(graph);
        Assert.Equal(["logits", "probs"], head.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Concat_shares_one_scale_with_its_inputs_and_the_tail_after_the_last_weighted_layer_runs_float()
    {
        var dir = TempDir();
        try
        {
            var path = Save(dir, "float.onnx", SqueezeLikeModel());
            var photos = SharedData.AllPhotos()[..4];
            foreach (var format in new[] { QuantFormat.Qdq, QuantFormat.QOperator })
            {
                var result = Quantize(path, photos, new QuantizeSettings { Format = format, Method = RangeMethod.Entropy }, UnitRange);
                var graph = Read(result.Model);
                float Scale(string t) => graph.Initializers[t + "_scale"].AsSpan<float>()[0];
                sbyte Zero(string t) => graph.Initializers[t + "_zero_point"].AsSpan<sbyte>()[0];
                foreach (var t in new[] { "e1", "e3" })
                {
                    Assert.Equal(Scale("cat"), Scale(t));
                    Assert.Equal(Zero("cat"), Zero(t));
                }
                Assert.Equal(-128, Zero("cat")); // the Relu-clamped inputs keep a range starting at 0
                if (format == QuantFormat.QOperator) Assert.Contains(graph.Nodes, n => n.OpType == "QLinearConcat" && n.Domain == "com.microsoft");
                // GlobalAveragePool → Softmax after the last Conv: only float ops read the pooled scores, so they stay float.
                var gap = graph.Nodes.Single(n => n.Name == "gap");
                Assert.Equal("GlobalAveragePool", gap.OpType);
                Assert.DoesNotContain(graph.Nodes, n => n.OpType == "QuantizeLinear" && n.Inputs[0].StartsWith("pooled", StringComparison.Ordinal));
                // The int8 model still runs the same natively and on ONNX Runtime.
                var input = Inputs(path, result.Model, photos[..1], UnitRange)[0];
                var native = RunNative(result.Model, input).AsSpan<float>().ToArray();
                var ort = RunOrt(result.Model, "x", input).AsSpan<float>().ToArray();
                for (int i = 0; i < native.Length; i++) Assert.True(Math.Abs(native[i] - ort[i]) <= 1e-3f, $"{format} probs[{i}]: native {native[i]}, ORT {ort[i]}");
            }
        }
        finally { Directory.Delete(dir, true); }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Bias_correction_removes_the_mean_shift_of_weight_rounding_in_a_grouped_conv(bool perChannel)
    {
        // Conv weight [M=4, C/G=3, 2, 2] with G=2 over a 6-channel input of known channel means.
        var rng = new Random(13);
        var w = Normal(rng, [4, 3, 2, 2], 0.3f);
        var b = Normal(rng, [4], 0.1f);
        var graph = new ModelGraph();
        graph.Initializers["W"] = w;
        graph.Initializers["B"] = b;
        var plan = new QuantizationPlan { Graph = graph, Settings = new QuantizeSettings { PerChannel = perChannel } };
        double[] mean = [1.5, -0.5, 2.0, 0.25, 3.0, -1.0];
        plan.ChannelMeans["x"] = mean;
        var corrected = plan.BiasFor("B", "x", "W", 0, perChannel).AsSpan<float>().ToArray();

        var wv = w.AsSpan<float>().ToArray();
        var (q, scales) = QuantizationPlan.QuantizeWeight(w, perChannel ? 0 : -1);
        for (int o = 0; o < 4; o++)
        {
            int group = o / 2; // 2 outputs per group
            double floatMean = b.AsSpan<float>()[o], quantMean = corrected[o];
            for (int c = 0; c < 3; c++)
                for (int k = 0; k < 4; k++)
                {
                    int i = (o * 3 + c) * 4 + k;
                    double mu = mean[group * 3 + c];
                    floatMean += wv[i] * mu;
                    quantMean += q[i] * scales[perChannel ? o : 0] * mu;
                }
            // With the corrected bias the int8 weights give the float model's mean output (interior positions).
            Assert.Equal(floatMean, quantMean, 4);
        }
        Assert.Equal(b.AsSpan<float>().ToArray(), new QuantizationPlan { Graph = graph, Settings = new QuantizeSettings { BiasCorrection = false } }
            .BiasFor("B", "x", "W", 0, perChannel).AsSpan<float>().ToArray());
    }

    [Fact]
    public void QOperator_form_runs_Gemm_as_an_integer_1x1_QLinearConv_natively()
    {
        var dir = TempDir();
        try
        {
            var path = Save(dir, "float.onnx", AllPatternsModel());
            var photos = SharedData.AllPhotos()[..4];
            var result = Quantize(path, photos, new QuantizeSettings { Format = QuantFormat.QOperator }, UnitRange);
            var graph = Read(result.Model);
            Assert.DoesNotContain(graph.Nodes, n => n.OpType == "Gemm");
            var fc = graph.Nodes.Single(n => n.Name == "fc");
            Assert.Equal("QLinearConv", fc.OpType);
            Assert.Equal([10, 12, 1, 1], graph.Initializers[fc.Inputs[3]].Shape);
            Assert.Equal(TensorElementType.Int32, graph.Initializers[fc.Inputs[8]].ElementType);
            using var native = EdgeRuntime.Execution.EdgeModel.Load(result.Model, "q", new EdgeRuntime.Execution.EdgeModelOptions { Backend = EdgeRuntime.Execution.BackendKind.Native });
            Assert.Empty(native.UnsupportedNodes);
            float lsb = graph.Initializers["logits_scale"].AsSpan<float>()[0];
            foreach (var input in Inputs(path, result.Model, photos, UnitRange))
            {
                var a = RunNative(result.Model, input).AsSpan<float>().ToArray();
                var b = RunOrt(result.Model, "x", input).AsSpan<float>().ToArray();
                for (int i = 0; i < a.Length; i++) Assert.True(Math.Abs(a[i] - b[i]) <= lsb * 1.0001f, $"logits[{i}]: native {a[i]}, ORT {b[i]}, LSB {lsb}");
            }
        }
        finally { Directory.Delete(dir, true); }
    }

    /// <summary>A fire module: squeeze 1x1 + Relu, expand 1x1 and 3x3 + Relu, Concat, then a 1x1 classifier Conv + Relu, GlobalAveragePool, Softmax.</summary>
    private static byte[] SqueezeLikeModel()
    {
        var rng = new Random(21);
        var b = new OnnxModelBuilder(13);
        b.Input("x", TensorElementType.Float32, 1, 3, 16, 16);
        b.Output("probs", TensorElementType.Float32, [1, 10, 1, 1]);
        void ConvRelu(string name, string x, string y, int m, int c, int k)
        {
            b.Initializer(name + "_W", Weights(rng, [m, c, k, k])).Initializer(name + "_B", Normal(rng, [m], 0.1f));
            b.Node("Conv", [x, name + "_W", name + "_B"], [name + "_out"], a => a.Ints("pads", k / 2, k / 2, k / 2, k / 2).Ints("kernel_shape", k, k), name: name);
            b.Node("Relu", [name + "_out"], [y], name: name + "_relu");
        }
        ConvRelu("squeeze", "x", "s", 4, 3, 1);
        ConvRelu("expand1", "s", "e1", 6, 4, 1);
        ConvRelu("expand3", "s", "e3", 6, 4, 3);
        b.Node("Concat", ["e1", "e3"], ["cat"], a => a.Int("axis", 1), name: "concat");
        ConvRelu("classifier", "cat", "scores", 10, 12, 1);
        b.Node("GlobalAveragePool", ["scores"], ["pooled"], name: "gap");
        b.Node("Softmax", ["pooled"], ["probs"], a => a.Int("axis", 1), name: "softmax");
        return b.Build();
    }
}
