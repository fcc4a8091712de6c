using EdgeRuntime.Graph;

namespace ModelConverter.Quantization;

/// <summary>
/// QOperator form: integer operators where ONNX or com.microsoft define one and both runtimes run it — QLinearConv,
/// QLinearMatMul, com.microsoft QLinearAdd / QLinearMul / QLinearAveragePool / QLinearGlobalAveragePool /
/// QLinearSigmoid / QLinearLeakyRelu / QLinearConcat, and MaxPool / Reshape / Flatten / Transpose / Squeeze / Unsqueeze applied to the
/// int8 tensor. Everything else (Gemm, Relu, Clip, Tanh, HardSigmoid, HardSwish, SiLU, float nodes) runs
/// float between a DequantizeLinear and a QuantizeLinear. Values switch form lazily: the int8 form of T is
/// "T_quantized", its float form T itself (float producer) or "T_DequantizeLinear_Output" (integer producer).
/// </summary>
internal sealed class QOperatorWriter(QuantizationPlan plan) : QuantizedGraphWriter(plan)
{
    private const string Ms = "com.microsoft";
    private readonly Dictionary<string, string> _intForm = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _floatForm = new(StringComparer.Ordinal);

    private string IntForm(string t)
    {
        if (_intForm.TryGetValue(t, out var name)) return name;
        if (Plan.ConstantActivations.Contains(t)) return _intForm[t] = ConstantQuantized(t);
        name = t + "_quantized";
        Output.Nodes.Add(QuantizeNode(t, FloatForm(t), name));
        return _intForm[t] = name;
    }

    private string FloatForm(string t)
    {
        if (_floatForm.TryGetValue(t, out var name)) return name;
        if (!_intForm.TryGetValue(t, out var q)) return t; // graph input, constant or float-produced value
        name = IsGraphOutput(t) ? t : t + "_DequantizeLinear_Output";
        Output.Nodes.Add(DequantizeNode(t, q, name));
        return _floatForm[t] = name;
    }

    private string? IntegerOp(Node node)
    {
        if (!Plan.Quantized.Contains(node) || node.Outputs.Length != 1) return null;
        if (!Plan.Activations.ContainsKey(node.Outputs[0]) || !Plan.Activations.ContainsKey(node.Inputs[0])) return null;
        return node.OpType switch
        {
            "Conv" => "QLinearConv",
            "MatMul" when Plan.Weight(node).Index == 1 => "QLinearMatMul",
            "Add" when node.Inputs.Length == 2 && Plan.Activations.ContainsKey(node.Inputs[1]) => "QLinearAdd",
            "Mul" when node.Inputs.Length == 2 && Plan.Activations.ContainsKey(node.Inputs[1]) => "QLinearMul",
            "AveragePool" => "QLinearAveragePool",
            "GlobalAveragePool" => "QLinearGlobalAveragePool",
            "Sigmoid" => "QLinearSigmoid",
            "LeakyRelu" => "QLinearLeakyRelu",
            "Concat" when node.Inputs.All(t => t.Length > 0 && Plan.Activations.ContainsKey(t)) => "QLinearConcat",
            _ when QuantizationPlan.SharedParameterOps.Contains(node.OpType) => node.OpType,
            _ => null,
        };
    }

