using System.Diagnostics;
using EdgeRuntime.Execution;
using EdgeRuntime.Imaging;
using EdgeRuntime.Tensors;
using EdgeRuntime.Tests.Infrastructure;
using EdgeRuntime.Tests.Infrastructure.ModelZoo;
using Xunit;
using Xunit.Abstractions;

namespace EdgeRuntime.Tests.Models;

/// <summary>
/// The generated model zoo in float: every architecture loads on the native backend, matches ONNX Runtime on a real
/// photo (logits max |diff| ≤ 1e-4·max|logits|, probabilities max |diff| ≤ 1e-5, same top-1), has realistic
/// activation ranges, and is byte-for-byte reproducible from its seed.
/// </summary>
public sealed class ModelZooFloatTests(ITestOutputHelper output)
{
    /// <summary>Per model: resolution, width and depth multipliers that keep the suite fast on 2 cores.</summary>
    public static TheoryData<string, int, double, double> TestConfigurations => new()
    {
        { "mobilenetv2", 128, 1.0, 1.0 },
        { "mobilenetv3-small", 128, 1.0, 1.0 },
        { "efficientnet-b0", 96, 1.0, 1.0 },
        { "resnet50", 80, 0.5, 0.34 },
        { "vgg11-bn", 64, 0.25, 1.0 },
        { "inception", 64, 1.0, 1.0 },
        { "densenet121", 64, 1.0, 0.25 },
        { "xception", 96, 0.5, 0.25 },
    };

    [Theory]
    [MemberData(nameof(TestConfigurations))]
    public void Zoo_model_runs_natively_and_matches_OnnxRuntime(string name, int resolution, double width, double depth)
    {
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var model = ModelZoo.Build(name, new ZooOptions(resolution, Classes: 1000, Seed: 7, Width: width, Depth: depth));
        var buildTime = Process.GetCurrentProcess().TotalProcessorTime - cpu;
        CompareWithOnnxRuntime(model, PhotoFor(name, resolution), buildTime);
    }

    [Fact]
    public void MobileNetV2_at_224_matches_OnnxRuntime()
    {
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var model = ModelZoo.Build("mobilenetv2");
        var buildTime = Process.GetCurrentProcess().TotalProcessorTime - cpu;
        Assert.InRange(model.ParameterCount, 3_400_000, 3_600_000); // torchvision mobilenet_v2: 3,504,872
        Assert.InRange(model.Macs, 290_000_000, 320_000_000);       // ~300M multiply-adds
        CompareWithOnnxRuntime(model, PhotoFor("mobilenetv2", 224), buildTime);
    }

    [Fact]
    public void MobileNetV3_Small_with_the_HardSwish_op_at_opset_14_matches_OnnxRuntime()
    {
        var model = ModelZoo.Build("mobilenetv3-small", new ZooOptions(96, Classes: 100, Seed: 3, Opset: 14));
        Assert.True(model.OpCounts.ContainsKey("HardSwish"));
        CompareWithOnnxRuntime(model, PhotoFor("mobilenetv3-small", 96), TimeSpan.Zero);
    }

    [Fact]
    public void Full_size_models_have_the_published_parameter_counts_and_MACs()
    {
        // Counts do not depend on the statistics: build at 32 px with one calibration image to stay fast. Every
        // architecture halves exactly 5 times, so Conv MACs at 224 are 49× those at 32 (Gemm MACs are fixed).
        var published = new Dictionary<string, (long Parameters, double GigaMacs)>
        {
            ["mobilenetv2"] = (3_504_872, 0.30), ["mobilenetv3-small"] = (2_542_856, 0.057), ["efficientnet-b0"] = (5_288_548, 0.39),
            ["resnet50"] = (25_557_032, 4.1),
        };
        foreach (var name in ModelZoo.Names)
        {
            var model = ModelZoo.Build(name, new ZooOptions(32, CalibrationImages: 1));
            long macs224 = model.ConvMacs * 49 + (model.Macs - model.ConvMacs);
            output.WriteLine($"{name}: {model.ParameterCount:N0} parameters, {macs224 / 1e9:0.000} GMACs at 224, {model.NodeCount} nodes");
            if (!published.TryGetValue(name, out var expected)) continue;
            // BN running statistics count as parameters here (torchvision counts only gamma/beta): up to 3 % more.
            Assert.InRange(model.ParameterCount, expected.Parameters, (long)(expected.Parameters * 1.03));
            Assert.InRange(macs224 / 1e9, expected.GigaMacs * 0.95, expected.GigaMacs * 1.06);
        }
    }

