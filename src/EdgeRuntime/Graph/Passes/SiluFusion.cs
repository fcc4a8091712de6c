namespace EdgeRuntime.Graph.Passes;

/// <summary>
/// Rewrites the float pattern <c>Mul(x, Sigmoid(x))</c> (either operand order) into one <c>ai.edgeruntime</c>
/// <c>Silu</c> node, when the sigmoid output feeds nothing else and is not a graph output. The fused kernel is
/// bit-identical to the two ops. Runs at the start of <see cref="QdqFusion.Fuse"/>, so that a QDQ
/// <c>DQ → Sigmoid → Mul → Q</c> group (no requantization in between) then becomes one int8 lookup table.
/// </summary>
public static class SiluFusion
{
    /// <summary>Fuses every matching pair in <paramref name="graph"/>; returns the number of fusions.</summary>
    public static int Fuse(ModelGraph graph)
    {
        int fusions = 0;
        var graphOutputs = graph.Outputs.Select(o => o.Name).ToHashSet();
        foreach (var sigmoid in graph.Nodes.ToArray())
        {
            if (sigmoid.OpType != "Sigmoid" || sigmoid.Domain.Length != 0 || sigmoid.Inputs.Length != 1 || sigmoid.Outputs.Length != 1) continue;
            string x = sigmoid.Inputs[0], s = sigmoid.Outputs[0];
            if (x.Length == 0 || graphOutputs.Contains(s)) continue;
            var consumers = graph.Nodes.Where(n => n.Inputs.Contains(s)).ToArray();
            if (consumers.Length != 1) continue;
            var mul = consumers[0];
            if (mul.OpType != "Mul" || mul.Domain.Length != 0 || mul.Inputs.Length != 2 || mul.Outputs.Length != 1) continue;
            bool matches = (mul.Inputs[0] == x && mul.Inputs[1] == s) || (mul.Inputs[0] == s && mul.Inputs[1] == x);
            if (!matches) continue;
            var silu = new Node
            {
                Name = mul.Name,
                OpType = "Silu",
                Domain = QdqFusion.EdgeDomain,
                Inputs = [x],
                Outputs = [mul.Outputs[0]],
            };
            graph.Nodes[graph.Nodes.IndexOf(mul)] = silu;
            graph.Nodes.Remove(sigmoid);
            fusions++;
        }
        if (fusions > 0 && graph.OpsetFor(QdqFusion.EdgeDomain) == 0) graph.Opsets[QdqFusion.EdgeDomain] = 1;
        return fusions;
    }
}
