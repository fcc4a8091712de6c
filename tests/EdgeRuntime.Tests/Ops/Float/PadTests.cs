using EdgeRuntime.Onnx;
using EdgeRuntime.Tensors;
using EdgeRuntime.Tests.Infrastructure;
using Xunit;
using static EdgeRuntime.Tests.Ops.Float.ConvFamilyOracle;

namespace EdgeRuntime.Tests.Ops.Float;

/// <summary>Pad against ONNX Runtime. Pad only copies, so results must be exact (float tolerance is moot).</summary>
public sealed class PadTests
{
    private static readonly int[][] Shapes = [[7], [3, 5], [2, 3, 4], [1, 3, 5, 6], [2, 1, 4, 3]];

    /// <summary>Random pads per axis; reflect needs pads below the axis size, negative pads (cropping) only for constant/edge.</summary>
    private static long[] RandomPads(Random rng, int[] shape, string mode, int[] axes)
    {
        var pads = new long[2 * axes.Length];
        for (int i = 0; i < axes.Length; i++)
        for (int side = 0; side < 2; side++)
        {
            int dim = shape[axes[i]];
            long p = mode switch
            {
                "reflect" => rng.Next(0, dim),
                "wrap" => rng.Next(0, dim + 1),
                _ => rng.Next(-1, 4),
            };
            if (p < 0 && dim < 3) p = 0;
            pads[side * axes.Length + i] = p;
        }
        return pads;
    }

    private static Tensor RandomTensor(Random rng, TensorElementType type, int[] shape) => type switch
    {
        TensorElementType.Float32 => RandomFloats(rng, shape),
        TensorElementType.Int64 => Tensor.FromArray(type, shape, Enumerable.Range(0, TensorShape.ElementCount(shape)).Select(_ => rng.NextInt64(-1000, 1000)).ToArray()),
        _ => RandomBytes(rng, type, shape),
    };

    [Theory]
    [InlineData(13)]
    [InlineData(18)]
    [InlineData(19)]
    public void InputFormMatchesOnnxRuntime(int opset)
    {
        var rng = new Random(opset);
        var cases = new List<OracleCase>();
        var modes = opset >= 19 ? new[] { "constant", "reflect", "edge", "wrap" } : ["constant", "reflect", "edge"];
        foreach (var mode in modes)
        foreach (var shape in Shapes)
        foreach (var type in new[] { TensorElementType.Float32, TensorElementType.UInt8, TensorElementType.Int64 })
        {
            if (type != TensorElementType.Float32 && mode != "constant" && shape.Length != 2) continue;
            var axes = Enumerable.Range(0, shape.Length).ToArray();
            Tensor? axesTensor = null;
            if (opset >= 18 && rng.Next(2) == 0)
            {
                axes = axes.Where(_ => rng.Next(2) == 0).DefaultIfEmpty(shape.Length - 1).ToArray();
                // Mix negative and positive spellings of the axes.
                axesTensor = Int64s(axes.Select(a => rng.Next(2) == 0 ? (long)a - shape.Length : a).ToArray());
            }
            var pads = RandomPads(rng, shape, mode, axes);
            Tensor? constant = mode == "constant" && rng.Next(3) > 0 ? RandomTensor(rng, type, []) : null;
            var inputs = new List<Tensor?> { RandomTensor(rng, type, shape), Int64s(pads), constant };
            if (axesTensor != null) inputs.Add(axesTensor);
            var oc = new OracleCase
            {
                OpType = "Pad",
                OutputType = type,
                Description = $"mode={mode} x={TensorShape.Format(shape)} {type} pads=[{string.Join(",", pads)}] axes={(axesTensor == null ? "all" : string.Join(",", axesTensor.ToArray<long>()))} constant={constant != null}",
                Inputs = inputs.ToArray(),
                ConstantInputs = [1, 2, 3],
            };
            if (mode != "constant" || rng.Next(2) == 0) oc.With("mode", mode);
            cases.Add(oc);
        }
        AssertAllMatch(opset, cases);
    }

    [Fact]
    public void AttributeFormMatchesOnnxRuntime()
    {
        var rng = new Random(10);
        var cases = new List<OracleCase>();
        foreach (var mode in new[] { "constant", "reflect", "edge" })
        foreach (var shape in Shapes)
        {
            var pads = RandomPads(rng, shape, mode, Enumerable.Range(0, shape.Length).ToArray());
            var oc = new OracleCase { OpType = "Pad", Description = $"opset10 mode={mode} x={TensorShape.Format(shape)} pads=[{string.Join(",", pads)}]", Inputs = [RandomFloats(rng, shape)] }
                .With("mode", mode).With("pads", pads);
            if (mode == "constant") oc.With("value", 1.5f);
            cases.Add(oc);
        }
        AssertAllMatch(10, cases);
    }

    [Fact]
    public void BadPadsAreRejected()
    {
        var f = TensorElementType.Float32;
        var x = new Tensor(f, [2, 3]);
        var node = OpHarness.MakeNode("Pad", 2);
        Assert.Contains("pads must have 4", Assert.Throws<ModelFormatException>(() => OpHarness.Run(node, [x, Int64s(1, 1)], [1])).Message);
        Assert.Contains("negative", Assert.Throws<ModelFormatException>(() => OpHarness.Run(node, [x, Int64s(-3, 0, 0, 0)], [1])).Message);
        Assert.Contains("constant", Assert.Throws<ModelFormatException>(() => OpHarness.Run(node, [x, Int64s(1, 1, 1, 1)], [])).Message);
        var badMode = OpHarness.MakeNode("Pad", 2, 1, "", OpHarness.Str("mode", "mirror"));
        Assert.Contains("mode", Assert.Throws<ModelFormatException>(() => OpHarness.Run(badMode, [x, Int64s(1, 1, 1, 1)], [1])).Message);
        var old = OpHarness.MakeNode("Pad", 1);
        Assert.Contains("pads", Assert.Throws<ModelFormatException>(() => OpHarness.Run(old, [x], [], 7)).Message);
        var axes = OpHarness.MakeNode("Pad", 4);
        Assert.Contains("axis", Assert.Throws<ModelFormatException>(() => OpHarness.Run(axes, [x, Int64s(1, 1), null, Int64s(2)], [1, 3], 18)).Message);
    }
}
