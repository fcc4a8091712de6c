using EdgeRuntime.Tests.Infrastructure;
using ModelConverter.Quantization;
using Xunit;
using Xunit.Abstractions;
using static EdgeRuntime.Tests.ModelConverter.QuantizeTestSupport;

namespace EdgeRuntime.Tests.ModelConverter;

/// <summary>
/// A measurement, not a test: trait Category=Measurement is excluded by ./test.sh (timings are never asserted) and run by
/// scripts/evaluate-quantization.sh, which sets QUANTIZE_REPORT_PHOTOS to a folder of photos and copies the printed
/// line into QUANTIZATION.md. Times the calibration of 100 photos on a MobileNetV2 1.0-224 shaped float model.
/// </summary>
public sealed class QuantizeReportTests(ITestOutputHelper output)
{
    [Fact]
    [Trait("Category", "Measurement")]
    public void Calibration_time_for_100_images_MobileNetV2_size()
    {
        var dir = Environment.GetEnvironmentVariable("QUANTIZE_REPORT_PHOTOS");
        Assert.False(string.IsNullOrEmpty(dir), "set QUANTIZE_REPORT_PHOTOS to a folder of photos (scripts/evaluate-quantization.sh does)");
        var photos = CalibrationImages.List(dir!, null);
        var work = TempDir();
        try
        {
            var path = Save(work, "mobilenetv2.onnx", MobileNetV2Builder.Build());
            var images = Enumerable.Range(0, 100).Select(i => photos[i % photos.Length]).ToArray();
            var prep = new EdgeRuntime.Imaging.PreprocessOverrides { Range = new EdgeRuntime.Imaging.PixelRange(-1, 1) };
            foreach (var method in new[] { RangeMethod.MinMax, RangeMethod.Entropy })
            {
                var watch = System.Diagnostics.Stopwatch.StartNew();
                var q = Quantize(path, images, new QuantizeSettings { Method = method }, prep);
                Assert.True(q.QuantizedNodes > 50, $"only {q.QuantizedNodes} nodes quantized");
                output.WriteLine($"MEASURED | MobileNetV2 1.0-224 shaped, {method} | {q.QuantizedNodes} | {q.CalibrationTime.TotalSeconds:F1} | {watch.Elapsed.TotalSeconds:F1} |");
            }
        }
        finally { Directory.Delete(work, true); }
    }
}
