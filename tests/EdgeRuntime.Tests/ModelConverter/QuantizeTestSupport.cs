using EdgeRuntime.Execution;
using EdgeRuntime.Graph;
using EdgeRuntime.Imaging;
using EdgeRuntime.Onnx;
using EdgeRuntime.Tensors;
using EdgeRuntime.Tests.Infrastructure;
using ModelConverter.Quantization;

namespace EdgeRuntime.Tests.ModelConverter;

/// <summary>Small float CNNs with seeded, realistically scaled weights, and helpers to quantize and run them.</summary>
internal static class QuantizeTestSupport
{
    public static readonly PreprocessOverrides UnitRange = new() { Range = PixelRange.Unit };

    /// <summary>
    /// One graph with every pattern the quantizer handles: Conv+BN+Clip(0,6), Conv+Relu with a residual Add, a
    /// squeeze-and-excitation block (GlobalAveragePool, 1x1 Convs, Sigmoid, Mul), a depthwise Conv, SiLU, HardSwish
    /// (x·HardSigmoid(x)), Concat, MaxPool, LeakyRelu, AveragePool, Tanh, GlobalAveragePool, Flatten and Gemm.
    /// Input "x" [1,3,20,20], output "logits" [1,10] (and "probs" = Softmax(logits) when <paramref name="softmax"/>).
    /// </summary>
    public static byte[] AllPatternsModel(int seed = 7, bool softmax = false, int opset = 13)
    {
        var rng = new Random(seed);
        var b = new OnnxModelBuilder(opset);
        b.Input("x", TensorElementType.Float32, 1, 3, 20, 20);
        b.Output("logits", TensorElementType.Float32, [1, 10]);
        if (softmax) b.Output("probs", TensorElementType.Float32, [1, 10]);
        void Conv(string name, string x, string y, int m, int c, int k, int group = 1, bool bias = true)
        {
            b.Initializer(name + "_W", Weights(rng, [m, c / group, k, k]));
            if (bias) b.Initializer(name + "_B", Normal(rng, [m], 0.1f));
            b.Node("Conv", bias ? [x, name + "_W", name + "_B"] : [x, name + "_W"], [y], a =>
            {
                a.Ints("pads", k / 2, k / 2, k / 2, k / 2).Ints("kernel_shape", k, k);
                if (group > 1) a.Int("group", group);
            }, name: name);
        }
        Conv("conv1", "x", "c1", 8, 3, 3, bias: false);
        b.Initializer("bn_g", Uniform(rng, [8], 0.5f, 1.5f)).Initializer("bn_b", Normal(rng, [8], 0.1f))
         .Initializer("bn_m", Normal(rng, [8], 0.1f)).Initializer("bn_v", Uniform(rng, [8], 0.5f, 1.5f));
        b.Node("BatchNormalization", ["c1", "bn_g", "bn_b", "bn_m", "bn_v"], ["b1"], a => a.Float("epsilon", 1e-5f), name: "bn1");
        b.Initializer("zero", Tensor.FromFloats([], [0f])).Initializer("six", Tensor.FromFloats([], [6f]));
        b.Node("Clip", ["b1", "zero", "six"], ["r1"], name: "relu6");
        Conv("conv2", "r1", "c2", 8, 8, 3);
        b.Node("Relu", ["c2"], ["r2"], name: "relu2");
        b.Node("Add", ["r1", "r2"], ["res"], name: "residual");
        b.Node("GlobalAveragePool", ["res"], ["gp"], name: "se_pool");
        Conv("se_reduce", "gp", "s1", 4, 8, 1);
        b.Node("Relu", ["s1"], ["s1r"], name: "se_relu");
        Conv("se_expand", "s1r", "s2", 8, 4, 1);
        b.Node("Sigmoid", ["s2"], ["sg"], name: "se_sigmoid");
        b.Node("Mul", ["res", "sg"], ["se"], name: "se_scale");
        Conv("dw", "se", "c3", 8, 8, 3, group: 8);
        b.Node("Sigmoid", ["c3"], ["sc3"], name: "silu_sigmoid");
        b.Node("Mul", ["c3", "sc3"], ["silu"], name: "silu_mul");
        b.Node("HardSigmoid", ["silu"], ["hs"], a => a.Float("alpha", 1f / 6).Float("beta", 0.5f), name: "hswish_gate");
        b.Node("Mul", ["silu", "hs"], ["hsw"], name: "hswish_mul");
        b.Node("Concat", ["hsw", "se"], ["cat"], a => a.Int("axis", 1), name: "concat");
        b.Node("MaxPool", ["cat"], ["mp"], a => a.Ints("kernel_shape", 2, 2).Ints("strides", 2, 2), name: "maxpool");
        Conv("conv4", "mp", "c4", 12, 16, 1);
        b.Node("LeakyRelu", ["c4"], ["lr"], a => a.Float("alpha", 0.1f), name: "leaky");
        b.Node("AveragePool", ["lr"], ["ap"], a => a.Ints("kernel_shape", 2, 2).Ints("strides", 2, 2), name: "avgpool");
        b.Node("Tanh", ["ap"], ["th"], name: "tanh");
        b.Node("GlobalAveragePool", ["th"], ["g2"], name: "gap");
        b.Node("Flatten", ["g2"], ["f"], a => a.Int("axis", 1), name: "flatten");
        b.Initializer("fc_W", Weights(rng, [10, 12])).Initializer("fc_B", Normal(rng, [10], 0.1f));
        b.Node("Gemm", ["f", "fc_W", "fc_B"], ["logits"], a => a.Int("transB", 1), name: "fc");
        if (softmax) b.Node("Softmax", ["logits"], ["probs"], a => a.Int("axis", 1), name: "softmax");
        return b.Build();
    }

