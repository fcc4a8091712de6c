using EdgeRuntime;
using EdgeRuntime.Execution;
using EdgeRuntime.Graph;
using EdgeRuntime.Onnx;
using EdgeRuntime.Tensors;

namespace ModelConverter.Quantization;

/// <summary>The float graph after <see cref="GraphPreparation"/>, with what the quantizer must know about it.</summary>
internal sealed class PreparedGraph
{
    public required ModelGraph Graph { get; init; }

    /// <summary>
    /// Tensors whose producer absorbed a following Relu / Clip(0, hi): their quantization range is clamped to
    /// [Low, High] (Low is always 0, so the int8 saturation reproduces the activation exactly).
    /// </summary>
    public Dictionary<string, (float Low, float High)> Clamps { get; } = new();

    /// <summary>Tensors inside a unit quantized as a whole (the sigmoid of SiLU x·sigmoid(x)): never quantized.</summary>
    public HashSet<string> UnitInternal { get; } = new();

    /// <summary>Node names that must stay float (asked for, plus activations that could not be fused into a float producer).</summary>
    public HashSet<string> KeepFloat { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// The prepared float model before the Relu/Clip fusion (serialized): the float reference that calibration and SQNR
    /// measurement run. Its activation outputs carry the names the fused producers write, so statistics line up.
    /// </summary>
    public byte[] FloatReference { get; set; } = [];

    /// <summary>Human-readable notes on what preparation did.</summary>
    public List<string> Notes { get; } = new();
}

/// <summary>
/// Rewrites a float model into the form the quantizer works on, keeping graph input/output names:
/// float16 → float32 (initializers are widened by the reader; declared inputs/outputs become float32),
/// Constant nodes → initializers, Dropout/Identity removed, constant sub-expressions folded, BatchNormalization folded
/// into a preceding Conv/Gemm, x·HardSigmoid(x) and x·Clip(x+3,0,6)/6 → HardSwish, x·Sigmoid(x) marked as a SiLU unit,
/// Relu/Clip(0,hi) after a quantized producer fused into the producer's output range, and the opset raised to ≥ 13
/// (per-axis DequantizeLinear) with the ops whose semantics changed rewritten (Softmax, Clip, Pad, Squeeze, Unsqueeze).
/// </summary>
internal static class GraphPreparation
{
    /// <summary>Ops whose output can carry a fused Relu/Clip range.</summary>
    private static readonly HashSet<string> ClampableProducers = ["Conv", "Gemm", "MatMul", "Add"];

    public static PreparedGraph Prepare(byte[] modelBytes, string sourceName, IEnumerable<string> keepFloat)
    {
        var graph = OnnxModelReader.ReadBytes(modelBytes, sourceName);
        var prepared = new PreparedGraph { Graph = graph };
        prepared.KeepFloat.UnionWith(keepFloat);
        RejectNonFloat(graph);
        WidenBoundary(graph);
        ConstantsToInitializers(graph);
        RemovePassThrough(graph, prepared);
        GraphTopology.Sort(graph); // a cycle or dangling input gets the reader's clear message before rewriting
        FoldConstants(graph, prepared);
        FoldBatchNorm(graph, prepared);
        FoldBiasAdd(graph, prepared);
        UpgradeOpset(graph, prepared);
        RecogniseHardSwish(graph, prepared);
        RecogniseSiLU(graph, prepared);
        SortNodes(graph);
        prepared.FloatReference = OnnxGraphWriter.ToBytes(graph);
        FuseActivations(graph, prepared);
        SortNodes(graph);
        return prepared;
    }

    private static ModelFormatException Fail(ModelGraph g, string problem, Node? node = null) =>
        new(g.SourcePath, problem, node?.Name, node?.OpType);

    private static void RejectNonFloat(ModelGraph graph)
    {
        var quantized = graph.Nodes.FirstOrDefault(n => n.OpType is "QuantizeLinear" or "DequantizeLinear" or "DynamicQuantizeLinear"
                                                        || n.OpType.StartsWith("QLinear", StringComparison.Ordinal) || n.OpType.StartsWith("ConvInteger", StringComparison.Ordinal)
                                                        || n.OpType == "MatMulInteger");
        if (quantized != null) throw Fail(graph, $"the model is already quantized (it contains {quantized.OpType}); modelconv quantize needs a float model", quantized);
        if (graph.Inputs.Count != 1) throw Fail(graph, $"the model has {graph.Inputs.Count} inputs; modelconv quantizes single-input image models");
        foreach (var v in graph.Inputs.Concat(graph.Outputs))
            if (v.ElementType is not (TensorElementType.Float32 or TensorElementType.Float16))
                throw Fail(graph, $"'{v.Name}' is {v.ElementType.OnnxName()}; a float model has float32 or float16 inputs and outputs");
    }

