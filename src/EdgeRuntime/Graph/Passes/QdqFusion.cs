using EdgeRuntime.Execution.Ops.Quantized;
using EdgeRuntime.Kernels.Common;
using EdgeRuntime.Tensors;

namespace EdgeRuntime.Graph.Passes;

/// <summary>
/// Rewrites QDQ node groups (DequantizeLinear → float op → QuantizeLinear) into integer operators so
/// quantized models run in int8 end to end. Patterns (scales, zero points and weights must be initializers;
/// activation DQ/Q nodes must have an explicit per-tensor zero point):
/// <list type="bullet">
/// <item>DQ(x), DQ(w) [, DQ(int32 bias) or float bias] → Conv [→ Relu | Clip] → Q ⇒ QLinearConv
/// (a Relu/Clip is folded into the output clamp, which is exact because rounding is monotonic)</item>
/// <item>DQ(a), DQ(const b) → MatMul → Q ⇒ QLinearMatMul</item>
/// <item>DQ, DQ → Add | Mul → Q ⇒ com.microsoft QLinearAdd | QLinearMul</item>
/// <item>DQ → GlobalAveragePool | AveragePool | Sigmoid | LeakyRelu → Q ⇒ com.microsoft QLinearGlobalAveragePool |
/// QLinearAveragePool | QLinearSigmoid | QLinearLeakyRelu</item>
/// <item>DQ(x_1) … DQ(x_n) → Concat → Q ⇒ com.microsoft QLinearConcat (each input requantized by a table)</item>
/// <item>DQ → Tanh | HardSigmoid | HardSwish | Relu | Clip | Silu → Q ⇒ ai.edgeruntime QLinearTanh | … | QLinearSilu
/// (256-entry lookup tables)</item>
/// <item>SiLU: DQ(x) → Sigmoid → Q → DQ → Mul(with DQ(x), either order) → Q ⇒ one ai.edgeruntime QLinearSilu whose table
/// includes the intermediate quantization of the sigmoid exactly; float <c>Mul(x, Sigmoid(x))</c> is first rewritten
/// to Silu by <see cref="SiluFusion"/></item>
/// <item>DQ → MaxPool | Reshape | Flatten | Transpose | Squeeze | Unsqueeze | Identity → Q with identical scale and
/// zero point ⇒ the op applied to the quantized tensor</item>
/// </list>
/// A group is fused only when every float intermediate it removes has no other consumer and is not a graph
/// output. A DQ whose output still feeds other nodes stays in place for them. Anything else stays float.
/// </summary>
public static class QdqFusion
{
    private const string MicrosoftDomain = "com.microsoft";

    /// <summary>
    /// Domain of EdgeRuntime's own fused ops (int8 lookup-table activations ONNX has no QLinear form for); only ever
    /// produced by this pass and run natively.
    /// </summary>
    public const string EdgeDomain = "ai.edgeruntime";
    private static readonly HashSet<string> DataMovementOps = ["MaxPool", "Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze", "Identity"];

    /// <summary>Fuses every matching group in <paramref name="graph"/>; returns the number of fusions.</summary>
    public static int Fuse(ModelGraph graph)
    {
        int fusions = SiluFusion.Fuse(graph);
        bool changed = true;
        while (changed)
        {
            changed = false;
            var index = new GraphIndex(graph);
            foreach (var node in graph.Nodes.ToArray())
            {
                bool fused = node.Domain.Length == 0 ? TryFuse(graph, index, node)
                    : node.Domain == EdgeDomain && node.OpType == "Silu" && TryFuseUnary(graph, index, node, "QLinearSilu", [], EdgeDomain);
                if (fused)
                {
                    fusions++;
                    changed = true;
                    break; // the index is stale now; rebuild it
                }
            }
        }
        if (fusions > 0 && graph.Nodes.Any(n => n.Domain == MicrosoftDomain) && graph.OpsetFor(MicrosoftDomain) == 0)
            graph.Opsets[MicrosoftDomain] = 1;
        if (fusions > 0 && graph.Nodes.Any(n => n.Domain == EdgeDomain) && graph.OpsetFor(EdgeDomain) == 0)
            graph.Opsets[EdgeDomain] = 1;
        return fusions;
    }