    /// <summary>He-scaled normal weights: std = sqrt(2 / fan_in).</summary>
    public static Tensor Weights(Random rng, int[] shape)
    {
        int fanIn = shape.Skip(1).Aggregate(1, (a, d) => a * d);
        return Normal(rng, shape, MathF.Sqrt(2f / fanIn));
    }

    public static Tensor Normal(Random rng, int[] shape, float std)
    {
        var v = new float[TensorShape.ElementCount(shape)];
        for (int i = 0; i < v.Length; i++)
            v[i] = std * MathF.Sqrt(-2 * MathF.Log(1 - rng.NextSingle())) * MathF.Cos(2 * MathF.PI * rng.NextSingle());
        return Tensor.FromFloats(shape, v);
    }

    public static Tensor Uniform(Random rng, int[] shape, float lo, float hi)
    {
        var v = new float[TensorShape.ElementCount(shape)];
        for (int i = 0; i < v.Length; i++) v[i] = lo + (hi - lo) * rng.NextSingle();
        return Tensor.FromFloats(shape, v);
    }

    public static string TempDir()
    {
        var dir = Path.Combine(Path.GetTempPath(), "modelconv-quantize-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        return dir;
    }

    public static string Save(string dir, string name, byte[] model)
    {
        var path = Path.Combine(dir, name);
        File.WriteAllBytes(path, model);
        return path;
    }

    public static QuantizeResult Quantize(string modelPath, string[] images, QuantizeSettings settings, PreprocessOverrides? prep = null,
        IReadOnlyList<string>? keepFloat = null, double? autoKeepFloat = null) =>
        ModelQuantizer.Quantize(new QuantizeRequest
        {
            ModelPath = modelPath,
            Images = images,
            Preprocessing = prep,
            Settings = settings,
            KeepFloat = keepFloat ?? [],
            AutoKeepFloatDb = autoKeepFloat,
        });

    /// <summary>Preprocessed inputs for <paramref name="images"/> as the model at <paramref name="modelPath"/> sees them.</summary>
    public static Tensor[] Inputs(string modelPath, byte[] model, string[] images, PreprocessOverrides? prep)
    {
        using var m = EdgeModel.Load(model, modelPath, new EdgeModelOptions { Backend = BackendKind.Ort });
        var pipeline = new ModelInputPipeline(modelPath, m, prep);
        return images.Select(pipeline.Prepare).ToArray();
    }

    public static Tensor RunNative(byte[] model, Tensor input)
    {
        using var m = EdgeModel.Load(model, "quantized", new EdgeModelOptions { Backend = BackendKind.Native, Threads = 1 });
        return m.Run(input)[0].Clone();
    }

    public static Tensor RunOrt(byte[] model, string inputName, Tensor input) =>
        OrtRunner.Run(model, new Dictionary<string, Tensor> { [inputName] = input }).Values.First();

    public static ModelGraph Read(byte[] model) => OnnxModelReader.ReadBytes(model, "quantized");

    public static int ArgMax(ReadOnlySpan<float> v)
    {
        int best = 0;
        for (int i = 1; i < v.Length; i++) if (v[i] > v[best]) best = i;
        return best;
    }
}

/// <summary>A MobileNetV2 1.0-224 shaped float model (inverted residuals, Conv+BN+ReLU6, 3.4 M weights) with seeded weights.</summary>
internal static class MobileNetV2Builder
{
    public static byte[] Build(int seed = 11)
    {
        var rng = new Random(seed);
        var b = new OnnxModelBuilder(13);
        b.Input("input", TensorElementType.Float32, 1, 3, 224, 224).Output("logits", TensorElementType.Float32, [1, 1000]);
        b.Initializer("zero", Tensor.FromFloats([], [0f])).Initializer("six", Tensor.FromFloats([], [6f]));
        int id = 0;
        string ConvBn(string x, int cin, int cout, int k, int stride, int group, bool relu6)
        {
            string n = $"conv{id++}";
            b.Initializer(n + "_W", QuantizeTestSupport.Weights(rng, [cout, cin / group, k, k]));
            b.Node("Conv", [x, n + "_W"], [n + "_c"], a => a.Ints("kernel_shape", k, k).Ints("strides", stride, stride).Ints("pads", k / 2, k / 2, k / 2, k / 2).Int("group", group), name: n);
            b.Initializer(n + "_g", QuantizeTestSupport.Uniform(rng, [cout], 0.6f, 1.2f)).Initializer(n + "_b", QuantizeTestSupport.Normal(rng, [cout], 0.1f))
             .Initializer(n + "_m", QuantizeTestSupport.Normal(rng, [cout], 0.05f)).Initializer(n + "_v", QuantizeTestSupport.Uniform(rng, [cout], 0.8f, 1.5f));
            b.Node("BatchNormalization", [n + "_c", n + "_g", n + "_b", n + "_m", n + "_v"], [n + "_bn"], name: n + "_bn");
            if (!relu6) return n + "_bn";
            b.Node("Clip", [n + "_bn", "zero", "six"], [n + "_out"], name: n + "_relu6");
            return n + "_out";
        }
        string x = ConvBn("input", 3, 32, 3, 2, 1, true);
        int c = 32;
        foreach (var (t, cout, repeats, s) in new[] { (1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1) })
            for (int r = 0; r < repeats; r++)
            {
                int stride = r == 0 ? s : 1, hidden = c * t;
                string h = t == 1 ? x : ConvBn(x, c, hidden, 1, 1, 1, true);
                h = ConvBn(h, hidden, hidden, 3, stride, hidden, true);
                h = ConvBn(h, hidden, cout, 1, 1, 1, false);
                if (stride == 1 && c == cout)
                {
                    b.Node("Add", [x, h], [h + "_res"], name: h + "_add");
                    h += "_res";
                }
                x = h;
                c = cout;
            }
        x = ConvBn(x, c, 1280, 1, 1, 1, true);
        b.Node("GlobalAveragePool", [x], ["pooled"], name: "pool");
        b.Node("Flatten", ["pooled"], ["flat"], name: "flatten");
        b.Initializer("fc_W", QuantizeTestSupport.Weights(rng, [1000, 1280])).Initializer("fc_B", QuantizeTestSupport.Normal(rng, [1000], 0.01f));
        b.Node("Gemm", ["flat", "fc_W", "fc_B"], ["logits"], a => a.Int("transB", 1), name: "fc");
        return b.Build();
    }
}
