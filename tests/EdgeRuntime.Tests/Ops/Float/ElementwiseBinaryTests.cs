using EdgeRuntime.Onnx;
using EdgeRuntime.Tensors;
using Xunit;
using static EdgeRuntime.Tests.Ops.Float.FloatOpOracle;

namespace EdgeRuntime.Tests.Ops.Float;

/// <summary>Add/Sub/Mul/Div vs ONNX Runtime over random broadcastable shape pairs (tolerance 1e-5 abs+rel; integers exact).</summary>
public class ElementwiseBinaryTests
{
    private static readonly string[] Ops = ["Add", "Sub", "Mul", "Div"];

    /// <summary>A random output shape (rank 0–4) and two operands derived from it with dropped leading dims and 1-dims.</summary>
    private static (int[] A, int[] B) RandomBroadcastPair(Random random)
    {
        int rank = random.Next(0, 5);
        var output = RandomShape(random, rank, 6);
        int[] Derive()
        {
            int r = random.Next(0, rank + 1);
            if (random.Next(4) == 0) r = rank;
            var s = output[(rank - r)..];
            for (int i = 0; i < s.Length; i++) if (random.Next(10) < 4) s[i] = 1;
            return s;
        }
        return (Derive(), Derive());
    }

    private static Tensor Operand(Random random, TensorElementType type, int[] shape, bool divisor)
    {
        int n = TensorShape.ElementCount(shape);
        switch (type)
        {
            case TensorElementType.Float32:
            {
                var t = RandomFloats(random, shape);
                if (divisor)
                {
                    var s = t.AsSpan<float>();
                    for (int i = 0; i < s.Length; i++) if (MathF.Abs(s[i]) < 0.1f) s[i] = 0.5f;
                }
                return t;
            }
            case TensorElementType.Int32:
                return Tensor.FromArray(type, shape, Enumerable.Range(0, n).Select(_ => NonZero(random, divisor)).ToArray().AsSpan());
            default:
                return Tensor.FromArray(type, shape, Enumerable.Range(0, n).Select(_ => (long)NonZero(random, divisor) * 1000003L).ToArray().AsSpan());
        }
    }

    private static int NonZero(Random random, bool divisor)
    {
        int v = random.Next(-50, 51);
        return divisor && v == 0 ? 7 : v;
    }

    public static IEnumerable<object[]> Types() =>
        [[TensorElementType.Float32], [TensorElementType.Int32], [TensorElementType.Int64]];

    [Theory]
    [MemberData(nameof(Types))]
    public void Random_broadcast_pairs_match_ort(TensorElementType type)
    {
        var random = new Random(1000 + (int)type);
        for (int c = 0; c < 40; c++)
        {
            var (shapeA, shapeB) = RandomBroadcastPair(random);
            var op = Ops[c % 4];
            bool constantB = random.Next(3) == 0;
            var a = Operand(random, type, shapeA, false);
            var b = Operand(random, type, shapeB, op == "Div");
            Compare(op, c % 3 == 0 ? 7 : 13, [new(a), new(b, constantB)], $"{op} {type} {S(shapeA)} with {S(shapeB)} (B constant {constantB})");
        }
    }

    [Theory]
    [InlineData(new[] { 1, 8, 5, 7 }, new[] { 1, 8, 5, 7 })]
    [InlineData(new[] { 1, 8, 5, 7 }, new int[0])]
    [InlineData(new int[0], new[] { 2, 3, 5 })]
    [InlineData(new[] { 2, 8, 5, 7 }, new[] { 8, 1, 1 })]
    [InlineData(new[] { 8, 1, 1 }, new[] { 2, 8, 5, 7 })]
    [InlineData(new[] { 3, 1, 5 }, new[] { 1, 4, 1 })]
    [InlineData(new[] { 2, 3, 4, 5 }, new[] { 5 })]
    [InlineData(new[] { 2, 3, 4, 5 }, new[] { 1 })]
    [InlineData(new[] { 3, 0, 5 }, new[] { 1, 5 })]
    public void Fast_paths_and_per_channel_match_ort(int[] shapeA, int[] shapeB)
    {
        var random = new Random(shapeA.Sum() * 31 + shapeB.Length);
        foreach (var op in Ops)
            Compare(op, 13, [new(Operand(random, TensorElementType.Float32, shapeA, false)), new(Operand(random, TensorElementType.Float32, shapeB, true), true)],
                $"{op} {S(shapeA)} with {S(shapeB)}");
    }

    [Fact]
    public void Integer_division_truncates_toward_zero()
    {
        var a = Tensor.FromArray<long>(TensorElementType.Int64, [6], [7, -7, 7, -7, 0, 9]);
        var b = Tensor.FromArray<long>(TensorElementType.Int64, [6], [2, 2, -2, -2, 3, 3]);
        Compare("Div", 13, [new(a), new(b)], "int64 Div signs");
    }

    [Theory]
    [InlineData(new[] { 2, 3 }, new[] { 4 })]
    [InlineData(new[] { 2, 3, 4 }, new[] { 3, 3 })]
    [InlineData(new[] { 0 }, new[] { 2 })]
    public void Incompatible_shapes_throw_ModelFormatException(int[] shapeA, int[] shapeB)
    {
        var random = new Random(5);
        var ex = Assert.Throws<ModelFormatException>(() => RunNative("Add", 13,
            [new(RandomFloats(random, shapeA)), new(RandomFloats(random, shapeB))]));
        Assert.Contains("broadcast", ex.Message);
    }

    [Fact]
    public void Mixed_types_throw_ModelFormatException()
    {
        var random = new Random(6);
        Assert.Throws<ModelFormatException>(() => RunNative("Mul", 13,
            [new(RandomFloats(random, [2])), new(Int64s(1, 2))]));
        Assert.Throws<ModelFormatException>(() => RunNative("Mul", 13,
            [new(RandomOfType(random, TensorElementType.UInt8, [2])), new(RandomOfType(random, TensorElementType.UInt8, [2]))]));
    }
}
