using EdgeRuntime.Kernels.Common;
using EdgeRuntime.Kernels.Elementwise;
using Xunit;

namespace EdgeRuntime.Kernels.Tests;

/// <summary>Every path of QLinearAdd against the reference, bit for bit.</summary>
public sealed class QLinearAddTests
{
    public static TheoryData<bool, int> Cases()
    {
        var data = new TheoryData<bool, int>();
        foreach (var signed in new[] { false, true })
            foreach (var seed in Enumerable.Range(0, 12))
                data.Add(signed, seed);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Every_path_matches_the_reference(bool signed, int seed)
    {
        var rng = new Random(seed);
        int[] shape = [1, 1 + rng.Next(40), 1 + rng.Next(9), 1 + rng.Next(37)];
        int[] shapeB = seed % 3 == 0 ? [1, shape[1], 1, 1] : shape; // per-channel broadcast uses the reference rows
        var plan = QuantizedBroadcast.Create(shape, shapeB)!;
        var a = new byte[plan.OutputCount];
        var b = new byte[shapeB.Aggregate(1, (x, y) => x * y)];
        rng.NextBytes(a);
        rng.NextBytes(b);
        if (seed == 1) { Array.Fill(a, (byte)(signed ? 0x80 : 0)); Array.Fill(b, (byte)(signed ? 0x7F : 255)); }
        int lo = signed ? -128 : 0, hi = signed ? 127 : 255;
        float scaleC = seed == 2 ? 1e-6f : (float)(rng.NextDouble() * 0.1 + 0.001); // tiny output scale: saturation everywhere
        var p = new QLinearBinaryParameters((float)(rng.NextDouble() * 0.1 + 0.001), rng.Next(lo, hi + 1),
            (float)(rng.NextDouble() * 0.1 + 0.001), rng.Next(lo, hi + 1), scaleC, rng.Next(lo, hi + 1), signed);
        var expected = new byte[plan.OutputCount];
        QLinearAddReference.Run(plan, a, b, expected, p);
        foreach (var isa in CpuFeatures.Supported)
        {
            var actual = new byte[plan.OutputCount];
            QLinearAdd.Run(isa, plan, a, b, actual, p);
            Assert.True(expected.AsSpan().SequenceEqual(actual), $"{CpuFeatures.Name(isa)} differs from the reference (shape [{string.Join(",", shape)}])");
        }
    }

    /// <summary>Same-shape lengths around the AVX2 row's 32-element steps and the 16-element portable blocks.</summary>
    private static readonly int[] Lengths = [1, 7, 15, 16, 17, 31, 32, 33, 63, 64, 65, 96, 127, 1000, 3136];

    /// <summary>
    /// Degenerate and extreme parameters of same-shape additions (the residual-connection case the AVX2 row handles):
    /// the NaN-free and NaN-possible variants of its quotients, its saturating clamp and the fallbacks.
    /// </summary>
    public static TheoryData<bool, string> ExtremeCases()
    {
        var data = new TheoryData<bool, string>();
        foreach (var signed in new[] { false, true })
            foreach (var name in new[] { "random", "tiny ScaleC", "huge quotients", "ScaleC 0", "ScaleC inf", "ScaleC NaN",
                         "overflowing products", "infinite ScaleA", "zero points at the ends", "ZeroPointA outside the type",
                         "ZeroPointC outside the type", "negative scales" })
                data.Add(signed, name);
        return data;
    }

    [Theory]
    [MemberData(nameof(ExtremeCases))]
    public void Same_shape_extremes_match_the_reference_on_every_path(bool signed, string name)
    {
        var rng = new Random(name.Length * 31 + name[0] + (signed ? 1 : 0)); // string.GetHashCode is randomized per process
        int lo = signed ? -128 : 0, hi = signed ? 127 : 255;
        foreach (int length in Lengths)
        {
            var a = new byte[length];
            var b = new byte[length];
            rng.NextBytes(a);
            rng.NextBytes(b);
            float Scale() => (float)(rng.NextDouble() * 0.1 + 0.001);
            var p = new QLinearBinaryParameters(Scale(), rng.Next(lo, hi + 1), Scale(), rng.Next(lo, hi + 1), Scale(), rng.Next(lo, hi + 1), signed);
            p = name switch
            {
                "tiny ScaleC" => p with { ScaleC = 1e-6f },                     // saturates at both ends
                "huge quotients" => p with { ScaleC = 1e-35f },                 // beyond the int32 range: capped / int.MinValue
                "ScaleC 0" => p with { ScaleC = 0f },                           // ±infinity and 0/0 = NaN
                "ScaleC inf" => p with { ScaleC = float.PositiveInfinity },     // ±0 quotients
                "ScaleC NaN" => p with { ScaleC = float.NaN },
                "overflowing products" => p with { ScaleA = 3e37f, ScaleB = 3e37f }, // ∞ − ∞ = NaN in the sum
                "infinite ScaleA" => p with { ScaleA = float.PositiveInfinity },     // ∞·0 = NaN where a = zpA
                "zero points at the ends" => p with { ZeroPointA = lo, ZeroPointB = hi, ZeroPointC = hi },
                "ZeroPointA outside the type" => p with { ZeroPointA = signed ? 300 : -1000, ZeroPointB = 100_000 },
                "ZeroPointC outside the type" => p with { ZeroPointC = signed ? 200 : -3 },
                "negative scales" => p with { ScaleA = -p.ScaleA, ScaleC = -p.ScaleC },
                _ => p,
            };
            var plan = QuantizedBroadcast.Create([length], [length])!;
            var expected = new byte[length];
            QLinearAddReference.Run(plan, a, b, expected, p);
            foreach (var isa in CpuFeatures.Supported)
            {
                var actual = new byte[length];
                QLinearAdd.Run(isa, plan, a, b, actual, p);
                int at = expected.AsSpan().CommonPrefixLength(actual);
                Assert.True(at == length, $"{CpuFeatures.Name(isa)} length {length} {p}: element {at} is {(at < length ? actual[at] : 0)}, expected {(at < length ? expected[at] : 0)}");
            }
        }
    }

    [Fact]
    public void Same_shape_addition_in_place_matches_the_reference()
    {
        // The output may be the buffer of A (a residual connection whose input is dead afterwards).
        var rng = new Random(77);
        var a = new byte[3136 + 5];
        var b = new byte[a.Length];
        rng.NextBytes(a);
        rng.NextBytes(b);
        var p = new QLinearBinaryParameters(0.03f, 5, 0.05f, -7, 0.04f, 3, true);
        var plan = QuantizedBroadcast.Create([a.Length], [a.Length])!;
        var expected = new byte[a.Length];
        QLinearAddReference.Run(plan, a, b, expected, p);
        foreach (var isa in CpuFeatures.Supported)
        {
            var inPlace = (byte[])a.Clone();
            QLinearAdd.Run(isa, plan, inPlace, b, inPlace, p);
            Assert.True(expected.AsSpan().SequenceEqual(inPlace), CpuFeatures.Name(isa));
        }
    }
}
