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
}
