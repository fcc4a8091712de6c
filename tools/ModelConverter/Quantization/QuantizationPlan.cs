using EdgeRuntime.Graph;
using EdgeRuntime.Tensors;

namespace ModelConverter.Quantization;

/// <summary>Output form of the quantized model.</summary>
internal enum QuantFormat
{
    /// <summary>Float ops between QuantizeLinear/DequantizeLinear pairs (ONNX Runtime's default form).</summary>
    Qdq,
    /// <summary>Integer operators (QLinearConv, QLinearMatMul, com.microsoft QLinearAdd, ...) where they exist.</summary>
    QOperator,
}

/// <summary>What to quantize and how.</summary>
internal sealed record QuantizeSettings
{
    public RangeMethod Method { get; init; } = RangeMethod.MinMax;
    public double Percentile { get; init; } = 99.99;
    public bool PerChannel { get; init; } = true;
    public QuantFormat Format { get; init; } = QuantFormat.Qdq;
    /// <summary>uint8 activations (zero point 0..255) instead of int8.</summary>
    public bool UnsignedActivations { get; init; }
}

/// <summary>Scale and zero point of a per-tensor quantized value: real = (q - ZeroPoint) · Scale.</summary>
internal readonly record struct QParams(float Scale, int ZeroPoint);

/// <summary>
/// The decisions shared by both writers: which nodes run quantized and the parameters of every quantized float value.
/// </summary>
internal sealed class QuantizationPlan
{
    /// <summary>Ops quantized with their own output range.</summary>
    public static readonly HashSet<string> ComputeOps = ["Conv", "Gemm", "MatMul", "Add", "Mul", "Concat", "AveragePool", "GlobalAveragePool",
        "Relu", "Clip", "LeakyRelu", "Sigmoid", "Tanh", "HardSigmoid", "HardSwish"];

    /// <summary>Ops that only move or select values: the output reuses the input's parameters.</summary>
    public static readonly HashSet<string> SharedParameterOps = ["MaxPool", "Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze"];

    /// <summary>Ops that stay float without a warning (the softmax at the output, shape arithmetic).</summary>
    private static readonly HashSet<string> QuietFloatOps = ["Softmax", "LogSoftmax", "Shape", "Gather", "Cast", "ConstantOfShape", "Pad", "Slice", "Split", "Sub", "Div"];

    public required ModelGraph Graph { get; init; }
    public required QuantizeSettings Settings { get; init; }
    public Dictionary<string, QParams> Activations { get; } = new(StringComparer.Ordinal);
    /// <summary>Float initializers quantized like activations (per-tensor asymmetric) because an Add/Mul/Concat reads them.</summary>
    public HashSet<string> ConstantActivations { get; } = new(StringComparer.Ordinal);
    public HashSet<Node> Quantized { get; } = new(ReferenceEqualityComparer.Instance);
    public List<string> Warnings { get; } = new();

    public TensorElementType ActivationType => Settings.UnsignedActivations ? TensorElementType.UInt8 : TensorElementType.Int8;

    /// <summary>Index of the weight input of a quantized node (-1 when none) and the output-channel axis of that weight.</summary>
    public (int Index, int Axis) Weight(Node node) => node.OpType switch
    {
        "Conv" => (1, 0),
        "Gemm" => (1, node.Attributes.TryGetValue("transB", out var t) && t.Int != 0 ? 0 : 1),
        "MatMul" when Graph.Initializers.ContainsKey(node.Inputs[1]) => (1, 1),
        _ => (-1, 0),
    };

    /// <summary>Index of the bias input quantized to int32 (-1 when none).</summary>
    public int Bias(Node node) => node.OpType is "Conv" or "Gemm" && node.Inputs.Length > 2 && node.Inputs[2].Length > 0
                                  && Graph.Initializers.TryGetValue(node.Inputs[2], out var b) && b.ElementType == TensorElementType.Float32 && b.Shape.Length == 1
                                  && Graph.Initializers.TryGetValue(node.Inputs[1], out var w) && b.Shape[0] == w.Shape[node.OpType == "Conv" ? 0 : Weight(node).Axis]
        ? 2 : -1;

