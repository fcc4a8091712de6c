namespace EdgeRuntime.Graph.Passes;

/// <summary>
/// Removes nodes that do nothing at inference: Identity, and Dropout whose mask output is unused. Their consumers
/// read the input directly. A node whose output is a graph output is kept (its name is part of the model's interface).
/// Converters leave many of these (the TFLite-converted MobileNets have one Identity per layer), and each would
/// otherwise copy a whole activation tensor per inference.
/// </summary>
public static class IdentityElimination
{
    /// <summary>Rewrites <paramref name="graph"/> in place; returns the number of nodes removed.</summary>
    public static int Run(ModelGraph graph)
    {
        var graphOutputs = new HashSet<string>(graph.Outputs.Select(o => o.Name));
        var replacement = new Dictionary<string, string>();
        var kept = new List<Node>(graph.Nodes.Count);
        foreach (var node in graph.Nodes)
        {
            bool noOp = node.Domain.Length == 0 && node.Inputs.Length >= 1 && node.Inputs[0].Length > 0 && node.Outputs.Length >= 1
                        && (node.OpType == "Identity"
                            || (node.OpType == "Dropout" && (node.Outputs.Length == 1 || node.Outputs[1].Length == 0) && !IsTraining(node)));
            if (noOp && !graphOutputs.Contains(node.Outputs[0]))
                replacement[node.Outputs[0]] = node.Inputs[0];
            else
                kept.Add(node);
        }
        if (replacement.Count == 0) return 0;
        foreach (var node in kept)
            for (int i = 0; i < node.Inputs.Length; i++)
                node.Inputs[i] = Resolve(replacement, node.Inputs[i]);
        int removed = graph.Nodes.Count - kept.Count;
        graph.Nodes.Clear();
        graph.Nodes.AddRange(kept);
        return removed;
    }

    private static string Resolve(Dictionary<string, string> replacement, string name)
    {
        // Chains (Identity → Identity) resolve to the first real producer; the bound stops a malformed cycle.
        for (int hops = 0; hops <= replacement.Count && replacement.TryGetValue(name, out var next); hops++) name = next;
        return name;
    }

    private static bool IsTraining(Node node) =>
        node.Inputs.Length > 2 && node.Inputs[2].Length > 0; // training_mode given as an input: leave it to the op to validate
}
