using EdgeRuntime.Onnx;
using EdgeRuntime.Tensors;
using EdgeRuntime.Tests.Infrastructure;
using Xunit;
using static EdgeRuntime.Tests.Ops.Float.ConvFamilyOracle;

namespace EdgeRuntime.Tests.Ops.Float;

/// <summary>Inference BatchNormalization against ONNX Runtime. Tolerance |ours - ort| &lt;= 1e-4 + 1e-4*|ort|.</summary>
public sealed class BatchNormTests
{
    private static List<OracleCase> Cases(int seed, bool spatialAttribute)
    {
        var rng = new Random(seed);
        var cases = new List<OracleCase>();
        foreach (var shape in new[] { new[] { 3, 5 }, [2, 4, 9], [1, 3, 7, 11], [2, 16, 5, 5], [1, 2, 3, 4, 5], [1, 33, 1, 1] })
        {
            int c = shape[1];
            var variance = RandomFloats(rng, c);
            var v = variance.AsSpan<float>();
            for (int i = 0; i < c; i++) v[i] = Math.Abs(v[i]) + 0.1f;
            var oc = new OracleCase
            {
                OpType = "BatchNormalization",
                Description = $"x={TensorShape.Format(shape)}",
                Inputs = [RandomFloats(rng, shape), RandomFloats(rng, c), RandomFloats(rng, c), RandomFloats(rng, c), variance],
                ConstantInputs = [1, 2, 3, 4],
            }.With("epsilon", (float)(rng.NextDouble() * 1e-2));
            if (spatialAttribute) oc.With("spatial", 1L);
            cases.Add(oc);
        }
        return cases;
    }

    [Theory]
    [InlineData(7)]
    [InlineData(9)]
    [InlineData(15)]
    public void MatchesOnnxRuntime(int opset) => AssertAllMatch(opset, Cases(seed: opset, spatialAttribute: opset < 9));

    [Fact]
    public void TrainingOutputsSpatialZeroAndBadParametersAreRejected()
    {
        var f = TensorElementType.Float32;
        Tensor?[] Inputs(int c) => [new Tensor(f, [1, 3, 4, 4]), new Tensor(f, [c]), new Tensor(f, [c]), new Tensor(f, [c]), new Tensor(f, [c])];
        var training = OpHarness.MakeNode("BatchNormalization", 5, 3);
        Assert.Contains("training", Assert.Throws<ModelFormatException>(() => OpHarness.Run(training, Inputs(3), [1, 2, 3, 4], 9)).Message);
        var trainingMode = OpHarness.MakeNode("BatchNormalization", 5, 1, "", OpHarness.Int("training_mode", 1));
        Assert.Contains("training_mode", Assert.Throws<ModelFormatException>(() => OpHarness.Run(trainingMode, Inputs(3), [1, 2, 3, 4], 15)).Message);
        var spatial = OpHarness.MakeNode("BatchNormalization", 5, 1, "", OpHarness.Int("spatial", 0));
        Assert.Contains("spatial", Assert.Throws<ModelFormatException>(() => OpHarness.Run(spatial, Inputs(3), [1, 2, 3, 4], 7)).Message);
        Assert.Throws<ModelFormatException>(() => OpHarness.Run(OpHarness.MakeNode("BatchNormalization", 5), Inputs(4), [1, 2, 3, 4]));
        Assert.Contains("constant", Assert.Throws<ModelFormatException>(() => OpHarness.Run(OpHarness.MakeNode("BatchNormalization", 5), Inputs(3), [1, 2, 3])).Message);
    }
}
