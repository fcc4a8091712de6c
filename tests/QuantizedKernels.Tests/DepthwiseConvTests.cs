using EdgeRuntime.Kernels.Common;
using EdgeRuntime.Kernels.Conv;
using EdgeRuntime.Kernels.Depthwise;
using Xunit;

namespace EdgeRuntime.Kernels.Tests;

/// <summary>The depthwise definition against the general QLinearConv reference, and every path against the definition.</summary>
public sealed class DepthwiseConvTests
{
    public static TheoryData<IsaPath> SupportedPaths()
    {
        var data = new TheoryData<IsaPath>();
        foreach (var path in Enum.GetValues<IsaPath>())
            if (CpuFeatures.IsSupported(path)) data.Add(path);
        return data;
    }

    [Fact]
    public void Reference_EqualsQLinearConvWithGroupEqualToChannels()
    {
        var random = new Random(4242);
        for (int trial = 0; trial < 150; trial++)
        {
            int channels = random.Next(1, 20);
            int kh = random.Next(1, 6), kw = random.Next(1, 6);
            int sh = random.Next(1, 4), sw = random.Next(1, 4);
            int dh = random.Next(1, 3), dw = random.Next(1, 3);
            int padTop = random.Next(3), padLeft = random.Next(3), padBottom = random.Next(3), padRight = random.Next(3);
            int inHeight = random.Next(1, 20), inWidth = random.Next(1, 20);
            int outHeight = DepthwiseConvGeometry.OutputSize(inHeight, kh, sh, padTop + padBottom, dh);
            int outWidth = DepthwiseConvGeometry.OutputSize(inWidth, kw, sw, padLeft + padRight, dw);
            if (outHeight < 1 || outWidth < 1) continue;
            bool xSigned = random.Next(2) == 1, wSigned = random.Next(2) == 1, ySigned = random.Next(2) == 1;
            var dg = new DepthwiseConvGeometry(channels, inHeight, inWidth, outHeight, outWidth, kh, kw, sh, sw, padTop, padLeft, dh, dw);
            var cg = new QLinearConvGeometry(1, channels, inHeight, inWidth, channels, outHeight, outWidth, kh, kw, sh, sw, padTop, padLeft, dh, dw, channels);

            var x = new byte[channels * inHeight * inWidth];
            random.NextBytes(x);
            var rawWeights = new byte[channels * kh * kw];
            random.NextBytes(rawWeights);
            var weightZeroPoints = new int[channels];
            for (int c = 0; c < channels; c++) weightZeroPoints[c] = random.Next(Requantization.MinOf(wSigned), Requantization.MaxOf(wSigned) + 1);
            var weights = new short[rawWeights.Length];
            QLinearConvReference.PackWeights(rawWeights, wSigned, weightZeroPoints, cg, weights);
            var bias = random.Next(4) == 0 ? Array.Empty<int>() : Enumerable.Range(0, channels).Select(_ => random.Next(-50000, 50000)).ToArray();
            var multipliers = Enumerable.Range(0, channels).Select(_ => (float)(random.NextDouble() * 3e-3)).ToArray();
            int xZeroPoint = random.Next(Requantization.MinOf(xSigned), Requantization.MaxOf(xSigned) + 1);
            int yZeroPoint = random.Next(Requantization.MinOf(ySigned), Requantization.MaxOf(ySigned) + 1);
            int yMin = Requantization.MinOf(ySigned), yMax = Requantization.MaxOf(ySigned);

            var expected = new byte[channels * outHeight * outWidth];
            QLinearConvReference.Run(cg, x, xSigned, xZeroPoint, weights, bias, multipliers, yZeroPoint, yMin, yMax, expected,
                new int[QLinearConvReference.ColumnScratchLength(cg)], new int[QLinearConvReference.AccumulatorScratchLength(cg)]);
            var actual = new byte[expected.Length];
            DepthwiseConvReference.Run(dg, x, xSigned, xZeroPoint, weights, bias, multipliers, yZeroPoint, yMin, yMax, actual, 0, channels);
            Assert.True(expected.AsSpan().SequenceEqual(actual), $"trial {trial}: {dg} x{(xSigned ? "int8" : "uint8")} w{(wSigned ? "int8" : "uint8")} y{(ySigned ? "int8" : "uint8")}");
        }
    }

