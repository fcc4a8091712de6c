using EdgeRuntime.Onnx;
using Xunit;
using static EdgeRuntime.Tests.Ops.Float.FloatOpOracle;

namespace EdgeRuntime.Tests.Ops.Float;

/// <summary>Softmax vs ONNX Runtime at opsets 11 (coerce to 2-D) and 13 (single axis), every axis. Tolerance 1e-4 abs+rel.</summary>
public class SoftmaxTests
{
    [Theory]
    [InlineData(7)]
    [InlineData(11)]
    [InlineData(13)]
    public void Every_axis_matches_ort(int opset)
    {
        var random = new Random(opset);
        for (int rank = 1; rank <= 4; rank++)
        {
            var shape = RandomShape(random, rank, 6);
            for (int axis = -rank; axis < rank; axis++)
            {
                int a = axis;
                var data = RandomFloats(random, shape, -20f, 20f);
                Compare("Softmax", opset, [new(data)], $"Softmax opset {opset} {S(shape)} axis {a}", Transcendental,
                    attributes: s => s.Int("axis", a));
            }
            // The legacy default axis 1 is invalid for rank 1 (ORT rejects it too).
            if (opset >= 13 || rank > 1)
                Compare("Softmax", opset, [new(RandomFloats(random, shape, -20f, 20f))], $"Softmax opset {opset} {S(shape)} default axis", Transcendental);
        }
    }

    [Fact]
    public void Large_logits_are_stable()
    {
        var data = EdgeRuntime.Tensors.Tensor.FromFloats([2, 4], [1000f, 999f, -1000f, 0f, -500f, -501f, -499f, -1e30f]);
        Compare("Softmax", 13, [new(data)], "large logits", Transcendental);
        var result = RunNative("Softmax", 13, [new(data)])[0]!.ToArray<float>();
        Assert.All(result, v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void Bad_axis_throws_ModelFormatException()
    {
        var random = new Random(1);
        Assert.Throws<ModelFormatException>(() => RunNative("Softmax", 13, [new(RandomFloats(random, [2, 3]))], attributes: a => a.Int("axis", 2)));
        Assert.Throws<ModelFormatException>(() => RunNative("Softmax", 11, [new(RandomFloats(random, [2, 3]))], attributes: a => a.Int("axis", -3)));
        Assert.Throws<ModelFormatException>(() => RunNative("Softmax", 13, [new(RandomFloats(random, []))]));
    }
}