    private static void WidenBoundary(ModelGraph graph)
    {
        for (int i = 0; i < graph.Inputs.Count; i++)
            if (graph.Inputs[i].ElementType == TensorElementType.Float16) graph.Inputs[i] = graph.Inputs[i] with { ElementType = TensorElementType.Float32 };
        for (int i = 0; i < graph.Outputs.Count; i++)
            if (graph.Outputs[i].ElementType == TensorElementType.Float16) graph.Outputs[i] = graph.Outputs[i] with { ElementType = TensorElementType.Float32 };
        graph.ValueInfos.Clear();
        foreach (var cast in graph.Nodes.Where(n => n.OpType == "Cast" && n.Attributes.TryGetValue("to", out var to) && to.Int == (long)TensorElementType.Float16))
            cast.Attributes["to"] = OnnxGraphWriter.Int("to", (long)TensorElementType.Float32);
    }

    private static void ConstantsToInitializers(ModelGraph graph)
    {
        foreach (var node in graph.Nodes.Where(n => n.OpType == "Constant" && n.Domain.Length == 0).ToList())
        {
            Tensor? value = null;
            if (node.Attributes.TryGetValue("value", out var v) && v.Tensor != null) value = v.Tensor;
            else if (node.Attributes.TryGetValue("value_float", out var f)) value = Tensor.FromFloats([], [f.Float]);
            else if (node.Attributes.TryGetValue("value_floats", out var fs)) value = Tensor.FromFloats([fs.Floats.Length], fs.Floats);
            else if (node.Attributes.TryGetValue("value_int", out var i)) value = Tensor.FromArray<long>(TensorElementType.Int64, [], [i.Int]);
            else if (node.Attributes.TryGetValue("value_ints", out var iss)) value = Tensor.FromArray<long>(TensorElementType.Int64, [iss.Ints.Length], iss.Ints);
            if (value == null || graph.Outputs.Any(o => o.Name == node.Outputs[0])) continue;
            graph.Initializers[node.Outputs[0]] = value;
            graph.Nodes.Remove(node);
        }
    }

    /// <summary>Renames every use of <paramref name="from"/> to <paramref name="to"/>.</summary>
    private static void Rewire(ModelGraph graph, string from, string to)
    {
        foreach (var n in graph.Nodes)
            for (int i = 0; i < n.Inputs.Length; i++)
                if (n.Inputs[i] == from) n.Inputs[i] = to;
    }

    private static Node? Producer(ModelGraph graph, string value) => graph.Nodes.FirstOrDefault(n => n.Outputs.Contains(value));
    private static List<Node> Consumers(ModelGraph graph, string value) => graph.Nodes.Where(n => n.Inputs.Contains(value)).ToList();
    private static bool IsGraphOutput(ModelGraph graph, string value) => graph.Outputs.Any(o => o.Name == value);

    /// <summary>
    /// Removes a node computing y = x: consumers read x, or — when y is a graph output — x's producer writes y.
    /// Returns false when neither is possible (x is a graph input or constant and y a graph output).
    /// </summary>
    private static bool Bypass(ModelGraph graph, Node node, string x, string y)
    {
        if (!IsGraphOutput(graph, y))
        {
            graph.Nodes.Remove(node);
            Rewire(graph, y, x);
            return true;
        }
        var producer = Producer(graph, x);
        if (producer == null || IsGraphOutput(graph, x) || producer == node) return false;
        graph.Nodes.Remove(node);
        for (int i = 0; i < producer.Outputs.Length; i++) if (producer.Outputs[i] == x) producer.Outputs[i] = y;
        Rewire(graph, x, y);
        return true;
    }