    private static bool TryFuse(ModelGraph graph, GraphIndex index, Node node) => node.OpType switch
    {
        "Conv" => TryFuseConv(graph, index, node),
        "MatMul" => TryFuseMatMul(graph, index, node),
        "Add" => TryFuseBinary(graph, index, node, "QLinearAdd"),
        "Mul" => TryFuseBinary(graph, index, node, "QLinearMul"),
        "GlobalAveragePool" => TryFuseUnary(graph, index, node, "QLinearGlobalAveragePool", []),
        "AveragePool" => !HasNonUnitDilations(node) && TryFuseUnary(graph, index, node, "QLinearAveragePool",
            ["auto_pad", "ceil_mode", "count_include_pad", "kernel_shape", "pads", "strides"]),
        "Sigmoid" => TryFuseQdqSilu(graph, index, node) || TryFuseUnary(graph, index, node, "QLinearSigmoid", []),
        "Concat" => TryFuseConcat(graph, index, node),
        "LeakyRelu" => TryFuseUnary(graph, index, node, "QLinearLeakyRelu", ["alpha"]),
        "Tanh" => TryFuseUnary(graph, index, node, "QLinearTanh", [], EdgeDomain),
        "HardSigmoid" => TryFuseUnary(graph, index, node, "QLinearHardSigmoid", ["alpha", "beta"], EdgeDomain),
        "HardSwish" => TryFuseUnary(graph, index, node, "QLinearHardSwish", [], EdgeDomain),
        "Relu" => TryFuseUnary(graph, index, node, "QLinearRelu", [], EdgeDomain),
        "Clip" => TryFuseClip(graph, index, node),
        _ when DataMovementOps.Contains(node.OpType) => TryFuseDataMovement(graph, index, node),
        _ => false,
    };

    /// <summary>Scale and zero point of a DQ or Q node (per-tensor unless <see cref="Scale"/> has more elements).</summary>
    private sealed record Quantization(Node Node, string Data, string ScaleName, string ZeroPointName, Tensor Scale, Tensor ZeroPoint);

    /// <summary>The DQ producing <paramref name="value"/> with constant scale and explicit constant zero point, or null.</summary>
    private static Quantization? DequantizeOf(ModelGraph graph, GraphIndex index, string value, bool perTensor = true)
    {
        if (!index.Producer.TryGetValue(value, out var dq) || dq.OpType != "DequantizeLinear" || dq.Domain.Length != 0) return null;
        return ReadParameters(graph, dq, perTensor);
    }

    private static Quantization? ReadParameters(ModelGraph graph, Node node, bool perTensor)
    {
        if (node.Inputs.Length < 3 || node.Inputs[2].Length == 0) return null;
        if (!graph.Initializers.TryGetValue(node.Inputs[1], out var scale) || scale.ElementType != TensorElementType.Float32) return null;
        if (!graph.Initializers.TryGetValue(node.Inputs[2], out var zeroPoint)) return null;
        if (perTensor && (scale.ElementCount != 1 || zeroPoint.ElementCount != 1)) return null;
        if (scale.ElementCount != zeroPoint.ElementCount && zeroPoint.ElementCount != 1) return null;
        if (node.Attributes.TryGetValue("block_size", out var bs) && bs.Int != 0) return null;
        return new Quantization(node, node.Inputs[0], node.Inputs[1], node.Inputs[2], scale, zeroPoint);
    }

    /// <summary>The single Q consuming float <paramref name="value"/> (with per-tensor constant parameters), or null.</summary>
    private static Quantization? SoleQuantizeConsumer(ModelGraph graph, GraphIndex index, string value)
    {
        if (!index.HasSoleConsumer(value, out var q) || q.OpType != "QuantizeLinear" || q.Domain.Length != 0) return null;
        if (q.Attributes.TryGetValue("output_dtype", out var dt) && dt.Int != 0 && graph.Initializers.TryGetValue(q.Inputs.ElementAtOrDefault(2) ?? "", out var z) && (int)z.ElementType != dt.Int) return null;
        var p = ReadParameters(graph, q, perTensor: true);
        return p != null && Is8Bit(p.ZeroPoint.ElementType) ? p : null;
    }

