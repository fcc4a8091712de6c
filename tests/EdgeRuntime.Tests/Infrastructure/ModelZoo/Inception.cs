namespace EdgeRuntime.Tests.Infrastructure.ModelZoo;

/// <summary>GoogLeNet stem and Inception (v1) blocks 3a, 3b, 4a, 4b.</summary>
internal static class Inception
{
    /// <summary>
    /// GoogLeNet stem (Conv 7x7/2, MaxPool, Conv 1x1, Conv 3x3, MaxPool) and Inception blocks 3a, 3b, MaxPool, 4a, 4b:
    /// four parallel branches — 1x1; 1x1 → 3x3; 1x1 → 5x5; MaxPool 3x3/1 → 1x1 — each Conv-BN-Relu, joined by Concat
    /// along channels. 3.2M parameters, 1.0G MACs at 224.
    /// </summary>
    public static ZooModel GoogLeNetBlocks(ZooOptions o)
    {
        var b = new ZooGraphBuilder("inception", o);
        var x = b.ConvBnAct(b.Input, ModelZoo.Channels(64, o), 7, 2, name: "conv1");
        x = b.MaxPool(x, 3, 2, 1, name: "maxpool1");
        x = b.ConvBnAct(x, ModelZoo.Channels(64, o), 1, name: "conv2");
        x = b.ConvBnAct(x, ModelZoo.Channels(192, o), 3, name: "conv3");
        x = b.MaxPool(x, 3, 2, 1, name: "maxpool2");
        // (1x1, 3x3 reduce, 3x3, 5x5 reduce, 5x5, pool projection) from the GoogLeNet paper
        x = Block(b, x, o, "inception3a", 64, 96, 128, 16, 32, 32);
        x = Block(b, x, o, "inception3b", 128, 128, 192, 32, 96, 64);
        x = b.MaxPool(x, 3, 2, 1, name: "maxpool3");
        x = Block(b, x, o, "inception4a", 192, 96, 208, 16, 48, 64);
        x = Block(b, x, o, "inception4b", 160, 112, 224, 24, 64, 64);
        var (logits, probabilities) = b.ClassifierHead(x, o.Classes);
        return b.Finish("inception", probabilities, logits, x, o.Classes);
    }

    private static string Block(ZooGraphBuilder b, string x, ZooOptions o, string name, int c1, int c3Reduce, int c3, int c5Reduce, int c5, int poolProjection)
    {
        using var _ = b.Scope(name);
        var branch1 = b.ConvBnAct(x, ModelZoo.Channels(c1, o), 1, name: "branch1");
        string branch2, branch3, branch4;
        using (b.Scope("branch2"))
            branch2 = b.ConvBnAct(b.ConvBnAct(x, ModelZoo.Channels(c3Reduce, o), 1, name: "0"), ModelZoo.Channels(c3, o), 3, name: "1");
        using (b.Scope("branch3"))
            branch3 = b.ConvBnAct(b.ConvBnAct(x, ModelZoo.Channels(c5Reduce, o), 1, name: "0"), ModelZoo.Channels(c5, o), 5, name: "1");
        using (b.Scope("branch4"))
            branch4 = b.ConvBnAct(b.MaxPool(x, 3, 1, 1, name: "0"), ModelZoo.Channels(poolProjection, o), 1, name: "1");
        return b.Concat([branch1, branch2, branch3, branch4]);
    }
}
