using EdgeRuntime.Execution;
using EdgeRuntime.Graph;
using EdgeRuntime.Onnx;
using EdgeRuntime.Onnx.Proto;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using OrtType = Microsoft.ML.OnnxRuntime.Tensors.TensorElementType;
using EdgeRuntime.Tensors;
using Tensor = EdgeRuntime.Tensors.Tensor;
using TensorElementType = EdgeRuntime.Tensors.TensorElementType;

namespace ModelConverter.Comparison;

/// <summary>How a float tensor's counterpart is stored in the quantized model.</summary>
internal enum CounterpartForm
{
    /// <summary><c>T_DequantizeLinear_Output</c>: the float output of the DequantizeLinear after T's QuantizeLinear (QDQ form).</summary>
    Qdq,
    /// <summary><c>T_quantized</c>: an int8/uint8 tensor (QOperator form), dequantized with its scale and zero point.</summary>
    QOperator,
    /// <summary><c>T</c> itself, still float in the quantized model (a layer kept float).</summary>
    Float,
}

/// <summary>One float tensor and its counterpart in the quantized model.</summary>
/// <param name="Name">The float model's tensor name.</param>
/// <param name="Op">Op type of the float node producing it (<c>input</c> for the graph input).</param>
/// <param name="Node">Name of that node (empty when unnamed or for the graph input).</param>
/// <param name="Counterpart">The quantized model's tensor compared with it.</param>
/// <param name="Form">How the counterpart is stored.</param>
/// <param name="Scale">Dequantization scale (<see cref="CounterpartForm.QOperator"/> only).</param>
/// <param name="ZeroPoint">Dequantization zero point (<see cref="CounterpartForm.QOperator"/> only).</param>
internal sealed record LayerPair(string Name, string Op, string Node, string Counterpart, CounterpartForm Form, float Scale = 1, int ZeroPoint = 0);

/// <summary>
/// Both models loaded with every matched tensor added as a graph output, and the sums of the comparison: per pair the
/// signal power Σs² and the quantization noise power Σ(s−q)² over all images — only the sums are kept, never the
/// activations of more than the current image.
/// </summary>
/// <remarks>
/// Counterparts follow ONNX Runtime's quantizer naming: for float tensor T the quantized model has
/// <c>T_DequantizeLinear_Output</c> (QDQ), else <c>T_quantized</c> (QOperator, scale/zero point from the initializers
/// <c>T_scale</c>/<c>T_zero_point</c> or from the node that quantizes it), else <c>T</c> itself when it is still a float
/// tensor there. Tensor types are learnt from ONNX Runtime (the models opened once with the tensors as untyped outputs);
/// the models then run on the engine the options choose (<see cref="BackendKind.Auto"/>: EdgeRuntime's native kernels,
/// ONNX Runtime when a node has none), with the tapped tensors declared as typed outputs after the model's own outputs.
/// </remarks>
internal sealed class LayerTaps : IDisposable
{
    private readonly int[] _floatSlot; // pair p: index of its float tensor in FloatModel.Outputs, -1 = the float model's input
    private readonly int[] _quantSlot; // pair p: index of its counterpart in QuantModel.Outputs
    private readonly double[] _signal;
    private readonly double[] _noise;
    private readonly long[] _elements;
    private readonly bool[] _shapeMismatch;
    private float[] _s = [];
    private float[] _q = [];

    private LayerTaps(EdgeModel f, EdgeModel q, IReadOnlyList<LayerPair> pairs)
    {
        FloatModel = f;
        QuantModel = q;
        Pairs = pairs;
        var floatOutputs = f.Outputs.Select(o => o.Name).ToList();
        var quantOutputs = q.Outputs.Select(o => o.Name).ToList();
        _floatSlot = pairs.Select(p => p.Op == "input" ? -1 : floatOutputs.IndexOf(p.Name)).ToArray();
        _quantSlot = pairs.Select(p => quantOutputs.IndexOf(p.Counterpart)).ToArray();
        _signal = new double[pairs.Count];
        _noise = new double[pairs.Count];
        _elements = new long[pairs.Count];
        _shapeMismatch = new bool[pairs.Count];
    }

    /// <summary>The float model with the tapped tensors as extra outputs (its own outputs first).</summary>
    public EdgeModel FloatModel { get; }

    /// <summary>The quantized model with the tapped counterparts as extra outputs (its own outputs first).</summary>
    public EdgeModel QuantModel { get; }

    /// <summary>The compared tensors, in the float model's node order (graph input first).</summary>
    public IReadOnlyList<LayerPair> Pairs { get; }

