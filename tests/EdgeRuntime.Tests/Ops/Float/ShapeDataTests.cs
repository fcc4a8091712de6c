using EdgeRuntime.Onnx;
using EdgeRuntime.Tensors;
using Xunit;
using static EdgeRuntime.Tests.Ops.Float.FloatOpOracle;

namespace EdgeRuntime.Tests.Ops.Float;

/// <summary>Transpose, Concat, Cast, Constant, Shape and Gather vs ONNX Runtime (exact except Cast to float, 1e-5).</summary>
public class ShapeDataTests
{
    private static readonly TensorElementType[] MovementTypes =
        [TensorElementType.Float32, TensorElementType.UInt8, TensorElementType.Int8, TensorElementType.Int32, TensorElementType.Int64];

    private static int[] RandomPermutation(Random random, int rank)
    {
        var perm = Enumerable.Range(0, rank).ToArray();
        random.Shuffle(perm);
        return perm;
    }

    [Fact]
    public void Transpose_random_perms_match_ort()
    {
        var random = new Random(21);
        for (int c = 0; c < 40; c++)
        {
            int rank = random.Next(1, 6);
            var shape = RandomShape(random, rank, 6);
            var perm = RandomPermutation(random, rank).Select(p => (long)p).ToArray();
            var type = MovementTypes[c % MovementTypes.Length];
            Compare("Transpose", c % 2 == 0 ? 13 : 7, [new(RandomOfType(random, type, shape))], $"Transpose {type} {S(shape)} perm [{string.Join(",", perm)}]",
                attributes: a => a.Ints("perm", perm));
        }
        Compare("Transpose", 13, [new(RandomOfType(random, TensorElementType.UInt8, [1, 3, 7, 5]))], "NCHW->NHWC uint8", attributes: a => a.Ints("perm", 0, 2, 3, 1));
        // Interleaved RGB to planes (the image input of converted TFLite models), the 3-channel fast path, two element sizes.
        Compare("Transpose", 13, [new(RandomOfType(random, TensorElementType.UInt8, [1, 9, 11, 3]))], "NHWC->NCHW uint8 RGB", attributes: a => a.Ints("perm", 0, 3, 1, 2));
        Compare("Transpose", 13, [new(RandomFloats(random, [1, 5, 13, 3]))], "NHWC->NCHW float RGB", attributes: a => a.Ints("perm", 0, 3, 1, 2));
        Compare("Transpose", 13, [new(RandomFloats(random, [2, 3, 4]))], "default perm reverses");
        Compare("Transpose", 13, [new(RandomFloats(random, []))], "scalar");
    }

    [Theory]
    [InlineData(new long[] { 0, 0 })]
    [InlineData(new long[] { 0, 2 })]
    [InlineData(new long[] { 0 })]
    [InlineData(new long[] { 0, 1, 2 })]
    [InlineData(new long[] { -1, 0 })]
    public void Transpose_bad_perm_throws_ModelFormatException(long[] perm)
    {
        Assert.Throws<ModelFormatException>(() => RunNative("Transpose", 13, [new(RandomFloats(new Random(1), [2, 3]))], attributes: a => a.Ints("perm", perm)));
    }

    [Fact]
    public void Concat_every_axis_and_type_matches_ort()
    {
        var random = new Random(22);
        for (int rank = 1; rank <= 4; rank++)
        {
            var baseShape = RandomShape(random, rank);
            for (int axis = -rank; axis < rank; axis++)
            {
                int normalized = axis < 0 ? axis + rank : axis;
                var type = MovementTypes[(rank + normalized) % MovementTypes.Length];
                int count = random.Next(1, 4);
                var inputs = new OracleInput?[count];
                var shapes = new List<string>();
                for (int k = 0; k < count; k++)
                {
                    var shape = (int[])baseShape.Clone();
                    shape[normalized] = random.Next(1, 5);
                    shapes.Add(S(shape));
                    inputs[k] = new(RandomOfType(random, type, shape), random.Next(3) == 0);
                }
                int a = axis;
                Compare("Concat", axis < 0 ? 13 : 7, inputs, $"Concat {type} axis {a} of {string.Join(" ", shapes)}", attributes: s => s.Int("axis", a));
            }
        }
        // int64 shape pieces, as in exported Reshape chains.
        Compare("Concat", 13, [new(Int64s(1)), new(Int64s(-1)), new(Int64s(7, 7))], "int64 shape concat", attributes: s => s.Int("axis", 0));
    }

