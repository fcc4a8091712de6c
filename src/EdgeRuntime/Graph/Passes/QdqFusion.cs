namespace EdgeRuntime.Graph.Passes;
// STUB (replaced by quant branch)
public static class QdqFusion
{
    public static int Fuse(ModelGraph graph) => 0;
}
