using EdgeRuntime.Execution.Ops.Quantized;
using EdgeRuntime.Tensors;

namespace EdgeRuntime.Graph.Passes;

/// <summary>
/// Canonicalizes uint8 activations to int8 once at load, so the int8 kernels read their operands as they are instead
/// of flipping the sign bit (and re-deriving signed zero points) on every run. A uint8 value <c>u</c> with zero point
/// <c>z</c> becomes the int8 value <c>u - 128</c> (the same byte with bit 7 flipped) with zero point <c>z - 128</c>;
/// the real number it stands for, <c>scale · (u - z)</c>, is unchanged.
/// <para>The rewrite is exact for the ops it touches because each computes only from differences
/// <c>x - zero_point</c> and produces <c>RoundAndClamp(v, zero_point, min, max)</c> (round v, then add the zero point;
/// clamp bounds relative to it), which shifts by exactly −128 when the zero point and the type's range do:</para>
/// <list type="bullet">
/// <item>producers whose output zero point becomes int8: QLinearConv, QLinearMatMul (y_zero_point), QuantizeLinear
/// (y_zero_point), com.microsoft QLinearAdd / QLinearMul (C_zero_point, tied to A and B), QLinearGlobalAveragePool
/// (tied to its input); a fused clamp (<c>edge_clamp_min</c>/<c>edge_clamp_max</c>) moves by −128 too;</item>
/// <item>consumers whose input zero point becomes int8: QLinearConv x, QLinearMatMul a, DequantizeLinear x, and the
/// tied ops above;</item>
/// <item>pure data movement (Reshape, Flatten, Transpose, Squeeze, Unsqueeze, Identity; data input and output).</item>
/// </list>
/// Values are converted per connected group (values joined by tied ops and data movement): a group is converted only
/// if every producer and consumer in it is one of the above with an explicit uint8 zero-point initializer, and no
/// value of it is a graph input, graph output or initializer — so the model's declared interface keeps its types, and
/// the ops at the boundary (e.g. the stem convolution reading the uint8 image, an AveragePool whose float rounding of
/// <c>average/scale + zero_point</c> is not shift-exact) simply read or write the uint8 form, as every quantized op
/// accepts both.
/// </summary>
public static class SignedActivations
{
    private const string MicrosoftDomain = "com.microsoft";
    private static readonly HashSet<string> DataMovementOps = ["Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze", "Identity"];

    /// <summary>Where a node reads or writes a quantized activation: its data slot and the slot of its zero point.</summary>
    private readonly record struct Port(Node Node, int DataIndex, int ZeroPointIndex, bool IsOutput);

    /// <summary>Rewrites <paramref name="graph"/> in place; returns the number of values converted to int8.</summary>
    public static int Run(ModelGraph graph)
    {
        // Union-find over value names: values of one group must change type together.
        var parent = new Dictionary<string, string>();
        string Find(string v)
        {
            if (!parent.TryGetValue(v, out var p)) { parent[v] = v; return v; }
            if (p == v) return v;
            var root = Find(p);
            parent[v] = root;
            return root;
        }
        void Union(string a, string b) { var ra = Find(a); var rb = Find(b); if (ra != rb) parent[ra] = rb; }

        var ports = new Dictionary<string, List<Port>>(); // value → its quantized ports
        var blocked = new HashSet<string>();               // values used in a way this pass cannot rewrite
        void AddPort(string value, Port port)
        {
            if (value.Length == 0) return;
            Find(value);
            if (!ports.TryGetValue(value, out var list)) ports[value] = list = [];
            list.Add(port);
        }

        foreach (var node in graph.Nodes)
        {
            var rule = Describe(node);
            // A node missing a slot the rule names is malformed; leave it (and its values) to the op's own validation.
            if (rule != null && (rule.Value.Inputs.Any(p => p.Data >= node.Inputs.Length) || rule.Value.Outputs.Any(p => p.Data >= node.Outputs.Length)))
                rule = null;
            if (rule == null)
            {
                // Unknown use: whatever the node reads or writes stays as it is.
                foreach (var v in node.Inputs) if (v.Length > 0) blocked.Add(v);
                foreach (var v in node.Outputs) if (v.Length > 0) blocked.Add(v);
                continue;
            }
            var (inputs, outputs, tied) = rule.Value;
            var data = new HashSet<int>(inputs.Select(p => p.Data));
            // Non-data inputs (scales, zero points, weights, shapes) are not activations of this op: a value used
            // there must not change type.
            for (int i = 0; i < node.Inputs.Length; i++)
                if (!data.Contains(i) && node.Inputs[i].Length > 0) blocked.Add(node.Inputs[i]);
            foreach (var (d, z) in inputs) AddPort(node.Inputs[d], new Port(node, d, z, false));
            foreach (var (d, z) in outputs) AddPort(node.Outputs[d], new Port(node, d, z, true));
            for (int i = 0; i < node.Outputs.Length; i++)
                if (node.Outputs[i].Length > 0 && !outputs.Any(p => p.Data == i)) blocked.Add(node.Outputs[i]);
            if (tied)
            {
                string? first = null;
                foreach (var (d, _) in inputs) if (node.Inputs[d].Length > 0) { if (first == null) first = node.Inputs[d]; else Union(first, node.Inputs[d]); }
                foreach (var (d, _) in outputs) if (node.Outputs[d].Length > 0) { if (first == null) first = node.Outputs[d]; else Union(first, node.Outputs[d]); }
            }
        }
        foreach (var v in graph.Inputs) blocked.Add(v.Name);
        foreach (var v in graph.Outputs) blocked.Add(v.Name);
        foreach (var v in graph.Initializers.Keys) blocked.Add(v);

        // A group is convertible when none of its values is blocked, every value has a producer, and every zero
        // point on its ports is a uint8 initializer.
        var produced = new HashSet<string>(ports.Where(kv => kv.Value.Any(p => p.IsOutput)).Select(kv => kv.Key));
        var badRoots = new HashSet<string>();
        foreach (var (value, list) in ports)
        {
            bool ok = !blocked.Contains(value) && produced.Contains(value);
            foreach (var port in list)
            {
                if (!ok) break;
                if (port.ZeroPointIndex < 0) continue; // data movement
                var zpName = port.ZeroPointIndex < port.Node.Inputs.Length ? port.Node.Inputs[port.ZeroPointIndex] : "";
                ok = zpName.Length > 0 && graph.Initializers.TryGetValue(zpName, out var zp) && zp.ElementType == TensorElementType.UInt8;
            }
            if (!ok) badRoots.Add(Find(value));
        }

        var converted = ports.Keys.Where(v => !badRoots.Contains(Find(v))).ToHashSet();
        if (converted.Count == 0) return 0;

        var signedZeroPoints = new Dictionary<string, string>();
        var shiftedClamps = new HashSet<Node>();
        foreach (var value in converted)
        {
            foreach (var port in ports[value])
            {
                if (port.ZeroPointIndex >= 0)
                    port.Node.Inputs[port.ZeroPointIndex] = SignedZeroPoint(graph, port.Node.Inputs[port.ZeroPointIndex], signedZeroPoints);
                if (port.IsOutput && shiftedClamps.Add(port.Node)) ShiftClamp(port.Node);
            }
            if (graph.ValueInfos.TryGetValue(value, out var info))
                graph.ValueInfos[value] = info with { ElementType = TensorElementType.Int8 };
        }
        return converted.Count;
    }