    [Theory]
    [MemberData(nameof(SupportedPaths))]
    public void EveryPath_MatchesReferenceOverTheSweep(IsaPath isa)
    {
        var result = DepthwiseConvSelfTest.Run(isa);
        Assert.True(result.Failed == 0, $"{result.Failed} of {result.Passed + result.Failed} cases differ; first: {result.FirstMismatch}");
        Assert.True(result.Passed > 250, $"only {result.Passed} cases ran");
    }

    [Theory]
    [MemberData(nameof(SupportedPaths))]
    public void EveryPath_MatchesReferenceOnMobileNetShapes(IsaPath isa)
    {
        // Real layer shapes (reduced channel counts): 3×3 s1/s2 pad 1 and 5×5 s1/s2 pad 2 at 56, 28, 14 and 7.
        int seed = 7;
        foreach (var (kernel, stride, size, channels) in new[] { (3, 1, 56, 5), (3, 2, 56, 3), (3, 1, 7, 40), (5, 1, 14, 9), (5, 2, 28, 4), (3, 2, 112, 2) })
        {
            int pad = kernel / 2;
            int outSize = DepthwiseConvGeometry.OutputSize(size, kernel, stride, 2 * pad);
            var g = new DepthwiseConvGeometry(channels, size, size, outSize, outSize, kernel, kernel, stride, stride, pad, pad);
            foreach (bool signed in new[] { false, true })
            {
                var testCase = new DepthwiseConvSelfTestCase(g, signed, signed, Extreme: false, FusedClamp: seed % 3 == 0, WithBias: true, Seed: seed++);
                Assert.Null(DepthwiseConvSelfTest.Check(isa, testCase));
            }
        }
    }

    [Theory]
    [MemberData(nameof(SupportedPaths))]
    public void ChannelRange_WritesOnlyThoseChannels(IsaPath isa)
    {
        var g = new DepthwiseConvGeometry(9, 13, 11, 13, 11, 3, 3, 1, 1, 1, 1);
        var data = DepthwiseConvSelfTest.CaseData.Create(new DepthwiseConvSelfTestCase(g, false, false, false, false, true, 99));
        var expected = new byte[g.Channels * g.OutPlane];
        DepthwiseConvReference.Run(g, data.X, false, data.XZeroPoint, data.Weights, data.Bias, data.Multipliers, data.YZeroPoint, data.YMin, data.YMax, expected, 0, g.Channels);
        var actual = new byte[expected.Length];
        Array.Fill(actual, (byte)0xA5);
        var scratch = new int[DepthwiseConv.ScratchLength(g)];
        DepthwiseConv.Run(isa, g, data.X, false, data.XZeroPoint, data.Weights, data.Bias, data.Multipliers, data.YZeroPoint, data.YMin, data.YMax, actual, scratch, 3, 4);
        for (int i = 0; i < actual.Length; i++)
        {
            int c = i / g.OutPlane;
            Assert.Equal(c is >= 3 and < 7 ? expected[i] : (byte)0xA5, actual[i]);
        }
        // The remaining channels complete the output.
        DepthwiseConv.Run(isa, g, data.X, false, data.XZeroPoint, data.Weights, data.Bias, data.Multipliers, data.YZeroPoint, data.YMin, data.YMax, actual, scratch, 0, 3);
        DepthwiseConv.Run(isa, g, data.X, false, data.XZeroPoint, data.Weights, data.Bias, data.Multipliers, data.YZeroPoint, data.YMin, data.YMax, actual, scratch, 7, 2);
        Assert.Equal(expected, actual);
    }

