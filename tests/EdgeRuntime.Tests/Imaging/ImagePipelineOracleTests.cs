using EdgeRuntime.Imaging;
using EdgeRuntime.Tensors;
using EdgeRuntime.Tests.Infrastructure;
using Microsoft.ML.OnnxRuntime;
using Xunit;

namespace EdgeRuntime.Tests.Imaging;

/// <summary>
/// The whole image path (loader, defaults/sidecar, preprocessor, labels) feeding real models on ONNX
/// Runtime: the classifications must come out right, which checks layout, channel order and value range.
/// </summary>
public class ImagePipelineOracleTests
{
    private static (string Name, TensorElementType Type, int[] Shape) FirstInput(string modelPath)
    {
        using var session = new InferenceSession(modelPath);
        var (name, meta) = session.InputMetadata.First();
        var type = meta.ElementDataType switch
        {
            Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Float => TensorElementType.Float32,
            Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Float16 => TensorElementType.Float16,
            Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.UInt8 => TensorElementType.UInt8,
            Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Int8 => TensorElementType.Int8,
            var other => throw new NotSupportedException(other.ToString()),
        };
        return (name, type, meta.Dimensions);
    }

    [Fact]
    public void SqueezeNetFp16OnFishMatchesTheReferenceOutput()
    {
        var model = SharedData.Path("models/winml/SqueezeNet_fp16.onnx");
        var (name, type, shape) = FirstInput(model);
        Assert.Equal(TensorElementType.Float16, type);
        // This model wants BGR 0..255 without normalisation (what a sidecar would say).
        var options = PreprocessOptions.DefaultsFor(type, shape).With(Sidecar.Parse("""{"color": "BGR", "range": [0, 255]}""", "squeezenet.edge.json").Overrides);
        using var image = ImageLoader.Default.Load(SharedData.Path("images/winml/fish.png"));
        var input = new ImagePreprocessor(options, type, shape).Preprocess(image);

        // Run directly with explicit float16 bit copies: OrtTensorConversion's float16 paths are not used here
        // (its (Float16)ushort cast converts the bit pattern as a number, and reading a ushort span is refused).
        var halvesIn = input.ToArray<Half>();
        var ortHalves = Array.ConvertAll(halvesIn, h => new Float16(BitConverter.HalfToUInt16Bits(h)));
        float[] output;
        using (var session = new InferenceSession(model))
        using (var ortInput = OrtValue.CreateTensorValueFromMemory(ortHalves, Array.ConvertAll(shape, d => (long)d)))
        using (var runOptions = new RunOptions())
        using (var results = session.Run(runOptions, new Dictionary<string, OrtValue> { [name] = ortInput }, session.OutputNames))
        {
            var halves = results[0].GetTensorDataAsSpan<Float16>();
            output = new float[halves.Length];
            for (int i = 0; i < halves.Length; i++) output[i] = (float)BitConverter.UInt16BitsToHalf(halves[i].value);
        }
        var reference = File.ReadLines(SharedData.Path("models/winml/Squeezenet_fp16_fish_input_CPU.csv")).Skip(1)
            .Select(l => float.Parse(l.Split(',')[1], System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(reference.Length, output.Length);
        Assert.Equal(0, Array.IndexOf(output, output.Max())); // tench
        for (int i = 0; i < output.Length; i++)
            Assert.True(Math.Abs(output[i] - reference[i]) <= 0.002f, $"class {i}: {output[i]} vs reference {reference[i]}");
    }

    [Theory]
    [InlineData("images/coral/grace_hopper.bmp", "military uniform")]
    [InlineData("images/coral/parrot.jpg", "macaw")]
    [InlineData("images/coral/cat.bmp", "Egyptian cat")]
    [InlineData("images/winml/fish.png", "tench, Tinca tinca")]
    public void CoralMobileNetV2ClassifiesRealPhotos(string photo, string expectedLabel)
    {
        var model = SharedData.Path("models/converted/mobilenet_v2_1.0_224_quant.onnx");
        var (name, type, shape) = FirstInput(model);
        var options = PreprocessOptions.DefaultsFor(type, shape);
        Assert.Equal(TensorLayout.Nhwc, options.Layout);
        var labels = Labels.Load(SharedData.Path("models/coral/imagenet_labels.txt"));
        using var image = ImageLoader.Default.Load(SharedData.Path(photo));
        var input = new ImagePreprocessor(options, type, shape).Preprocess(image);

        var scores = OrtRunner.Run(model, new Dictionary<string, Tensor> { [name] = input }).Values.Single().ToFloatArray();
        var top5 = scores.Select((s, i) => (s, i)).OrderByDescending(p => p.s).Take(5).Select(p => Labels.Name(labels, p.i, options.LabelOffset)).ToArray();
        Assert.True(top5.Contains(expectedLabel), $"{photo}: expected '{expectedLabel}' in the top 5, got {string.Join(" | ", top5)}");
    }
}