    [Fact]
    public void Concat_bad_inputs_throw_ModelFormatException()
    {
        var random = new Random(23);
        Assert.Throws<ModelFormatException>(() => RunNative("Concat", 13, [new(RandomFloats(random, [2, 3])), new(RandomFloats(random, [2, 3, 1]))], attributes: a => a.Int("axis", 0)));
        Assert.Throws<ModelFormatException>(() => RunNative("Concat", 13, [new(RandomFloats(random, [2, 3])), new(RandomFloats(random, [2, 4]))], attributes: a => a.Int("axis", 0)));
        Assert.Throws<ModelFormatException>(() => RunNative("Concat", 13, [new(RandomFloats(random, [2, 3])), new(Int64s(1, 2, 3))], attributes: a => a.Int("axis", 0)));
        Assert.Throws<ModelFormatException>(() => RunNative("Concat", 13, [new(RandomFloats(random, [2, 3]))], attributes: a => a.Int("axis", 2)));
        Assert.Throws<ModelFormatException>(() => RunNative("Concat", 13, [new(RandomFloats(random, [2, 3]))]));
    }

    public static IEnumerable<object[]> CastPairs()
    {
        TensorElementType[] sources = [.. MovementTypes, TensorElementType.Bool];
        TensorElementType[] targets = [.. MovementTypes, TensorElementType.Bool, TensorElementType.Float16];
        foreach (var s in sources)
            foreach (var t in targets)
                yield return [s, t];
    }

    [Theory]
    [MemberData(nameof(CastPairs))]
    public void Cast_pairs_match_ort(TensorElementType source, TensorElementType target)
    {
        var random = new Random((int)source * 31 + (int)target);
        var shape = new[] { 3, 17 };
        var data = RandomOfType(random, source, shape);
        // Keep float → integer casts in range of the target (out-of-range casts are undefined in ONNX).
        if (source == TensorElementType.Float32)
        {
            var s = data.AsSpan<float>();
            for (int i = 0; i < s.Length; i++)
            {
                s[i] = target switch
                {
                    TensorElementType.UInt8 => MathF.Abs(s[i]) * 1.2f,
                    TensorElementType.Int8 => s[i] * 0.6f,
                    _ => s[i] * 100f,
                };
                if (i % 9 == 0) s[i] = 0f;
            }
        }
        if (source is TensorElementType.Int32 or TensorElementType.Int64 && target is TensorElementType.Float16)
        {
            // Stay within float16 range (65504).
            if (source == TensorElementType.Int32) { var s = data.AsSpan<int>(); for (int i = 0; i < s.Length; i++) s[i] %= 60000; }
            else { var s = data.AsSpan<long>(); for (int i = 0; i < s.Length; i++) s[i] %= 60000; }
        }
        if (source is TensorElementType.Int32 or TensorElementType.Int64 && random.Next(2) == 0)
        {
            if (source == TensorElementType.Int32) data.AsSpan<int>()[0] = 0; else data.AsSpan<long>()[0] = 0;
        }
        Compare("Cast", 13, [new(data)], $"Cast {source} -> {target}", attributes: a => a.Int("to", (long)target),
            declaredOutputTypes: [target]);
    }

    [Fact]
    public void Cast_float_to_float16_rounds_like_ort()
    {
        var data = Tensor.FromFloats([8], [0.1f, 1f / 3f, 65504f, 70000f, -1e-8f, 2049f, 2051f, 1.0009765625f]);
        Compare("Cast", 9, [new(data)], "float16 rounding", attributes: a => a.Int("to", (long)TensorElementType.Float16), declaredOutputTypes: [TensorElementType.Float16]);
        Assert.Throws<ModelFormatException>(() => RunNative("Cast", 13, [new(data)], attributes: a => a.Int("to", 11)));
        Assert.Throws<ModelFormatException>(() => RunNative("Cast", 13, [new(data)]));
    }

