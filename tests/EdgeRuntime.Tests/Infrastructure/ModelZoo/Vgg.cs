namespace EdgeRuntime.Tests.Infrastructure.ModelZoo;

/// <summary>VGG-11 with BatchNormalization (torchvision vgg11_bn features).</summary>
internal static class Vgg
{
    /// <summary>
    /// VGG-11-BN features (9.2M conv parameters, 7.6G MACs at 224): 3x3 Conv-BN-Relu stacks
    /// [64, M, 128, M, 256, 256, M, 512, 512, M, 512, 512, M] with MaxPool 2x2/2; head GlobalAveragePool → Flatten →
    /// Gemm 1024 → Relu → Gemm → Softmax (instead of the 25088×4096 fully connected layers, to stay small).
    /// </summary>
    public static ZooModel Vgg11Bn(ZooOptions o)
    {
        var b = new ZooGraphBuilder("vgg11-bn", o);
        int[] config = [64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0]; // 0 = MaxPool
        var x = b.Input;
        int index = 0;
        foreach (int c in config)
        {
            if (c == 0) { x = b.MaxPool(x, 2, 2, name: $"features.{index++}"); continue; }
            var conv = b.Conv(x, ModelZoo.Channels(c, o), 3, name: $"features.{index++}");
            var bn = b.BatchNorm(conv, name: $"features.{index++}");
            x = b.Relu(bn, name: $"features.{index++}");
        }
        var lastFeature = x;
        var (logits, probabilities) = b.ClassifierHead(x, o.Classes, hidden: ModelZoo.Channels(1024, o));
        return b.Finish("vgg11-bn", probabilities, logits, lastFeature, o.Classes);
    }
}
