using System.Numerics;
using System.Runtime.InteropServices;
using EdgeRuntime.Onnx.Proto;
using EdgeRuntime.Tensors;
using Google.Protobuf;

namespace EdgeRuntime.Tests.Infrastructure.ModelZoo;

/// <summary>Activation after a convolution, written the way PyTorch's ONNX exporter writes it.</summary>
internal enum ZooActivation
{
    /// <summary>No activation (linear bottleneck projections).</summary>
    None,
    /// <summary><c>Relu</c>.</summary>
    Relu,
    /// <summary>ReLU6 as <c>Clip(x, 0, 6)</c> with min/max as constant inputs (opset ≥ 11).</summary>
    Relu6,
    /// <summary><c>HardSwish</c> op from opset 14; below that <c>Mul(x, HardSigmoid(x, alpha=1/6, beta=0.5))</c> as PyTorch exports it.</summary>
    HardSwish,
    /// <summary>SiLU/Swish as <c>Mul(x, Sigmoid(x))</c>.</summary>
    SiLU,
}

/// <summary>
/// Fluent builder of float ONNX classification CNNs with seeded, realistically scaled weights.
/// Every op is also executed eagerly (plain C# loops, fixed summation order) on a small batch of synthetic
/// natural-image-like inputs, so that each BatchNormalization gets running statistics consistent with the
/// activations that actually reach it (data-dependent initialisation): activations stay O(1) through any depth,
/// as in a trained network. Tensors are NCHW float32; the eager values are kept per tensor name.
/// </summary>
/// <remarks>
/// Determinism: weights come from <see cref="ZooRandom"/> forked per layer name; eager arithmetic is scalar or
/// element-wise vector (no reordered reductions) and the measured statistics are rounded to 10 mantissa bits, so the
/// same seed gives byte-identical models on a platform and, in practice, across platforms.
/// </remarks>
internal sealed class ZooGraphBuilder
{
    private readonly ModelProto _model;
    private readonly GraphProto _graph = new();
    private readonly ZooRandom _root;
    private readonly Dictionary<string, (float[] Data, int[] Shape)> _values = new(StringComparer.Ordinal);
    private readonly Dictionary<string, float> _maxAbs = new(StringComparer.Ordinal);
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private readonly List<string> _scope = [];
    private readonly Dictionary<string, int> _forks = new(StringComparer.Ordinal);
    private long _parameters;
    private long _macs;
    private long _convMacs;
    private string? _clipMin, _clipMax;

    /// <summary>Share of the layer's mean variance mixed into each channel's running variance.</summary>
    private const double VarianceShrinkage = 0.25;

    /// <summary>Starts a model with the resolution, seed, opset and calibration batch of <paramref name="options"/>.</summary>
    public ZooGraphBuilder(string modelName, ZooOptions options)
        : this(modelName, options.Resolution, options.Seed, options.Opset, options.CalibrationInputs?.Count ?? options.CalibrationImages, options.CalibrationInputs)
    {
    }

