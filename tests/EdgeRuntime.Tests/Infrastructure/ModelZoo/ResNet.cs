namespace EdgeRuntime.Tests.Infrastructure.ModelZoo;

/// <summary>ResNet-50 (torchvision v1.5: stride in the 3x3 conv) with torchvision's names.</summary>
internal static class ResNet
{
    /// <summary>
    /// ResNet-50 (25.6M parameters, 4.1G MACs at 224): Conv 7x7/2 → MaxPool 3x3/2 → bottleneck stages [3, 4, 6, 3]
    /// of 1x1 → 3x3 → 1x1 (×4 expansion) with Conv-BN-Relu, projection shortcuts (Conv 1x1 + BN) where the shape
    /// changes, Add → Relu. The last BN of each residual branch has gamma ≈ 0.5 (trained ResNets shrink it), so the
    /// identity path grows slowly with depth as in the real network.
    /// </summary>
    public static ZooModel ResNet50(ZooOptions o)
    {
        var b = new ZooGraphBuilder("resnet50", o);
        var x = b.Conv(b.Input, ModelZoo.Channels(64, o), 7, 2, name: "conv1");
        x = b.Relu(b.BatchNorm(x, name: "bn1"));
        x = b.MaxPool(x, 3, 2, 1);
        int[] blocks = [3, 4, 6, 3];
        for (int stage = 0; stage < 4; stage++)
        {
            int width = ModelZoo.Channels(64 << stage, o);
            for (int i = 0; i < ModelZoo.Repeats(blocks[stage], o); i++)
                x = Bottleneck(b, x, width, i == 0 && stage > 0 ? 2 : 1, $"layer{stage + 1}.{i}");
        }
        var (logits, probabilities) = b.ClassifierHead(x, o.Classes);
        return b.Finish("resnet50", probabilities, logits, x, o.Classes);
    }

    private static string Bottleneck(ZooGraphBuilder b, string x, int width, int stride, string name)
    {
        using var _ = b.Scope(name);
        int outChannels = width * 4;
        var y = b.Relu(b.BatchNorm(b.Conv(x, width, 1, name: "conv1"), name: "bn1"));
        y = b.Relu(b.BatchNorm(b.Conv(y, width, 3, stride, name: "conv2"), name: "bn2"));
        y = b.BatchNorm(b.Conv(y, outChannels, 1, gain: 1.0, name: "conv3"), gammaMean: 0.5, gammaStd: 0.05, name: "bn3");
        var shortcut = x;
        if (stride != 1 || b.Channels(x) != outChannels)
        {
            using var __ = b.Scope("downsample");
            shortcut = b.BatchNorm(b.Conv(x, outChannels, 1, stride, gain: 1.0, name: "0"), name: "1");
        }
        return b.Relu(b.Add(y, shortcut));
    }
}