    [Theory]
    [MemberData(nameof(SupportedPaths))]
    public void RowBands_OfEveryHeight_IncludingBandsOfPaddingOnly_MatchReference(IsaPath isa)
    {
        // 1×1 with two rows of padding above and below: bands of the first or last two output rows read nothing but
        // padding (their outputs are the bias alone); every split of a 3×3 s2 layer into two bands, one row at a time.
        var geometries = new[]
        {
            new DepthwiseConvGeometry(5, 6, 9, 10, 9, 1, 1, 1, 1, 2, 0),
            new DepthwiseConvGeometry(17, 15, 14, 8, 7, 3, 3, 2, 2, 1, 1),
        };
        int seed = 900;
        foreach (var g in geometries)
            foreach (bool signed in new[] { false, true })
            {
                var data = DepthwiseConvSelfTest.CaseData.Create(new DepthwiseConvSelfTestCase(g, signed, !signed, false, false, true, seed++));
                var expected = new byte[g.Channels * g.OutPlane];
                DepthwiseConvReference.Run(g, data.X, signed, data.XZeroPoint, data.Weights, data.Bias, data.Multipliers, data.YZeroPoint, data.YMin, data.YMax, expected, 0, g.Channels);
                var weights = new DepthwiseConvWeights(g, data.Weights, isa);
                for (int split = 0; split <= g.OutHeight; split++)
                {
                    var actual = new byte[expected.Length];
                    foreach (var (first, count) in new[] { (0, split), (split, g.OutHeight - split) })
                        DepthwiseConv.Run(isa, g, data.X, signed, data.XZeroPoint, weights, data.Bias, data.Multipliers, data.YZeroPoint, data.YMin, data.YMax,
                            actual, new int[DepthwiseConv.ScratchLength(g, first, count)], 0, g.Channels, first, count);
                    Assert.True(expected.AsSpan().SequenceEqual(actual), $"{g} x{(signed ? "int8" : "uint8")}: bands [0, {split}) and [{split}, {g.OutHeight})");
                }
            }
    }

    [Fact]
    public void RowBands_OutsideTheOutput_Throw()
    {
        var g = new DepthwiseConvGeometry(2, 3, 3, 3, 3, 3, 3, 1, 1, 1, 1);
        var weights = new DepthwiseConvWeights(g, new short[18]);
        var scratch = new int[DepthwiseConv.ScratchLength(g)];
        foreach (var (first, count) in new[] { (-1, 2), (0, 4), (2, 2), (1, -1) })
        {
            Assert.Throws<ArgumentException>(() => DepthwiseConv.Run(CpuFeatures.Best, g, new byte[18], false, 0, weights, [], [1f, 1f], 0, 0, 255,
                new byte[18], scratch, 0, 2, first, count));
            Assert.Throws<ArgumentException>(() => DepthwiseConv.ScratchLength(g, first, count));
        }
    }

    [Theory]
    [MemberData(nameof(SupportedPaths))]
    public void EveryPath_MatchesReferenceOnEveryNarrowWidthAndHeight(IsaPath isa)
    {
        // Every output width 1..20 and height 1..6 (two-row passes with an odd last row, stores running into the next
        // row, partial stores at the plane end), 3×3 and 5×5, strides 1 and 2, uint8 and int8.
        int seed = 100;
        foreach (int kernel in new[] { 3, 5 })
            foreach (int stride in new[] { 1, 2 })
                for (int outWidth = 1; outWidth <= 20; outWidth++)
                    for (int outHeight = 1; outHeight <= 6; outHeight++)
                    {
                        int pad = kernel / 2;
                        int inWidth = Math.Max(1, (outWidth - 1) * stride + kernel - 2 * pad);
                        int inHeight = Math.Max(1, (outHeight - 1) * stride + kernel - 2 * pad);
                        var g = new DepthwiseConvGeometry(3, inHeight, inWidth,
                            DepthwiseConvGeometry.OutputSize(inHeight, kernel, stride, 2 * pad),
                            DepthwiseConvGeometry.OutputSize(inWidth, kernel, stride, 2 * pad), kernel, kernel, stride, stride, pad, pad);
                        bool signed = seed % 2 == 0;
                        var testCase = new DepthwiseConvSelfTestCase(g, signed, !signed, Extreme: seed % 5 == 0, FusedClamp: seed % 3 == 0,
                            WithBias: true, Seed: seed++);
                        Assert.Null(DepthwiseConvSelfTest.Check(isa, testCase));
                    }
    }

    [Theory]
    [MemberData(nameof(SupportedPaths))]
    public void EveryPath_MatchesReferenceWhenRequantizationParametersLeaveTheByteRange(IsaPath isa)
    {
        // Zero points and clamp ranges outside the 8-bit types (the fast paths hand these to the reference).
        var g = new DepthwiseConvGeometry(5, 9, 11, 9, 11, 3, 3, 1, 1, 1, 1);
        var data = DepthwiseConvSelfTest.CaseData.Create(new DepthwiseConvSelfTestCase(g, true, false, false, false, true, 5));
        foreach (var (zeroPoint, min, max) in new[] { (300, 0, 255), (-300, -128, 127), (10, -200, 300), (0, 0, 1000), (5, 7, 3) })
        {
            var expected = new byte[g.Channels * g.OutPlane];
            DepthwiseConvReference.Run(g, data.X, true, data.XZeroPoint, data.Weights, data.Bias, data.Multipliers, zeroPoint, min, max, expected, 0, g.Channels);
            var actual = new byte[expected.Length];
            DepthwiseConv.Run(isa, g, data.X, true, data.XZeroPoint, data.Weights, data.Bias, data.Multipliers, zeroPoint, min, max, actual,
                new int[DepthwiseConv.ScratchLength(g)]);
            Assert.True(expected.AsSpan().SequenceEqual(actual), $"zero point {zeroPoint}, clamp [{min}, {max}]");
        }
    }

