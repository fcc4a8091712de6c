using EdgeRuntime.Fallback;
using EdgeRuntime.Graph;
using EdgeRuntime.Onnx;
using EdgeRuntime.Onnx.Proto;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using OrtType = Microsoft.ML.OnnxRuntime.Tensors.TensorElementType;
using Tensor = EdgeRuntime.Tensors.Tensor;

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
/// Reads every float tensor of the float model that has a counterpart in the quantized model, image by image, and
/// accumulates the signal power Σs² and the quantization noise power Σ(s−q)² of each pair over all images — only
/// the sums are kept, never the activations of more than the current image.
/// </summary>
/// <remarks>
/// Counterparts follow ONNX Runtime's quantizer naming: for float tensor T the quantized model has
/// <c>T_DequantizeLinear_Output</c> (QDQ), else <c>T_quantized</c> (QOperator, scale/zero point from the initializers
/// <c>T_scale</c>/<c>T_zero_point</c> or from the node that quantizes it), else <c>T</c> itself when it is still a float
/// tensor there. Both models run on ONNX Runtime (the reference engine) with the tensors added as graph outputs.
/// </remarks>
internal sealed class LayerTaps : IDisposable
{
    private readonly InferenceSession _float;
    private readonly InferenceSession _quant;
    private readonly SessionOptions _options;
    private readonly RunOptions _run = new();
    private readonly string _floatInput;
    private readonly string _quantInput;
    private readonly string[] _floatFetch;
    private readonly string[] _quantFetch;
    private readonly int[] _floatSlot; // pair p: index of its float tensor in _floatFetch, -1 = the float model's input
    private readonly int[] _quantSlot; // pair p: index of its counterpart in _quantFetch
    private readonly double[] _signal;
    private readonly double[] _noise;
    private readonly long[] _elements;
    private readonly bool[] _shapeMismatch;
    private float[] _s = [];
    private float[] _q = [];

    private LayerTaps(InferenceSession f, InferenceSession q, SessionOptions options, string floatInput, string quantInput,
                      IReadOnlyList<LayerPair> pairs, string[] floatFetch, string[] quantFetch, int[] floatSlot, int[] quantSlot)
    {
        _float = f;
        _quant = q;
        _options = options;
        _floatInput = floatInput;
        _quantInput = quantInput;
        Pairs = pairs;
        _floatFetch = floatFetch;
        _quantFetch = quantFetch;
        _floatSlot = floatSlot;
        _quantSlot = quantSlot;
        _signal = new double[pairs.Count];
        _noise = new double[pairs.Count];
        _elements = new long[pairs.Count];
        _shapeMismatch = new bool[pairs.Count];
    }

    /// <summary>The compared tensors, in the float model's node order (graph input first).</summary>
    public IReadOnlyList<LayerPair> Pairs { get; }

