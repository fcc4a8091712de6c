namespace EdgeRuntime.Tests.Infrastructure.ModelZoo;

/// <summary>DenseNet-121 with torchvision's structure and names.</summary>
internal static class DenseNet
{
    /// <summary>
    /// DenseNet-121 (7.98M parameters, 2.9G MACs at 224): stem Conv 7x7/2-BN-Relu-MaxPool; dense blocks of
    /// [6, 12, 24, 16] layers, each pre-activation BN → Relu → Conv 1x1 (4·growth) → BN → Relu → Conv 3x3 (growth 32)
    /// on the Concat of all earlier feature maps of the block (a Concat with up to 1 + layers inputs); transitions
    /// BN → Relu → Conv 1x1 (half) → AveragePool 2x2/2; final BN → Relu.
    /// </summary>
    public static ZooModel DenseNet121(ZooOptions o)
    {
        var b = new ZooGraphBuilder("densenet121", o);
        int growth = ModelZoo.Channels(32, o);
        int bottleneck = 4 * growth;
        string x;
        using (b.Scope("features"))
        {
            x = b.Conv(b.Input, ModelZoo.Channels(64, o), 7, 2, name: "conv0");
            x = b.Relu(b.BatchNorm(x, name: "norm0"), "relu0");
            x = b.MaxPool(x, 3, 2, 1, name: "pool0");
            int[] layers = [6, 12, 24, 16];
            for (int block = 0; block < layers.Length; block++)
            {
                var features = new List<string> { x };
                for (int layer = 0; layer < ModelZoo.Repeats(layers[block], o); layer++)
                {
                    using var _ = b.Scope($"denseblock{block + 1}/denselayer{layer + 1}");
                    var input = features.Count == 1 ? features[0] : b.Concat(features);
                    var y = b.Conv(b.Relu(b.BatchNorm(input, name: "norm1"), "relu1"), bottleneck, 1, name: "conv1");
                    y = b.Conv(b.Relu(b.BatchNorm(y, name: "norm2"), "relu2"), growth, 3, name: "conv2");
                    features.Add(y);
                }
                x = b.Concat(features, $"denseblock{block + 1}/concat");
                if (block == layers.Length - 1) break;
                using (b.Scope($"transition{block + 1}"))
                {
                    var y = b.Relu(b.BatchNorm(x, name: "norm"));
                    y = b.Conv(y, b.Channels(x) / 2, 1, name: "conv");
                    x = b.AveragePool(y, 2, 2, "pool");
                }
            }
            x = b.Relu(b.BatchNorm(x, name: "norm5"), "relu5");
        }
        var (logits, probabilities) = b.ClassifierHead(x, o.Classes);
        return b.Finish("densenet121", probabilities, logits, x, o.Classes);
    }
}
