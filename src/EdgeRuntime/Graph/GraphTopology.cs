using EdgeRuntime.Onnx;

namespace EdgeRuntime.Graph;

/// <summary>
/// Orders a graph's nodes for execution and checks that every value has exactly one source.
/// </summary>
public static class GraphTopology
{
    /// <summary>Most node names a cycle message lists before it abbreviates.</summary>
    private const int MaxNodesNamedInCycle = 12;

    /// <summary>
    /// Returns the nodes of <paramref name="graph"/> in a topological order: every node comes after the nodes
    /// producing its inputs. The order is stable: among the nodes that are ready, the one earliest in the file
    /// goes first, so a file that is already sorted keeps its order exactly.
    /// </summary>
    /// <exception cref="ModelFormatException">
    /// A value produced twice (by two nodes, twice by one node, or by a node and also an initializer/graph
    /// input); a node input that nothing produces; a graph output that nothing produces; or a cycle (the
    /// message lists the nodes on it).
    /// </exception>
    public static List<Node> Sort(ModelGraph graph)
    {
        var file = graph.SourcePath;
        var nodes = graph.Nodes;

        // Where each value comes from: -1 for graph inputs and initializers, else the producing node index.
        const int External = -1;
        var producer = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var name in graph.Initializers.Keys) producer[name] = External;
        foreach (var input in graph.Inputs) producer[input.Name] = External;

        for (int i = 0; i < nodes.Count; i++)
        {
            var node = nodes[i];
            foreach (var output in node.Outputs)
            {
                if (output.Length == 0) continue;
                if (producer.TryGetValue(output, out var other))
                {
                    var already = other == External
                        ? (graph.Initializers.ContainsKey(output) ? "an initializer" : "a graph input")
                        : other == i ? "this node (listed twice among its outputs)" : $"node '{nodes[other].Name}' ({nodes[other].OpType})";
                    throw new ModelFormatException(file, $"output '{output}' is also produced by {already}", node.Name, node.OpType);
                }
                producer[output] = i;
            }
        }

        // Distinct producer nodes per node (an input used twice, e.g. Mul(x, x), is one dependency).
        var dependents = new List<int>[nodes.Count];
        var pendingInputs = new int[nodes.Count];
        for (int i = 0; i < nodes.Count; i++) dependents[i] = [];
        for (int i = 0; i < nodes.Count; i++)
        {
            var node = nodes[i];
            var sources = new HashSet<int>();
            for (int k = 0; k < node.Inputs.Length; k++)
            {
                var input = node.Inputs[k];
                if (input.Length == 0) continue; // omitted optional input
                if (!producer.TryGetValue(input, out var p))
                    throw new ModelFormatException(file,
                        $"input {k} '{input}' is not produced by any node, initializer or graph input", node.Name, node.OpType);
                if (p != External && sources.Add(p)) dependents[p].Add(i);
            }
            pendingInputs[i] = sources.Count;
        }

        foreach (var output in graph.Outputs)
            if (!producer.ContainsKey(output.Name))
                throw new ModelFormatException(file, $"graph output '{output.Name}' is not produced by any node, initializer or graph input");

        // Kahn's algorithm, always taking the ready node that comes first in the file.
        var ready = new PriorityQueue<int, int>();
        for (int i = 0; i < nodes.Count; i++)
            if (pendingInputs[i] == 0) ready.Enqueue(i, i);
        var order = new List<Node>(nodes.Count);
        while (ready.TryDequeue(out var i, out _))
        {
            order.Add(nodes[i]);
            foreach (var d in dependents[i])
                if (--pendingInputs[d] == 0) ready.Enqueue(d, d);
        }
        if (order.Count != nodes.Count)
            throw CycleError(graph, dependents, pendingInputs);
        return order;
    }

    /// <summary>Finds one concrete cycle among the nodes Kahn's algorithm could not schedule and names it.</summary>
    private static ModelFormatException CycleError(ModelGraph graph, List<int>[] dependents, int[] pendingInputs)
    {
        var nodes = graph.Nodes;
        // Every unscheduled node has an unscheduled predecessor, so walking predecessors backwards from any of
        // them must revisit a node; the part of the walk from that node on is a cycle.
        var predecessor = new int[nodes.Count];
        Array.Fill(predecessor, -1);
        for (int p = 0; p < nodes.Count; p++)
            if (pendingInputs[p] > 0)
                foreach (var d in dependents[p])
                    if (pendingInputs[d] > 0 && predecessor[d] < 0) predecessor[d] = p;

        int start = Array.FindIndex(pendingInputs, c => c > 0);
        var positionInWalk = new Dictionary<int, int>();
        var walk = new List<int>();
        int current = start;
        while (!positionInWalk.ContainsKey(current))
        {
            positionInWalk[current] = walk.Count;
            walk.Add(current);
            current = predecessor[current];
        }
        var cycle = walk.GetRange(positionInWalk[current], walk.Count - positionInWalk[current]);
        cycle.Reverse(); // predecessor walk runs against the data flow; report it along the data flow
        var names = cycle.Take(MaxNodesNamedInCycle).Select(i => $"'{nodes[i].Name}' ({nodes[i].OpType})").ToList();
        if (cycle.Count > MaxNodesNamedInCycle) names.Add($"... {cycle.Count - MaxNodesNamedInCycle} more");
        names.Add($"'{nodes[cycle[0]].Name}'");
        int stuck = pendingInputs.Count(c => c > 0);
        var first = nodes[cycle[0]];
        return new ModelFormatException(graph.SourcePath,
            $"the graph has a cycle: {string.Join(" -> ", names)} ({stuck} nodes cannot be scheduled)", first.Name, first.OpType);
    }
}
