using EdgeRuntime.Onnx;
using EdgeRuntime.Tensors;
using Xunit;
using static EdgeRuntime.Tests.Ops.Float.FloatOpOracle;

namespace EdgeRuntime.Tests.Ops.Float;

/// <summary>Reshape, Flatten, Squeeze, Unsqueeze, Identity and Dropout vs ONNX Runtime (exact: pure data movement).</summary>
public class ShapeReshapeTests
{
    private static readonly TensorElementType[] MovementTypes =
        [TensorElementType.Float32, TensorElementType.UInt8, TensorElementType.Int8, TensorElementType.Int32, TensorElementType.Int64];

    [Theory]
    [InlineData(new[] { 2, 3, 4 }, new long[] { 6, 4 })]
    [InlineData(new[] { 2, 3, 4 }, new long[] { -1 })]
    [InlineData(new[] { 2, 3, 4 }, new long[] { 0, -1 })]
    [InlineData(new[] { 2, 3, 4 }, new long[] { 0, 0, 2, 2 })]
    [InlineData(new[] { 2, 3, 4 }, new long[] { -1, 0, 1, 4 })]
    [InlineData(new[] { 1, 512, 1, 1 }, new long[] { 1, -1 })]
    [InlineData(new[] { 5 }, new long[] { 1, 5, 1 })]
    [InlineData(new[] { 1 }, new long[0])]
    [InlineData(new[] { 3, 0, 2 }, new long[] { 0, 0, 2 })]
    public void Reshape_matches_ort(int[] shape, long[] target)
    {
        var random = new Random(shape.Sum() + target.Length);
        foreach (var type in MovementTypes)
            Compare("Reshape", 13, [new(RandomOfType(random, type, shape)), new(Int64s(target), true)], $"Reshape {type} {S(shape)} to [{string.Join(",", target)}]");
        Compare("Reshape", 5, [new(RandomFloats(random, shape)), new(Int64s(target), true)], $"Reshape opset 5 {S(shape)}");
    }

    [Fact]
    public void Reshape_allowzero_keeps_literal_zero()
    {
        var random = new Random(3);
        Compare("Reshape", 14, [new(RandomFloats(random, [0, 4])), new(Int64s(4, 0), true)], "allowzero", attributes: a => a.Int("allowzero", 1));
        Compare("Reshape", 14, [new(RandomFloats(random, [3, 4])), new(Int64s(0, 2, 2), true)], "allowzero=0 copies", attributes: a => a.Int("allowzero", 0));
    }

    [Theory]
    [InlineData(new[] { 2, 3, 4 }, new long[] { 5, 5 })]
    [InlineData(new[] { 2, 3, 4 }, new long[] { -1, -1 })]
    [InlineData(new[] { 2, 3, 4 }, new long[] { 5, -1 })]
    [InlineData(new[] { 2, 3 }, new long[] { 0, 0, 0, -1 })]
    [InlineData(new[] { 2, 3 }, new long[] { 2, -2 })]
    public void Reshape_bad_targets_throw_ModelFormatException(int[] shape, long[] target)
    {
        var random = new Random(4);
        Assert.Throws<ModelFormatException>(() => RunNative("Reshape", 13, [new(RandomFloats(random, shape)), new(Int64s(target), true)]));
    }

    [Fact]
    public void Reshape_with_runtime_shape_throws_ModelFormatException()
    {
        var ex = Assert.Throws<ModelFormatException>(() => RunNative("Reshape", 13, [new(RandomFloats(new Random(1), [2, 3])), new(Int64s(6), false)]));
        Assert.Contains("constant", ex.Message);
    }

    [Fact]
    public void Flatten_every_axis_matches_ort()
    {
        var random = new Random(5);
        for (int rank = 0; rank <= 4; rank++)
        {
            var shape = RandomShape(random, rank);
            for (int axis = -rank; axis <= rank; axis++)
            {
                int a = axis;
                int opset = axis < 0 ? 13 : (axis % 2 == 0 ? 9 : 11);
                var type = MovementTypes[(rank + axis + 5) % MovementTypes.Length];
                Compare("Flatten", opset, [new(RandomOfType(random, type, shape))], $"Flatten {type} {S(shape)} axis {a} opset {opset}", attributes: s => s.Int("axis", a));
            }
        }
        Compare("Flatten", 13, [new(RandomFloats(random, [2, 3, 4]))], "Flatten default axis");
        Assert.Throws<ModelFormatException>(() => RunNative("Flatten", 13, [new(RandomFloats(random, [2, 3]))], attributes: a => a.Int("axis", 3)));
    }

