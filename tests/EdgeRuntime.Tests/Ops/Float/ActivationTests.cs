using EdgeRuntime.Onnx;
using EdgeRuntime.Tensors;
using Xunit;
using static EdgeRuntime.Tests.Ops.Float.FloatOpOracle;

namespace EdgeRuntime.Tests.Ops.Float;

/// <summary>
/// Activations vs ONNX Runtime on random shapes. Tolerance 1e-5 abs+rel for piecewise-linear ops,
/// 1e-4 abs+rel for Sigmoid and Tanh (ORT uses its own exp/tanh approximations).
/// </summary>
public class ActivationTests
{
    private static Tensor Data(Random random, int[] shape)
    {
        var t = RandomFloats(random, shape, -8f, 8f);
        // Include exact breakpoints and large magnitudes.
        var s = t.AsSpan<float>();
        float[] specials = [0f, -0f, 3f, -3f, 6f, 100f, -100f, 1e-8f, -1e-8f, 88.5f, -88.5f];
        for (int i = 0; i < Math.Min(s.Length, specials.Length); i++) s[i * 7 % s.Length] = specials[i];
        return t;
    }

    public static IEnumerable<object[]> SimpleOps() =>
        [["Relu", 13, FloatOpOracle.Tight], ["Relu", 7, FloatOpOracle.Tight], ["Sigmoid", 13, FloatOpOracle.Transcendental],
         ["Tanh", 13, FloatOpOracle.Transcendental], ["Sigmoid", 7, FloatOpOracle.Transcendental], ["HardSwish", 14, FloatOpOracle.Tight]];

    [Theory]
    [MemberData(nameof(SimpleOps))]
    public void Parameterless_activations_match_ort(string op, int opset, double tolerance)
    {
        var random = new Random(op.Length * 100 + opset);
        for (int c = 0; c < 6; c++)
        {
            var shape = RandomShape(random, random.Next(0, 5), 7);
            Compare(op, opset, [new(Data(random, shape))], $"{op} opset {opset} {S(shape)}", tolerance);
        }
    }

    [Fact]
    public void LeakyRelu_matches_ort_with_default_and_random_alpha()
    {
        var random = new Random(11);
        Compare("LeakyRelu", 13, [new(Data(random, [2, 3, 5, 5]))], "LeakyRelu default alpha");
        for (int c = 0; c < 4; c++)
        {
            float alpha = (float)random.NextDouble() * 2f - 0.5f;
            var shape = RandomShape(random, random.Next(1, 5));
            Compare("LeakyRelu", c % 2 == 0 ? 6 + 1 : 16, [new(Data(random, shape))], $"LeakyRelu alpha {alpha} {S(shape)}",
                attributes: a => a.Float("alpha", alpha));
        }
    }

    [Fact]
    public void HardSigmoid_matches_ort_with_default_and_random_parameters()
    {
        var random = new Random(12);
        Compare("HardSigmoid", 13, [new(Data(random, [3, 7, 5]))], "HardSigmoid defaults");
        for (int c = 0; c < 4; c++)
        {
            float alpha = (float)random.NextDouble(), beta = (float)random.NextDouble();
            var shape = RandomShape(random, random.Next(1, 5));
            Compare("HardSigmoid", c % 2 == 0 ? 7 : 13, [new(Data(random, shape))], $"HardSigmoid alpha {alpha} beta {beta} {S(shape)}",
                attributes: a => a.Float("alpha", alpha).Float("beta", beta));
        }
    }

    [Theory]
    [InlineData(7)]
    [InlineData(9)]
    public void Clip_with_attributes_matches_ort(int opset)
    {
        var random = new Random(opset);
        var shape = new[] { 2, 3, 4, 5 };
        Compare("Clip", opset, [new(Data(random, shape))], "Clip relu6 attrs", attributes: a => a.Float("min", 0f).Float("max", 6f));
        Compare("Clip", opset, [new(Data(random, shape))], "Clip min only", attributes: a => a.Float("min", -1.5f));
        Compare("Clip", opset, [new(Data(random, shape))], "Clip max only", attributes: a => a.Float("max", 2.5f));
        Compare("Clip", opset, [new(Data(random, shape))], "Clip no bounds");
    }

    [Theory]
    [InlineData(11)]
    [InlineData(13)]
    public void Clip_with_constant_inputs_matches_ort(int opset)
    {
        var random = new Random(opset);
        var shape = new[] { 1, 5, 3, 3 };
        var zero = Tensor.FromFloats([], [0f]);
        var six = Tensor.FromFloats([], [6f]);
        Compare("Clip", opset, [new(Data(random, shape)), new(zero, true), new(six, true)], "Clip relu6 inputs");
        Compare("Clip", opset, [new(Data(random, shape)), new(Tensor.FromFloats([], [-2f]), true)], "Clip min input only");
        Compare("Clip", opset, [new(Data(random, shape)), null, new(Tensor.FromFloats([], [1.25f]), true)], "Clip max input only");
        Compare("Clip", opset, [new(Data(random, shape))], "Clip no bounds");
    }

    [Fact]
    public void Clip_runtime_bound_and_non_float_input_throw_ModelFormatException()
    {
        var random = new Random(3);
        Assert.Throws<ModelFormatException>(() => RunNative("Clip", 13,
            [new(RandomFloats(random, [4])), new(Tensor.FromFloats([], [0f]), Constant: false)]));
        Assert.Throws<ModelFormatException>(() => RunNative("Relu", 13, [new(Int64s(1, -2))]));
        Assert.Throws<ModelFormatException>(() => RunNative("LeakyRelu", 13, [new(RandomFloats(random, [4]))], attributes: a => a.Int("alpha", 1)));
    }
}