    /// <summary>The int8 twin of a uint8 zero-point initializer (values − 128), created once per name.</summary>
    private static string SignedZeroPoint(ModelGraph graph, string name, Dictionary<string, string> created)
    {
        if (created.TryGetValue(name, out var done)) return done;
        var source = graph.Initializers[name];
        var bytes = source.Bytes;
        var signedValues = new sbyte[bytes.Length];
        for (int i = 0; i < bytes.Length; i++) signedValues[i] = (sbyte)(bytes[i] - 128);
        string baseName = name + "__edge_int8", newName = baseName;
        for (int suffix = 1; graph.Initializers.ContainsKey(newName); suffix++) newName = $"{baseName}_{suffix}";
        graph.Initializers[newName] = Tensor.FromArray<sbyte>(TensorElementType.Int8, (int[])source.Shape.Clone(), signedValues);
        created[name] = newName;
        return newName;
    }

    private static void ShiftClamp(Node node)
    {
        foreach (var key in new[] { QLinearConvDefinition.ClampMinAttribute, QLinearConvDefinition.ClampMaxAttribute })
            if (node.Attributes.TryGetValue(key, out var a) && a.Kind == AttributeKind.Int)
                node.Attributes[key] = new NodeAttribute { Name = a.Name, Kind = AttributeKind.Int, Int = a.Int - 128 };
    }

    /// <summary>
    /// The activation ports of the ops this pass understands: (data slot, zero-point slot or −1) for inputs and
    /// outputs, and whether all of them must share one type. Null for any other node.
    /// </summary>
    private static ((int Data, int ZeroPoint)[] Inputs, (int Data, int ZeroPoint)[] Outputs, bool Tied)? Describe(Node node)
    {
        if (node.Domain.Length == 0)
        {
            switch (node.OpType)
            {
                case "QLinearConv": return ([(0, 2)], [(0, 7)], false);
                case "QLinearMatMul": return ([(0, 2)], [(0, 7)], false);
                case "QuantizeLinear" when !node.Attributes.ContainsKey("output_dtype"): return ([], [(0, 2)], false);
                case "DequantizeLinear": return ([(0, 2)], [], false);
                case var op when DataMovementOps.Contains(op): return ([(0, -1)], [(0, -1)], true);
            }
            return null;
        }
        if (node.Domain == MicrosoftDomain)
        {
            switch (node.OpType)
            {
                case "QLinearAdd" or "QLinearMul": return ([(0, 2), (3, 5)], [(0, 7)], true);
                case "QLinearGlobalAveragePool" when !node.Attributes.TryGetValue("channels_last", out var cl) || cl.Int == 0:
                    return ([(0, 2)], [(0, 4)], true);
            }
        }
        return null;
    }
}