    private static bool Is8Bit(TensorElementType t) => t is TensorElementType.UInt8 or TensorElementType.Int8;

    private static bool TryFuseConv(ModelGraph graph, GraphIndex index, Node conv)
    {
        if (conv.Inputs.Length < 2 || conv.Outputs.Length != 1) return false;
        var x = DequantizeOf(graph, index, conv.Inputs[0]);
        var w = DequantizeOf(graph, index, conv.Inputs[1], perTensor: false);
        if (x == null || w == null || !Is8Bit(x.ZeroPoint.ElementType) || !Is8Bit(w.ZeroPoint.ElementType)) return false;
        if (!graph.Initializers.TryGetValue(w.Data, out var weights) || weights.ElementType != w.ZeroPoint.ElementType || weights.Shape.Length < 3) return false;
        int outChannels = weights.Shape[0];
        if (w.Scale.ElementCount != 1)
        {
            if (w.Scale.ElementCount != outChannels || w.Scale.Shape.Length != 1) return false;
            long axis = w.Node.Attributes.TryGetValue("axis", out var a) ? a.Int : 1;
            if (axis != 0 && axis != -weights.Shape.Length) return false;
        }

        // Optional activation between Conv and Q.
        string convOut = conv.Outputs[0];
        Node? activation = null;
        Quantization? y;
        if (index.HasSoleConsumer(convOut, out var next) && next.Domain.Length == 0 && next.OpType is "Relu" or "Clip")
        {
            activation = next;
            y = SoleQuantizeConsumer(graph, index, next.Outputs[0]);
        }
        else y = SoleQuantizeConsumer(graph, index, convOut);
        if (y == null) return false;

        var clamp = new Dictionary<string, NodeAttribute>();
        if (activation != null && !AddActivationClamp(graph, activation, y, clamp)) return false;

        float xScale = x.Scale.AsSpan<float>()[0];
        var wScales = w.Scale.AsSpan<float>();
        string? biasName = null;
        if (conv.Inputs.Length > 2 && conv.Inputs[2].Length > 0)
        {
            var bias = QuantizeBias(graph, index, conv.Inputs[2], xScale, wScales, outChannels);
            if (bias == null) return false;
            biasName = UniqueName(graph, conv.Name + "_bias_int32");
            graph.Initializers[biasName] = bias;
        }

        var fused = new Node
        {
            Name = conv.Name,
            OpType = "QLinearConv",
            Inputs = [x.Data, x.ScaleName, x.ZeroPointName, w.Data, w.ScaleName, w.ZeroPointName, y.ScaleName, y.ZeroPointName, .. (biasName != null ? new[] { biasName } : [])],
            Outputs = [y.Node.Outputs[0]],
        };
        foreach (var (name, attr) in conv.Attributes) fused.Attributes[name] = attr;
        foreach (var (name, attr) in clamp) fused.Attributes[name] = attr;

        Replace(graph, conv, fused, [y.Node, .. (activation != null ? new[] { activation } : [])]);
        RemoveUnusedDequantize(graph, x.Node, w.Node);
        if (conv.Inputs.Length > 2 && index.Producer.TryGetValue(conv.Inputs[2], out var biasDq)) RemoveUnusedDequantize(graph, biasDq);
        return true;
    }