    [Fact]
    public void UnsupportedPath_Throws()
    {
        var unsupported = Enum.GetValues<IsaPath>().Where(p => !CpuFeatures.IsSupported(p)).ToArray();
        var g = new DepthwiseConvGeometry(1, 3, 3, 3, 3, 3, 3, 1, 1, 1, 1);
        foreach (var isa in unsupported)
            Assert.Throws<IsaNotSupportedException>(() => DepthwiseConv.Run(isa, g, new byte[9], false, 0, new short[9], [], [1f], 0, 0, 255, new byte[9], new int[DepthwiseConv.ScratchLength(g)]));
    }

    [Fact]
    public void ShortSpansAndBadRanges_Throw()
    {
        var g = new DepthwiseConvGeometry(2, 3, 3, 3, 3, 3, 3, 1, 1, 1, 1);
        var scratch = new int[DepthwiseConv.ScratchLength(g)];
        Assert.Throws<ArgumentException>(() => DepthwiseConv.Run(IsaPath.Scalar, g, new byte[17], false, 0, new short[18], [], [1f, 1f], 0, 0, 255, new byte[18], scratch));
        Assert.Throws<ArgumentException>(() => DepthwiseConv.Run(IsaPath.Scalar, g, new byte[18], false, 0, new short[18], [], [1f, 1f], 0, 0, 255, new byte[18], scratch, 1, 2));
        Assert.Throws<ArgumentException>(() => DepthwiseConv.Run(CpuFeatures.Best, g, new byte[18], false, 0, new short[18], [], [1f, 1f], 0, 0, 255, new byte[18], new int[1]));
    }

    [Fact]
    public void PackedWeights_ForAnotherGeometry_AreRefused()
    {
        var g = new DepthwiseConvGeometry(2, 3, 3, 3, 3, 3, 3, 1, 1, 1, 1);
        var scratch = new int[DepthwiseConv.ScratchLength(g)];
        var threeChannels = new DepthwiseConvWeights(new DepthwiseConvGeometry(3, 3, 3, 3, 3, 3, 3, 1, 1, 1, 1), new short[27]);
        var fiveByFive = new DepthwiseConvWeights(new DepthwiseConvGeometry(2, 5, 5, 5, 5, 5, 5, 1, 1, 2, 2), new short[50]);
        var oneByNine = new DepthwiseConvWeights(new DepthwiseConvGeometry(2, 3, 11, 3, 3, 1, 9, 1, 1, 0, 0), new short[18]);
        foreach (var wrong in new[] { threeChannels, fiveByFive, oneByNine })
            Assert.Throws<ArgumentException>(() => DepthwiseConv.Run(CpuFeatures.Best, g, new byte[18], false, 0, wrong, [], [1f, 1f], 0, 0, 255, new byte[18], scratch));
        Assert.Throws<ArgumentException>(() => new DepthwiseConvWeights(g, new short[17]));
    }

    [Theory]
    [MemberData(nameof(SupportedPaths))]
    public void PackedWeights_ReusedAcrossRunsAndChannelRanges_MatchReference(IsaPath isa)
    {
        // Weights packed once (as the runtime does at load) serve many runs; mixes int8-range and 9-bit weights so the
        // SDOT path takes both its channel kinds.
        var g = new DepthwiseConvGeometry(12, 14, 14, 7, 7, 3, 3, 2, 2, 0, 0, 1, 1);
        for (int seed = 0; seed < 4; seed++)
        {
            var data = DepthwiseConvSelfTest.CaseData.Create(new DepthwiseConvSelfTestCase(g, true, true, seed % 2 == 0, seed == 1, true, 500 + seed));
            var expected = new byte[g.Channels * g.OutPlane];
            DepthwiseConvReference.Run(g, data.X, true, data.XZeroPoint, data.Weights, data.Bias, data.Multipliers, data.YZeroPoint, data.YMin, data.YMax, expected, 0, g.Channels);
            var scratch = new int[DepthwiseConv.ScratchLength(g)];
            foreach (var packed in new[] { new DepthwiseConvWeights(g, data.Weights), new DepthwiseConvWeights(g, data.Weights, isa) })
            for (int run = 0; run < 2; run++)
            {
                var actual = new byte[expected.Length];
                DepthwiseConv.Run(isa, g, data.X, true, data.XZeroPoint, packed, data.Bias, data.Multipliers, data.YZeroPoint, data.YMin, data.YMax, actual, scratch, 0, 5);
                DepthwiseConv.Run(isa, g, data.X, true, data.XZeroPoint, packed, data.Bias, data.Multipliers, data.YZeroPoint, data.YMin, data.YMax, actual, scratch, 5, 7);
                Assert.Equal(expected, actual);
            }
        }
    }