    private static void RemovePassThrough(ModelGraph graph, PreparedGraph prepared)
    {
        int removed = 0;
        foreach (var node in graph.Nodes.Where(n => n.Domain.Length == 0 && n.OpType is "Identity" or "Dropout").ToList())
        {
            if (node.Inputs.Length < 1 || node.Outputs.Length < 1) continue;
            if (node.OpType == "Dropout" && node.Outputs.Skip(1).Any(o => o.Length > 0 && Consumers(graph, o).Count > 0)) continue; // mask used
            if (Bypass(graph, node, node.Inputs[0], node.Outputs[0])) removed++;
        }
        if (removed > 0) prepared.Notes.Add($"removed {removed} Identity/Dropout node(s)");
    }

    /// <summary>Ops safe to evaluate once on constant inputs with the native runtime.</summary>
    private static readonly HashSet<string> FoldableOps = ["Add", "Sub", "Mul", "Div", "Reshape", "Transpose", "Squeeze", "Unsqueeze", "Concat", "Cast", "Flatten", "Gather", "Sqrt", "Reciprocal", "Neg"];

    private static void FoldConstants(ModelGraph graph, PreparedGraph prepared)
    {
        int folded = 0;
        bool changed = true;
        while (changed)
        {
            changed = false;
            foreach (var node in graph.Nodes.ToList())
            {
                if (node.Domain.Length != 0 || !FoldableOps.Contains(node.OpType) || node.Outputs.Length != 1) continue;
                if (node.Inputs.Length == 0 || node.Inputs.Any(i => i.Length > 0 && !graph.Initializers.ContainsKey(i))) continue;
                if (IsGraphOutput(graph, node.Outputs[0])) continue;
                var value = Evaluate(graph, node);
                if (value == null) continue;
                graph.Nodes.Remove(node);
                graph.Initializers[node.Outputs[0]] = value;
                folded++;
                changed = true;
            }
        }
        if (folded > 0) prepared.Notes.Add($"folded {folded} constant node(s)");
    }

    /// <summary>Runs one all-constant node natively (a one-node model whose only input is a dummy); null when it cannot.</summary>
    private static Tensor? Evaluate(ModelGraph graph, Node node)
    {
        try
        {
            var g = new ModelGraph { IrVersion = graph.IrVersion };
            foreach (var (d, v) in graph.Opsets) g.Opsets[d] = v;
            foreach (var i in node.Inputs.Where(i => i.Length > 0).Distinct()) g.Initializers[i] = graph.Initializers[i];
            g.Inputs.Add(new ValueInfo("__modelconv_unused", TensorElementType.Float32, [1], [null]));
            var type = node.OpType == "Cast" ? (TensorElementType)node.Attributes["to"].Int : graph.Initializers[node.Inputs[0]].ElementType;
            g.Outputs.Add(new ValueInfo(node.Outputs[0], type, [], []) { HasShape = false });
            g.Nodes.Add(node);
            using var model = EdgeModel.Load(OnnxGraphWriter.ToBytes(g), "constant folding", new EdgeModelOptions { Backend = BackendKind.Native, Threads = 1 });
            return model.Run(Tensor.FromFloats([1], [0f]))[0].Clone();
        }
        catch (Exception e) when (e is ModelFormatException or InvalidInputException or NotSupportedException or InvalidOperationException or KeyNotFoundException)
        {
            return null;
        }
    }

    private static float[] Floats(ModelGraph g, string name, int count, float fallback)
    {
        if (name.Length == 0) return Enumerable.Repeat(fallback, count).ToArray();
        if (!g.Initializers.TryGetValue(name, out var t) || t.ElementType != TensorElementType.Float32) return null!;
        var v = t.AsSpan<float>().ToArray();
        return v.Length == count ? v : v.Length == 1 ? Enumerable.Repeat(v[0], count).ToArray() : null!;
    }

