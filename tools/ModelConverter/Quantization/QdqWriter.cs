using EdgeRuntime.Graph;
using EdgeRuntime.Tensors;

namespace ModelConverter.Quantization;

/// <summary>
/// Shared machinery of the two writers: the output graph, names (ONNX Runtime's quantizer convention: for a value T,
/// "T_quantized", "T_scale", "T_zero_point", nodes "T_QuantizeLinear" / "T_DequantizeLinear" and the dequantized
/// value "T_DequantizeLinear_Output"; a quantized graph output keeps its name on the DequantizeLinear output), and the
/// quantized weights and int32 biases with their DequantizeLinear nodes.
/// </summary>
internal abstract class QuantizedGraphWriter
{
    protected readonly QuantizationPlan Plan;
    protected readonly ModelGraph Source;
    protected readonly ModelGraph Output;
    private readonly HashSet<string> _graphOutputs;
    private readonly Dictionary<string, (string Name, float[] Scales)> _weights = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _biases = new(StringComparer.Ordinal);
    private readonly HashSet<string> _paramsWritten = new(StringComparer.Ordinal);

    protected QuantizedGraphWriter(QuantizationPlan plan)
    {
        Plan = plan;
        Source = plan.Graph;
        Output = new ModelGraph { IrVersion = Source.IrVersion, SourcePath = Source.SourcePath, ProducerName = "modelconv" };
        foreach (var (d, v) in Source.Opsets) Output.Opsets[d] = v;
        foreach (var (k, v) in Source.Metadata) Output.Metadata[k] = v;
        Output.Inputs.AddRange(Source.Inputs);
        Output.Outputs.AddRange(Source.Outputs);
        foreach (var (k, v) in Source.Initializers) Output.Initializers[k] = v;
        _graphOutputs = new HashSet<string>(Source.Outputs.Select(o => o.Name), StringComparer.Ordinal);
    }

    protected bool IsGraphOutput(string value) => _graphOutputs.Contains(value);

    public ModelGraph Write()
    {
        foreach (var node in Source.Nodes) Emit(node);
        Finish();
        var used = new HashSet<string>(Output.Nodes.SelectMany(n => n.Inputs), StringComparer.Ordinal);
        foreach (var o in Output.Outputs) used.Add(o.Name);
        foreach (var name in Output.Initializers.Keys.ToList()) if (!used.Contains(name)) Output.Initializers.Remove(name);
        if (Output.Nodes.Any(n => n.Domain == "com.microsoft") && Output.OpsetFor("com.microsoft") == 0) Output.Opsets["com.microsoft"] = 1;
        return Output;
    }

    protected abstract void Emit(Node node);
    protected virtual void Finish() { }

    protected static Node Clone(Node n) => new()
    {
        Name = n.Name, OpType = n.OpType, Domain = n.Domain,
        Inputs = (string[])n.Inputs.Clone(), Outputs = (string[])n.Outputs.Clone(),
        Attributes = new Dictionary<string, NodeAttribute>(n.Attributes),
    };

    /// <summary>Writes "T_scale" / "T_zero_point" once and returns their names.</summary>
    protected (string Scale, string ZeroPoint) Parameters(string t)
    {
        var p = Plan.Activations[t];
        string s = t + "_scale", z = t + "_zero_point";
        if (_paramsWritten.Add(t))
        {
            Output.Initializers[s] = Tensor.FromFloats([], [p.Scale]);
            Output.Initializers[z] = Plan.ZeroPointTensor(p.ZeroPoint);
        }
        return (s, z);
    }

    protected Node QuantizeNode(string t, string floatSource, string intName)
    {
        var (s, z) = Parameters(t);
        return new Node { Name = t + "_QuantizeLinear", OpType = "QuantizeLinear", Inputs = [floatSource, s, z], Outputs = [intName] };
    }

    protected Node DequantizeNode(string t, string intName, string floatName)
    {
        var (s, z) = Parameters(t);
        return new Node { Name = t + "_DequantizeLinear", OpType = "DequantizeLinear", Inputs = [intName, s, z], Outputs = [floatName] };
    }

