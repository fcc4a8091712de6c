using EdgeRuntime.Kernels.Activations;
using EdgeRuntime.Kernels.Common;
using EdgeRuntime.Kernels.Conv;
using Xunit;

namespace EdgeRuntime.Kernels.Tests;

/// <summary>The rounding rule every quantized kernel shares, and the lookup-table construction.</summary>
public sealed class RequantizationTests
{
    [Theory]
    // ties go to the even neighbour
    [InlineData(1, 0.5f, 0, 0)]      // 0.5 → 0
    [InlineData(3, 0.5f, 0, 2)]      // 1.5 → 2
    [InlineData(5, 0.5f, 0, 2)]      // 2.5 → 2
    [InlineData(-1, 0.5f, 0, 0)]     // -0.5 → 0
    [InlineData(-3, 0.5f, 0, -2)]    // -1.5 → -2
    [InlineData(-5, 0.5f, 10, 8)]    // -2.5 → -2, + zp
    [InlineData(7, 0.5f, 100, 104)]  // 3.5 → 4, + zp
    // non-ties round to nearest
    [InlineData(10, 0.26f, 0, 3)]    // 2.6 → 3
    [InlineData(-10, 0.24f, 0, -2)]  // -2.4 → -2
    public void Requantize_RoundsHalfToEven(int acc, float multiplier, int zeroPoint, int expected) =>
        Assert.Equal(expected, Requantization.Requantize(acc, multiplier, zeroPoint, -1000, 1000));

    [Theory]
    [InlineData(1000, 1f, 0, false, 255)]
    [InlineData(-1000, 1f, 0, false, 0)]
    [InlineData(1000, 1f, 0, true, 127)]
    [InlineData(-1000, 1f, 0, true, -128)]
    [InlineData(127, 1f, 1, true, 127)]    // 127 + 1 saturates
    [InlineData(-128, 1f, -1, true, -128)]
    [InlineData(int.MaxValue, 1f, 0, false, 255)]            // huge accumulators saturate, no int overflow
    [InlineData(int.MinValue, 1f, 0, true, -128)]
    [InlineData(int.MaxValue, 1e30f, 128, false, 255)]       // product overflows to +inf
    [InlineData(int.MinValue, 1e30f, 128, false, 0)]         // and -inf
    [InlineData(int.MaxValue, 1e-9f, 128, false, 130)]       // 2147483647 → 2147483648f; × 1e-9 = 2.147 → 2
    public void Requantize_SaturatesAtBothEnds(int acc, float multiplier, int zeroPoint, bool signed, int expected) =>
        Assert.Equal(expected, Requantization.Requantize(acc, multiplier, zeroPoint, Requantization.MinOf(signed), Requantization.MaxOf(signed)));

    [Fact]
    public void Requantize_ConvertsAccumulatorToFloatBeforeMultiplying()
    {
        // 16777217 is not representable in float32: it becomes 16777216 before the multiplication.
        Assert.Equal(16777216 / 2, Requantization.Requantize(16777217, 0.5f, 0, int.MinValue, int.MaxValue) * 1);
    }

    [Fact]
    public void Requantize_NaNGivesZeroPoint() =>
        Assert.Equal(7, Requantization.Requantize(5, float.NaN, 7, 0, 255));

    [Fact]
    public void Multiplier_IsFloatProductThenQuotient()
    {
        float x = 0.0123f, w = 0.000456f, y = 0.0789f;
        float product = x * w;
        Assert.Equal(product / y, Requantization.Multiplier(x, w, y));
    }

    [Fact]
    public void Quantize_UsesTrueDivision()
    {
        // 0.3f / 0.1f = 3.0000002 (true division) while 0.3f * (1 / 0.1f) may differ; both round to 3 here,
        // so check a value exactly on a tie instead: 0.25 / 0.5 = 0.5 → 0 (even), 0.75 / 0.5 = 1.5 → 2.
        Assert.Equal(0, Requantization.Quantize(0.25f, 0.5f, 0, 0, 255));
        Assert.Equal(2, Requantization.Quantize(0.75f, 0.5f, 0, 0, 255));
        Assert.Equal(255, Requantization.Quantize(1e9f, 0.5f, 0, 0, 255));
        Assert.Equal(-128, Requantization.Quantize(-1e9f, 0.5f, 0, -128, 127));
    }

    [Fact]
    public void LookupTable_IsIndexedByStoredByte()
    {
        var table = new byte[256];
        // Identity with equal input/output quantization must reproduce every value.
        QLinearLookupTableReference.Build(table, signed: true, 0.1f, -3, 0.1f, -3, v => v);
        for (int b = 0; b < 256; b++) Assert.Equal((byte)b, table[b]);
        QLinearLookupTableReference.Build(table, signed: false, 0.1f, 128, 0.1f, 128, v => v);
        for (int b = 0; b < 256; b++) Assert.Equal((byte)b, table[b]);
    }