    public ZooGraphBuilder(string modelName, int resolution, int seed, int opset = 13, int calibrationBatch = 8, IReadOnlyList<Tensor>? calibrationInputs = null)
    {
        if (calibrationBatch < 1) throw new ArgumentOutOfRangeException(nameof(calibrationBatch));
        if (resolution < 32) throw new ArgumentOutOfRangeException(nameof(resolution), "resolution must be at least 32");
        Opset = opset;
        Resolution = resolution;
        _root = new ZooRandom((ulong)(uint)seed * 0x2545F4914F6CDD1DUL + 1);
        _model = new ModelProto { IrVersion = 7, ProducerName = "EdgeRuntime.Tests.ModelZoo", ProducerVersion = "1", Graph = _graph };
        _model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opset });
        _graph.Name = modelName;
        _graph.Input.Add(OnnxModelBuilder.MakeValueInfo(Input, TensorElementType.Float32, [1, 3, resolution, resolution]));
        _names.Add(Input);
        SetValue(Input, calibrationInputs == null ? SyntheticImages(_root.Fork("calibration-input"), calibrationBatch, resolution) : Stack(calibrationInputs, resolution),
            [calibrationBatch, 3, resolution, resolution]);
    }

    private static float[] Stack(IReadOnlyList<Tensor> images, int resolution)
    {
        int size = 3 * resolution * resolution;
        var data = new float[images.Count * size];
        for (int i = 0; i < images.Count; i++)
        {
            var t = images[i];
            if (t.ElementType != TensorElementType.Float32 || !t.Shape.SequenceEqual([1, 3, resolution, resolution]))
                throw new ArgumentException($"calibration input {i} must be float [1, 3, {resolution}, {resolution}], got {t}");
            t.AsSpan<float>().CopyTo(data.AsSpan(i * size, size));
        }
        return data;
    }

    /// <summary>Name of the graph input, float [1, 3, R, R], ImageNet-normalised RGB.</summary>
    public string Input => "input";

    public int Opset { get; }

    public int Resolution { get; }

    /// <summary>Channels of a built tensor.</summary>
    public int Channels(string tensor) => _values[tensor].Shape[1];

    /// <summary>Shape of a built tensor (batch dimension = calibration batch).</summary>
    public int[] Shape(string tensor) => _values[tensor].Shape;

    /// <summary>Prefixes names of everything built until disposed, e.g. <c>features.3/conv</c>.</summary>
    public IDisposable Scope(string name)
    {
        _scope.Add(name);
        return new ScopeExit(this);
    }

    private sealed class ScopeExit(ZooGraphBuilder b) : IDisposable
    {
        public void Dispose() => b._scope.RemoveAt(b._scope.Count - 1);
    }

    // ---------------------------------------------------------------- layers

    /// <summary>
    /// Conv (NCHW, square kernel, symmetric padding, default "same" padding k/2). Weights are Kaiming-normal in
    /// fan-in mode (std = sqrt(gain / (C/groups·k·k))); bias (if any) N(0, 0.01²).
    /// </summary>
    public string Conv(string x, int outChannels, int kernel, int stride = 1, int groups = 1, int? pad = null, bool bias = false, double gain = 2.0, double biasMean = 0, string name = "conv")
    {
        var (xd, xs) = _values[x];
        int n = xs[0], c = xs[1], h = xs[2], w = xs[3];
        int p = pad ?? kernel / 2;
        if (c % groups != 0 || outChannels % groups != 0) throw new ArgumentException($"{name}: channels {c}->{outChannels} not divisible by groups {groups}");
        int cg = c / groups;
        int oh = (h + 2 * p - kernel) / stride + 1, ow = (w + 2 * p - kernel) / stride + 1;
        var path = Path(name);
        var rng = LayerRandom(path);
        var weight = new float[outChannels * cg * kernel * kernel];
        double std = Math.Sqrt(gain / (cg * kernel * kernel));
        for (int i = 0; i < weight.Length; i++) weight[i] = (float)(rng.NextNormal() * std);
        float[]? biasData = null;
        if (bias)
        {
            biasData = new float[outChannels];
            for (int i = 0; i < outChannels; i++) biasData[i] = (float)(biasMean + rng.NextNormal() * 0.01);
        }

        var y = new float[n * outChannels * oh * ow];
        ConvForward(xd, n, c, h, w, weight, biasData, outChannels, kernel, stride, p, groups, y, oh, ow);
        _macs += (long)outChannels * oh * ow * cg * kernel * kernel;
        _convMacs += (long)outChannels * oh * ow * cg * kernel * kernel;

        var wName = AddInitializer(path + ".weight", weight, [outChannels, cg, kernel, kernel]);
        var inputs = new List<string> { x, wName };
        if (biasData != null) inputs.Add(AddInitializer(path + ".bias", biasData, [outChannels]));
        var output = AddNode("Conv", path, inputs, y, [n, outChannels, oh, ow], a =>
        {
            a.Add(Ints("dilations", 1, 1));
            a.Add(Int("group", groups));
            a.Add(Ints("kernel_shape", kernel, kernel));
            a.Add(Ints("pads", p, p, p, p));
            a.Add(Ints("strides", stride, stride));
        });
        return output;
    }

    /// <summary>
    /// BatchNormalization (epsilon 1e-5, momentum 0.9 as PyTorch exports it). running_mean/var are the statistics of
    /// <paramref name="x"/> over the calibration batch (rounded to 10 mantissa bits); gamma ~ N(gammaMean, gammaStd²),
    /// beta ~ N(0, betaStd²).
    /// </summary>
    public string BatchNorm(string x, double gammaMean = 1.0, double gammaStd = 0.1, double betaStd = 0.1, string name = "bn")
    {
        var (xd, xs) = _values[x];
        int n = xs[0], c = xs[1], plane = xs[2] * xs[3];
        var path = Path(name);
        var rng = LayerRandom(path);
        var gamma = new float[c];
        var beta = new float[c];
        var mean = new float[c];
        var variance = new float[c];
        for (int ch = 0; ch < c; ch++)
        {
            gamma[ch] = (float)(gammaMean + gammaStd * rng.NextNormal());
            beta[ch] = (float)(betaStd * rng.NextNormal());
            double sum = 0, sumSq = 0;
            for (int b = 0; b < n; b++)
            {
                var s = xd.AsSpan((b * c + ch) * plane, plane);
                foreach (float v in s) { sum += v; sumSq += (double)v * v; }
            }
            double count = (double)n * plane;
            double m = sum / count;
            mean[ch] = RoundMantissa(m);
            variance[ch] = (float)Math.Max(sumSq / count - m * m, 0);
        }
        // A handful of calibration images under-estimates the variance of some channels (nearly constant on these
        // images, dead after a ReLU upstream); their large 1/std gains compound through depth into exploding
        // activations on real photos. Shrink each channel's variance towards the layer's mean variance (running
        // statistics over a whole data set are likewise smoother than a batch's).
        double layerMean = Math.Max(variance.Average(v => (double)v), 1e-6);
        for (int ch = 0; ch < c; ch++) variance[ch] = RoundMantissa((1 - VarianceShrinkage) * variance[ch] + VarianceShrinkage * layerMean);
        const float epsilon = 1e-5f;
        var y = new float[xd.Length];
        for (int b = 0; b < n; b++)
            for (int ch = 0; ch < c; ch++)
            {
                float scale = gamma[ch] / MathF.Sqrt(variance[ch] + epsilon);
                float shift = beta[ch] - mean[ch] * scale;
                int o = (b * c + ch) * plane;
                for (int i = 0; i < plane; i++) y[o + i] = xd[o + i] * scale + shift;
            }
        var inputs = new List<string>
        {
            x,
            AddInitializer(path + ".weight", gamma, [c]),
            AddInitializer(path + ".bias", beta, [c]),
            AddInitializer(path + ".running_mean", mean, [c]),
            AddInitializer(path + ".running_var", variance, [c]),
        };
        return AddNode("BatchNormalization", path, inputs, y, xs, a =>
        {
            a.Add(Float("epsilon", epsilon));
            a.Add(Float("momentum", 0.9f));
        });
    }

    /// <summary>Applies <paramref name="activation"/> in PyTorch's exported form.</summary>
    public string Activation(string x, ZooActivation activation) => activation switch
    {
        ZooActivation.None => x,
        ZooActivation.Relu => Relu(x),
        ZooActivation.Relu6 => Relu6(x),
        ZooActivation.HardSwish => HardSwish(x),
        ZooActivation.SiLU => SiLU(x),
        _ => throw new ArgumentOutOfRangeException(nameof(activation)),
    };

    /// <summary>Conv (no bias) → BatchNormalization → activation: the unfused export of a conv block.</summary>
    public string ConvBnAct(string x, int outChannels, int kernel, int stride = 1, int groups = 1, ZooActivation activation = ZooActivation.Relu, string name = "", double gammaMean = 1.0)
    {
        using var _ = name.Length > 0 ? Scope(name) : null;
        var y = Conv(x, outChannels, kernel, stride, groups, gain: activation == ZooActivation.None ? 1.0 : 2.0);
        y = BatchNorm(y, gammaMean: gammaMean);
        return Activation(y, activation);
    }

    public string Relu(string x, string name = "relu") => Unary("Relu", x, name, v => v > 0 ? v : 0f);

    public string Sigmoid(string x, string name = "sigmoid") => Unary("Sigmoid", x, name, v => 1f / (1f + MathF.Exp(-v)));

    /// <summary>HardSigmoid with PyTorch's constants alpha = 1/6, beta = 0.5.</summary>
    public string HardSigmoid(string x, string name = "hardsigmoid")
    {
        const float alpha = 1f / 6f, beta = 0.5f;
        return Unary("HardSigmoid", x, name, v => MathF.Max(0f, MathF.Min(1f, alpha * v + beta)), a =>
        {
            a.Add(Float("alpha", alpha));
            a.Add(Float("beta", beta));
        });
    }

    /// <summary>ReLU6: Clip with shared scalar min (0) and max (6) initializers.</summary>
    public string Relu6(string x, string name = "clip")
    {
        _clipMin ??= AddInitializer("clip_min_0", [0f], [], countAsParameter: false);
        _clipMax ??= AddInitializer("clip_max_6", [6f], [], countAsParameter: false);
        var (xd, xs) = _values[x];
        var y = new float[xd.Length];
        for (int i = 0; i < y.Length; i++) y[i] = MathF.Min(MathF.Max(xd[i], 0f), 6f);
        return AddNode("Clip", Path(name), [x, _clipMin, _clipMax], y, xs, null);
    }

    /// <summary>HardSwish: the op at opset ≥ 14, else <c>Mul(x, HardSigmoid(x))</c>.</summary>
    public string HardSwish(string x, string name = "hardswish")
    {
        if (Opset >= 14)
            return Unary("HardSwish", x, name, v => v * MathF.Max(0f, MathF.Min(1f, v / 6f + 0.5f)));
        using var _ = Scope(name);
        return Mul(x, HardSigmoid(x));
    }

    /// <summary>SiLU as <c>Mul(x, Sigmoid(x))</c>.</summary>
    public string SiLU(string x, string name = "silu")
    {
        using var _ = Scope(name);
        return Mul(x, Sigmoid(x));
    }

    public string Add(string a, string b, string name = "add") => Binary("Add", a, b, name, (u, v) => u + v);

    /// <summary>Mul; <paramref name="b"/> may be [N, C, 1, 1] (squeeze-and-excitation scale).</summary>
    public string Mul(string a, string b, string name = "mul") => Binary("Mul", a, b, name, (u, v) => u * v);

    /// <summary>Concat along channels.</summary>
    public string Concat(IReadOnlyList<string> parts, string name = "concat")
    {
        var shapes = parts.Select(p => _values[p].Shape).ToArray();
        int n = shapes[0][0], h = shapes[0][2], w = shapes[0][3], plane = h * w;
        if (shapes.Any(s => s[0] != n || s[2] != h || s[3] != w)) throw new ArgumentException($"{name}: spatial shapes differ");
        int c = shapes.Sum(s => s[1]);
        var y = new float[n * c * plane];
        for (int b = 0; b < n; b++)
        {
            int offset = b * c * plane;
            foreach (var part in parts)
            {
                var (d, s) = _values[part];
                int len = s[1] * plane;
                d.AsSpan(b * len, len).CopyTo(y.AsSpan(offset, len));
                offset += len;
            }
        }
        return AddNode("Concat", Path(name), parts, y, [n, c, h, w], a => a.Add(Int("axis", 1)));
    }

    public string MaxPool(string x, int kernel, int stride, int pad = 0, string name = "maxpool") => Pool(x, kernel, stride, pad, max: true, name);

    /// <summary>AveragePool without padding (count_include_pad is then irrelevant).</summary>
    public string AveragePool(string x, int kernel, int stride, string name = "avgpool") => Pool(x, kernel, stride, 0, max: false, name);

    public string GlobalAveragePool(string x, string name = "gap")
    {
        var (xd, xs) = _values[x];
        int n = xs[0], c = xs[1], plane = xs[2] * xs[3];
        var y = new float[n * c];
        for (int i = 0; i < n * c; i++)
        {
            float sum = 0;
            for (int k = 0; k < plane; k++) sum += xd[i * plane + k];
            y[i] = sum / plane;
        }
        return AddNode("GlobalAveragePool", Path(name), [x], y, [n, c, 1, 1], null);
    }

    public string Flatten(string x, string name = "flatten")
    {
        var (xd, xs) = _values[x];
        int inner = xs.Skip(1).Aggregate(1, (p, d) => p * d);
        return AddNode("Flatten", Path(name), [x], (float[])xd.Clone(), [xs[0], inner], a => a.Add(Int("axis", 1)));
    }

    /// <summary>
    /// Gemm with transB = 1 (PyTorch Linear): weight [out, in] ~ N(0, 1/in), bias ~ N(0, 0.01²). With
    /// <paramref name="targetStd"/>, the weights are rescaled so the outputs on the calibration batch have that standard
    /// deviation (how trained classifier logits look: a few units, not the ~0.5 of a fresh layer).
    /// </summary>
    public string Gemm(string x, int outFeatures, double? targetStd = null, string name = "fc")
    {
        var (xd, xs) = _values[x];
        int n = xs[0], k = xs[1];
        var path = Path(name);
        var rng = LayerRandom(path);
        var weight = new float[outFeatures * k];
        double std = Math.Sqrt(1.0 / k);
        for (int i = 0; i < weight.Length; i++) weight[i] = (float)(rng.NextNormal() * std);
        var bias = new float[outFeatures];
        for (int i = 0; i < outFeatures; i++) bias[i] = (float)(rng.NextNormal() * 0.01);
        var y = GemmForward(xd, n, k, weight, bias, outFeatures);
        if (targetStd is { } target)
        {
            double sum = 0, sumSq = 0;
            foreach (float v in y) { sum += v; sumSq += (double)v * v; }
            double m = sum / y.Length, actual = Math.Sqrt(Math.Max(sumSq / y.Length - m * m, 1e-12));
            float factor = RoundMantissa(target / actual);
            for (int i = 0; i < weight.Length; i++) weight[i] *= factor;
            y = GemmForward(xd, n, k, weight, bias, outFeatures);
        }
        _macs += (long)k * outFeatures;
        var inputs = new List<string> { x, AddInitializer(path + ".weight", weight, [outFeatures, k]), AddInitializer(path + ".bias", bias, [outFeatures]) };
        return AddNode("Gemm", path, inputs, y, [n, outFeatures], a =>
        {
            a.Add(Float("alpha", 1f));
            a.Add(Float("beta", 1f));
            a.Add(Int("transB", 1));
        });
    }

    /// <summary>Softmax over the last axis of [N, classes].</summary>
    public string Softmax(string x, string name = "softmax")
    {
        var (xd, xs) = _values[x];
        int n = xs[0], k = xs[1];
        var y = new float[xd.Length];
        for (int b = 0; b < n; b++)
        {
            var row = xd.AsSpan(b * k, k);
            float max = float.NegativeInfinity;
            foreach (float v in row) max = MathF.Max(max, v);
            float sum = 0;
            for (int i = 0; i < k; i++) { y[b * k + i] = MathF.Exp(row[i] - max); sum += y[b * k + i]; }
            for (int i = 0; i < k; i++) y[b * k + i] /= sum;
        }
        return AddNode("Softmax", Path(name), [x], y, xs, a => a.Add(Int("axis", 1)));
    }

    /// <summary>
    /// Squeeze-and-excitation as torchvision exports it: GlobalAveragePool → Conv1x1(+bias) → inner activation →
    /// Conv1x1(+bias) → gate (HardSigmoid or Sigmoid) → Mul with <paramref name="x"/>.
    /// </summary>
    public string SqueezeExcite(string x, int squeezeChannels, ZooActivation inner, bool hardGate, string name = "se")
    {
        using var _ = Scope(name);
        int c = Channels(x);
        long convMacsBefore = _convMacs; // the SE convs run on 1x1 maps: their MACs do not scale with resolution
        var s = GlobalAveragePool(x, "avgpool");
        s = Conv(s, squeezeChannels, 1, bias: true, name: "fc1");
        s = Activation(s, inner);
        // Gates centred near 0.9 (bias +2.3, weights at half the fan-in scale), as in trained SE networks where most
        // channels pass: gates centred at 0.5 would let inputs unlike the calibration images double through every block.
        s = Conv(s, c, 1, bias: true, gain: 0.25, biasMean: 2.3, name: "fc2");
        s = hardGate ? HardSigmoid(s) : Sigmoid(s);
        _convMacs = convMacsBefore;
        return Mul(x, s, "scale");
    }

    /// <summary>
    /// The common classifier tail: GlobalAveragePool → Flatten → [Gemm(hidden) → activation →] Gemm (logits, std ≈ 3
    /// on the calibration batch) → Softmax.
    /// </summary>
    public (string Logits, string Probabilities) ClassifierHead(string features, int classes, int hidden = 0, ZooActivation hiddenActivation = ZooActivation.Relu)
    {
        var x = Flatten(GlobalAveragePool(features, "avgpool"));
        if (hidden > 0)
        {
            using var _ = Scope("classifier.0");
            x = Activation(Gemm(x, hidden, name: "fc"), hiddenActivation);
        }
        var logits = Gemm(x, classes, targetStd: 3.0, name: hidden > 0 ? "classifier.1" : "classifier");
        return (logits, Softmax(logits));
    }

    /// <summary>Finishes the model with <paramref name="output"/> as the single graph output.</summary>
    public ZooModel Finish(string family, string output, string logits, string lastFeature, int classes)
    {
        var (_, os) = _values[output];
        _graph.Output.Add(OnnxModelBuilder.MakeValueInfo(output, TensorElementType.Float32, [1, .. os.Skip(1)]));
        var (inputData, _) = _values[Input];
        int imageSize = 3 * Resolution * Resolution;
        var (logitData, ls) = _values[logits];
        var shapes = _values.ToDictionary(kv => kv.Key, kv => (int[])[1, .. kv.Value.Shape.Skip(1)], StringComparer.Ordinal);
        return new ZooModel(family, _model, Resolution, classes, Input, output, logits, lastFeature, _parameters, _macs, _convMacs,
            new Dictionary<string, float>(_maxAbs, StringComparer.Ordinal), shapes,
            Tensor.FromFloats([1, 3, Resolution, Resolution], inputData.AsSpan(0, imageSize)),
            logitData.AsSpan(0, ls[1]).ToArray());
    }

    // ---------------------------------------------------------------- graph plumbing

    /// <summary>The random stream of a layer: fixed by the seed and the layer's path (plus an occurrence count if a path repeats).</summary>
    private ZooRandom LayerRandom(string path)
    {
        int seen = _forks.GetValueOrDefault(path);
        _forks[path] = seen + 1;
        return _root.Fork(seen == 0 ? path : $"{path}#{seen}");
    }

    private string Path(string name) => _scope.Count == 0 ? name : string.Join("/", _scope) + "/" + name;

    private string Unique(string name)
    {
        if (_names.Add(name)) return name;
        for (int i = 1; ; i++)
            if (_names.Add($"{name}_{i}")) return $"{name}_{i}";
    }

    private string AddInitializer(string name, float[] data, int[] shape, bool countAsParameter = true)
    {
        name = Unique(name);
        var t = new TensorProto { Name = name, DataType = (int)TensorElementType.Float32, RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(data.AsSpan())) };
        foreach (var d in shape) t.Dims.Add(d);
        _graph.Initializer.Add(t);
        if (countAsParameter) _parameters += data.Length;
        return name;
    }

    private string AddNode(string opType, string path, IEnumerable<string> inputs, float[] value, int[] shape, Action<Google.Protobuf.Collections.RepeatedField<AttributeProto>>? attributes)
    {
        var output = Unique(path);
        var node = new NodeProto { OpType = opType, Name = output + "/" + opType };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        attributes?.Invoke(node.Attribute);
        _graph.Node.Add(node);
        SetValue(output, value, shape);
        return output;
    }

    private void SetValue(string name, float[] value, int[] shape)
    {
        _values[name] = (value, shape);
        float max = 0;
        foreach (float v in value)
        {
            if (!float.IsFinite(v)) throw new InvalidOperationException($"model zoo: non-finite activation in '{name}'");
            max = MathF.Max(max, MathF.Abs(v));
        }
        _maxAbs[name] = max;
    }

    private string Unary(string opType, string x, string name, Func<float, float> f, Action<Google.Protobuf.Collections.RepeatedField<AttributeProto>>? attributes = null)
    {
        var (xd, xs) = _values[x];
        var y = new float[xd.Length];
        for (int i = 0; i < y.Length; i++) y[i] = f(xd[i]);
        return AddNode(opType, Path(name), [x], y, xs, attributes);
    }

    private string Binary(string opType, string a, string b, string name, Func<float, float, float> f)
    {
        var (ad, as_) = _values[a];
        var (bd, bs) = _values[b];
        var y = new float[ad.Length];
        if (as_.SequenceEqual(bs))
        {
            for (int i = 0; i < y.Length; i++) y[i] = f(ad[i], bd[i]);
        }
        else if (bs.Length == 4 && bs[0] == as_[0] && bs[1] == as_[1] && bs[2] == 1 && bs[3] == 1)
        {
            int plane = as_[2] * as_[3];
            for (int i = 0; i < y.Length; i++) y[i] = f(ad[i], bd[i / plane]);
        }
        else throw new ArgumentException($"{name}: cannot broadcast {TensorShape.Format(bs)} to {TensorShape.Format(as_)}");
        return AddNode(opType, Path(name), [a, b], y, as_, null);
    }

    private string Pool(string x, int kernel, int stride, int pad, bool max, string name)
    {
        var (xd, xs) = _values[x];
        int n = xs[0], c = xs[1], h = xs[2], w = xs[3];
        int oh = (h + 2 * pad - kernel) / stride + 1, ow = (w + 2 * pad - kernel) / stride + 1;
        var y = new float[n * c * oh * ow];
        for (int plane = 0; plane < n * c; plane++)
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++)
                {
                    float acc = max ? float.NegativeInfinity : 0f;
                    int count = 0;
                    for (int ki = 0; ki < kernel; ki++)
                    {
                        int hi = i * stride - pad + ki;
                        if ((uint)hi >= (uint)h) continue;
                        for (int kj = 0; kj < kernel; kj++)
                        {
                            int wj = j * stride - pad + kj;
                            if ((uint)wj >= (uint)w) continue;
                            float v = xd[(plane * h + hi) * w + wj];
                            acc = max ? MathF.Max(acc, v) : acc + v;
                            count++;
                        }
                    }
                    y[(plane * oh + i) * ow + j] = max ? acc : acc / count;
                }
        return AddNode(max ? "MaxPool" : "AveragePool", Path(name), [x], y, [n, c, oh, ow], a =>
        {
            a.Add(Ints("kernel_shape", kernel, kernel));
            a.Add(Ints("pads", pad, pad, pad, pad));
            a.Add(Ints("strides", stride, stride));
        });
    }

    private static AttributeProto Int(string name, long v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = v };

    private static AttributeProto Float(string name, float v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = v };

    private static AttributeProto Ints(string name, params long[] v)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(v);
        return a;
    }

    /// <summary>Rounds to a float with 10 explicit mantissa bits (as float16 would keep), so tiny platform differences in the eager pass vanish.</summary>
    private static float RoundMantissa(double v)
    {
        if (v == 0) return 0;
        int exponent = (int)Math.Floor(Math.Log2(Math.Abs(v)));
        double quantum = Math.Pow(2, exponent - 10);
        return (float)(Math.Round(v / quantum, MidpointRounding.ToEven) * quantum);
    }

    // ---------------------------------------------------------------- eager kernels

    /// <summary>
    /// Direct convolution. For each output plane, accumulates w·(shifted input row) per (input channel, kh, kw) in
    /// that fixed order; stride-1 rows are vectorised element-wise (no reassociation), so results are bit-identical
    /// to the scalar loop on every vector width.
    /// </summary>
    private static void ConvForward(float[] x, int n, int c, int h, int w, float[] weight, float[]? bias, int m, int k, int stride, int pad, int groups, float[] y, int oh, int ow)
    {
        int cg = c / groups, mg = m / groups;
        for (int b = 0; b < n; b++)
            for (int oc = 0; oc < m; oc++)
            {
                var outPlane = y.AsSpan((b * m + oc) * oh * ow, oh * ow);
                outPlane.Fill(bias?[oc] ?? 0f);
                int g = oc / mg;
                for (int icg = 0; icg < cg; icg++)
                {
                    int ic = g * cg + icg;
                    var inPlane = x.AsSpan((b * c + ic) * h * w, h * w);
                    if (k == 1 && stride == 1 && pad == 0)
                    {
                        Axpy(weight[oc * cg + icg], inPlane, outPlane); // pointwise: one contiguous plane
                        continue;
                    }
                    for (int kh = 0; kh < k; kh++)
                        for (int kw = 0; kw < k; kw++)
                        {
                            float wv = weight[((oc * cg + icg) * k + kh) * k + kw];
                            // Valid output columns: 0 <= j*stride - pad + kw < w.
                            int j0 = Math.Max(0, CeilDiv(pad - kw, stride));
                            int j1 = Math.Min(ow, CeilDiv(w + pad - kw, stride)); // exclusive
                            if (j0 >= j1) continue;
                            for (int i = 0; i < oh; i++)
                            {
                                int hi = i * stride - pad + kh;
                                if ((uint)hi >= (uint)h) continue;
                                var outRow = outPlane.Slice(i * ow, ow);
                                var inRow = inPlane.Slice(hi * w, w);
                                if (stride == 1)
                                    Axpy(wv, inRow.Slice(j0 - pad + kw, j1 - j0), outRow.Slice(j0, j1 - j0));
                                else
                                    for (int j = j0; j < j1; j++) outRow[j] += wv * inRow[j * stride - pad + kw];
                            }
                        }
                }
            }
    }

    private static int CeilDiv(int a, int b) => a >= 0 ? (a + b - 1) / b : -((-a) / b);

    /// <summary>dst[i] += a·src[i]; multiply then add, separately rounded, exactly as the scalar statement.</summary>
    private static void Axpy(float a, ReadOnlySpan<float> src, Span<float> dst)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated && src.Length >= Vector<float>.Count)
        {
            var va = new Vector<float>(a);
            var vs = MemoryMarshal.Cast<float, Vector<float>>(src);
            var vd = MemoryMarshal.Cast<float, Vector<float>>(dst);
            for (int v = 0; v < vs.Length; v++) vd[v] += va * vs[v];
            i = vs.Length * Vector<float>.Count;
        }
        for (; i < src.Length; i++) dst[i] += a * src[i];
    }

    private static float[] GemmForward(float[] x, int n, int k, float[] weight, float[] bias, int m)
    {
        var y = new float[n * m];
        for (int b = 0; b < n; b++)
            for (int o = 0; o < m; o++)
            {
                float acc = 0;
                for (int i = 0; i < k; i++) acc += x[b * k + i] * weight[o * k + i];
                y[b * m + o] = acc + bias[o];
            }
        return y;
    }

    /// <summary>
    /// Synthetic photographs: per image a random exposure and contrast, multi-octave value noise with a natural-image
    /// 1/f spectrum (a colour per octave), a few flat sharp-edged shapes (objects, edges, saturated areas), fine sensor
    /// noise, clamped to [0, 1] and ImageNet-normalised. Images differ strongly from each other in colour and contrast,
    /// so the per-channel statistics cover the between-image variation of real photos, not just within-image texture.
    /// </summary>
    private static float[] SyntheticImages(ZooRandom rng, int count, int size)
    {
        float[] mean = [0.485f, 0.456f, 0.406f], std = [0.229f, 0.224f, 0.225f];
        var data = new float[count * 3 * size * size];
        var pixel = new double[3 * size * size];
        for (int b = 0; b < count; b++)
        {
            double contrast = 0.2 + 1.8 * rng.NextDouble();
            for (int ch = 0; ch < 3; ch++)
            {
                double baseColour = 0.15 + 0.7 * rng.NextDouble();
                pixel.AsSpan(ch * size * size, size * size).Fill(baseColour);
            }
            for (int octave = 1; octave <= 6; octave++)
            {
                int grid = (1 << octave) + 1;
                double amplitude = contrast * 0.35 / Math.Pow(1.6, octave);
                var lattice = new double[3 * grid * grid];
                double luminanceShare = rng.NextDouble();
                for (int i = 0; i < grid * grid; i++)
                {
                    double luminance = rng.NextNormal();
                    for (int ch = 0; ch < 3; ch++) lattice[ch * grid * grid + i] = amplitude * (luminanceShare * luminance + (1 - luminanceShare) * rng.NextNormal());
                }
                double step = (grid - 1.0) / size;
                for (int r = 0; r < size; r++)
                {
                    double gy = r * step; int y0 = (int)gy; double fy = gy - y0; int y1 = Math.Min(y0 + 1, grid - 1);
                    for (int col = 0; col < size; col++)
                    {
                        double gx = col * step; int x0 = (int)gx; double fx = gx - x0; int x1 = Math.Min(x0 + 1, grid - 1);
                        for (int ch = 0; ch < 3; ch++)
                        {
                            int o = ch * grid * grid;
                            double top = lattice[o + y0 * grid + x0] * (1 - fx) + lattice[o + y0 * grid + x1] * fx;
                            double bottom = lattice[o + y1 * grid + x0] * (1 - fx) + lattice[o + y1 * grid + x1] * fx;
                            pixel[(ch * size + r) * size + col] += top * (1 - fy) + bottom * fy;
                        }
                    }
                }
            }
            // Half the images get a large flat background (sky, wall, table, bokeh) over part of the frame.
            if (rng.NextDouble() < 0.5)
            {
                double angle = rng.NextDouble() * 2 * Math.PI, offset = (rng.NextDouble() - 0.5) * size;
                double[] colour = [rng.NextDouble(), rng.NextDouble(), rng.NextDouble()];
                double texture = 0.1 + 0.3 * rng.NextDouble();
                for (int r = 0; r < size; r++)
                    for (int col = 0; col < size; col++)
                    {
                        if ((col - size / 2.0) * Math.Cos(angle) + (r - size / 2.0) * Math.Sin(angle) < offset) continue;
                        for (int ch = 0; ch < 3; ch++)
                        {
                            int i = (ch * size + r) * size + col;
                            pixel[i] = colour[ch] + texture * (pixel[i] - 0.5);
                        }
                    }
            }
            int shapes = 1 + (int)(rng.NextDouble() * 5);
            for (int shape = 0; shape < shapes; shape++)
            {
                double cx = rng.NextDouble() * size, cy = rng.NextDouble() * size;
                double rx = size * (0.05 + 0.3 * rng.NextDouble()), ry = size * (0.05 + 0.3 * rng.NextDouble());
                bool ellipse = rng.NextDouble() < 0.5;
                double[] colour = [rng.NextDouble(), rng.NextDouble(), rng.NextDouble()];
                for (int r = 0; r < size; r++)
                    for (int col = 0; col < size; col++)
                    {
                        double dx = (col - cx) / rx, dy = (r - cy) / ry;
                        bool inside = ellipse ? dx * dx + dy * dy <= 1 : Math.Abs(dx) <= 1 && Math.Abs(dy) <= 1;
                        if (!inside) continue;
                        for (int ch = 0; ch < 3; ch++) pixel[(ch * size + r) * size + col] = 0.5 * pixel[(ch * size + r) * size + col] + 0.5 * colour[ch];
                    }
            }
            for (int ch = 0; ch < 3; ch++)
                for (int i = 0; i < size * size; i++)
                {
                    double v = Math.Clamp(pixel[ch * size * size + i] + 0.02 * rng.NextNormal(), 0, 1);
                    data[(b * 3 + ch) * size * size + i] = (float)((v - mean[ch]) / std[ch]);
                }
        }
        return data;
    }
}