    /// <summary>
    /// The bias as int32 in units of <c>xScale * wScale[m]</c>: an int32 DQ bias is rescaled (identity when its
    /// scale already equals that product and its zero point is 0, the usual case), a float initializer is quantized.
    /// </summary>
    private static Tensor? QuantizeBias(ModelGraph graph, GraphIndex index, string value, float xScale, ReadOnlySpan<float> wScales, int outChannels)
    {
        double[] real;
        if (graph.Initializers.TryGetValue(value, out var floatBias))
        {
            if (floatBias.ElementType != TensorElementType.Float32 || floatBias.ElementCount != outChannels) return null;
            real = floatBias.AsSpan<float>().ToArray().Select(v => (double)v).ToArray();
        }
        else
        {
            var b = DequantizeOf(graph, index, value, perTensor: false);
            if (b == null || !graph.Initializers.TryGetValue(b.Data, out var data) || data.ElementType != TensorElementType.Int32 || data.ElementCount != outChannels) return null;
            if (b.Scale.ElementCount != 1 && b.Scale.ElementCount != outChannels) return null;
            var q = data.AsSpan<int>();
            var s = b.Scale.AsSpan<float>();
            var zp = b.ZeroPoint.ToFloatArray();
            real = new double[outChannels];
            for (int m = 0; m < outChannels; m++)
                real[m] = (q[m] - (double)zp[zp.Length == 1 ? 0 : m]) * s[s.Length == 1 ? 0 : m];
        }
        var result = new int[outChannels];
        for (int m = 0; m < outChannels; m++)
        {
            double unit = (double)(xScale * wScales[wScales.Length == 1 ? 0 : m]);
            double v = Math.Round(real[m] / unit, MidpointRounding.ToEven);
            if (double.IsNaN(v) || v > int.MaxValue || v < int.MinValue) return null;
            result[m] = (int)v;
        }
        return Tensor.FromArray<int>(TensorElementType.Int32, [outChannels], result);
    }

    /// <summary>
    /// Folds Relu / Clip(min, max) after the conv into output clamp attributes (added to <paramref name="attributes"/>
    /// only where tighter than the type range). Exact: Q(clip(v, lo, hi)) = clamp(Q(v), Q(lo), Q(hi)) because
    /// division by a positive scale and rounding are monotonic. False when Clip's bounds are not constants.
    /// </summary>
    private static bool AddActivationClamp(ModelGraph graph, Node activation, Quantization y, Dictionary<string, NodeAttribute> attributes)
    {
        float low = float.NegativeInfinity, high = float.PositiveInfinity;
        if (activation.OpType == "Relu") low = 0;
        else
        {
            if (activation.Attributes.TryGetValue("min", out var minAttr)) low = minAttr.Float;
            if (activation.Attributes.TryGetValue("max", out var maxAttr)) high = maxAttr.Float;
            if (!ReadClipBound(graph, activation, 1, ref low) || !ReadClipBound(graph, activation, 2, ref high)) return false;
        }
        bool signed = y.ZeroPoint.ElementType == TensorElementType.Int8;
        int min = Requantization.MinOf(signed), max = Requantization.MaxOf(signed);
        float scale = y.Scale.AsSpan<float>()[0];
        int zeroPoint = (int)y.ZeroPoint.ToFloatArray()[0];
        int qLow = float.IsNegativeInfinity(low) ? min : Requantization.Quantize(low, scale, zeroPoint, min, max);
        int qHigh = float.IsPositiveInfinity(high) ? max : Requantization.Quantize(high, scale, zeroPoint, min, max);
        if (qLow > min) attributes[QLinearConvDefinition.ClampMinAttribute] = new NodeAttribute { Name = QLinearConvDefinition.ClampMinAttribute, Kind = AttributeKind.Int, Int = qLow };
        if (qHigh < max) attributes[QLinearConvDefinition.ClampMaxAttribute] = new NodeAttribute { Name = QLinearConvDefinition.ClampMaxAttribute, Kind = AttributeKind.Int, Int = qHigh };
        return true;
    }

    private static bool ReadClipBound(ModelGraph graph, Node clip, int input, ref float bound)
    {
        if (clip.Inputs.Length <= input || clip.Inputs[input].Length == 0) return true;
        if (!graph.Initializers.TryGetValue(clip.Inputs[input], out var t) || t.ElementType != TensorElementType.Float32 || t.ElementCount != 1) return false;
        bound = t.AsSpan<float>()[0];
        return true;
    }