    /// <summary>Opens both models on ONNX Runtime with every matched tensor as an extra output.</summary>
    /// <exception cref="ModelFormatException">A model cannot be parsed or ONNX Runtime cannot load it.</exception>
    public static LayerTaps Open(string floatPath, string quantPath, int threads)
    {
        var floatProto = ReadProto(floatPath);
        var quantProto = ReadProto(quantPath);
        var quantGraph = OnnxModelReader.ReadFile(quantPath);
        var floatInput = RealInputs(floatProto).First();
        var quantInput = RealInputs(quantProto).First();

        var quantTensors = new HashSet<string>(quantProto.Graph.Node.SelectMany(n => n.Output).Where(o => o.Length > 0), StringComparer.Ordinal);
        var candidates = new List<LayerPair>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        if (Match(floatInput, "input", "", quantTensors, quantGraph, quantProto, allowSame: false) is { } inputPair) candidates.Add(inputPair);
        seen.Add(floatInput);
        foreach (var node in floatProto.Graph.Node)
            foreach (var output in node.Output)
                if (output.Length > 0 && seen.Add(output) && Match(output, node.OpType, node.Name, quantTensors, quantGraph, quantProto, allowSame: true) is { } pair)
                    candidates.Add(pair);

        var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            IntraOpNumThreads = threads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        };
        InferenceSession? f = null, q = null;
        try
        {
            f = Open(floatProto, candidates.Where(c => c.Op != "input").Select(c => c.Name), floatPath, options);
            q = Open(quantProto, candidates.Select(c => c.Counterpart).Where(c => c != quantInput), quantPath, options);
            // Keep only pairs whose types are what the form says: float on the float side, float or int8/uint8 on the other.
            var pairs = new List<LayerPair>();
            foreach (var c in candidates)
            {
                if (c.Op != "input" && !IsFloat(f.OutputMetadata[c.Name].ElementDataType)) continue;
                var qType = c.Counterpart == quantInput ? q.InputMetadata[c.Counterpart].ElementDataType : q.OutputMetadata[c.Counterpart].ElementDataType;
                bool ok = c.Form == CounterpartForm.QOperator ? qType is OrtType.Int8 or OrtType.UInt8 : IsFloat(qType);
                if (ok) pairs.Add(c);
            }
            var floatFetch = pairs.Where(p => p.Op != "input").Select(p => p.Name).ToArray();
            var quantFetch = pairs.Select(p => p.Counterpart).Where(c => c != quantInput).Distinct().ToArray();
            var floatSlot = pairs.Select(p => p.Op == "input" ? -1 : Array.IndexOf(floatFetch, p.Name)).ToArray();
            var quantSlot = pairs.Select(p => p.Counterpart == quantInput ? -1 : Array.IndexOf(quantFetch, p.Counterpart)).ToArray();
            return new LayerTaps(f, q, options, floatInput, quantInput, pairs, floatFetch, quantFetch, floatSlot, quantSlot);
        }
        catch
        {
            f?.Dispose();
            q?.Dispose();
            options.Dispose();
            throw;
        }
    }

    /// <summary>Runs both models on one image's input tensors and adds each pair's sums.</summary>
    public void Accumulate(Tensor floatInput, Tensor quantInput)
    {
        using var fIn = OrtTensorConversion.ToOrtValue(floatInput);
        using var qIn = OrtTensorConversion.ToOrtValue(quantInput);
        using var fOut = _floatFetch.Length > 0 ? _float.Run(_run, [_floatInput], [fIn], _floatFetch) : null;
        using var qOut = _quantFetch.Length > 0 ? _quant.Run(_run, [_quantInput], [qIn], _quantFetch) : null;
        for (int p = 0; p < Pairs.Count; p++)
        {
            var pair = Pairs[p];
            int n = ReadFloat(_floatSlot[p] < 0 ? fIn : fOut![_floatSlot[p]], ref _s, 1, 0);
            var qValue = _quantSlot[p] < 0 ? qIn : qOut![_quantSlot[p]];
            int m = ReadFloat(qValue, ref _q, pair.Scale, pair.ZeroPoint);
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
    private static int ReadFloat(OrtValue value, ref float[] buffer, float scale, int zeroPoint)
    {
        var info = value.GetTensorTypeAndShape();
        int n = checked((int)info.ElementCount);
        if (buffer.Length < n) buffer = new float[n];
        var dst = buffer.AsSpan(0, n);
        switch (info.ElementDataType)
        {
            case OrtType.Float: value.GetTensorDataAsSpan<float>().CopyTo(dst); break;
            case OrtType.Float16:
            {
                var src = value.GetTensorDataAsSpan<Float16>();
                for (int i = 0; i < n; i++) dst[i] = (float)BitConverter.UInt16BitsToHalf(src[i].value);
                break;
            }
            case OrtType.Int8:
            {
                var src = value.GetTensorDataAsSpan<sbyte>();
                for (int i = 0; i < n; i++) dst[i] = (src[i] - zeroPoint) * scale;
                break;
            }
            case OrtType.UInt8:
            {
                var src = value.GetTensorDataAsSpan<byte>();
                for (int i = 0; i < n; i++) dst[i] = (src[i] - zeroPoint) * scale;
                break;
            }
            default: throw new InvalidOperationException($"unexpected tensor type {info.ElementDataType}");
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
        if (graph.Initializers.TryGetValue(baseName + "_scale", out var s) && s.ElementCount == 1 && s.ElementType == EdgeRuntime.Tensors.TensorElementType.Float32)
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

    /// <summary>ONNX Runtime session of <paramref name="model"/> with <paramref name="extraOutputs"/> added as (untyped) graph outputs.</summary>
    private static InferenceSession Open(ModelProto model, IEnumerable<string> extraOutputs, string path, SessionOptions options)
    {
        var tapped = model.Clone();
        var existing = new HashSet<string>(tapped.Graph.Output.Select(o => o.Name), StringComparer.Ordinal);
        foreach (var name in extraOutputs)
            if (existing.Add(name)) tapped.Graph.Output.Add(new ValueInfoProto { Name = name });
        try
        {
            return new InferenceSession(tapped.ToByteArray(), options);
        }
        catch (OnnxRuntimeException ex)
        {
            throw new ModelFormatException(path, "ONNX Runtime cannot load the model with its intermediate tensors as outputs: " + ex.Message, inner: ex);
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _float.Dispose();
        _quant.Dispose();
        _options.Dispose();
        _run.Dispose();
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
