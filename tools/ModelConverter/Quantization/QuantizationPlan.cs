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
    /// <summary>
    /// Fold the expected output shift caused by weight rounding into the bias of Conv/Gemm:
    /// b'[o] = b[o] - Σ (dequant(q(W)) - W)[o, c, ...] · mean(x[c]) over the calibration images.
    /// </summary>
    public bool BiasCorrection { get; init; } = true;
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

    /// <summary>Ops with a weight (learned linear map); the tensors after the last of them are the model's scores.</summary>
    private static readonly HashSet<string> WeightedOps = ["Conv", "ConvTranspose", "Gemm", "MatMul", "Einsum"];

    /// <summary>
    /// Activation tensors that get the full observed range whatever the method: those after the last weighted layer
    /// (see <see cref="OutputHead"/>), where the largest values are the winning scores.
    /// </summary>
    public HashSet<string> FullRange { get; } = new(StringComparer.Ordinal);

    /// <summary>Nodes after the last weighted layer left float because only float ops read their result.</summary>
    public List<string> FloatTail { get; } = new();

    /// <summary>Groups of tensors quantized with one set of parameters (Concat inputs and output), for reporting and tests.</summary>
    public List<string[]> SharedGroups { get; } = new();

    /// <summary>Per-channel mean (axis 1) of tensors, from calibration (for <see cref="QuantizeSettings.BiasCorrection"/>).</summary>
    public Dictionary<string, double[]> ChannelMeans { get; } = new(StringComparer.Ordinal);

    public static QuantizationPlan Build(PreparedGraph prepared, Dictionary<string, CalibrationHistogram> stats, QuantizeSettings settings)
    {
        var graph = prepared.Graph;
        var plan = new QuantizationPlan { Graph = graph, Settings = settings };
        foreach (var (t, h) in stats) if (h.ChannelMeans is { } means) plan.ChannelMeans[t] = means;
        var isFloat = FloatTypes.Infer(graph);
        bool unsigned = settings.UnsignedActivations;
        plan.FullRange.UnionWith(OutputHead(graph));
        // Range of every quantized non-constant tensor; parameters are derived at the end, once per sharing group.
        var ranges = new Dictionary<string, (float Lo, float Hi)>(StringComparer.Ordinal);
        var groups = new SharingGroups();

        bool HasRange(string t) => ranges.ContainsKey(t) || plan.ConstantActivations.Contains(t) || stats.ContainsKey(t) || (graph.Initializers.ContainsKey(t) && isFloat.Contains(t));
        void Assign(string t)
        {
            if (ranges.ContainsKey(t) || plan.ConstantActivations.Contains(t)) return;
            if (graph.Initializers.TryGetValue(t, out var c))
            {
                var v = c.AsSpan<float>();
                float min = 0, max = 0;
                foreach (var x in v) { min = Math.Min(min, x); max = Math.Max(max, x); }
                plan.Activations[t] = FromRange(min, max, unsigned);
                plan.ConstantActivations.Add(t);
                return;
            }
            var method = plan.FullRange.Contains(t) ? RangeMethod.MinMax : settings.Method;
            var (lo, hi) = RangeMethods.Compute(stats[t], method, settings.Percentile, unsigned);
            var clamp = prepared.Clamps.TryGetValue(t, out var c2) ? c2 : (float.NegativeInfinity, float.PositiveInfinity);
            lo = Math.Max(lo, clamp.Item1);
            hi = Math.Min(hi, clamp.Item2);
            ranges[t] = (lo, hi);
            groups.Add(t, lo, hi, clamp.Item1, clamp.Item2);
        }

        var concats = new List<Node>();
        foreach (var node in graph.Nodes)
        {
            if (node.Domain.Length != 0 || prepared.KeepFloat.Contains(node.Name)) continue;
            if (SharedParameterOps.Contains(node.OpType))
            {
                if (node.Inputs.Length > 0 && ranges.TryGetValue(node.Inputs[0], out var r)
                    && node.Outputs.Length >= 1 && isFloat.Contains(node.Outputs[0]) && !ranges.ContainsKey(node.Outputs[0]))
                {
                    plan.Quantized.Add(node);
                    ranges[node.Outputs[0]] = r;
                    groups.Add(node.Outputs[0], r.Lo, r.Hi, float.NegativeInfinity, float.PositiveInfinity);
                    groups.TryMerge([node.Inputs[0], node.Outputs[0]], force: true);
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
            if (node.OpType == "Concat") concats.Add(node);
        }

        // After the last weighted layer, an op whose result only float ops read (the Softmax at the output) gains nothing
        // from an int8 output, only a rounding of the scores: it runs float on its dequantized input. Repeated so a chain
        // (GlobalAveragePool → Flatten → Softmax) goes float from the end back to the last quantized weighted layer.
        var graphOutputs = graph.Outputs.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        bool IsOutput(string t) => graphOutputs.Contains(t);
        var consumers = graph.Nodes.SelectMany(n => n.Inputs.Where(i => i.Length > 0).Distinct().Select(i => (i, n))).ToLookup(x => x.i, x => x.n);
        for (bool changed = true; changed;)
        {
            changed = false;
            foreach (var node in graph.Nodes)
            {
                if (!plan.Quantized.Contains(node) || WeightedOps.Contains(node.OpType) || node.OpType is "Concat") continue;
                var outs = node.Outputs.Where(o => o.Length > 0).ToList();
                // A graph output stays as quantized as its producer (the model's declared result); only values read by float nodes go float.
                if (outs.Count == 0 || !outs.All(plan.FullRange.Contains) || outs.Any(o => IsOutput(o) || !consumers[o].Any() || consumers[o].Any(plan.Quantized.Contains))) continue;
                plan.Quantized.Remove(node);
                foreach (var o in outs) ranges.Remove(o);
                plan.FloatTail.Add(node.Name);
                changed = true;
            }
        }

        // Concat moves values without changing them: when its inputs share the output's parameters it is an exact copy
        // (ONNX Runtime's and TFLite's convention), instead of a second rounding of every input. The shared range is the
        // union of the members' ranges; a member whose producer absorbed a Relu/Clip must keep its range inside the clamp
        // (its saturation is the activation), so such a Concat keeps requantizing when the union would leave it.
        foreach (var concat in concats)
        {
            var members = concat.Inputs.Where(t => t.Length > 0 && ranges.ContainsKey(t)).Append(concat.Outputs[0]).Distinct().ToArray();
            if (members.Length > 1 && ranges.ContainsKey(concat.Outputs[0]) && groups.TryMerge(members, force: false))
                plan.SharedGroups.Add(members);
        }
        foreach (var t in ranges.Keys)
        {
            var (lo, hi) = groups.RangeOf(t);
            plan.Activations[t] = FromRange(lo, hi, unsigned);
        }
        return plan;
    }

    /// <summary>
    /// Tensors every path of which to a graph output passes no weighted op (Conv, Gemm, MatMul, ...), the output of the
    /// last weighted layer included: a classifier's scores and what pooling / activation / reshape / softmax make of them.
    /// Their largest values decide the prediction, so clipping them (percentile, entropy) reorders the top classes while
    /// the precision gained on small scores does not matter.
    /// </summary>
    public static HashSet<string> OutputHead(ModelGraph graph)
    {
        var head = new HashSet<string>(graph.Outputs.Select(o => o.Name), StringComparer.Ordinal);
        var consumers = new Dictionary<string, List<Node>>(StringComparer.Ordinal);
        foreach (var n in graph.Nodes)
            foreach (var i in n.Inputs.Distinct())
                if (i.Length > 0) (consumers.TryGetValue(i, out var l) ? l : consumers[i] = new()).Add(n);
        var order = GraphTopology.Sort(graph);
        for (int k = order.Count - 1; k >= 0; k--)
        {
            var node = order[k];
            foreach (var input in node.Inputs)
            {
                if (input.Length == 0 || head.Contains(input) || !consumers.TryGetValue(input, out var users)) continue;
                if (users.All(u => !WeightedOps.Contains(u.OpType) && u.Outputs.Any(o => o.Length > 0) && u.Outputs.Where(o => o.Length > 0).All(head.Contains)))
                    head.Add(input);
            }
        }
        // The input of the last weighted layer is not head: only that layer's output onwards.
        foreach (var node in graph.Nodes.Where(n => WeightedOps.Contains(n.OpType)))
            foreach (var i in node.Inputs) head.Remove(i);
        return head;
    }

    /// <summary>Union-find over tensor names with each group's range and the intersection of its members' clamps.</summary>
    private sealed class SharingGroups
    {
        private readonly Dictionary<string, string> _parent = new(StringComparer.Ordinal);
        private readonly Dictionary<string, (float Lo, float Hi, float ClampLo, float ClampHi)> _root = new(StringComparer.Ordinal);

        public void Add(string t, float lo, float hi, float clampLo, float clampHi)
        {
            if (_parent.ContainsKey(t)) return;
            _parent[t] = t;
            _root[t] = (Math.Min(lo, 0), Math.Max(hi, 0), clampLo, clampHi);
        }

        private string Find(string t)
        {
            while (_parent[t] != t) t = _parent[t] = _parent[_parent[t]];
            return t;
        }

        public (float Lo, float Hi) RangeOf(string t)
        {
            var r = _root[Find(t)];
            return (r.Lo, r.Hi);
        }

        /// <summary>Merges the groups of <paramref name="members"/> unless (without <paramref name="force"/>) the union range leaves a member's clamp.</summary>
        public bool TryMerge(IReadOnlyList<string> members, bool force)
        {
            var roots = members.Select(Find).Distinct().ToList();
            if (roots.Count <= 1) return true;
            var merged = roots.Select(r => _root[r]).Aggregate((a, b) => (Math.Min(a.Lo, b.Lo), Math.Max(a.Hi, b.Hi), Math.Max(a.ClampLo, b.ClampLo), Math.Min(a.ClampHi, b.ClampHi)));
            if (!force && (merged.Item1 < merged.Item3 || merged.Item2 > merged.Item4)) return false;
            foreach (var r in roots.Skip(1)) { _parent[r] = roots[0]; _root.Remove(r); }
            _root[roots[0]] = merged;
            return true;
        }
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

    /// <summary>
    /// The float bias of a Conv/Gemm reading <paramref name="x"/> with weight <paramref name="w"/> (output channels along
    /// <paramref name="axis"/>), bias-corrected when enabled and the input's channel means are known: the weight rounding
    /// error ΔW = scale·q(W) - W shifts output o on average by Σ_c ΔW[o, c, …]·mean(x[c]) (borders with padding aside),
    /// which is subtracted. Grouped convolutions map the weight's input channel c of output o to input channel
    /// (o / (M/G))·(C/G) + c with G = channels(x) / weight.Shape[1].
    /// </summary>
    public Tensor BiasFor(string b, string x, string w, int axis, bool perChannel)
    {
        var bias = Graph.Initializers[b];
        if (!Settings.BiasCorrection || !ChannelMeans.TryGetValue(x, out var mean)) return bias;
        var weight = Graph.Initializers[w];
        var (q, scales) = QuantizeWeight(weight, perChannel ? axis : -1);
        var wv = weight.AsSpan<float>();
        var shape = weight.Shape;
        int outputs = shape[axis];
        if (bias.ElementCount != outputs) return bias;
        var shift = new double[outputs];
        if (shape.Length == 2)
        {
            int k = shape[1 - axis];
            if (mean.Length != k) return bias;
            for (int i = 0; i < wv.Length; i++)
            {
                int o = axis == 0 ? i / shape[1] : i % shape[1], c = axis == 0 ? i % shape[1] : i / shape[1];
                float s = scales[perChannel ? o : 0];
                shift[o] += ((double)q[i] * s - wv[i]) * mean[c];
            }
        }
        else if (axis == 0 && shape.Length >= 3)
        {
            int perGroupIn = shape[1], inner = 1;
            for (int d = 2; d < shape.Length; d++) inner *= shape[d];
            if (perGroupIn == 0 || mean.Length % perGroupIn != 0) return bias;
            int groups = mean.Length / perGroupIn;
            if (groups == 0 || outputs % groups != 0) return bias;
            int perGroupOut = outputs / groups;
            for (int i = 0; i < wv.Length; i++)
            {
                int o = i / (perGroupIn * inner), c = i / inner % perGroupIn;
                float s = scales[perChannel ? o : 0];
                shift[o] += ((double)q[i] * s - wv[i]) * mean[o / perGroupOut * perGroupIn + c];
            }
        }
        else return bias;
        var bv = bias.AsSpan<float>();
        var corrected = new float[outputs];
        for (int o = 0; o < outputs; o++) corrected[o] = (float)(bv[o] - shift[o]);
        return Tensor.FromFloats(bias.Shape, corrected);
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
