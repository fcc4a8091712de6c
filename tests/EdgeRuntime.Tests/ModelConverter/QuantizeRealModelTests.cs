using EdgeRuntime.Imaging;
using EdgeRuntime.Tests.Infrastructure;
using ModelConverter.Quantization;
using Xunit;
using Xunit.Abstractions;
using static EdgeRuntime.Tests.ModelConverter.QuantizeTestSupport;

namespace EdgeRuntime.Tests.ModelConverter;

/// <summary>modelconv quantize on real trained models: MNIST (CNTK, opset 7) and SqueezeNet 1.1 (float16, opset 7).</summary>
public sealed class QuantizeRealModelTests(ITestOutputHelper output)
{
    public static readonly PreprocessOverrides SqueezeNetPrep = new() { Color = ColorOrder.Bgr, Range = PixelRange.Raw };

    [Fact]
    public void Mnist_quantized_runs_on_OnnxRuntime_and_natively_within_one_LSB()
    {
        var path = SharedData.Path("models/winml/mnist.onnx");
        var photos = SharedData.AllPhotos();
        var prep = new PreprocessOverrides { Range = PixelRange.Raw };
        foreach (var perChannel in new[] { true, false })
        {
            var q = Quantize(path, photos[..8], new QuantizeSettings { PerChannel = perChannel }, prep).Model;
            var g = Read(q);
            Assert.Equal("Input3", g.Inputs[0].Name);
            Assert.Equal("Plus214_Output_0", g.Outputs[0].Name);
            Assert.Contains(g.Nodes, n => n.OpType == "DequantizeLinear" && n.Attributes.ContainsKey("axis") == perChannel);
            float lsb = g.Initializers["Plus214_Output_0_scale"].AsSpan<float>()[0];
            var floatBytes = File.ReadAllBytes(path);
            foreach (var input in Inputs(path, floatBytes, photos[8..], prep))
            {
                var native = RunNative(q, input).AsSpan<float>().ToArray();
                var ort = RunOrt(q, "Input3", input).AsSpan<float>().ToArray();
                for (int i = 0; i < native.Length; i++)
                    Assert.True(Math.Abs(native[i] - ort[i]) <= lsb * 1.0001f, $"class {i}: native {native[i]} ORT {ort[i]} (LSB {lsb}, per-channel {perChannel})");
                // The int8 output cannot order scores closer than its step: the prediction must agree when the float margin is wider.
                var logits = RunOrt(floatBytes, "Input3", input).AsSpan<float>().ToArray();
                var sorted = logits.OrderByDescending(v => v).ToArray();
                if (sorted[0] - sorted[1] > 2 * lsb) Assert.Equal(ArgMax(logits), ArgMax(native));
                else output.WriteLine($"float margin {sorted[0] - sorted[1]} ≤ 2 LSB ({lsb}): int8 class {ArgMax(native)}, float {ArgMax(logits)}");
            }
        }
    }

    [Fact]
    public void SqueezeNet_fp16_int8_agrees_with_float_on_photos()
    {
        var path = SharedData.Path("models/winml/SqueezeNet_fp16.onnx");
        var photos = SharedData.AllPhotos();
        var calibration = photos.Where((_, i) => i % 2 == 0).ToArray();
        var q = Quantize(path, calibration, new QuantizeSettings(), SqueezeNetPrep);
        var g = Read(q.Model);
        Assert.Equal(EdgeRuntime.Tensors.TensorElementType.Float32, g.Inputs[0].ElementType);
        Assert.Contains(g.Nodes, n => n.OpType == "Softmax");
        Assert.DoesNotContain(g.Nodes, n => n.OpType == "Dropout");
        var floatBytes = File.ReadAllBytes(path);
        int agree = 0, lsbOk = 0;
        var inputs = Inputs(path, q.Model, photos, SqueezeNetPrep); // float32 inputs (the float model declares float16)
        string inputName = g.Inputs[0].Name;
        using var floatModel = EdgeRuntime.Execution.EdgeModel.Load(path, new EdgeRuntime.Execution.EdgeModelOptions { Backend = EdgeRuntime.Execution.BackendKind.Native });
        using var native = EdgeRuntime.Execution.EdgeModel.Load(q.Model, "squeezenet int8", new EdgeRuntime.Execution.EdgeModelOptions { Backend = EdgeRuntime.Execution.BackendKind.Native });
        Assert.Empty(native.UnsupportedNodes);
        foreach (var input in inputs)
        {
            var f = floatModel.Run(input)[0].ToFloatArray();
            var n = native.Run(input)[0].ToFloatArray();
            var o = RunOrt(q.Model, inputName, input).ToFloatArray();
            if (ArgMax(f) == ArgMax(n)) agree++;
            if (ArgMax(o) == ArgMax(n)) lsbOk++;
        }
        output.WriteLine($"SqueezeNet int8 (minmax, per-channel, calibrated on {calibration.Length}): top-1 agreement with float {agree}/{inputs.Length}, native vs ORT top-1 {lsbOk}/{inputs.Length}");
        Assert.True(agree >= inputs.Length - 2, $"top-1 agreement {agree}/{inputs.Length}");
        Assert.Equal(inputs.Length, lsbOk);
    }
}