    [Fact]
    public void Constant_variants_match_ort()
    {
        var random = new Random(24);
        var tensor = RandomFloats(random, [2, 3]);
        Compare("Constant", 13, [], "value tensor", attributes: a => a.Tensor("value", tensor));
        Compare("Constant", 13, [], "value int64 tensor", attributes: a => a.Tensor("value", Int64s(1, -1, 5)));
        Compare("Constant", 13, [], "value_float", attributes: a => a.Float("value_float", 2.5f));
        Compare("Constant", 13, [], "value_floats", attributes: a => a.Floats("value_floats", 1f, 2f, -3f));
        Compare("Constant", 13, [], "value_int", attributes: a => a.Int("value_int", -42));
        Compare("Constant", 13, [], "value_ints", attributes: a => a.Ints("value_ints", 4, 5, 6, 7));
        Compare("Constant", 9, [], "opset 9 value", attributes: a => a.Tensor("value", tensor));
        Assert.Throws<ModelFormatException>(() => RunNative("Constant", 13, []));
        Assert.Throws<ModelFormatException>(() => RunNative("Constant", 13, [], attributes: a => a.Int("value_int", 1).Float("value_float", 1f)));
    }

    [Fact]
    public void Shape_matches_ort_including_start_end()
    {
        var random = new Random(25);
        var data = RandomFloats(random, [2, 3, 5, 7]);
        Compare("Shape", 13, [new(data)], "Shape opset 13");
        Compare("Shape", 7, [new(RandomOfType(random, TensorElementType.UInt8, [4, 1]))], "Shape uint8 opset 7");
        Compare("Shape", 13, [new(Tensor.FromFloats([], [1f]))], "Shape of scalar");
        (long? Start, long? End)[] ranges = [(1, null), (null, -1), (-3, -1), (2, 100), (-100, 2), (3, 1), (0, 0)];
        foreach (var (start, end) in ranges)
            Compare("Shape", 15, [new(data)], $"Shape start {start} end {end}", attributes: a =>
            {
                if (start is { } s) a.Int("start", s);
                if (end is { } e) a.Int("end", e);
            });
    }

    [Fact]
    public void Gather_matches_ort_for_types_axes_and_index_kinds()
    {
        var random = new Random(26);
        for (int c = 0; c < 30; c++)
        {
            int rank = random.Next(1, 5);
            var shape = RandomShape(random, rank);
            int axis = random.Next(-rank, rank);
            int axisLength = shape[axis < 0 ? axis + rank : axis];
            int indexRank = random.Next(0, 3);
            var indexShape = RandomShape(random, indexRank, 3);
            int n = TensorShape.ElementCount(indexShape);
            var values = Enumerable.Range(0, n).Select(_ => (long)random.Next(-axisLength, axisLength)).ToArray();
            bool int32 = c % 2 == 1, constant = c % 3 == 0;
            var indices = int32
                ? Tensor.FromArray(TensorElementType.Int32, indexShape, values.Select(v => (int)v).ToArray().AsSpan())
                : Tensor.FromArray(TensorElementType.Int64, indexShape, values.AsSpan());
            var type = MovementTypes[c % MovementTypes.Length];
            int a = axis;
            Compare("Gather", c % 4 == 0 ? 7 : 13, [new(RandomOfType(random, type, shape)), new(indices, constant)],
                $"Gather {type} {S(shape)} axis {a} indices {(int32 ? "int32" : "int64")} {S(indexShape)} [{string.Join(",", values)}] constant {constant}",
                attributes: s => s.Int("axis", a));
        }
        // Shape arithmetic pattern: Gather(Shape(x), 0) → int64 scalar.
        Compare("Gather", 13, [new(Int64s(1, 512, 7, 7)), new(Tensor.FromArray<long>(TensorElementType.Int64, [], [0]), true)], "Gather shape dim",
            attributes: s => s.Int("axis", 0));
    }

    [Fact]
    public void Gather_bad_inputs_throw()
    {
        var random = new Random(27);
        Assert.Throws<ModelFormatException>(() => RunNative("Gather", 13, [new(RandomFloats(random, [3, 4])), new(Int64s(3), true)]));
        Assert.Throws<ModelFormatException>(() => RunNative("Gather", 13, [new(RandomFloats(random, [3, 4])), new(Int64s(-4), true)]));
        Assert.Throws<ModelFormatException>(() => RunNative("Gather", 13, [new(RandomFloats(random, [3, 4])), new(Int64s(0), true)], attributes: a => a.Int("axis", 2)));
        Assert.Throws<ModelFormatException>(() => RunNative("Gather", 13, [new(RandomFloats(random, [3, 4])), new(RandomFloats(random, [1]))]));
        // Runtime indices are checked while running.
        Assert.Throws<ArgumentOutOfRangeException>(() => RunNative("Gather", 13, [new(RandomFloats(random, [3, 4])), new(Int64s(5), false)]));
    }
}
