namespace EdgeRuntime.Graph;
// STUB (replaced by loader branch)
public static class GraphTopology
{
    public static List<Node> Sort(ModelGraph graph) => graph.Nodes.ToList();
}