    /// <summary>"W_quantized" (int8), "W_scale", "W_zero_point" for a weight, per channel along <paramref name="axis"/> or per tensor.</summary>
    protected (string Data, string Scale, string ZeroPoint, float[] Scales, bool PerChannel) Weight(string w, int axis, bool perTensor = false)
    {
        bool perChannel = Plan.Settings.PerChannel && !perTensor;
        if (!_weights.TryGetValue(w, out var done))
        {
            var tensor = Source.Initializers[w];
            var (q, scales) = QuantizationPlan.QuantizeWeight(tensor, perChannel ? axis : -1);
            Output.Initializers[w + "_quantized"] = Tensor.FromArray<sbyte>(TensorElementType.Int8, tensor.Shape, q);
            Output.Initializers[w + "_scale"] = perChannel ? Tensor.FromFloats([scales.Length], scales) : Tensor.FromFloats([], scales);
            Output.Initializers[w + "_zero_point"] = perChannel ? Tensor.FromArray<sbyte>(TensorElementType.Int8, [scales.Length], new sbyte[scales.Length])
                                                               : Tensor.FromArray<sbyte>(TensorElementType.Int8, [], [0]);
            _weights[w] = done = (w + "_quantized", scales);
        }
        else if (perChannel != (done.Scales.Length > 1 || Source.Initializers[w].Shape[axis] == 1))
        {
            throw new InvalidOperationException($"weight '{w}' is used both per channel and per tensor");
        }
        return (done.Name, w + "_scale", w + "_zero_point", done.Scales, perChannel);
    }

    /// <summary>DequantizeLinear of a weight (emitted once); returns its float output name.</summary>
    protected string WeightDequantized(string w, int axis)
    {
        string output = w + "_DequantizeLinear_Output";
        var (data, scale, zp, _, perChannel) = Weight(w, axis);
        if (!Output.Nodes.Any(n => n.Outputs[0] == output))
        {
            var dq = new Node { Name = w + "_DequantizeLinear", OpType = "DequantizeLinear", Inputs = [data, scale, zp], Outputs = [output] };
            if (perChannel) dq.Attributes["axis"] = OnnxGraphWriter.Int("axis", axis);
            Output.Nodes.Add(dq);
        }
        return output;
    }

    /// <summary>"B_quantized" int32 at scale x_scale·w_scale[c]; returns (data, scale, zero point) names.</summary>
    protected (string Data, string Scale, string ZeroPoint, bool PerChannel) Bias(string b, string x, string w, int axis)
    {
        var (_, _, _, wScales, perChannel) = Weight(w, axis);
        float xScale = Plan.Activations[x].Scale;
        string key = b + "|" + x + "|" + w;
        if (!_biases.TryGetValue(key, out var name))
        {
            name = _biases.Values.Contains(b + "_quantized") ? $"{b}_{_biases.Count}" : b;
            var (q, scales) = QuantizationPlan.QuantizeBias(Plan.BiasFor(b, x, w, axis, perChannel), xScale, wScales);
            int n = q.Length;
            Output.Initializers[name + "_quantized"] = Tensor.FromArray<int>(TensorElementType.Int32, [n], q);
            Output.Initializers[name + "_scale"] = perChannel ? Tensor.FromFloats([n], scales) : Tensor.FromFloats([], scales);
            Output.Initializers[name + "_zero_point"] = perChannel ? Tensor.FromArray<int>(TensorElementType.Int32, [n], new int[n]) : Tensor.FromArray<int>(TensorElementType.Int32, [], [0]);
            _biases[key] = name + "_quantized";
            name += "_quantized";
        }
        string baseName = name[..^"_quantized".Length];
        return (name, baseName + "_scale", baseName + "_zero_point", perChannel);
    }