    [Theory]
    [InlineData(11)]
    [InlineData(13)]
    public void Squeeze_matches_ort(int opset)
    {
        var random = new Random(opset);
        var shape = new[] { 1, 3, 1, 1, 5 };
        long[][] axesCases = [[0], [2, 3], [-1 + -1 + -1], [0, -2], [0, 2, 3]];
        foreach (var axes in axesCases)
        {
            foreach (var type in new[] { TensorElementType.Float32, TensorElementType.UInt8, TensorElementType.Int64 })
            {
                var data = RandomOfType(random, type, shape);
                var ctx = $"Squeeze opset {opset} {type} axes [{string.Join(",", axes)}]";
                if (opset < 13) Compare("Squeeze", opset, [new(data)], ctx, attributes: a => a.Ints("axes", axes));
                else Compare("Squeeze", opset, [new(data), new(Int64s(axes), true)], ctx);
            }
        }
        Compare("Squeeze", opset, [new(RandomFloats(random, shape))], $"Squeeze opset {opset} without axes");
        Compare("Squeeze", opset, [new(RandomFloats(random, [1, 1]))], $"Squeeze opset {opset} to scalar");
    }

    [Theory]
    [InlineData(11)]
    [InlineData(13)]
    public void Unsqueeze_matches_ort(int opset)
    {
        var random = new Random(opset + 50);
        long[][] axesCases = [[0], [-1], [0, 3], [1, -1], [2, 0, 4]];
        foreach (var axes in axesCases)
        {
            foreach (var type in new[] { TensorElementType.Float32, TensorElementType.Int8, TensorElementType.Int64 })
            {
                var data = RandomOfType(random, type, [3, 2]);
                var ctx = $"Unsqueeze opset {opset} {type} axes [{string.Join(",", axes)}]";
                if (opset < 13) Compare("Unsqueeze", opset, [new(data)], ctx, attributes: a => a.Ints("axes", axes));
                else Compare("Unsqueeze", opset, [new(data), new(Int64s(axes), true)], ctx);
            }
        }
        // Scalar to 1-D: the classic shape-arithmetic pattern (Gather → Unsqueeze → Concat).
        var scalar = Tensor.FromArray<long>(TensorElementType.Int64, [], [7]);
        if (opset < 13) Compare("Unsqueeze", opset, [new(scalar)], "scalar", attributes: a => a.Ints("axes", 0));
        else Compare("Unsqueeze", opset, [new(scalar), new(Int64s(0), true)], "scalar");
    }

    [Fact]
    public void Squeeze_and_Unsqueeze_bad_axes_throw_ModelFormatException()
    {
        var random = new Random(9);
        Assert.Throws<ModelFormatException>(() => RunNative("Squeeze", 13, [new(RandomFloats(random, [1, 3])), new(Int64s(1), true)]));
        Assert.Throws<ModelFormatException>(() => RunNative("Squeeze", 11, [new(RandomFloats(random, [1, 3]))], attributes: a => a.Ints("axes", 2)));
        Assert.Throws<ModelFormatException>(() => RunNative("Unsqueeze", 13, [new(RandomFloats(random, [1, 3])), new(Int64s(0, 0), true)]));
        Assert.Throws<ModelFormatException>(() => RunNative("Unsqueeze", 13, [new(RandomFloats(random, [1, 3])), new(Int64s(3), true)]));
        Assert.Throws<ModelFormatException>(() => RunNative("Unsqueeze", 11, [new(RandomFloats(random, [1, 3]))]));
        Assert.Throws<ModelFormatException>(() => RunNative("Unsqueeze", 13, [new(RandomFloats(random, [1, 3])), new(Int64s(0), false)]));
    }

    [Fact]
    public void Identity_copies_every_type()
    {
        var random = new Random(10);
        foreach (var type in MovementTypes.Append(TensorElementType.Bool))
            Compare("Identity", 13, [new(RandomOfType(random, type, [2, 3, 5]))], $"Identity {type}");
    }

    [Theory]
    [InlineData(7)]
    [InlineData(10)]
    [InlineData(11)]
    [InlineData(12)]
    [InlineData(13)]
    public void Dropout_is_identity_with_inference_mask(int opset)
    {
        var random = new Random(opset);
        var data = RandomFloats(random, [2, 3, 5]);
        Compare("Dropout", opset, [new(data)], $"Dropout opset {opset} no mask");
        Compare("Dropout", opset, [new(data)], $"Dropout opset {opset} with mask", outputCount: 2);
        if (opset >= 12)
        {
            var ratio = Tensor.FromFloats([], [0.3f]);
            var training = Tensor.FromArray<byte>(TensorElementType.Bool, [], [0]);
            Compare("Dropout", opset, [new(data), new(ratio, true), new(training, true)], $"Dropout opset {opset} training_mode false", outputCount: 2);
            var trainingOn = Tensor.FromArray<byte>(TensorElementType.Bool, [], [1]);
            Assert.Throws<ModelFormatException>(() => RunNative("Dropout", opset, [new(data), new(ratio, true), new(trainingOn, true)]));
        }
    }
}
