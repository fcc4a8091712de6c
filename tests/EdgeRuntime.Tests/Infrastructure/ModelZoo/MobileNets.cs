namespace EdgeRuntime.Tests.Infrastructure.ModelZoo;

/// <summary>MobileNetV2 and MobileNetV3-Small with torchvision's layer tables and names.</summary>
internal static class MobileNets
{
    /// <summary>
    /// MobileNetV2 (width 1.0: 3.50M parameters, 300M MACs at 224): stem Conv 3x3/2 → 17 inverted residuals
    /// (expand 1x1 → depthwise 3x3 → linear 1x1 projection, ReLU6 as Clip(0, 6), Add when stride 1 and channels
    /// match) → Conv 1x1 1280 → classifier.
    /// </summary>
    public static ZooModel MobileNetV2(ZooOptions o)
    {
        var b = new ZooGraphBuilder("mobilenetv2", o);
        // (expansion t, channels c, repeats n, first stride s)
        (int T, int C, int N, int S)[] table = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)];
        var x = b.ConvBnAct(b.Input, ModelZoo.Channels(32, o), 3, 2, activation: ZooActivation.Relu6, name: "features.0");
        int index = 1;
        foreach (var (t, c, n, s) in table)
        {
            int outChannels = ModelZoo.Channels(c, o);
            for (int i = 0; i < ModelZoo.Repeats(n, o); i++)
                x = InvertedResidual(b, x, outChannels, i == 0 ? s : 1, t, $"features.{index++}");
        }
        int last = ModelZoo.MakeDivisible(1280 * Math.Max(1.0, o.Width));
        x = b.ConvBnAct(x, last, 1, activation: ZooActivation.Relu6, name: $"features.{index}");
        var (logits, probabilities) = b.ClassifierHead(x, o.Classes);
        return b.Finish("mobilenetv2", probabilities, logits, x, o.Classes);
    }

    private static string InvertedResidual(ZooGraphBuilder b, string x, int outChannels, int stride, int expansion, string name)
    {
        using var _ = b.Scope(name);
        int inChannels = b.Channels(x);
        int hidden = (int)Math.Round((double)inChannels * expansion);
        var y = x;
        int layer = 0;
        if (expansion != 1) y = b.ConvBnAct(y, hidden, 1, activation: ZooActivation.Relu6, name: $"conv.{layer++}");
        y = b.ConvBnAct(y, hidden, 3, stride, groups: hidden, activation: ZooActivation.Relu6, name: $"conv.{layer++}");
        y = b.ConvBnAct(y, outChannels, 1, activation: ZooActivation.None, name: $"conv.{layer}");
        return stride == 1 && inChannels == outChannels ? b.Add(x, y) : y;
    }

    /// <summary>
    /// MobileNetV3-Small (2.54M parameters, 56M MACs at 224): HardSwish stem, 11 bottlenecks with ReLU or HardSwish
    /// and HardSigmoid-gated squeeze-and-excitation, Conv 1x1 576, classifier Gemm 1024 → HardSwish → Gemm.
    /// HardSwish is Mul(x, HardSigmoid(x)) at opset 13 (PyTorch's export), the HardSwish op from opset 14.
    /// </summary>
    public static ZooModel MobileNetV3Small(ZooOptions o)
    {
        var b = new ZooGraphBuilder("mobilenetv3-small", o);
        const ZooActivation RE = ZooActivation.Relu, HS = ZooActivation.HardSwish;
        // (kernel, expanded, out, squeeze-excite, activation, stride), torchvision's mobilenet_v3_small table
        (int K, int Exp, int Out, bool Se, ZooActivation Act, int S)[] table =
        [
            (3, 16, 16, true, RE, 2), (3, 72, 24, false, RE, 2), (3, 88, 24, false, RE, 1),
            (5, 96, 40, true, HS, 2), (5, 240, 40, true, HS, 1), (5, 240, 40, true, HS, 1),
            (5, 120, 48, true, HS, 1), (5, 144, 48, true, HS, 1),
            (5, 288, 96, true, HS, 2), (5, 576, 96, true, HS, 1), (5, 576, 96, true, HS, 1),
        ];
        var x = b.ConvBnAct(b.Input, ModelZoo.Channels(16, o), 3, 2, activation: HS, name: "features.0");
        int index = 1;
        foreach (var (k, exp, outC, se, act, s) in table)
        {
            using var _ = b.Scope($"features.{index++}/block");
            int inChannels = b.Channels(x);
            int expanded = ModelZoo.Channels(exp, o), outChannels = ModelZoo.Channels(outC, o);
            var y = x;
            int layer = 0;
            if (expanded != inChannels) y = b.ConvBnAct(y, expanded, 1, activation: act, name: $"{layer++}");
            y = b.ConvBnAct(y, expanded, k, s, groups: expanded, activation: act, name: $"{layer++}");
            if (se) y = b.SqueezeExcite(y, ModelZoo.MakeDivisible(expanded / 4.0), ZooActivation.Relu, hardGate: true, name: $"{layer++}");
            y = b.ConvBnAct(y, outChannels, 1, activation: ZooActivation.None, name: $"{layer}");
            x = s == 1 && inChannels == outChannels ? b.Add(x, y) : y;
        }
        x = b.ConvBnAct(x, 6 * b.Channels(x), 1, activation: HS, name: $"features.{index}");
        var (logits, probabilities) = b.ClassifierHead(x, o.Classes, hidden: ModelZoo.MakeDivisible(1024 * Math.Max(1.0, o.Width)), hiddenActivation: HS);
        return b.Finish("mobilenetv3-small", probabilities, logits, x, o.Classes);
    }
}
