using EdgeRuntime.Execution;
using EdgeRuntime.Tests.Infrastructure;
using ModelConverter.Quantization;
using Xunit;
using Xunit.Abstractions;
using static EdgeRuntime.Tests.ModelConverter.QuantizeTestSupport;

namespace EdgeRuntime.Tests.ModelConverter;

/// <summary>
/// Measurements for the README (opt-in, slow): set QUANTIZE_REPORT_PHOTOS to a folder of photos. SqueezeNet is calibrated
/// on the even-numbered photos and evaluated on the odd-numbered ones for every range method and weight granularity;
/// then calibration of 100 photos is timed on a MobileNetV2 1.0-224 shaped model.
/// </summary>
public sealed class QuantizeReportTests(ITestOutputHelper output)
{
    private static string[]? Photos()
    {
        var dir = Environment.GetEnvironmentVariable("QUANTIZE_REPORT_PHOTOS");
        return string.IsNullOrEmpty(dir) ? null : CalibrationImages.List(dir, null);
    }

    [Fact]
    public void SqueezeNet_agreement_table()
    {
        var photos = Photos();
        if (photos == null) { output.WriteLine("QUANTIZE_REPORT_PHOTOS not set: skipped"); return; }
        var path = SharedData.Path("models/winml/SqueezeNet_fp16.onnx");
        var calibration = photos.Where((_, i) => i % 2 == 0).ToArray();
        var evaluation = photos.Where((_, i) => i % 2 == 1).ToArray();
        using var floatModel = EdgeModel.Load(path, new EdgeModelOptions { Backend = BackendKind.Native });
        var prep = QuantizeRealModelTests.SqueezeNetPrep;
        output.WriteLine($"SqueezeNet 1.1: calibrated on {calibration.Length} photos, top-1 agreement with float on the other {evaluation.Length}");
        output.WriteLine("| method | per-channel | per-tensor |");
        output.WriteLine("|---|---|---|");
        Tensors.Tensor[]? inputs = null;
        int[]? floatTop = null;
        foreach (var method in new[] { RangeMethod.MinMax, RangeMethod.Percentile, RangeMethod.Entropy })
        {
            var cells = new List<string>();
            foreach (var perChannel in new[] { true, false })
            {
                var q = Quantize(path, calibration, new QuantizeSettings { Method = method, PerChannel = perChannel }, prep);
                inputs ??= Inputs(path, q.Model, evaluation, prep);
                floatTop ??= inputs.Select(i => ArgMax(floatModel.Run(i)[0].ToFloatArray())).ToArray();
                using var native = EdgeModel.Load(q.Model, "int8", new EdgeModelOptions { Backend = BackendKind.Native });
                int agree = inputs.Select((input, k) => ArgMax(native.Run(input)[0].ToFloatArray()) == floatTop[k] ? 1 : 0).Sum();
                cells.Add($"{agree}/{inputs.Length} ({100.0 * agree / inputs.Length:F1}%)");
            }
            output.WriteLine($"| {method} | {cells[0]} | {cells[1]} |");
        }
    }

    [Fact]
    public void Calibration_time_for_100_images_MobileNetV2_size()
    {
        var photos = Photos();
        if (photos == null) { output.WriteLine("QUANTIZE_REPORT_PHOTOS not set: skipped"); return; }
        var dir = TempDir();
        try
        {
            var path = Save(dir, "mobilenetv2.onnx", MobileNetV2Builder.Build());
            if (Environment.GetEnvironmentVariable("QUANTIZE_REPORT_SAVE") is { Length: > 0 } save) File.Copy(path, save, overwrite: true);
            var images = Enumerable.Range(0, 100).Select(i => photos[i % photos.Length]).ToArray();
            var prep = new EdgeRuntime.Imaging.PreprocessOverrides { Range = new EdgeRuntime.Imaging.PixelRange(-1, 1) };
            foreach (var method in Environment.GetEnvironmentVariable("QUANTIZE_REPORT_SAVE") is { Length: > 0 } ? [] : new[] { RangeMethod.MinMax, RangeMethod.Entropy })
            {
                var watch = System.Diagnostics.Stopwatch.StartNew();
                var q = Quantize(path, images, new QuantizeSettings { Method = method }, prep);
                output.WriteLine($"MobileNetV2-shaped, {method}: calibration of 100 images {q.CalibrationTime.TotalSeconds:F1} s, whole quantize {watch.Elapsed.TotalSeconds:F1} s, {q.QuantizedNodes} quantized nodes");
            }
        }
        finally { Directory.Delete(dir, true); }
    }
}
