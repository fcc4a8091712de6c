using Xunit;
using EdgeRuntime.Execution;
using EdgeRuntime.Imaging;
using EdgeRuntime.Tensors;
using EdgeRuntime.Tests.Infrastructure;
using Xunit.Abstractions;

namespace EdgeRuntime.Tests.Models;

/// <summary>
/// The four int8 Coral MobileNets (converted to ONNX QOperator/QDQ form) on every photo in ../shared/images:
/// the native engine must give the same top-1 as ONNX Runtime and its uint8 output must be within 1 of ONNX
/// Runtime's on at least 99% of the elements.
/// </summary>
public sealed class MobileNetQuantTests(ITestOutputHelper output)
{
    public static TheoryData<string> Models => new()
    {
        "models/converted/mobilenet_v1_0.25_128_quant.onnx",
        "models/converted/mobilenet_v1_0.5_160_quant.onnx",
        "models/converted/mobilenet_v1_0.75_192_quant.onnx",
        "models/converted/mobilenet_v2_1.0_224_quant.onnx",
    };

    [Theory]
    [MemberData(nameof(Models))]
    public void Native_matches_OnnxRuntime_on_every_photo(string relativePath)
    {
        var path = SharedData.Path(relativePath);
        using var native = ModelTestSupport.Native(path);
        using var ort = ModelTestSupport.Ort(path);
        Assert.Equal(BackendKind.Native, native.Backend);
        var input = native.Inputs[0];
        var shape = input.Shape.Select(d => Math.Max(d, 1)).ToArray();
        var options = PreprocessOptions.DefaultsFor(input.ElementType, shape);

        var histogram = new long[256];
        long total = 0;
        int top1Agree = 0, photos = 0;
        var failures = new List<string>();
        foreach (var photo in SharedData.AllPhotos())
        {
            var tensor = ModelTestSupport.Preprocess(photo, options, input.ElementType, shape);
            var a = native.Run(tensor)[0];
            var b = ort.Run(tensor)[0];
            Assert.Equal(TensorElementType.UInt8, a.ElementType);
            var na = a.ToArray<byte>();
            var nb = b.ToArray<byte>();
            Assert.Equal(nb.Length, na.Length);
            for (int i = 0; i < na.Length; i++) histogram[Math.Abs(na[i] - nb[i])]++;
            total += na.Length;
            photos++;
            int ta = ModelTestSupport.ArgMax(Array.ConvertAll(na, x => (float)x));
            int tb = ModelTestSupport.ArgMax(Array.ConvertAll(nb, x => (float)x));
            if (ta == tb || na[ta] == na[tb] || nb[ta] == nb[tb]) top1Agree++; // equal scores are a tie, not a disagreement
            else failures.Add($"{Path.GetFileName(photo)}: native top-1 {ta} ({na[ta]}), ORT top-1 {tb} ({nb[tb]})");
        }

        var within1 = (histogram[0] + histogram[1]) / (double)total;
        output.WriteLine($"{Path.GetFileName(path)}: {photos} photos, |native-ORT| distribution: " +
                         string.Join(", ", histogram.Select((n, d) => (n, d)).Where(x => x.n > 0).Select(x => $"{x.d}: {x.n / (double)total:P3}")) +
                         $"; within 1: {within1:P3}; top-1 agreement {top1Agree}/{photos}");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.True(within1 >= 0.99, $"only {within1:P3} of outputs within 1 LSB of ONNX Runtime");
    }
}