    public static QuantizationPlan Build(PreparedGraph prepared, Dictionary<string, CalibrationHistogram> stats, QuantizeSettings settings)
    {
        var graph = prepared.Graph;
        var plan = new QuantizationPlan { Graph = graph, Settings = settings };
        var isFloat = FloatTypes.Infer(graph);
        bool unsigned = settings.UnsignedActivations;

        bool HasRange(string t) => plan.Activations.ContainsKey(t) || stats.ContainsKey(t) || (graph.Initializers.ContainsKey(t) && isFloat.Contains(t));
        void Assign(string t)
        {
            if (plan.Activations.ContainsKey(t)) return;
            if (graph.Initializers.TryGetValue(t, out var c))
            {
                var v = c.AsSpan<float>();
                float min = 0, max = 0;
                foreach (var x in v) { min = Math.Min(min, x); max = Math.Max(max, x); }
                plan.Activations[t] = FromRange(min, max, unsigned);
                plan.ConstantActivations.Add(t);
                return;
            }
            var (lo, hi) = RangeMethods.Compute(stats[t], settings.Method, settings.Percentile, unsigned);
            if (prepared.Clamps.TryGetValue(t, out var clamp)) { lo = Math.Max(lo, clamp.Low); hi = Math.Min(hi, clamp.High); }
            plan.Activations[t] = FromRange(lo, hi, unsigned);
        }

        foreach (var node in graph.Nodes)
        {
            if (node.Domain.Length != 0 || prepared.KeepFloat.Contains(node.Name)) continue;
            if (SharedParameterOps.Contains(node.OpType))
            {
                if (node.Inputs.Length > 0 && plan.Activations.TryGetValue(node.Inputs[0], out var p) && !plan.ConstantActivations.Contains(node.Inputs[0])
                    && node.Outputs.Length >= 1 && isFloat.Contains(node.Outputs[0]) && !plan.Activations.ContainsKey(node.Outputs[0]))
                {
                    plan.Quantized.Add(node);
                    plan.Activations[node.Outputs[0]] = p;
                }
                continue;
            }
            if (!ComputeOps.Contains(node.OpType))
            {
                if (!QuietFloatOps.Contains(node.OpType)) plan.Warnings.Add($"{node.Name} ({node.OpType}) has no int8 form here and stays float");
                continue;
            }
            if (node.Outputs.Length != 1 || !isFloat.Contains(node.Outputs[0])) continue;
            var (wIndex, _) = plan.Weight(node);
            if (node.OpType is "Conv" or "Gemm" && (node.Inputs.Length < 2 || !graph.Initializers.TryGetValue(node.Inputs[1], out var w) || w.ElementType != TensorElementType.Float32))
            {
                plan.Warnings.Add($"{node.Name} ({node.OpType}) has no constant weight and stays float");
                continue;
            }
            if (node.OpType == "Gemm" && (Attr(node, "transA") != 0 || AttrF(node, "alpha") != 1 || AttrF(node, "beta") != 1 || graph.Initializers[node.Inputs[1]].Shape.Length != 2))
            {
                plan.Warnings.Add($"{node.Name} (Gemm with transA/alpha/beta) stays float");
                continue;
            }
            if (node.OpType == "MatMul" && (graph.Initializers.ContainsKey(node.Inputs[0]) || (wIndex == 1 && graph.Initializers[node.Inputs[1]].Shape.Length != 2)))
            {
                plan.Warnings.Add($"{node.Name} (MatMul with a constant left operand or a non-2-D weight) stays float");
                continue;
            }
            var activationInputs = ActivationInputs(plan, node, isFloat).ToList();
            string output = node.Outputs[0];
            bool outputInternal = prepared.UnitInternal.Contains(output);
            if (activationInputs.Any(t => prepared.UnitInternal.Contains(t) ? false : !HasRange(t)) || (!outputInternal && !stats.ContainsKey(output)))
            {
                plan.Warnings.Add($"{node.Name} ({node.OpType}) was not reached by calibration and stays float");
                continue;
            }
            plan.Quantized.Add(node);
            foreach (var t in activationInputs) if (!prepared.UnitInternal.Contains(t)) Assign(t);
            if (!outputInternal) Assign(output);
        }
        return plan;
    }

    /// <summary>Float non-weight, non-bias inputs of a compute node that get quantized (Clip's min/max stay float).</summary>
    private static IEnumerable<string> ActivationInputs(QuantizationPlan plan, Node node, HashSet<string> isFloat)
    {
        var (w, _) = plan.Weight(node);
        int b = node.OpType is "Conv" or "Gemm" ? 2 : -1;
        int limit = node.OpType == "Clip" ? 1 : node.Inputs.Length;
        for (int i = 0; i < limit; i++)
        {
            if (i == w || i == b || node.Inputs[i].Length == 0 || !isFloat.Contains(node.Inputs[i])) continue;
            yield return node.Inputs[i];
        }
    }

    public IEnumerable<string> QuantizedActivationInputs(Node node)
    {
        var (w, _) = Weight(node);
        int b = node.OpType is "Conv" or "Gemm" ? 2 : -1;
        for (int i = 0; i < node.Inputs.Length; i++)
            if (i != w && i != b && Activations.ContainsKey(node.Inputs[i])) yield return node.Inputs[i];
    }