    private static bool TryFuseMatMul(ModelGraph graph, GraphIndex index, Node matMul)
    {
        if (matMul.Inputs.Length != 2 || matMul.Outputs.Length != 1) return false;
        var a = DequantizeOf(graph, index, matMul.Inputs[0]);
        var b = DequantizeOf(graph, index, matMul.Inputs[1], perTensor: false);
        if (a == null || b == null || !Is8Bit(a.ZeroPoint.ElementType) || !Is8Bit(b.ZeroPoint.ElementType)) return false;
        if (!graph.Initializers.TryGetValue(b.Data, out var bData) || bData.Shape.Length != 2) return false;
        if (b.Scale.ElementCount != 1)
        {
            long axis = b.Node.Attributes.TryGetValue("axis", out var ax) ? ax.Int : 1;
            if (b.Scale.ElementCount != bData.Shape[1] || (axis != 1 && axis != -1)) return false;
        }
        var y = SoleQuantizeConsumer(graph, index, matMul.Outputs[0]);
        if (y == null) return false;
        var fused = new Node
        {
            Name = matMul.Name,
            OpType = "QLinearMatMul",
            Inputs = [a.Data, a.ScaleName, a.ZeroPointName, b.Data, b.ScaleName, b.ZeroPointName, y.ScaleName, y.ZeroPointName],
            Outputs = [y.Node.Outputs[0]],
        };
        Replace(graph, matMul, fused, [y.Node]);
        RemoveUnusedDequantize(graph, a.Node, b.Node);
        return true;
    }

    private static bool TryFuseBinary(ModelGraph graph, GraphIndex index, Node node, string fusedOp)
    {
        if (node.Inputs.Length != 2 || node.Outputs.Length != 1) return false;
        var a = DequantizeOf(graph, index, node.Inputs[0]);
        var b = DequantizeOf(graph, index, node.Inputs[1]);
        if (a == null || b == null) return false;
        var y = SoleQuantizeConsumer(graph, index, node.Outputs[0]);
        if (y == null) return false;
        var type = y.ZeroPoint.ElementType;
        if (a.ZeroPoint.ElementType != type || b.ZeroPoint.ElementType != type) return false;
        var fused = new Node
        {
            Name = node.Name,
            OpType = fusedOp,
            Domain = MicrosoftDomain,
            Inputs = [a.Data, a.ScaleName, a.ZeroPointName, b.Data, b.ScaleName, b.ZeroPointName, y.ScaleName, y.ZeroPointName],
            Outputs = [y.Node.Outputs[0]],
        };
        Replace(graph, node, fused, [y.Node]);
        RemoveUnusedDequantize(graph, a.Node, b.Node);
        return true;
    }

    /// <summary>
    /// DQ → Clip → Q ⇒ QLinearClip (a lookup table) when the bounds are constants: attributes before opset 11,
    /// optional scalar inputs since; the bounds become float attributes of the fused node.
    /// </summary>
    private static bool TryFuseClip(ModelGraph graph, GraphIndex index, Node node)
    {
        float min = float.NegativeInfinity, max = float.PositiveInfinity;
        if (node.Attributes.TryGetValue("min", out var minAttr)) min = minAttr.Float;
        if (node.Attributes.TryGetValue("max", out var maxAttr)) max = maxAttr.Float;
        for (int i = 1; i < node.Inputs.Length; i++)
        {
            if (node.Inputs[i].Length == 0) continue;
            if (!graph.Initializers.TryGetValue(node.Inputs[i], out var bound) || bound.ElementCount != 1 || bound.ElementType != TensorElementType.Float32)
                return false;
            if (i == 1) min = bound.AsSpan<float>()[0]; else max = bound.AsSpan<float>()[0];
        }
        var unary = new Node { Name = node.Name, OpType = node.OpType, Domain = node.Domain, Inputs = [node.Inputs[0]], Outputs = node.Outputs };
        unary.Attributes["min"] = new NodeAttribute { Name = "min", Kind = AttributeKind.Float, Float = min };
        unary.Attributes["max"] = new NodeAttribute { Name = "max", Kind = AttributeKind.Float, Float = max };
        return TryFuseUnary(graph, index, unary, "QLinearClip", ["min", "max"], EdgeDomain, replaced: node);
    }

    private static bool TryFuseUnary(ModelGraph graph, GraphIndex index, Node node, string fusedOp, string[] copiedAttributes,
        string domain = MicrosoftDomain, Node? replaced = null)
    {
        if (node.Inputs.Length != 1 || node.Outputs.Length != 1) return false;
        var x = DequantizeOf(graph, index, node.Inputs[0]);
        if (x == null) return false;
        var y = SoleQuantizeConsumer(graph, index, node.Outputs[0]);
        if (y == null || x.ZeroPoint.ElementType != y.ZeroPoint.ElementType) return false;
        var fused = new Node
        {
            Name = node.Name,
            OpType = fusedOp,
            Domain = domain,
            Inputs = [x.Data, x.ScaleName, x.ZeroPointName, y.ScaleName, y.ZeroPointName],
            Outputs = [y.Node.Outputs[0]],
        };
        foreach (var name in copiedAttributes)
            if (node.Attributes.TryGetValue(name, out var attr)) fused.Attributes[name] = attr;
        Replace(graph, replaced ?? node, fused, [y.Node]);
        RemoveUnusedDequantize(graph, x.Node);
        return true;
    }

