namespace EdgeRuntime.Tests.Infrastructure.ModelZoo;

/// <summary>EfficientNet-B0 with torchvision's MBConv table and names.</summary>
internal static class EfficientNet
{
    /// <summary>
    /// EfficientNet-B0 (5.29M parameters, 0.39G MACs at 224): SiLU everywhere as Mul(x, Sigmoid(x)); MBConv =
    /// expand 1x1 (ratio 6) → depthwise k×k → squeeze-and-excitation (squeeze = block input / 4, SiLU, Sigmoid gate)
    /// → linear 1x1 projection, Add when stride 1 and channels match; head Conv 1x1 1280.
    /// </summary>
    public static ZooModel B0(ZooOptions o)
    {
        var b = new ZooGraphBuilder("efficientnet-b0", o);
        // (expand ratio, kernel, stride, out channels, layers)
        (int E, int K, int S, int C, int N)[] table = [(1, 3, 1, 16, 1), (6, 3, 2, 24, 2), (6, 5, 2, 40, 2), (6, 3, 2, 80, 3), (6, 5, 1, 112, 3), (6, 5, 2, 192, 4), (6, 3, 1, 320, 1)];
        var x = b.ConvBnAct(b.Input, ModelZoo.Channels(32, o), 3, 2, activation: ZooActivation.SiLU, name: "features.0");
        int stage = 1;
        foreach (var (e, k, s, c, n) in table)
        {
            int outChannels = ModelZoo.Channels(c, o);
            for (int i = 0; i < ModelZoo.Repeats(n, o); i++)
            {
                using var _ = b.Scope($"features.{stage}.{i}/block");
                int inChannels = b.Channels(x);
                int expanded = ModelZoo.MakeDivisible(inChannels * e);
                int stride = i == 0 ? s : 1;
                var y = x;
                int layer = 0;
                if (expanded != inChannels) y = b.ConvBnAct(y, expanded, 1, activation: ZooActivation.SiLU, name: $"{layer++}");
                y = b.ConvBnAct(y, expanded, k, stride, groups: expanded, activation: ZooActivation.SiLU, name: $"{layer++}");
                y = b.SqueezeExcite(y, Math.Max(1, inChannels / 4), ZooActivation.SiLU, hardGate: false, name: $"{layer++}");
                y = b.ConvBnAct(y, outChannels, 1, activation: ZooActivation.None, name: $"{layer}");
                x = stride == 1 && inChannels == outChannels ? b.Add(x, y) : y;
            }
            stage++;
        }
        x = b.ConvBnAct(x, 4 * b.Channels(x), 1, activation: ZooActivation.SiLU, name: $"features.{stage}");
        var (logits, probabilities) = b.ClassifierHead(x, o.Classes);
        return b.Finish("efficientnet-b0", probabilities, logits, x, o.Classes);
    }
}