    protected string BiasDequantized(string b, string x, string w, int axis)
    {
        var (data, scale, zp, perChannel) = Bias(b, x, w, axis);
        string baseName = data[..^"_quantized".Length];
        string output = baseName + "_DequantizeLinear_Output";
        if (!Output.Nodes.Any(n => n.Outputs[0] == output))
        {
            var dq = new Node { Name = baseName + "_DequantizeLinear", OpType = "DequantizeLinear", Inputs = [data, scale, zp], Outputs = [output] };
            if (perChannel) dq.Attributes["axis"] = OnnxGraphWriter.Int("axis", 0);
            Output.Nodes.Add(dq);
        }
        return output;
    }

    /// <summary>A constant read as an activation: "C_quantized" initializer.</summary>
    protected string ConstantQuantized(string c)
    {
        string name = c + "_quantized";
        if (!Output.Initializers.ContainsKey(name)) Output.Initializers[name] = Plan.QuantizeConstant(Source.Initializers[c], Plan.Activations[c]);
        return name;
    }
}

/// <summary>
/// QDQ form: every quantized value T gets QuantizeLinear → DequantizeLinear right after its producer (or at the start
/// for the graph input), and every consumer reads the dequantized value; weights and biases are stored quantized with a
/// DequantizeLinear in front of their node. Nodes themselves stay the float ops, which both ONNX Runtime and
/// EdgeRuntime (QdqFusion) turn into integer kernels.
/// </summary>
internal sealed class QdqWriter(QuantizationPlan plan) : QuantizedGraphWriter(plan)
{
    private readonly Dictionary<string, string> _dequantized = new(StringComparer.Ordinal);

    private bool _started;

    protected override void Emit(Node node)
    {
        if (!_started)
        {
            _started = true;
            foreach (var input in Source.Inputs) if (Plan.Activations.ContainsKey(input.Name)) QuantizeAfterProducer(input.Name, input.Name);
        }
        var n = Clone(node);
        bool quantized = Plan.Quantized.Contains(node);
        var (w, axis) = quantized ? Plan.Weight(node) : (-1, 0);
        int b = quantized ? Plan.Bias(node) : -1;
        for (int i = 0; i < n.Inputs.Length; i++)
        {
            string t = n.Inputs[i];
            if (t.Length == 0) continue;
            if (i == w) n.Inputs[i] = WeightDequantized(t, axis);
            else if (i == b) n.Inputs[i] = BiasDequantized(t, node.Inputs[0], node.Inputs[1], axis);
            else if (Plan.ConstantActivations.Contains(t) && quantized) n.Inputs[i] = ConstantDequantized(t);
            else if (_dequantized.TryGetValue(t, out var dq)) n.Inputs[i] = dq;
        }
        var quantizeOutputs = n.Outputs.Where(o => o.Length > 0 && Plan.Activations.ContainsKey(o) && !Plan.ConstantActivations.Contains(o)).ToList();
        for (int i = 0; i < n.Outputs.Length; i++)
            if (quantizeOutputs.Contains(n.Outputs[i]) && IsGraphOutput(n.Outputs[i])) n.Outputs[i] += "_QuantizeLinear_Input";
        Output.Nodes.Add(n);
        foreach (var o in quantizeOutputs) QuantizeAfterProducer(o, IsGraphOutput(o) ? o + "_QuantizeLinear_Input" : o);
    }

    private void QuantizeAfterProducer(string t, string floatSource)
    {
        string dq = IsGraphOutput(t) ? t : t + "_DequantizeLinear_Output";
        Output.Nodes.Add(QuantizeNode(t, floatSource, t + "_quantized"));
        Output.Nodes.Add(DequantizeNode(t, t + "_quantized", dq));
        _dequantized[t] = dq;
    }

    private string ConstantDequantized(string c)
    {
        string output = c + "_DequantizeLinear_Output";
        if (!_dequantized.ContainsKey(c))
        {
            Output.Nodes.Add(DequantizeNode(c, ConstantQuantized(c), output));
            _dequantized[c] = output;
        }
        return output;
    }
}