    /// <summary>
    /// DQ(x) → Sigmoid → Q(s) → DQ(s) → Mul(DQ(x), ·) → Q(y) ⇒ QLinearSilu(x, x params, y params, s params): the sigmoid's
    /// Q and DQ must use the same parameters, the Mul's other operand must be a DQ of the same quantized x with the same
    /// parameters, and every removed intermediate must have no other consumer.
    /// </summary>
    private static bool TryFuseQdqSilu(ModelGraph graph, GraphIndex index, Node sigmoid)
    {
        if (sigmoid.Inputs.Length != 1 || sigmoid.Outputs.Length != 1) return false;
        var x = DequantizeOf(graph, index, sigmoid.Inputs[0]);
        if (x == null || !Is8Bit(x.ZeroPoint.ElementType)) return false;
        var sq = SoleQuantizeConsumer(graph, index, sigmoid.Outputs[0]);
        if (sq == null || !index.HasSoleConsumer(sq.Node.Outputs[0], out var sdqNode) || sdqNode.OpType != "DequantizeLinear" || sdqNode.Domain.Length != 0) return false;
        var sdq = ReadParameters(graph, sdqNode, perTensor: true);
        if (sdq == null || !SameQuantization(sq, sdq)) return false;
        if (!index.HasSoleConsumer(sdqNode.Outputs[0], out var mul) || mul.OpType != "Mul" || mul.Domain.Length != 0 || mul.Inputs.Length != 2 || mul.Outputs.Length != 1) return false;
        string other = mul.Inputs[0] == sdqNode.Outputs[0] ? mul.Inputs[1] : mul.Inputs[0];
        if (other == sdqNode.Outputs[0]) return false;
        var x2 = DequantizeOf(graph, index, other);
        if (x2 == null || x2.Data != x.Data || !SameQuantization(x, x2)) return false;
        var y = SoleQuantizeConsumer(graph, index, mul.Outputs[0]);
        if (y == null || y.ZeroPoint.ElementType != x.ZeroPoint.ElementType) return false;
        var fused = new Node
        {
            Name = mul.Name,
            OpType = "QLinearSilu",
            Domain = EdgeDomain,
            Inputs = [x.Data, x.ScaleName, x.ZeroPointName, y.ScaleName, y.ZeroPointName, sq.ScaleName, sq.ZeroPointName],
            Outputs = [y.Node.Outputs[0]],
        };
        Replace(graph, y.Node, fused, [sigmoid, sq.Node, sdqNode, mul]);
        RemoveUnusedDequantize(graph, x.Node, x2.Node);
        return true;
    }

    /// <summary>DQ(x_1) … DQ(x_n) → Concat(axis) → Q ⇒ com.microsoft QLinearConcat(y params, (x_k, x_k params)…).</summary>
    private static bool TryFuseConcat(ModelGraph graph, GraphIndex index, Node concat)
    {
        if (concat.Inputs.Length == 0 || concat.Outputs.Length != 1 || !concat.Attributes.TryGetValue("axis", out var axis)) return false;
        var y = SoleQuantizeConsumer(graph, index, concat.Outputs[0]);
        if (y == null) return false;
        var inputs = new List<Quantization>();
        foreach (var value in concat.Inputs)
        {
            var x = value.Length == 0 ? null : DequantizeOf(graph, index, value);
            if (x == null || x.ZeroPoint.ElementType != y.ZeroPoint.ElementType) return false;
            inputs.Add(x);
        }
        var fused = new Node
        {
            Name = concat.Name,
            OpType = "QLinearConcat",
            Domain = MicrosoftDomain,
            Inputs = [y.ScaleName, y.ZeroPointName, .. inputs.SelectMany(x => new[] { x.Data, x.ScaleName, x.ZeroPointName })],
            Outputs = [y.Node.Outputs[0]],
        };
        fused.Attributes["axis"] = axis;
        Replace(graph, concat, fused, [y.Node]);
        RemoveUnusedDequantize(graph, inputs.Select(x => x.Node).Distinct().ToArray());
        return true;
    }

