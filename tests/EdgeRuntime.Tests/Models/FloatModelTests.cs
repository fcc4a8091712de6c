using Xunit;
using EdgeRuntime.Execution;
using EdgeRuntime.Imaging;
using EdgeRuntime.Tensors;
using EdgeRuntime.Tests.Infrastructure;
using Xunit.Abstractions;

namespace EdgeRuntime.Tests.Models;

/// <summary>Float models, native against ONNX Runtime on real photos: cosine similarity of the outputs ≥ 0.9999.</summary>
public sealed class FloatModelTests(ITestOutputHelper output)
{
    [Fact]
    public void Mnist_native_matches_OnnxRuntime()
    {
        var path = SharedData.Path("models/winml/mnist.onnx");
        using var native = ModelTestSupport.Native(path);
        using var ort = ModelTestSupport.Ort(path);
        Assert.Equal(BackendKind.Native, native.Backend);
        int[] shape = [1, 1, 28, 28];
        // The model takes gray 0..255; photos downscaled to 28x28 are real, if unusual, digits-shaped inputs.
        var options = PreprocessOptions.DefaultsFor(TensorElementType.Float32, shape).With(new PreprocessOverrides { Range = PixelRange.Raw });
        foreach (var photo in SharedData.AllPhotos())
        {
            var t = ModelTestSupport.Preprocess(photo, options, TensorElementType.Float32, shape);
            var a = native.Run(t)[0].ToFloatArray();
            var b = ort.Run(t)[0].ToFloatArray();
            var cos = ModelTestSupport.Cosine(a, b);
            output.WriteLine($"{Path.GetFileName(photo)}: cosine {cos:0.0000000}, argmax {ModelTestSupport.ArgMax(a)}/{ModelTestSupport.ArgMax(b)}");
            Assert.True(cos >= 0.9999, $"{photo}: cosine {cos}");
            Assert.Equal(ModelTestSupport.ArgMax(b), ModelTestSupport.ArgMax(a));
        }
    }

    [Fact]
    public void ResNet18_backbone_native_matches_OnnxRuntime()
    {
        var path = SharedData.ResNet18Model();
        using var native = ModelTestSupport.Native(path);
        using var ort = ModelTestSupport.Ort(path);
        Assert.Equal(BackendKind.Native, native.Backend);
        var input = native.Inputs[0];
        var shape = input.Shape.Select(d => Math.Max(d, 1)).ToArray();
        var options = PreprocessOptions.DefaultsFor(TensorElementType.Float32, shape);
        foreach (var photo in SharedData.AllPhotos().Where((_, i) => i % 5 == 0))
        {
            var t = ModelTestSupport.Preprocess(photo, options, TensorElementType.Float32, shape);
            var a = native.Run(t)[0].ToFloatArray();
            var b = ort.Run(t)[0].ToFloatArray();
            Assert.Equal(512, a.Length);
            var cos = ModelTestSupport.Cosine(a, b);
            output.WriteLine($"{Path.GetFileName(photo)}: cosine {cos:0.0000000}");
            Assert.True(cos >= 0.9999, $"{photo}: cosine {cos}");
        }
    }
}
