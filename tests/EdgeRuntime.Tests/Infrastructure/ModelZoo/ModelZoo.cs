namespace EdgeRuntime.Tests.Infrastructure.ModelZoo;

/// <summary>Build parameters of a zoo model.</summary>
/// <param name="Resolution">Input height = width (≥ 32); the architectures downsample by 32.</param>
/// <param name="Classes">Classifier outputs.</param>
/// <param name="Seed">Weight seed: the same seed (and other options) gives byte-identical model bytes.</param>
/// <param name="Width">Channel multiplier (channels rounded to multiples of 8, MobileNet's make_divisible).</param>
/// <param name="Depth">Repeat multiplier for the repeated blocks of each table (at least 1 each).</param>
/// <param name="Opset">ai.onnx opset (13 as PyTorch exports by default; ≥ 14 writes HardSwish as the op).</param>
/// <param name="CalibrationImages">
/// Synthetic images the builder runs through the model to set BatchNormalization statistics (cost: MACs × this, in
/// plain C#). Fewer images give noisier statistics and models that generalise worse to real photos.
/// </param>
/// <param name="CalibrationInputs">
/// Optional real images to set the BatchNormalization statistics from instead of the synthetic ones: float
/// [1, 3, R, R] each, ImageNet-normalised (as <c>PreprocessOptions.DefaultsFor</c> gives); <see cref="CalibrationImages"/>
/// is then ignored. Models calibrated on real photos behave more like trained networks on other real photos.
/// </param>
internal sealed record ZooOptions(int Resolution = 224, int Classes = 1000, int Seed = 1, double Width = 1.0, double Depth = 1.0, int Opset = 13, int CalibrationImages = 8,
    IReadOnlyList<EdgeRuntime.Tensors.Tensor>? CalibrationInputs = null);

/// <summary>
/// Generated float ONNX models of the CNN families people deploy, exported the way PyTorch exports them (Conv →
/// BatchNormalization → activation unfused, opset 13), with seeded Kaiming-normal weights and BatchNormalization
/// statistics measured on the way (see <see cref="ZooGraphBuilder"/>). Every model takes float [1, 3, R, R]
/// ImageNet-normalised RGB and returns Softmax probabilities [1, classes].
/// Set <c>EDGE_ZOO_DUMP=dir</c> to have every built model written to <c>dir/&lt;name&gt;-&lt;resolution&gt;.onnx</c>.
/// </summary>
internal static class ModelZoo
{
    private static readonly Dictionary<string, Func<ZooOptions, ZooModel>> Builders = new(StringComparer.Ordinal)
    {
        ["mobilenetv2"] = MobileNets.MobileNetV2,
        ["mobilenetv3-small"] = MobileNets.MobileNetV3Small,
        ["efficientnet-b0"] = EfficientNet.B0,
        ["resnet50"] = ResNet.ResNet50,
        ["vgg11-bn"] = Vgg.Vgg11Bn,
        ["inception"] = Inception.GoogLeNetBlocks,
        ["densenet121"] = DenseNet.DenseNet121,
        ["xception"] = Xception.Build,
    };

    /// <summary>All model names, in a fixed order.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. Builders.Keys];

    /// <summary>Builds a model by name.</summary>
    public static ZooModel Build(string name, int resolution = 224, int classes = 1000, int seed = 1) =>
        Build(name, new ZooOptions(resolution, classes, seed));

    /// <summary>Builds a model by name with all options.</summary>
    public static ZooModel Build(string name, ZooOptions options)
    {
        if (!Builders.TryGetValue(name, out var build))
            throw new ArgumentException($"unknown zoo model '{name}' (known: {string.Join(", ", Names)})", nameof(name));
        var model = build(options);
        var dumpDir = Environment.GetEnvironmentVariable("EDGE_ZOO_DUMP");
        if (!string.IsNullOrEmpty(dumpDir))
        {
            Directory.CreateDirectory(dumpDir);
            // Default options except resolution: "<name>-<resolution>.onnx"; otherwise every option in the name.
            var variant = options with { Resolution = 224 } == new ZooOptions() ? "" : "-" + string.Join("-",
                new[] { options.Width != 1 ? "w" + options.Width.ToString("0.##", System.Globalization.CultureInfo.InvariantCulture) : null, options.Depth != 1 ? "d" + options.Depth.ToString("0.##", System.Globalization.CultureInfo.InvariantCulture) : null,
                        $"c{options.Classes}", $"s{options.Seed}", $"op{options.Opset}", options.CalibrationInputs != null ? $"real{options.CalibrationInputs.Count}" : $"cal{options.CalibrationImages}" }.Where(p => p != null));
            model.Save(Path.Combine(dumpDir, $"{name}-{options.Resolution}{variant}.onnx"));
        }
        return model;
    }

    /// <summary>MobileNet's make_divisible: round to the nearest multiple of <paramref name="divisor"/>, never below 90 %.</summary>
    internal static int MakeDivisible(double value, int divisor = 8)
    {
        int rounded = Math.Max(divisor, (int)(value + divisor / 2.0) / divisor * divisor);
        return rounded < 0.9 * value ? rounded + divisor : rounded;
    }

    /// <summary>Scaled repeat count of a table row (at least 1).</summary>
    internal static int Repeats(int count, ZooOptions o) => Math.Max(1, (int)Math.Ceiling(count * o.Depth - 1e-9));

    internal static int Channels(int channels, ZooOptions o) => MakeDivisible(channels * o.Width);
}