    private static void FoldBatchNorm(ModelGraph graph, PreparedGraph prepared)
    {
        int folded = 0;
        foreach (var bn in graph.Nodes.Where(n => n.OpType == "BatchNormalization" && n.Domain.Length == 0).ToList())
        {
            if (bn.Inputs.Length < 5 || bn.Outputs.Skip(1).Any(o => o.Length > 0)) continue;
            var producer = Producer(graph, bn.Inputs[0]);
            if (producer == null || producer.OpType is not ("Conv" or "Gemm") || producer.Outputs.Length != 1) continue;
            if (Consumers(graph, bn.Inputs[0]).Count != 1 || IsGraphOutput(graph, bn.Inputs[0])) continue;
            if (producer.Inputs.Length < 2 || !graph.Initializers.TryGetValue(producer.Inputs[1], out var w) || w.ElementType != TensorElementType.Float32) continue;
            if (Consumers(graph, producer.Inputs[1]).Count != 1) continue; // shared weight: folding would change the other user
            bool gemm = producer.OpType == "Gemm";
            if (gemm && (w.Shape.Length != 2 || Attr(producer, "transA", 0) != 0)) continue;
            bool transB = gemm && Attr(producer, "transB", 0) != 0;
            int channels = gemm ? (transB ? w.Shape[0] : w.Shape[1]) : w.Shape[0];
            float eps = bn.Attributes.TryGetValue("epsilon", out var e) ? e.Float : 1e-5f;
            var gamma = Floats(graph, bn.Inputs[1], channels, 1);
            var beta = Floats(graph, bn.Inputs[2], channels, 0);
            var mean = Floats(graph, bn.Inputs[3], channels, 0);
            var variance = Floats(graph, bn.Inputs[4], channels, 1);
            string biasName = producer.Inputs.Length > 2 ? producer.Inputs[2] : "";
            var bias = Floats(graph, biasName, channels, 0);
            if (gamma == null || beta == null || mean == null || variance == null || bias == null) continue;
            if (biasName.Length > 0 && Consumers(graph, biasName).Count != 1) continue;
            double alpha = gemm ? AttrF(producer, "alpha", 1) : 1, betaGemm = gemm ? AttrF(producer, "beta", 1) : 1;

            // y = gamma * (alpha·x·W + beta·b - mean) / sqrt(var + eps) + betaBn, folded per output channel c in double.
            var newW = new float[w.ElementCount];
            var ws = w.AsSpan<float>();
            var factor = new double[channels];
            for (int c = 0; c < channels; c++) factor[c] = gamma[c] / Math.Sqrt((double)variance[c] + eps);
            if (!gemm)
            {
                int per = w.ElementCount / channels;
                for (int c = 0; c < channels; c++)
                    for (int k = 0; k < per; k++) newW[c * per + k] = (float)(ws[c * per + k] * factor[c] * alpha);
            }
            else
            {
                int rows = w.Shape[0], cols = w.Shape[1];
                for (int r = 0; r < rows; r++)
                    for (int k = 0; k < cols; k++) newW[r * cols + k] = (float)(ws[r * cols + k] * factor[transB ? r : k] * alpha);
            }
            var newB = new float[channels];
            for (int c = 0; c < channels; c++) newB[c] = (float)((betaGemm * bias[c] - mean[c]) * factor[c] + beta[c]);

            string wName = producer.Inputs[1], bName = biasName.Length > 0 ? biasName : UniqueName(graph, producer.Name + "_bias");
            graph.Initializers[wName] = Tensor.FromFloats(w.Shape, newW);
            graph.Initializers[bName] = Tensor.FromFloats([channels], newB);
            producer.Inputs = [producer.Inputs[0], wName, bName];
            if (gemm) { producer.Attributes.Remove("alpha"); producer.Attributes.Remove("beta"); }
            graph.Nodes.Remove(bn);
            string y = bn.Outputs[0];
            producer.Outputs[0] = y;
            folded++;
        }
        if (folded > 0) prepared.Notes.Add($"folded {folded} BatchNormalization node(s) into Conv/Gemm");
    }