    /// <summary>
    /// Weights packed for one path hold only that path family's forms (a model loads them so), so they are smaller; they
    /// serve the portable paths too, and are refused, with both paths named, by a family whose forms they lack.
    /// </summary>
    [Fact]
    public void PackedWeights_ForOnePath_AreSmallerAndRefusedByOtherFamilies()
    {
        var g = new DepthwiseConvGeometry(20, 9, 9, 9, 9, 3, 3, 1, 1, 1, 1);
        var weights = Enumerable.Range(0, g.Channels * g.Taps).Select(i => (short)(i % 200 - 100)).ToArray();
        var every = new DepthwiseConvWeights(g, weights);
        var avx2 = new DepthwiseConvWeights(g, weights, IsaPath.Avx2);
        var neon = new DepthwiseConvWeights(g, weights, IsaPath.Neon);
        var dot = new DepthwiseConvWeights(g, weights, IsaPath.NeonDot);
        var portable = new DepthwiseConvWeights(g, weights, IsaPath.Vector128);
        // Per channel: 9 weights + a sum (22 bytes), AVX2 pairs 6 + 5 ints (+16 padding ints), NEON lanes 32, SDOT rows 17.
        Assert.Equal(20 * 22, portable.PackedBytes);
        Assert.Equal(20 * 22 + (20 * 6 + 5 * 36) * 4, avx2.PackedBytes);
        Assert.Equal(20 * (22 + 32), neon.PackedBytes);
        Assert.Equal(20 * (22 + 32 + 17), dot.PackedBytes);
        Assert.Equal(avx2.PackedBytes + dot.PackedBytes - portable.PackedBytes, every.PackedBytes);

        var x = Enumerable.Range(0, g.Channels * g.InPlane).Select(i => (byte)(i * 37)).ToArray();
        var multipliers = Enumerable.Repeat(0.003f, g.Channels).ToArray();
        var scratch = new int[DepthwiseConv.ScratchLength(g)];
        var expected = new byte[g.Channels * g.OutPlane];
        DepthwiseConvReference.Run(g, x, false, 3, weights, [], multipliers, 7, 0, 255, expected, 0, g.Channels);
        var byPath = new (IsaPath Path, DepthwiseConvWeights[] Served, DepthwiseConvWeights[] Refused)[]
        {
            (IsaPath.Scalar, [every, avx2, neon, dot, portable], []),
            (IsaPath.Vector128, [every, avx2, neon, dot, portable], []),
            (IsaPath.Avx2, [every, avx2], [neon, dot, portable]),
            (IsaPath.AvxVnni, [every, avx2], [neon, dot, portable]),
            (IsaPath.Neon, [every, neon, dot], [avx2, portable]),
            (IsaPath.NeonDot, [every, dot], [avx2, neon, portable]), // packed for Neon alone: no SDOT rows
        };
        foreach (var (path, served, refused) in byPath)
        {
            foreach (var packed in refused)
            {
                var error = Assert.Throws<ArgumentException>(() => DepthwiseConv.Run(path, g, x, false, 3, packed, [], multipliers, 7, 0, 255, new byte[expected.Length], scratch));
                Assert.Contains($"cannot run on the {path} path", error.Message);
                Assert.Contains("packed for the ", error.Message);
            }
            if (!CpuFeatures.IsSupported(path)) continue;
            foreach (var packed in served)
            {
                var actual = new byte[expected.Length];
                DepthwiseConv.Run(path, g, x, false, 3, packed, [], multipliers, 7, 0, 255, actual, scratch);
                Assert.Equal(expected, actual);
            }
        }
    }
}