    [Fact]
    public void Same_seed_gives_identical_bytes_and_another_seed_different_weights()
    {
        var options = new ZooOptions(64, Classes: 10, Seed: 42);
        foreach (var name in new[] { "mobilenetv3-small", "efficientnet-b0", "densenet121" })
        {
            var o = name == "densenet121" ? options with { Depth = 0.25 } : options;
            var first = ModelZoo.Build(name, o).Bytes;
            var second = ModelZoo.Build(name, o).Bytes;
            Assert.True(first.AsSpan().SequenceEqual(second), $"{name}: two builds with seed 42 differ");
            var other = ModelZoo.Build(name, o with { Seed = 43 }).Bytes;
            Assert.Equal(first.Length, other.Length);
            Assert.False(first.AsSpan().SequenceEqual(other), $"{name}: seeds 42 and 43 gave the same model");
        }
    }

    [Fact]
    public void Calibrated_on_real_photos_the_model_stays_in_trained_like_ranges_on_held_out_photos()
    {
        // Statistics from the even-numbered photos, evaluation on the odd-numbered ones (as the quantizer's targets split them).
        const int resolution = 96;
        int[] shape = [1, 3, resolution, resolution];
        var options = PreprocessOptions.DefaultsFor(TensorElementType.Float32, shape);
        var photos = SharedData.AllPhotos();
        var tensors = photos.Select(p => ModelTestSupport.Preprocess(p, options, TensorElementType.Float32, shape)).ToArray();
        var calibration = tensors.Where((_, i) => i % 2 == 0).ToArray();
        var model = ModelZoo.Build("efficientnet-b0", new ZooOptions(resolution, Seed: 5, CalibrationInputs: calibration));
        Assert.True(model.Bytes.AsSpan().SequenceEqual(ModelZoo.Build("efficientnet-b0", new ZooOptions(resolution, Seed: 5, CalibrationInputs: calibration)).Bytes));
        var bytes = model.WithExtraOutputs(model.LogitsName);
        using var native = EdgeModel.Load(bytes, model.Name, new EdgeModelOptions { Backend = BackendKind.Native, Threads = 1 });
        var maxLogits = new List<float>();
        for (int i = 1; i < tensors.Length; i += 2)
        {
            var ort = OrtRunner.Run(bytes, new Dictionary<string, Tensor> { [model.InputName] = tensors[i] })[model.LogitsName].ToFloatArray();
            var mine = native.Run(tensors[i])[1].ToFloatArray();
            float maxLogit = ort.Max(MathF.Abs);
            Assert.True(MaxAbsDiff(mine, ort) <= 1e-4f * maxLogit, $"{photos[i]}: native logits differ from ORT");
            maxLogits.Add(maxLogit);
        }
        maxLogits.Sort();
        output.WriteLine($"held-out photos: max |logit| min {maxLogits[0]:0.0}, median {maxLogits[maxLogits.Count / 2]:0.0}, max {maxLogits[^1]:0.0}");
        Assert.InRange(maxLogits[maxLogits.Count / 2], 2f, 60f);
        Assert.InRange(maxLogits[^1], 2f, 200f);
    }

    [Fact]
    public void Unknown_model_name_is_rejected_with_the_known_names()
    {
        var e = Assert.Throws<ArgumentException>(() => ModelZoo.Build("alexnet"));
        Assert.Contains("mobilenetv2", e.Message);
        Assert.Equal(8, ModelZoo.Names.Count);
    }