    /// <summary>Conv followed by Add of a per-output-channel constant ([C], [C,1,1] or [1,C,1,1]) — the bias as CNTK and Caffe2 export it — becomes the Conv's bias.</summary>
    private static void FoldBiasAdd(ModelGraph graph, PreparedGraph prepared)
    {
        int folded = 0;
        foreach (var add in graph.Nodes.Where(n => n.OpType == "Add" && n.Domain.Length == 0 && n.Inputs.Length == 2).ToList())
        {
            int constSide = graph.Initializers.ContainsKey(add.Inputs[1]) ? 1 : graph.Initializers.ContainsKey(add.Inputs[0]) ? 0 : -1;
            if (constSide < 0) continue;
            string x = add.Inputs[1 - constSide];
            var conv = Producer(graph, x);
            if (conv == null || conv.OpType != "Conv" || conv.Outputs.Length != 1 || Consumers(graph, x).Count != 1 || IsGraphOutput(graph, x)) continue;
            if (conv.Inputs.Length < 2 || !graph.Initializers.TryGetValue(conv.Inputs[1], out var w) || w.Shape.Length < 3) continue;
            var c = graph.Initializers[add.Inputs[constSide]];
            int m = w.Shape[0];
            if (c.ElementType != TensorElementType.Float32 || c.ElementCount != m) continue;
            // Per-channel only: the single non-1 dimension must sit at the channel position counted from the right (rank of the spatial dims + 1).
            int rankFromRight = w.Shape.Length - 1;
            if (m > 1 && !(c.Shape.Length == rankFromRight && c.Shape[0] == m) && !(c.Shape.Length == rankFromRight + 1 && c.Shape[1] == m && c.Shape[0] == 1)) continue;
            var bias = new float[m];
            if (conv.Inputs.Length > 2 && conv.Inputs[2].Length > 0)
            {
                if (!graph.Initializers.TryGetValue(conv.Inputs[2], out var b) || Consumers(graph, conv.Inputs[2]).Count != 1) continue;
                b.AsSpan<float>().CopyTo(bias);
            }
            var cv = c.AsSpan<float>();
            for (int i = 0; i < m; i++) bias[i] += cv[i];
            string name = conv.Inputs.Length > 2 && conv.Inputs[2].Length > 0 ? conv.Inputs[2] : UniqueName(graph, conv.Name + "_bias");
            graph.Initializers[name] = Tensor.FromFloats([m], bias);
            conv.Inputs = [conv.Inputs[0], conv.Inputs[1], name];
            conv.Outputs[0] = add.Outputs[0];
            graph.Nodes.Remove(add);
            folded++;
        }
        if (folded > 0) prepared.Notes.Add($"folded {folded} per-channel Add(s) into the Conv bias");
    }

    private static long Attr(Node n, string name, long fallback) => n.Attributes.TryGetValue(name, out var a) ? a.Int : fallback;
    private static float AttrF(Node n, string name, float fallback) => n.Attributes.TryGetValue(name, out var a) ? a.Float : fallback;

    public static string UniqueName(ModelGraph graph, string wanted)
    {
        var used = new HashSet<string>(graph.Initializers.Keys);
        foreach (var n in graph.Nodes) { used.UnionWith(n.Inputs); used.UnionWith(n.Outputs); }
        foreach (var v in graph.Inputs.Concat(graph.Outputs)) used.Add(v.Name);
        if (!used.Contains(wanted)) return wanted;
        for (int i = 1; ; i++) if (!used.Contains($"{wanted}_{i}")) return $"{wanted}_{i}";
    }

    private static string AddInitializer(ModelGraph graph, string wanted, Tensor value)
    {
        var name = UniqueName(graph, wanted);
        graph.Initializers[name] = value;
        return name;
    }

