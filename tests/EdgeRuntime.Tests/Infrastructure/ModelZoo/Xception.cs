namespace EdgeRuntime.Tests.Infrastructure.ModelZoo;

/// <summary>Xception (Keras application layout) as tf2onnx/PyTorch write separable convolutions.</summary>
internal static class Xception
{
    /// <summary>
    /// Xception (22.9M parameters, 4.6G MACs at 224): entry Conv 3x3/2 32, Conv 3x3 64; entry blocks to 128, 256,
    /// 728 and the exit block to 1024 (separable convs + MaxPool 3x3/2, residual Conv 1x1/2 + BN, Add); 8 middle blocks
    /// of 3× (Relu → separable conv → BN) with identity Add; exit separable convs 1536 and 2048 with BN-Relu.
    /// A separable conv is a depthwise Conv 3x3 (group = channels) followed directly by a pointwise Conv 1x1, both
    /// without bias, then BatchNormalization.
    /// </summary>
    public static ZooModel Build(ZooOptions o)
    {
        var b = new ZooGraphBuilder("xception", o);
        var x = b.ConvBnAct(b.Input, ModelZoo.Channels(32, o), 3, 2, name: "block1_conv1");
        x = b.ConvBnAct(x, ModelZoo.Channels(64, o), 3, name: "block1_conv2");
        x = DownBlock(b, x, ModelZoo.Channels(128, o), ModelZoo.Channels(128, o), "block2", leadingRelu: false);
        x = DownBlock(b, x, ModelZoo.Channels(256, o), ModelZoo.Channels(256, o), "block3", leadingRelu: true);
        x = DownBlock(b, x, ModelZoo.Channels(728, o), ModelZoo.Channels(728, o), "block4", leadingRelu: true);
        int middle = ModelZoo.Repeats(8, o);
        for (int i = 0; i < middle; i++)
        {
            using var _ = b.Scope($"block{5 + i}");
            var y = x;
            for (int k = 1; k <= 3; k++)
                y = b.BatchNorm(SeparableConv(b, b.Relu(y, $"sepconv{k}_act"), b.Channels(x), $"sepconv{k}"), gammaMean: k == 3 ? 0.5 : 1.0, name: $"sepconv{k}_bn");
            x = b.Add(y, x);
        }
        int exitBlock = 5 + middle;
        x = DownBlock(b, x, ModelZoo.Channels(728, o), ModelZoo.Channels(1024, o), $"block{exitBlock}", leadingRelu: true);
        using (b.Scope($"block{exitBlock + 1}"))
        {
            x = b.Relu(b.BatchNorm(SeparableConv(b, x, ModelZoo.Channels(1536, o), "sepconv1"), name: "sepconv1_bn"), "sepconv1_act");
            x = b.Relu(b.BatchNorm(SeparableConv(b, x, ModelZoo.Channels(2048, o), "sepconv2"), name: "sepconv2_bn"), "sepconv2_act");
        }
        var (logits, probabilities) = b.ClassifierHead(x, o.Classes);
        return b.Finish("xception", probabilities, logits, x, o.Classes);
    }

    private static string SeparableConv(ZooGraphBuilder b, string x, int outChannels, string name)
    {
        using var _ = b.Scope(name);
        int channels = b.Channels(x);
        var depthwise = b.Conv(x, channels, 3, groups: channels, gain: 1.0, name: "depthwise");
        return b.Conv(depthwise, outChannels, 1, gain: 1.0, name: "pointwise");
    }

    /// <summary>[Relu →] sep conv → BN → Relu → sep conv → BN → MaxPool 3x3/2, plus Conv 1x1/2 + BN shortcut, Add.</summary>
    private static string DownBlock(ZooGraphBuilder b, string x, int firstChannels, int outChannels, string name, bool leadingRelu)
    {
        using var _ = b.Scope(name);
        var residual = b.BatchNorm(b.Conv(x, outChannels, 1, 2, pad: 0, gain: 1.0, name: "shortcut_conv"), name: "shortcut_bn");
        var y = leadingRelu ? b.Relu(x, "sepconv1_act") : x;
        y = b.BatchNorm(SeparableConv(b, y, firstChannels, "sepconv1"), name: "sepconv1_bn");
        y = b.BatchNorm(SeparableConv(b, b.Relu(y, "sepconv2_act"), outChannels, "sepconv2"), name: "sepconv2_bn");
        y = b.MaxPool(y, 3, 2, 1, name: "pool");
        return b.Add(y, residual);
    }
}
