using Xunit;
using System.Globalization;
using EdgeRuntime.Execution;
using EdgeRuntime.Imaging;
using EdgeRuntime.Tensors;
using EdgeRuntime.Tests.Infrastructure;
using Xunit.Abstractions;

namespace EdgeRuntime.Tests.Models;

/// <summary>
/// SqueezeNet 1.1 with float16 weights and I/O (WinML test model) on fish.png must reproduce the reference output
/// published with it (another runtime's CPU result): top-1 "tench" 0.7378 ± 0.002 and every value within 2e-3.
/// </summary>
public sealed class SqueezeNetFp16Tests(ITestOutputHelper output)
{
    private static readonly int[] InputShape = [1, 3, 224, 224];

    private static Tensor FishInput()
    {
        // The model's documented preprocessing: BGR, 0..255, no mean subtraction, NCHW.
        var options = PreprocessOptions.DefaultsFor(TensorElementType.Float16, InputShape)
            .With(new PreprocessOverrides { Color = ColorOrder.Bgr, Range = PixelRange.Raw });
        return ModelTestSupport.Preprocess(SharedData.Path("images/winml/fish.png"), options, TensorElementType.Float16, InputShape);
    }

    private static float[] ReferenceCsv()
    {
        var lines = File.ReadAllLines(SharedData.Path("models/winml/Squeezenet_fp16_fish_input_CPU.csv")).Skip(1).Where(l => l.Length > 0).ToArray();
        var values = new float[lines.Length];
        foreach (var line in lines)
        {
            var parts = line.Split(',');
            values[int.Parse(parts[0], CultureInfo.InvariantCulture)] = float.Parse(parts[1], CultureInfo.InvariantCulture);
        }
        return values;
    }

    [Theory]
    [InlineData(BackendKind.Native)]
    [InlineData(BackendKind.Ort)]
    public void Fish_reproduces_the_reference_output(BackendKind backend)
    {
        var path = SharedData.Path("models/winml/SqueezeNet_fp16.onnx");
        using var model = EdgeModel.Load(path, new EdgeModelOptions { Backend = backend, Threads = 1 });
        Assert.Equal(backend, model.Backend);
        var result = model.Run(FishInput())[0];
        Assert.Equal(TensorElementType.Float16, result.ElementType);
        var actual = result.ToFloatArray();
        var expected = ReferenceCsv();
        Assert.Equal(expected.Length, actual.Length);

        Assert.Equal(0, ModelTestSupport.ArgMax(actual));
        Assert.InRange(actual[0], 0.7378f - 0.002f, 0.7378f + 0.002f);
        double maxDiff = 0;
        for (int i = 0; i < actual.Length; i++) maxDiff = Math.Max(maxDiff, Math.Abs(actual[i] - expected[i]));
        output.WriteLine($"{backend}: tench {actual[0]:0.000000} (reference {expected[0]}), max |diff| {maxDiff:0.000000}");
        Assert.True(maxDiff <= 2e-3, $"max |diff| {maxDiff} > 2e-3");
    }
}