    /// <summary>Raises the default opset to at least 13, rewriting the ops whose inputs or semantics changed on the way.</summary>
    private static void UpgradeOpset(ModelGraph graph, PreparedGraph prepared)
    {
        int from = graph.DefaultOpset;
        if (graph.IrVersion < 7) graph.IrVersion = 7;
        if (from >= 13) return;
        foreach (var node in graph.Nodes.Where(n => n.Domain.Length == 0).ToList())
        {
            switch (node.OpType)
            {
                case "Softmax" or "LogSoftmax" or "Hardmax":
                {
                    // Before 13: coerce to 2-D at `axis` (default 1) and normalise each row. Flatten(axis) → op(axis=1) → Reshape(Shape(x)) is exactly that.
                    long axis = Attr(node, "axis", 1);
                    string x = node.Inputs[0], y = node.Outputs[0];
                    string flat = UniqueName(graph, y + "_flat2d"), soft = UniqueName(graph, y + "_rows"), shape = UniqueName(graph, y + "_shape");
                    int at = graph.Nodes.IndexOf(node);
                    graph.Nodes.Remove(node);
                    graph.Nodes.InsertRange(at,
                    [
                        new Node { Name = node.Name + "_flatten", OpType = "Flatten", Inputs = [x], Outputs = [flat], Attributes = { ["axis"] = OnnxGraphWriter.Int("axis", axis) } },
                        new Node { Name = node.Name, OpType = node.OpType, Inputs = [flat], Outputs = [soft], Attributes = { ["axis"] = OnnxGraphWriter.Int("axis", 1) } },
                        new Node { Name = node.Name + "_shape", OpType = "Shape", Inputs = [x], Outputs = [shape] },
                        new Node { Name = node.Name + "_reshape", OpType = "Reshape", Inputs = [soft, shape], Outputs = [y] },
                    ]);
                    break;
                }
                case "Clip" when from < 11:
                {
                    float min = AttrF(node, "min", float.MinValue), max = AttrF(node, "max", float.MaxValue);
                    node.Attributes.Remove("min"); node.Attributes.Remove("max");
                    node.Inputs = [node.Inputs[0], AddInitializer(graph, node.Name + "_min", Tensor.FromFloats([], [min])), AddInitializer(graph, node.Name + "_max", Tensor.FromFloats([], [max]))];
                    break;
                }
                case "Pad" when from < 11:
                {
                    var pads = node.Attributes.TryGetValue("pads", out var p) ? p.Ints : [];
                    float value = AttrF(node, "value", 0);
                    node.Attributes.Remove("pads"); node.Attributes.Remove("value");
                    node.Inputs = [node.Inputs[0], AddInitializer(graph, node.Name + "_pads", Tensor.FromArray<long>(TensorElementType.Int64, [pads.Length], pads)), AddInitializer(graph, node.Name + "_value", Tensor.FromFloats([], [value]))];
                    break;
                }
                case "Squeeze" or "Unsqueeze" or "ReduceSum":
                    if (node.Attributes.TryGetValue("axes", out var axes))
                    {
                        node.Attributes.Remove("axes");
                        node.Inputs = [node.Inputs[0], AddInitializer(graph, node.Name + "_axes", Tensor.FromArray<long>(TensorElementType.Int64, [axes.Ints.Length], axes.Ints))];
                    }
                    break;
                case "BatchNormalization":
                    node.Attributes.Remove("spatial"); node.Attributes.Remove("is_test"); node.Attributes.Remove("momentum");
                    break;
                case "Split" or "Upsample" or "Resize" or "Scan" or "Loop" or "If" or "TopK" or "Slice" when from < 13:
                    throw Fail(graph, $"cannot raise opset {from} to 13 for {node.OpType} (its inputs changed); export the model with opset ≥ 13", node);
            }
        }
        graph.Opsets[""] = 13;
        prepared.Notes.Add($"opset raised from {from} to 13 (per-axis DequantizeLinear)");
    }

    private static bool IsScalar(ModelGraph g, string name, float value) =>
        g.Initializers.TryGetValue(name, out var t) && t.ElementType == TensorElementType.Float32 && t.ElementCount == 1 && Math.Abs(t.AsSpan<float>()[0] - value) <= 1e-6f * Math.Max(1, Math.Abs(value));

    /// <summary>x·HardSigmoid(x; 1/6, 0.5) and x·Clip(x+3, 0, 6)/6 (or ·(1/6)) become one HardSwish (opset 14).</summary>
    private static void RecogniseHardSwish(ModelGraph graph, PreparedGraph prepared)
    {
        int found = 0;
        foreach (var mul in graph.Nodes.Where(n => n.OpType == "Mul" && n.Domain.Length == 0).ToList())
        {
            if (!graph.Nodes.Contains(mul) || mul.Inputs.Length != 2) continue;
            for (int side = 0; side < 2; side++)
            {
                string x = mul.Inputs[side], gate = mul.Inputs[1 - side];
                var g = Producer(graph, gate);
                if (g == null || Consumers(graph, gate).Count != 1 || IsGraphOutput(graph, gate)) continue;
                var remove = new List<Node>();
                string y = mul.Outputs[0];
                if (g.OpType == "HardSigmoid" && g.Inputs[0] == x && Math.Abs(AttrF(g, "alpha", 0.2f) - 1f / 6) < 1e-6 && Math.Abs(AttrF(g, "beta", 0.5f) - 0.5f) < 1e-6)
                    remove.Add(g);
                else if (g.OpType == "Clip" && g.Inputs.Length == 3 && IsScalar(graph, g.Inputs[1], 0) && IsScalar(graph, g.Inputs[2], 6)
                         && Producer(graph, g.Inputs[0]) is { OpType: "Add" } add && Consumers(graph, g.Inputs[0]).Count == 1
                         && add.Inputs.Contains(x) && IsScalar(graph, add.Inputs[add.Inputs[0] == x ? 1 : 0], 3)
                         && Consumers(graph, y) is [var scale] && !IsGraphOutput(graph, y)
                         && ((scale.OpType == "Div" && scale.Inputs[0] == y && IsScalar(graph, scale.Inputs[1], 6))
                             || (scale.OpType == "Mul" && IsScalar(graph, scale.Inputs[scale.Inputs[0] == y ? 1 : 0], 1f / 6))))
                {
                    remove.AddRange([add, g, scale]);
                    y = scale.Outputs[0];
                }
                else continue;
                foreach (var r in remove) graph.Nodes.Remove(r);
                mul.OpType = "HardSwish";
                mul.Inputs = [x];
                mul.Outputs = [y];
                found++;
                break;
            }
        }
        if (found > 0)
        {
            graph.Opsets[""] = Math.Max(graph.DefaultOpset, 14);
            prepared.Notes.Add($"recognised {found} HardSwish pattern(s)");
        }
    }