    [Fact]
    public void LookupTable_LeakyRelu_MatchesFormula()
    {
        var table = new byte[256];
        float xs = 0.05f, ys = 0.03f;
        int xz = 10, yz = -20;
        QLinearLookupTableReference.Build(table, signed: true, xs, xz, ys, yz, QLinearLookupTableReference.LeakyRelu(0.2f));
        for (int b = 0; b < 256; b++)
        {
            float x = xs * ((sbyte)b - xz);
            float f = x >= 0 ? x : x * 0.2f;
            int expected = Math.Clamp((int)MathF.Round(f / ys, MidpointRounding.ToEven) + yz, -128, 127);
            Assert.Equal(expected, (sbyte)table[b]);
        }
        var input = new byte[] { 0, 127, 128, 255 };
        var output = new byte[4];
        QLinearLookupTableReference.Run(table, input, output);
        Assert.Equal(new[] { table[0], table[127], table[128], table[255] }, output);
    }

    [Fact]
    public void LookupTable_Sigmoid_Saturates()
    {
        var table = new byte[256];
        QLinearLookupTableReference.Build(table, signed: false, 0.1f, 128, 1f / 256, 0, QLinearLookupTableReference.Sigmoid);
        Assert.Equal(128, table[128]);           // sigmoid(0) = 0.5 → 128
        Assert.Equal(255, table[255]);           // sigmoid(12.7) ≈ 1 → 256 saturates to 255
        Assert.True(table[0] <= 1);              // sigmoid(-12.8) ≈ 0
        for (int b = 1; b < 256; b++) Assert.True(table[b] >= table[b - 1], "monotonic");
    }

    [Fact]
    public void Conv_MatchesNaiveLoops()
    {
        var rng = new Random(42);
        for (int trial = 0; trial < 30; trial++)
        {
            int group = 1 + rng.Next(3), cpg = 1 + rng.Next(3), mpg = 1 + rng.Next(3);
            int kh = 1 + rng.Next(3), kw = 1 + rng.Next(3), sh = 1 + rng.Next(2), sw = 1 + rng.Next(2), dh = 1 + rng.Next(2), dw = 1 + rng.Next(2);
            int pt = rng.Next(2), pl = rng.Next(2), h = kh * dh + rng.Next(6), w = kw * dw + rng.Next(6);
            int oh = (h + 2 * pt - ((kh - 1) * dh + 1)) / sh + 1, ow = (w + 2 * pl - ((kw - 1) * dw + 1)) / sw + 1;
            bool xs = rng.Next(2) == 1, ws = rng.Next(2) == 1;
            var g = new QLinearConvGeometry(2, group * cpg, h, w, group * mpg, oh, ow, kh, kw, sh, sw, pt, pl, dh, dw, group);
            var x = new byte[2 * g.InChannels * h * w]; rng.NextBytes(x);
            var wt = new byte[g.OutChannels * g.ReductionLength]; rng.NextBytes(wt);
            var wzp = Enumerable.Range(0, g.OutChannels).Select(_ => rng.Next(-5, 5) + (ws ? 0 : 128)).ToArray();
            var bias = Enumerable.Range(0, g.OutChannels).Select(_ => rng.Next(-1000, 1000)).ToArray();
            var mult = Enumerable.Range(0, g.OutChannels).Select(_ => 0.0005f + (float)rng.NextDouble() * 0.001f).ToArray();
            int xzp = xs ? 3 : 130, yzp = xs ? -4 : 120;
            int ymin = xs ? -128 : 0, ymax = xs ? 127 : 255;
            var packed = new short[wt.Length];
            QLinearConvReference.PackWeights(wt, ws, wzp, g, packed);
            var y = new byte[2 * g.OutChannels * oh * ow];
            QLinearConvReference.Run(g, x, xs, xzp, packed, bias, mult, yzp, ymin, ymax, y,
                new int[QLinearConvReference.ColumnScratchLength(g)], new int[QLinearConvReference.AccumulatorScratchLength(g)]);
            for (int n = 0; n < 2; n++)
                for (int m = 0; m < g.OutChannels; m++)
                    for (int i = 0; i < oh; i++)
                        for (int j = 0; j < ow; j++)
                        {
                            int acc = bias[m], gi = m / mpg;
                            for (int c = 0; c < cpg; c++)
                                for (int a = 0; a < kh; a++)
                                    for (int b = 0; b < kw; b++)
                                    {
                                        int ih = i * sh - pt + a * dh, iw = j * sw - pl + b * dw;
                                        if (ih < 0 || ih >= h || iw < 0 || iw >= w) continue;
                                        int xv = QuantizedByte.Value(x[((n * g.InChannels + gi * cpg + c) * h + ih) * w + iw], xs) - xzp;
                                        int wv = QuantizedByte.Value(wt[((m * cpg + c) * kh + a) * kw + b], ws) - wzp[m];
                                        acc += xv * wv;
                                    }
                            int expected = Math.Clamp((int)MathF.Round((float)acc * mult[m], MidpointRounding.ToEven) + yzp, ymin, ymax);
                            Assert.True(expected == QuantizedByte.Value(y[((n * g.OutChannels + m) * oh + i) * ow + j], xs), $"trial {trial} {g} at n{n} m{m} ({i},{j})");
                        }
        }
    }
}