    /// <summary>Finds the tensor pairs and loads both models with them as outputs.</summary>
    /// <exception cref="ModelFormatException">A model cannot be parsed or loaded.</exception>
    public static LayerTaps Open(string floatPath, string quantPath, EdgeModelOptions engine)
    {
        var floatProto = ReadProto(floatPath);
        var quantProto = ReadProto(quantPath);
        var quantGraph = OnnxModelReader.ReadFile(quantPath, engine.Limits);
        var floatInput = RealInputs(floatProto).FirstOrDefault() ?? throw new ModelFormatException(floatPath, "the model has no input");
        var quantInput = RealInputs(quantProto).FirstOrDefault() ?? throw new ModelFormatException(quantPath, "the model has no input");

        var quantTensors = new HashSet<string>(quantProto.Graph.Node.SelectMany(n => n.Output).Where(o => o.Length > 0), StringComparer.Ordinal);
        var candidates = new List<LayerPair>();
        var seen = new HashSet<string>(StringComparer.Ordinal) { floatInput };
        if (Match(floatInput, "input", "", quantTensors, quantGraph, quantProto, allowSame: false) is { } inputPair) candidates.Add(inputPair);
        foreach (var node in floatProto.Graph.Node)
            foreach (var output in node.Output)
                if (output.Length > 0 && seen.Add(output) && Match(output, node.OpType, node.Name, quantTensors, quantGraph, quantProto, allowSame: true) is { } pair)
                    candidates.Add(pair);

        // Learn the tensors' element types from ONNX Runtime; keep pairs whose types fit the form: float on the float
        // side, float (QDQ, kept float) or int8/uint8 (QOperator) on the quantized side.
        var floatTypes = OutputTypes(floatProto, candidates.Where(c => c.Op != "input").Select(c => c.Name), floatPath);
        var quantTypes = OutputTypes(quantProto, candidates.Select(c => c.Counterpart), quantPath);
        var pairs = candidates.Where(c =>
            (c.Op == "input" || IsFloat(floatTypes[c.Name]))
            && (c.Form == CounterpartForm.QOperator ? quantTypes[c.Counterpart] is OrtType.Int8 or OrtType.UInt8 : IsFloat(quantTypes[c.Counterpart]))).ToArray();

        EdgeModel? f = null;
        try
        {
            f = Load(floatProto, pairs.Where(p => p.Op != "input").Select(p => p.Name), floatTypes, floatPath, engine);
            var q = Load(quantProto, pairs.Select(p => p.Counterpart), quantTypes, quantPath, engine);
            return new LayerTaps(f, q, pairs);
        }
        catch
        {
            f?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Adds one image's sums from the two models' outputs (<see cref="FloatModel"/> and <see cref="QuantModel"/> run
    /// on <paramref name="floatInput"/> and the quantized model's input).
    /// </summary>
    public void Accumulate(Tensor floatInput, IReadOnlyList<Tensor> floatOutputs, IReadOnlyList<Tensor> quantOutputs)
    {
        for (int p = 0; p < Pairs.Count; p++)
        {
            var pair = Pairs[p];
            int n = ReadFloat(_floatSlot[p] < 0 ? floatInput : floatOutputs[_floatSlot[p]], ref _s, 1, 0);
            int m = ReadFloat(quantOutputs[_quantSlot[p]], ref _q, pair.Scale, pair.ZeroPoint);
            if (n != m)
            {
                _shapeMismatch[p] = true;
                continue;
            }
            double signal = 0, noise = 0;
            for (int i = 0; i < n; i++)
            {
                double s = _s[i], d = s - _q[i];
                signal += s * s;
                noise += d * d;
            }
            _signal[p] += signal;
            _noise[p] += noise;
            _elements[p] += n;
        }
    }

    /// <summary>The accumulated result of every pair (pairs whose element counts differed are left out).</summary>
    public IReadOnlyList<LayerSqnr> Results() =>
        Pairs.Select((pair, p) => (pair, p)).Where(x => !_shapeMismatch[x.p])
             .Select(x => new LayerSqnr(x.pair, _signal[x.p], _noise[x.p], _elements[x.p])).ToArray();

    /// <summary>Tensors left out because the two models' tensors had different element counts.</summary>
    public IReadOnlyList<LayerPair> Mismatched() => Pairs.Where((_, p) => _shapeMismatch[p]).ToArray();

    /// <summary>Copies a float/float16/int8/uint8 tensor into <paramref name="buffer"/> as float, dequantizing integers.</summary>
    private static int ReadFloat(Tensor value, ref float[] buffer, float scale, int zeroPoint)
    {
        int n = value.ElementCount;
        if (buffer.Length < n) buffer = new float[n];
        var dst = buffer.AsSpan(0, n);
        switch (value.ElementType)
        {
            case TensorElementType.Float32: value.AsSpan<float>().CopyTo(dst); break;
            case TensorElementType.Float16:
            {
                var src = value.AsSpan<Half>();
                for (int i = 0; i < n; i++) dst[i] = (float)src[i];
                break;
            }
            case TensorElementType.Int8:
            {
                var src = value.AsSpan<sbyte>();
                for (int i = 0; i < n; i++) dst[i] = (src[i] - zeroPoint) * scale;
                break;
            }
            case TensorElementType.UInt8:
            {
                var src = value.AsSpan<byte>();
                for (int i = 0; i < n; i++) dst[i] = (src[i] - zeroPoint) * scale;
                break;
            }
            default: throw new InvalidOperationException($"unexpected tensor type {value.ElementType}");
        }
        return n;
    }

    private static LayerPair? Match(string name, string op, string node, HashSet<string> quantTensors, ModelGraph quantGraph, ModelProto quantProto, bool allowSame)
    {
        var qdq = name + "_DequantizeLinear_Output";
        if (quantTensors.Contains(qdq)) return new LayerPair(name, op, node, qdq, CounterpartForm.Qdq);
        var quantized = name + "_quantized";
        if (quantTensors.Contains(quantized) && ScalarParameters(quantGraph, quantized, name) is { } p)
            return new LayerPair(name, op, node, quantized, CounterpartForm.QOperator, p.Scale, p.ZeroPoint);
        if (allowSame && quantTensors.Contains(name) && !quantProto.Graph.Initializer.Any(i => i.Name == name))
            return new LayerPair(name, op, node, name, CounterpartForm.Float);
        return null;
    }

    /// <summary>Scale and zero point of <c>T_quantized</c>: initializers <c>T_scale</c>/<c>T_zero_point</c>, else the quantizing node's operands.</summary>
    private static (float Scale, int ZeroPoint)? ScalarParameters(ModelGraph graph, string quantized, string baseName)
    {
        if (graph.Initializers.TryGetValue(baseName + "_scale", out var s) && s.ElementCount == 1 && s.ElementType == TensorElementType.Float32)
        {
            int zp = 0;
            if (graph.Initializers.TryGetValue(baseName + "_zero_point", out var z) && z.ElementCount == 1)
                zp = (int)z.ToFloatArray()[0];
            return (s.AsSpan<float>()[0], zp);
        }
        return QuantizedOperands.ScalarParameters(graph, quantized);
    }

    private static bool IsFloat(OrtType t) => t is OrtType.Float or OrtType.Float16;

    private static IEnumerable<string> RealInputs(ModelProto model)
    {
        var initializers = new HashSet<string>(model.Graph.Initializer.Select(i => i.Name), StringComparer.Ordinal);
        return model.Graph.Input.Select(i => i.Name).Where(n => !initializers.Contains(n));
    }

    private static ModelProto ReadProto(string path)
    {
        try
        {
            return ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        }
        catch (Exception ex) when (ex is InvalidProtocolBufferException or IOException or UnauthorizedAccessException)
        {
            throw new ModelFormatException(path, $"cannot read the model: {ex.Message}", inner: ex);
        }
    }

    /// <summary>Element types of <paramref name="names"/>, from ONNX Runtime with them as untyped graph outputs.</summary>
    private static Dictionary<string, OrtType> OutputTypes(ModelProto model, IEnumerable<string> names, string path)
    {
        var tapped = model.Clone();
        var existing = new HashSet<string>(tapped.Graph.Output.Select(o => o.Name), StringComparer.Ordinal);
        var wanted = names.ToArray();
        foreach (var name in wanted)
            if (existing.Add(name)) tapped.Graph.Output.Add(new ValueInfoProto { Name = name });
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL };
        try
        {
            using var session = new InferenceSession(tapped.ToByteArray(), options);
            return wanted.Distinct().ToDictionary(n => n, n => session.OutputMetadata[n].ElementDataType, StringComparer.Ordinal);
        }
        catch (OnnxRuntimeException ex)
        {
            throw new ModelFormatException(path, "ONNX Runtime cannot load the model with its intermediate tensors as outputs: " + ex.Message, inner: ex);
        }
    }

    /// <summary>Loads <paramref name="model"/> with <paramref name="extraOutputs"/> declared as typed graph outputs.</summary>
    private static EdgeModel Load(ModelProto model, IEnumerable<string> extraOutputs, Dictionary<string, OrtType> types, string path, EdgeModelOptions engine)
    {
        var tapped = model.Clone();
        var existing = new HashSet<string>(tapped.Graph.Output.Select(o => o.Name), StringComparer.Ordinal);
        foreach (var name in extraOutputs)
            if (existing.Add(name))
                tapped.Graph.Output.Add(new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)types[name] } } });
        return EdgeModel.Load(tapped.ToByteArray(), path, engine);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        FloatModel.Dispose();
        QuantModel.Dispose();
    }
}

/// <summary>Accumulated signal and noise of one compared tensor over all images.</summary>
/// <param name="Pair">The compared tensors.</param>
/// <param name="Signal">Σs² over all elements of all images.</param>
/// <param name="Noise">Σ(s−q)² over all elements of all images.</param>
/// <param name="Elements">Number of elements summed (elements per image × images).</param>
internal sealed record LayerSqnr(LayerPair Pair, double Signal, double Noise, long Elements)
{
    /// <summary>
    /// 10·log10(Σs²/Σ(s−q)²) in dB: +∞ when the noise is 0 (the tensors are identical), −∞ when the signal is 0
    /// but the noise is not.
    /// </summary>
    public double SqnrDb => Noise == 0 ? double.PositiveInfinity : Signal == 0 ? double.NegativeInfinity : 10 * Math.Log10(Signal / Noise);
}