    private static long Attr(Node n, string name) => n.Attributes.TryGetValue(name, out var a) ? a.Int : 0;
    private static float AttrF(Node n, string name) => n.Attributes.TryGetValue(name, out var a) ? a.Float : 1;

    /// <summary>
    /// Asymmetric parameters for [rmin, rmax] widened to contain 0: scale = (rmax - rmin) / (qmax - qmin),
    /// zero point = round(qmin - rmin / scale) (half to even, clamped). rmin = 0 gives zero point = qmin exactly.
    /// </summary>
    public static QParams FromRange(float rmin, float rmax, bool unsigned)
    {
        int qmin = unsigned ? 0 : -128, qmax = unsigned ? 255 : 127;
        rmin = Math.Min(rmin, 0);
        rmax = Math.Max(rmax, 0);
        if (rmax == rmin) return new QParams(1f, unsigned ? 0 : 0);
        float scale = (float)(((double)rmax - rmin) / (qmax - qmin));
        if (scale == 0 || !float.IsFinite(scale)) return new QParams(1f, 0);
        int zp = (int)Math.Clamp(Math.Round(qmin - rmin / (double)scale, MidpointRounding.ToEven), qmin, qmax);
        return new QParams(scale, zp);
    }

    /// <summary>
    /// Symmetric int8 weights: per slice along <paramref name="axis"/> (or the whole tensor when negative),
    /// scale = max|w| / 127 (1 when all zero), q = clamp(round_half_even(w / scale), -127, 127).
    /// </summary>
    public static (sbyte[] Data, float[] Scales) QuantizeWeight(Tensor w, int axis)
    {
        var v = w.AsSpan<float>();
        int channels = axis < 0 ? 1 : w.Shape[axis];
        int inner = 1;
        if (axis >= 0) for (int d = axis + 1; d < w.Shape.Length; d++) inner *= w.Shape[d];
        else inner = v.Length;
        int ChannelOf(int i) => axis < 0 ? 0 : i / inner % channels;
        var amax = new float[channels];
        for (int i = 0; i < v.Length; i++) amax[ChannelOf(i)] = Math.Max(amax[ChannelOf(i)], Math.Abs(v[i]));
        var scales = amax.Select(a => a > 0 ? a / 127f : 1f).ToArray();
        var q = new sbyte[v.Length];
        for (int i = 0; i < v.Length; i++)
            q[i] = (sbyte)Math.Clamp(Math.Round(v[i] / scales[ChannelOf(i)], MidpointRounding.ToEven), -127, 127);
        return (q, scales);
    }

    /// <summary>int32 bias in units of xScale·wScale[c] (the product computed in float32, as ONNX Runtime does).</summary>
    public static (int[] Data, float[] Scales) QuantizeBias(Tensor bias, float xScale, float[] wScales)
    {
        var b = bias.AsSpan<float>();
        var data = new int[b.Length];
        var scales = new float[wScales.Length];
        for (int c = 0; c < wScales.Length; c++) scales[c] = xScale * wScales[c];
        for (int c = 0; c < b.Length; c++)
        {
            float s = scales[wScales.Length == 1 ? 0 : c];
            data[c] = (int)Math.Clamp(Math.Round(b[c] / (double)s, MidpointRounding.ToEven), int.MinValue + 1, int.MaxValue);
        }
        return (data, scales);
    }

    public Tensor ZeroPointTensor(int zp) => Settings.UnsignedActivations
        ? Tensor.FromArray<byte>(TensorElementType.UInt8, [], [(byte)zp])
        : Tensor.FromArray<sbyte>(TensorElementType.Int8, [], [(sbyte)zp]);

    /// <summary>A float constant quantized with its activation parameters.</summary>
    public Tensor QuantizeConstant(Tensor value, QParams p)
    {
        var v = value.AsSpan<float>();
        int qmin = Settings.UnsignedActivations ? 0 : -128, qmax = Settings.UnsignedActivations ? 255 : 127;
        var q = new int[v.Length];
        for (int i = 0; i < v.Length; i++) q[i] = (int)Math.Clamp(Math.Round(v[i] / p.Scale, MidpointRounding.ToEven) + p.ZeroPoint, qmin, qmax);
        return Settings.UnsignedActivations
            ? Tensor.FromArray<byte>(TensorElementType.UInt8, value.Shape, q.Select(x => (byte)x).ToArray())
            : Tensor.FromArray<sbyte>(TensorElementType.Int8, value.Shape, q.Select(x => (sbyte)x).ToArray());
    }
}