    protected override void Emit(Node node)
    {
        var op = IntegerOp(node);
        string y = node.Outputs[0];
        if (op == null)
        {
            EmitFloat(node);
            return;
        }
        var n = new Node { Name = node.Name, OpType = op, Inputs = [], Outputs = [y + "_quantized"] };
        var (ys, yz) = Parameters(y);
        switch (op)
        {
            case "QLinearConv":
            {
                string x = node.Inputs[0];
                var (xs, xz) = Parameters(x);
                var (w, ws, wz, _, _) = Weight(node.Inputs[1], 0);
                string xi = IntForm(x);
                var inputs = new List<string> { xi, xs, xz, w, ws, wz, ys, yz };
                if (Plan.Bias(node) == 2) inputs.Add(Bias(node.Inputs[2], x, node.Inputs[1], 0).Data);
                n.Inputs = inputs.ToArray();
                foreach (var (k, v) in node.Attributes) n.Attributes[k] = v;
                break;
            }
            case "QLinearMatMul":
            {
                string a = node.Inputs[0];
                var (aS, aZ) = Parameters(a);
                var (w, ws, wz, _, _) = Weight(node.Inputs[1], 1, perTensor: true); // per-column QLinearMatMul scales are not portable across runtimes
                n.Inputs = [IntForm(a), aS, aZ, w, ws, wz, ys, yz];
                break;
            }
            case "QLinearAdd" or "QLinearMul":
            {
                var (aS, aZ) = Parameters(node.Inputs[0]);
                var (bS, bZ) = Parameters(node.Inputs[1]);
                n.Inputs = [IntForm(node.Inputs[0]), aS, aZ, IntForm(node.Inputs[1]), bS, bZ, ys, yz];
                n.Domain = Ms;
                break;
            }
            case "QLinearAveragePool" or "QLinearGlobalAveragePool" or "QLinearSigmoid" or "QLinearLeakyRelu":
            {
                var (xs, xz) = Parameters(node.Inputs[0]);
                n.Inputs = [IntForm(node.Inputs[0]), xs, xz, ys, yz];
                n.Domain = Ms;
                foreach (var (k, v) in node.Attributes) n.Attributes[k] = v;
                if (op == "QLinearGlobalAveragePool") n.Attributes["channels_last"] = OnnxGraphWriter.Int("channels_last", 0);
                break;
            }
            case "QLinearConcat":
            {
                // Y_scale, Y_zero_point, then (X, X_scale, X_zero_point) per input; a copy when they share the output's parameters.
                var inputs = new List<string> { ys, yz };
                foreach (var x in node.Inputs)
                {
                    var (xs, xz) = Parameters(x);
                    inputs.AddRange([IntForm(x), xs, xz]);
                }
                n.Inputs = inputs.ToArray();
                n.Domain = Ms;
                foreach (var (k, v) in node.Attributes) n.Attributes[k] = v;
                break;
            }
            default: // data movement on the int8 tensor
            {
                n.Inputs = node.Inputs.Select((t, i) => i == 0 ? IntForm(t) : t).ToArray();
                foreach (var (k, v) in node.Attributes) n.Attributes[k] = v;
                break;
            }
        }
        Output.Nodes.Add(n);
        _intForm[y] = y + "_quantized";
        if (IsGraphOutput(y)) FloatForm(y);
    }

    /// <summary>A float node: reads float forms (so a quantized input passes through its DequantizeLinear), and a quantized output gets a QuantizeLinear/DequantizeLinear pair so its consumers see the quantized value.</summary>
    private void EmitFloat(Node node)
    {
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
            else if (Plan.Activations.ContainsKey(t) && (quantized || !Plan.ConstantActivations.Contains(t)))
            {
                IntForm(t); // make sure the value passes through its quantized form
                n.Inputs[i] = FloatFormAfterQuantize(t);
            }
        }
        var outs = n.Outputs.Where(o => o.Length > 0 && Plan.Activations.ContainsKey(o)).ToList();
        for (int i = 0; i < n.Outputs.Length; i++)
            if (outs.Contains(n.Outputs[i]) && IsGraphOutput(n.Outputs[i])) n.Outputs[i] += "_QuantizeLinear_Input";
        Output.Nodes.Add(n);
        foreach (var o in outs)
        {
            string source = IsGraphOutput(o) ? o + "_QuantizeLinear_Input" : o;
            Output.Nodes.Add(QuantizeNode(o, source, o + "_quantized"));
            _intForm[o] = o + "_quantized";
        }
        foreach (var o in outs) if (IsGraphOutput(o)) FloatForm(o);
    }

    /// <summary>The dequantized form of a quantized value (never the raw float value, so every reader sees quantization).</summary>
    private string FloatFormAfterQuantize(string t)
    {
        if (_floatForm.TryGetValue(t, out var name)) return name;
        name = IsGraphOutput(t) ? t : t + "_DequantizeLinear_Output";
        Output.Nodes.Add(DequantizeNode(t, _intForm[t], name));
        return _floatForm[t] = name;
    }
}