    private static bool TryFuseDataMovement(ModelGraph graph, GraphIndex index, Node node)
    {
        if (node.Inputs.Length == 0 || node.Outputs.Length != 1) return false;
        var x = DequantizeOf(graph, index, node.Inputs[0]);
        if (x == null) return false;
        var y = SoleQuantizeConsumer(graph, index, node.Outputs[0]);
        if (y == null || !SameQuantization(x, y)) return false;
        var fused = new Node
        {
            Name = node.Name,
            OpType = node.OpType,
            Domain = node.Domain,
            Inputs = [x.Data, .. node.Inputs[1..]],
            Outputs = [y.Node.Outputs[0]],
            Attributes = new Dictionary<string, NodeAttribute>(node.Attributes),
        };
        Replace(graph, node, fused, [y.Node]);
        RemoveUnusedDequantize(graph, x.Node);
        return true;
    }

    private static bool SameQuantization(Quantization x, Quantization y) =>
        x.ZeroPoint.ElementType == y.ZeroPoint.ElementType
        && x.Scale.AsSpan<float>()[0] == y.Scale.AsSpan<float>()[0]
        && x.ZeroPoint.Bytes.SequenceEqual(y.ZeroPoint.Bytes);

    private static bool HasNonUnitDilations(Node node) =>
        node.Attributes.TryGetValue("dilations", out var d) && d.Ints.Any(v => v != 1);

    /// <summary>Puts <paramref name="fused"/> where <paramref name="original"/> was and deletes the absorbed nodes.</summary>
    private static void Replace(ModelGraph graph, Node original, Node fused, Node[] absorbed)
    {
        int position = graph.Nodes.IndexOf(original);
        graph.Nodes[position] = fused;
        foreach (var n in absorbed) graph.Nodes.Remove(n);
    }

    /// <summary>Deletes DQ nodes whose output is no longer consumed and is not a graph output.</summary>
    private static void RemoveUnusedDequantize(ModelGraph graph, params Node[] dequantizeNodes)
    {
        foreach (var dq in dequantizeNodes)
        {
            if (dq.OpType != "DequantizeLinear") continue;
            string output = dq.Outputs[0];
            bool used = graph.Outputs.Any(o => o.Name == output) || graph.Nodes.Any(n => n != dq && n.Inputs.Contains(output));
            if (!used) graph.Nodes.Remove(dq);
        }
    }

    private static string UniqueName(ModelGraph graph, string baseName)
    {
        string name = baseName;
        for (int i = 1; graph.Initializers.ContainsKey(name) || graph.Nodes.Any(n => n.Outputs.Contains(name)); i++) name = $"{baseName}_{i}";
        return name;
    }

    /// <summary>Producer and consumers of every value.</summary>
    private sealed class GraphIndex
    {
        public Dictionary<string, Node> Producer { get; } = new();
        private readonly Dictionary<string, List<Node>> _consumers = new();
        private readonly HashSet<string> _graphOutputs;

        public GraphIndex(ModelGraph graph)
        {
            _graphOutputs = graph.Outputs.Select(o => o.Name).ToHashSet();
            foreach (var n in graph.Nodes)
            {
                foreach (var o in n.Outputs) if (o.Length > 0) Producer[o] = n;
                foreach (var i in n.Inputs)
                {
                    if (i.Length == 0) continue;
                    if (!_consumers.TryGetValue(i, out var list)) _consumers[i] = list = new List<Node>();
                    list.Add(n);
                }
            }
        }

        /// <summary>True when <paramref name="value"/> feeds exactly one node input and is not a graph output.</summary>
        public bool HasSoleConsumer(string value, out Node consumer)
        {
            consumer = null!;
            if (_graphOutputs.Contains(value) || !_consumers.TryGetValue(value, out var list) || list.Count != 1) return false;
            consumer = list[0];
            return true;
        }
    }
}
