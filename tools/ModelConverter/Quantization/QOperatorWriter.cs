using EdgeRuntime.Graph;

namespace ModelConverter.Quantization;

/// <summary>
/// QOperator form: integer operators where ONNX or com.microsoft define one and both runtimes run it — QLinearConv,
/// QLinearMatMul, com.microsoft QLinearAdd / QLinearMul / QLinearAveragePool / QLinearGlobalAveragePool /
/// QLinearSigmoid / QLinearLeakyRelu / QLinearConcat, and MaxPool / Reshape / Flatten / Transpose / Squeeze / Unsqueeze applied to the
/// int8 tensor. Gemm runs as a 1x1 QLinearConv between two Reshapes. Everything else (Relu, Clip, Tanh, HardSigmoid, HardSwish, SiLU, float nodes) runs
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
            "Gemm" when node.Inputs.Length < 3 || node.Inputs[2].Length == 0 || Plan.Bias(node) == 2 => "QLinearConv(Gemm)",
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
            case "QLinearConv(Gemm)":
            {
                EmitGemmAsConv(node, n, ys, yz);
                _intForm[y] = y + "_quantized";
                if (IsGraphOutput(y)) FloatForm(y);
                return;
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

    /// <summary>
    /// Gemm y = x·W(ᵀ) + b (2-D x [B, K], alpha = beta = 1) as the exactly equivalent 1x1 QLinearConv: Reshape x to
    /// [B, K, 1, 1], QLinearConv with weight [N, K, 1, 1] (per output channel like any Conv) and the int32 bias, Reshape
    /// the result to [B, N]. Both runtimes run QLinearConv (ONNX QLinearMatMul has no bias, which would need a second
    /// rounding through QLinearAdd).
    /// </summary>
    private void EmitGemmAsConv(Node gemm, Node conv, string ys, string yz)
    {
        string x = gemm.Inputs[0], w = gemm.Inputs[1], y = gemm.Outputs[0];
        var (_, axis) = Plan.Weight(gemm);
        var source = Source.Initializers[w];
        int n = source.Shape[axis], k = source.Shape[1 - axis];
        var sv = source.AsSpan<float>();
        var nk = new float[n * k];
        for (int o = 0; o < n; o++)
            for (int c = 0; c < k; c++) nk[o * k + c] = axis == 0 ? sv[o * k + c] : sv[c * n + o];
        bool perChannel = Plan.Settings.PerChannel;
        var (q, scales) = QuantizationPlan.QuantizeWeight(EdgeRuntime.Tensors.Tensor.FromFloats([n, k, 1, 1], nk), perChannel ? 0 : -1);
        string wq = w + "_conv_quantized", ws = w + "_conv_scale", wz = w + "_conv_zero_point";
        Output.Initializers[wq] = EdgeRuntime.Tensors.Tensor.FromArray<sbyte>(EdgeRuntime.Tensors.TensorElementType.Int8, [n, k, 1, 1], q);
        Output.Initializers[ws] = perChannel ? EdgeRuntime.Tensors.Tensor.FromFloats([n], scales) : EdgeRuntime.Tensors.Tensor.FromFloats([], scales);
        Output.Initializers[wz] = perChannel ? EdgeRuntime.Tensors.Tensor.FromArray<sbyte>(EdgeRuntime.Tensors.TensorElementType.Int8, [n], new sbyte[n])
                                             : EdgeRuntime.Tensors.Tensor.FromArray<sbyte>(EdgeRuntime.Tensors.TensorElementType.Int8, [], [0]);
        var (xs, xz) = Parameters(x);
        string x4 = x + "_as_nchw_quantized", y4 = y + "_nchw_quantized";
        string toNchw = gemm.Name + "_to_nchw_shape", toRows = gemm.Name + "_to_rows_shape";
        Output.Initializers[toNchw] = EdgeRuntime.Tensors.Tensor.FromArray<long>(EdgeRuntime.Tensors.TensorElementType.Int64, [4], [-1, k, 1, 1]);
        Output.Initializers[toRows] = EdgeRuntime.Tensors.Tensor.FromArray<long>(EdgeRuntime.Tensors.TensorElementType.Int64, [2], [-1, n]);
        Output.Nodes.Add(new Node { Name = gemm.Name + "_to_nchw", OpType = "Reshape", Inputs = [IntForm(x), toNchw], Outputs = [x4] });
        var inputs = new List<string> { x4, xs, xz, wq, ws, wz, ys, yz };
        if (gemm.Inputs.Length > 2 && gemm.Inputs[2].Length > 0)
        {
            string b = gemm.Inputs[2], bq = b + "_conv_quantized";
            float xScale = Plan.Activations[x].Scale;
            var (bias, _) = QuantizationPlan.QuantizeBias(Plan.BiasFor(b, x, w, axis, perChannel), xScale, scales);
            Output.Initializers[bq] = EdgeRuntime.Tensors.Tensor.FromArray<int>(EdgeRuntime.Tensors.TensorElementType.Int32, [n], bias);
            inputs.Add(bq);
        }
        conv.OpType = "QLinearConv";
        conv.Inputs = inputs.ToArray();
        conv.Outputs = [y4];
        conv.Attributes["kernel_shape"] = OnnxGraphWriter.Ints("kernel_shape", [1, 1]);
        Output.Nodes.Add(conv);
        Output.Nodes.Add(new Node { Name = gemm.Name + "_to_rows", OpType = "Reshape", Inputs = [y4, toRows], Outputs = [y + "_quantized"] });
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
