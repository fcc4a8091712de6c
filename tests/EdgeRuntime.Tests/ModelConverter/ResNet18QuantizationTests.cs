using System.Diagnostics;
using EdgeRuntime.Execution;
using EdgeRuntime.Tests.Infrastructure;
using ModelConverter.Quantization;
using Xunit;
using Xunit.Abstractions;
using static EdgeRuntime.Tests.ModelConverter.ZooQuantizationSupport;

namespace EdgeRuntime.Tests.ModelConverter;

/// <summary>
/// Issue target: the NuGet ResNet18 backbone (Microsoft.ML.DnnImageFeaturizer.ResNet18, float, 224 px, 512 features)
/// quantized per-channel QDQ int8, calibrated on the even-numbered real photos, keeps median cosine(float features,
/// int8 features) ≥ 0.99 on the odd-numbered photos; the int8 model runs natively with every node native and within
/// 1 LSB of ONNX Runtime's integer execution (measured: bit-exact).
/// </summary>
public sealed class ResNet18QuantizationTests(ITestOutputHelper output)
{
    [Fact]
    public void ResNet18_backbone_int8_features_keep_median_cosine_above_0_99_on_held_out_photos()
    {
        var path = SharedData.ResNet18Model();
        var floatBytes = File.ReadAllBytes(path);
        var watch = Stopwatch.StartNew();
        var result = QuantizeTestSupport.Quantize(path, CalibrationPhotos, new QuantizeSettings());
        var quantizeTime = watch.Elapsed;
        foreach (var w in result.Warnings) output.WriteLine($"quantizer warning: {w}");
        output.WriteLine($"quantized nodes {result.QuantizedNodes}, float nodes {result.FloatNodes}, calibration on {CalibrationPhotos.Length} photos {result.CalibrationTime.TotalSeconds:0.0}s, total {quantizeTime.TotalSeconds:0.0}s");

        watch.Restart();
        using (var auto = EdgeModel.Load(result.Model, "resnet18 int8", new EdgeModelOptions { Backend = BackendKind.Auto, Threads = 1 }))
            Assert.True(auto.UnsupportedNodes.Count == 0, $"ResNet18 int8: no native kernel for {GraphPlanner.DescribeUnsupported(auto.UnsupportedNodes)}");
        using var native = EdgeModel.Load(result.Model, "resnet18 int8", new EdgeModelOptions { Backend = BackendKind.Native, Threads = 1 });
        using var ortFloat = new OrtSession(floatBytes);
        using var ortInt8 = new OrtSession(result.Model, OrtMode.Integer);
        string inputName = native.Inputs[0].Name, outputName = native.Outputs[0].Name;
        var graph = QuantizeTestSupport.Read(result.Model);
        float? lsb = graph.Initializers.TryGetValue(outputName + "_scale", out var scale) ? scale.AsSpan<float>()[0] : null;

        var inputs = EvaluationInputs(path, floatBytes, mirrored: false); // 224 px, 1.8 GMACs: the 7 photos themselves keep the test near 30 s
        var cosines = new List<double>();
        double maxLsb = 0;
        for (int i = 0; i < inputs.Length; i++)
        {
            string what = Path.GetFileName(EvaluationPhotos[i]);
            var floatFeatures = ortFloat.Run(inputName, inputs[i])[outputName];
            var nativeFeatures = native.Run(inputs[i])[0].ToFloatArray();
            var ortFeatures = ortInt8.Run(inputName, inputs[i])[outputName];
            Assert.Equal(512, nativeFeatures.Length);
            if (lsb is { } l)
                for (int k = 0; k < nativeFeatures.Length; k++)
                {
                    double d = Math.Abs(nativeFeatures[k] - ortFeatures[k]) / l;
                    maxLsb = Math.Max(maxLsb, d);
                    Assert.True(d <= 1.0001, $"{what}: feature {k} native {nativeFeatures[k]} ORT {ortFeatures[k]} = {d:0.00} LSB (LSB {l})");
                }
            double cosine = Models.ModelTestSupport.Cosine(floatFeatures, nativeFeatures);
            output.WriteLine($"{what}: cosine(float, int8) {cosine:0.00000}");
            cosines.Add(cosine);
        }
        cosines.Sort();
        double median = cosines.Count % 2 == 1 ? cosines[cosines.Count / 2] : (cosines[cosines.Count / 2 - 1] + cosines[cosines.Count / 2]) / 2;
        output.WriteLine($"ResNet18 int8 (QDQ, per-channel, MinMax): cosine over {cosines.Count} held-out inputs median {median:0.0000}, min {cosines[0]:0.0000}; " +
                         $"native vs ORT max {(lsb is null ? "n/a (float output)" : $"{maxLsb:0.##} LSB of {lsb}")}; evaluation {watch.Elapsed.TotalSeconds:0.0}s");
        Assert.True(median >= 0.99, $"median cosine {median:0.0000} < 0.99 (min {cosines[0]:0.0000})");
    }
}