    private void CompareWithOnnxRuntime(ZooModel model, string photo, TimeSpan buildTime)
    {
        output.WriteLine(model.ToString());
        output.WriteLine("ops: " + string.Join(", ", model.OpCounts.Select(kv => $"{kv.Key}×{kv.Value}")));
        var bytes = model.WithExtraOutputs(model.LogitsName, model.LastFeatureName);
        int[] shape = [1, 3, model.Resolution, model.Resolution];
        var input = ModelTestSupport.Preprocess(photo, PreprocessOptions.DefaultsFor(TensorElementType.Float32, shape), TensorElementType.Float32, shape);

        var watch = Stopwatch.StartNew();
        using var native = EdgeModel.Load(bytes, model.Name, new EdgeModelOptions { Backend = BackendKind.Native, Threads = 1 });
        Assert.Equal(BackendKind.Native, native.Backend);
        var nativeOutputs = native.Run(input).Select(t => t.ToFloatArray()).ToArray();
        var nativeTime = watch.Elapsed;
        watch.Restart();
        var ortOutputs = OrtRunner.Run(bytes, new Dictionary<string, Tensor> { [model.InputName] = input });
        var ortTime = watch.Elapsed;
        float[] probabilities = ortOutputs[model.OutputName].ToFloatArray(), logits = ortOutputs[model.LogitsName].ToFloatArray(), features = ortOutputs[model.LastFeatureName].ToFloatArray();

        float maxLogit = logits.Max(MathF.Abs);
        float logitDiff = MaxAbsDiff(nativeOutputs[1], logits);
        float probabilityDiff = MaxAbsDiff(nativeOutputs[0], probabilities);
        float featureDiff = MaxAbsDiff(nativeOutputs[2], features);
        float featureMax = features.Max(MathF.Abs);
        float calibrationMax = model.CalibrationMaxAbs.Values.Max();
        output.WriteLine($"{Path.GetFileName(photo)}: logits [{logits.Min():0.00}, {logits.Max():0.00}], top-1 p = {probabilities.Max():0.0000}; " +
                         $"last features max {featureMax:0.00} (mean {features.Average():0.000}); max |activation| on calibration {calibrationMax:0.0}");
        output.WriteLine($"native vs ORT: logits max |diff| {logitDiff:E2} ({logitDiff / maxLogit:E2} relative), probabilities {probabilityDiff:E2}, features {featureDiff:E2}");
        output.WriteLine($"time: build {buildTime.TotalSeconds:0.00}s CPU (process), native load+run {nativeTime.TotalSeconds:0.00}s, ORT {ortTime.TotalSeconds:0.00}s");

        // Softmax: |Δp_i| ≤ p_i·(|Δz_i| + Σ_j p_j·|Δz_j|) ≤ 2·max|Δz|, so the probability bound follows from the logit bound.
        float logitTolerance = 1e-4f * maxLogit;
        Assert.True(logitDiff <= logitTolerance, $"{model.Name}: logits differ by {logitDiff} (max |logit| {maxLogit})");
        Assert.True(probabilityDiff <= 2 * logitTolerance, $"{model.Name}: probabilities differ by {probabilityDiff}");
        Assert.True(featureDiff <= 1e-4f * featureMax, $"{model.Name}: last feature map differs by {featureDiff} (max {featureMax})");
        Assert.Equal(ModelTestSupport.ArgMax(probabilities), ModelTestSupport.ArgMax(nativeOutputs[0]));

        // The builder's eager pass (which measured the BN statistics) agrees with ONNX Runtime: the statistics are those of the model as written.
        var ortCalibration = OrtRunner.Run(bytes, new Dictionary<string, Tensor> { [model.InputName] = model.CalibrationInput })[model.LogitsName].ToFloatArray();
        float eagerDiff = MaxAbsDiff(model.CalibrationLogits, ortCalibration);
        output.WriteLine($"builder eager vs ORT on the calibration image: logits max |diff| {eagerDiff:E2}");
        Assert.True(eagerDiff <= 1e-4f * ortCalibration.Max(MathF.Abs), $"{model.Name}: builder's eager logits differ from ORT by {eagerDiff}");

        // Realistic ranges on a real photo: logits of a few to a few hundred units (calibrated to std 3 on the synthetic
        // images; real photos lie outside that distribution), last activations neither vanished nor exploded.
        Assert.InRange(maxLogit, 1f, 500f);
        Assert.InRange(featureMax, 1e-2f, 1e3f);
        Assert.InRange(calibrationMax, 1f, 1e3f);
    }

    private static string PhotoFor(string name, int resolution)
    {
        var photos = SharedData.AllPhotos();
        return photos[(ModelZoo.Names.ToList().IndexOf(name) * 3 + resolution) % photos.Length];
    }

    private static float MaxAbsDiff(float[] a, float[] b)
    {
        Assert.Equal(b.Length, a.Length);
        float max = 0;
        for (int i = 0; i < a.Length; i++) max = MathF.Max(max, MathF.Abs(a[i] - b[i]));
        return max;
    }
}