    /// <summary>Mul(x, Sigmoid(x)): the sigmoid output stays float inside the unit; x and the product are quantized.</summary>
    private static void RecogniseSiLU(ModelGraph graph, PreparedGraph prepared)
    {
        foreach (var mul in graph.Nodes.Where(n => n.OpType == "Mul" && n.Domain.Length == 0 && n.Inputs.Length == 2))
            for (int side = 0; side < 2; side++)
                if (Producer(graph, mul.Inputs[1 - side]) is { OpType: "Sigmoid" } s && s.Inputs[0] == mul.Inputs[side]
                    && Consumers(graph, s.Outputs[0]).Count == 1 && !IsGraphOutput(graph, s.Outputs[0]))
                {
                    prepared.UnitInternal.Add(s.Outputs[0]);
                    if (prepared.KeepFloat.Contains(mul.Name) || prepared.KeepFloat.Contains(s.Name)) { prepared.KeepFloat.Add(mul.Name); prepared.KeepFloat.Add(s.Name); }
                }
        if (prepared.UnitInternal.Count > 0) prepared.Notes.Add($"recognised {prepared.UnitInternal.Count} SiLU unit(s)");
    }

    /// <summary>
    /// Relu / Clip(0, hi) whose input comes only from a quantized Conv/Gemm/MatMul/Add: the activation node is removed,
    /// the producer writes the activation's output, and the tensor's range is clamped to [0, hi] — asymmetric
    /// quantization with range minimum 0 saturates exactly at 0 (and at hi), which is the activation.
    /// </summary>
    private static void FuseActivations(ModelGraph graph, PreparedGraph prepared)
    {
        int fused = 0;
        foreach (var act in graph.Nodes.Where(n => n.Domain.Length == 0 && n.OpType is "Relu" or "Clip").ToList())
        {
            float high = float.PositiveInfinity;
            if (act.OpType == "Clip")
            {
                if (act.Inputs.Length < 2 || !IsScalar(graph, act.Inputs[1], 0)) continue;
                if (act.Inputs.Length > 2 && act.Inputs[2].Length > 0)
                {
                    if (!graph.Initializers.TryGetValue(act.Inputs[2], out var hi) || hi.ElementCount != 1 || hi.ElementType != TensorElementType.Float32) continue;
                    high = hi.AsSpan<float>()[0];
                    if (!(high > 0)) continue;
                }
            }
            string x = act.Inputs[0], y = act.Outputs[0];
            var producer = Producer(graph, x);
            if (producer == null || producer.Domain.Length != 0 || !ClampableProducers.Contains(producer.OpType) || producer.Outputs.Length != 1) continue;
            if (Consumers(graph, x).Count != 1 || IsGraphOutput(graph, x) || prepared.Clamps.ContainsKey(x)) continue;
            if (prepared.KeepFloat.Contains(producer.Name) || prepared.KeepFloat.Contains(act.Name))
            {
                prepared.KeepFloat.Add(act.Name); // a float producer cannot carry the clamp: its activation runs float too
                prepared.KeepFloat.Add(producer.Name);
                continue;
            }
            graph.Nodes.Remove(act);
            producer.Outputs[0] = y;
            prepared.Clamps[y] = (0f, high);
            fused++;
        }
        if (fused > 0) prepared.Notes.Add($"fused {fused} Relu/Clip activation(s) into their producer's output range");
    }

    private static void SortNodes(ModelGraph graph)
    {
        var order = GraphTopology.Sort(graph);
        graph.Nodes.Clear();
        graph.Nodes.AddRange(order);
    }
}
