using EdgeRuntime.Kernels.Common;

namespace EdgeRuntime.Kernels.Depthwise;

/// <summary>Outcome of <see cref="DepthwiseConvSelfTest.Run"/>.</summary>
/// <param name="Passed">Cases whose output equals the reference byte for byte.</param>
/// <param name="Failed">Cases with at least one differing byte.</param>
/// <param name="FirstMismatch">Description of the first differing byte (case, channel, position, values), or null.</param>
public readonly record struct DepthwiseConvSelfTestResult(int Passed, int Failed, string? FirstMismatch);

/// <summary>
/// One self-test case: geometry and quantization parameters; the data comes from <see cref="Seed"/>.
/// Weights lie in [-255, 255], or in int8 for even seeds (as in symmetric int8 models). <see cref="Extreme"/> cases use
/// saturating inputs (|x - xZeroPoint| = 255, weights ±255 or int8's ends, huge biases) and
/// edge multipliers (exact ties, 0, tiny, huge, infinite, NaN).
/// </summary>
public readonly record struct DepthwiseConvSelfTestCase(DepthwiseConvGeometry Geometry, bool XSigned, bool YSigned,
    bool Extreme, bool FusedClamp, bool WithBias, int Seed)
{
    /// <inheritdoc/>
    public override string ToString()
    {
        var g = Geometry;
        return $"C={g.Channels} in={g.InHeight}x{g.InWidth} out={g.OutHeight}x{g.OutWidth} k={g.KernelHeight}x{g.KernelWidth} " +
            $"s={g.StrideHeight}x{g.StrideWidth} pad={g.PadTop},{g.PadLeft} d={g.DilationHeight}x{g.DilationWidth} " +
            $"x={(XSigned ? "int8" : "uint8")} y={(YSigned ? "int8" : "uint8")} {(Extreme ? "extreme" : "random")}" +
            $"{(FusedClamp ? " clamp" : "")}{(WithBias ? "" : " nobias")} seed={Seed}";
    }
}

/// <summary>
/// Self-test of one <see cref="IsaPath"/> of <see cref="DepthwiseConv"/> against <see cref="DepthwiseConvReference"/>
/// over a deterministic sweep: channels {1,2,3,4,7,8,15,16,17,31,32,33,64}, odd input heights 1..29 and widths 1..29 or
/// 35..63, each case as the path chooses, without channel groups and with the row ring forced (<see cref="DepthwiseConv.RowRingOnly"/>),
/// then over a channel range and in three bands of output rows (as threads split layers), 3×3 and 5×5 kernels, strides 1 and 2, leading and trailing pads 0..2, uint8/int8 input and output,
/// random and extreme data, with and without bias and fused clamps; plus a few other shapes (1×1, 7×7, 3×5, height
/// stride ≠ width stride, stride 3, dilation 2) that exercise the generic loops and the reference fallback; plus even
/// input sizes 2..56 with the padding TensorFlow's SAME gives (as in the converted MobileNets), where stride-2 rows
/// split into even and odd columns end differently than with odd sizes (and stride-2 rows widened straight from the
/// input on AVX2 end in whole vectors at 32 and 48 columns, in a partial one at 46).
/// </summary>
public static class DepthwiseConvSelfTest
{
    private static readonly int[] ChannelCounts = [1, 2, 3, 4, 7, 8, 15, 16, 17, 31, 32, 33, 64];

    /// <summary>The sweep (deterministic for a given <paramref name="seed"/>).</summary>
    public static IEnumerable<DepthwiseConvSelfTestCase> Cases(int seed = 20240601)
    {
        var random = new Random(seed);
        int index = 0;
        foreach (int kernel in new[] { 3, 5 })
            foreach (int stride in new[] { 1, 2 })
                for (int pad = 0; pad <= 2; pad++)
                    foreach (bool xSigned in new[] { false, true })
                        foreach (bool extreme in new[] { false, true })
                            for (int sample = 0; sample < 5; sample++, index++)
                            {
                                int channels = ChannelCounts[index % ChannelCounts.Length];
                                int inHeight = 1 + 2 * (index % 15);
                                // A third of the widths are 35..63, where stride-1 3×3 flat planes pair their rows.
                                int inWidth = 1 + 2 * ((index * 7 + 3) % 15) + (index % 3 == 0 ? 34 : 0);
                                int padTop = pad, padLeft = (pad + sample) % 3;
                                int padBottom = random.Next(3), padRight = random.Next(3);
                                // Too small for the kernel even with padding: grow the input (keeping it odd).
                                while (inHeight + padTop + padBottom < kernel) inHeight += 2;
                                while (inWidth + padLeft + padRight < kernel) inWidth += 2;
                                var g = new DepthwiseConvGeometry(channels, inHeight, inWidth,
                                    DepthwiseConvGeometry.OutputSize(inHeight, kernel, stride, padTop + padBottom),
                                    DepthwiseConvGeometry.OutputSize(inWidth, kernel, stride, padLeft + padRight),
                                    kernel, kernel, stride, stride, padTop, padLeft);
                                yield return new DepthwiseConvSelfTestCase(g, xSigned, YSigned: random.Next(2) == 1, extreme,
                                    FusedClamp: random.Next(4) == 0, WithBias: random.Next(6) != 0, Seed: random.Next());
                            }

        // Other shapes: generic fast loops (1×1, 3×5, 7×7, stride height ≠ width) and reference fallbacks (stride 3, dilation 2).
        (int kh, int kw, int sh, int sw, int dh, int dw)[] others =
            [(1, 1, 1, 1, 1, 1), (1, 1, 2, 2, 1, 1), (3, 5, 1, 2, 1, 1), (5, 3, 2, 1, 1, 1), (7, 7, 1, 1, 1, 1), (7, 7, 2, 2, 1, 1),
             (3, 3, 2, 1, 1, 1), (3, 3, 1, 2, 1, 1), (3, 3, 3, 3, 1, 1), (3, 3, 1, 1, 2, 2), (5, 5, 2, 2, 2, 1), (2, 2, 2, 2, 1, 1)];
        foreach (var (kh, kw, sh, sw, dh, dw) in others)
            foreach (bool xSigned in new[] { false, true })
                for (int sample = 0; sample < 2; sample++, index++)
                {
                    int channels = ChannelCounts[index % ChannelCounts.Length];
                    int inHeight = 9 + 2 * random.Next(11), inWidth = 9 + 2 * random.Next(11);
                    int padTop = random.Next(Math.Min(3, kh)), padLeft = random.Next(Math.Min(3, kw));
                    int padBottom = random.Next(Math.Min(3, kh)), padRight = random.Next(Math.Min(3, kw));
                    var g = new DepthwiseConvGeometry(channels, inHeight, inWidth,
                        DepthwiseConvGeometry.OutputSize(inHeight, kh, sh, padTop + padBottom, dh),
                        DepthwiseConvGeometry.OutputSize(inWidth, kw, sw, padLeft + padRight, dw),
                        kh, kw, sh, sw, padTop, padLeft, dh, dw);
                    yield return new DepthwiseConvSelfTestCase(g, xSigned, YSigned: random.Next(2) == 1, Extreme: sample == 1,
                        FusedClamp: random.Next(4) == 0, WithBias: true, Seed: random.Next());
                }

        // Even sizes with SAME padding: total (out-1)·s + k - in, the smaller half first (TensorFlow's SAME_UPPER).
        foreach (int size in new[] { 2, 4, 6, 8, 10, 14, 16, 20, 28, 32, 46, 48, 56 })
            foreach (int kernel in new[] { 3, 5 })
                foreach (int stride in new[] { 1, 2 })
                    foreach (bool xSigned in new[] { false, true })
                    {
                        int channels = ChannelCounts[index++ % ChannelCounts.Length];
                        int outSize = (size + stride - 1) / stride;
                        int totalPad = Math.Max(0, (outSize - 1) * stride + kernel - size);
                        int inHeight = size, inWidth = size + 2 * (index % 2); // square and wider-than-tall, both even
                        int outWidth = (inWidth + stride - 1) / stride;
                        int totalPadWidth = Math.Max(0, (outWidth - 1) * stride + kernel - inWidth);
                        var g = new DepthwiseConvGeometry(channels, inHeight, inWidth, outSize, outWidth,
                            kernel, kernel, stride, stride, totalPad / 2, totalPadWidth / 2);
                        yield return new DepthwiseConvSelfTestCase(g, xSigned, YSigned: xSigned, Extreme: index % 3 == 0,
                            FusedClamp: index % 4 == 0, WithBias: true, Seed: random.Next());
                    }
    }

    /// <summary>Runs <paramref name="isa"/> (which must be supported) over <see cref="Cases"/> and counts exact matches.</summary>
    public static DepthwiseConvSelfTestResult Run(IsaPath isa, int seed = 20240601)
    {
        int passed = 0, failed = 0;
        string? firstMismatch = null;
        foreach (var testCase in Cases(seed))
        {
            string? mismatch = Check(isa, testCase);
            if (mismatch is null) passed++;
            else
            {
                failed++;
                firstMismatch ??= mismatch;
            }
        }
        return new DepthwiseConvSelfTestResult(passed, failed, firstMismatch);
    }

    /// <summary>Runs one case on <paramref name="isa"/> and the reference; null when equal, else the first difference.</summary>
    public static string? Check(IsaPath isa, in DepthwiseConvSelfTestCase testCase)
    {
        var g = testCase.Geometry;
        var data = CaseData.Create(testCase);
        var expected = new byte[g.Channels * g.OutPlane];
        var actual = new byte[expected.Length];
        DepthwiseConvReference.Run(g, data.X, testCase.XSigned, data.XZeroPoint, data.Weights, data.Bias, data.Multipliers,
            data.YZeroPoint, data.YMin, data.YMax, expected, 0, g.Channels);
        // Every case runs three times: as the path picks (AVX2 channel groups for small planes, flat planes for narrow
        // layers), without channel groups, and with the row ring forced, so every layout is checked on every geometry
        // it could take.
        foreach (var (rowRingOnly, noChannelGroups) in new[] { (false, false), (false, true), (true, true) })
        {
            bool previous = DepthwiseConv.RowRingOnly, previousGroups = DepthwiseConv.NoChannelGroups;
            DepthwiseConv.RowRingOnly = rowRingOnly;
            DepthwiseConv.NoChannelGroups = noChannelGroups;
            try
            {
                var scratch = new int[DepthwiseConv.ScratchLength(g)];
                Array.Clear(actual);
                DepthwiseConv.Run(isa, g, data.X, testCase.XSigned, data.XZeroPoint, data.Weights, data.Bias, data.Multipliers,
                    data.YZeroPoint, data.YMin, data.YMax, actual, scratch);
            }
            finally
            {
                DepthwiseConv.RowRingOnly = previous;
                DepthwiseConv.NoChannelGroups = previousGroups;
            }
            for (int i = 0; i < expected.Length; i++)
                if (expected[i] != actual[i])
                {
                    int c = i / g.OutPlane, oh = i % g.OutPlane / g.OutWidth, ow = i % g.OutWidth;
                    return $"{CpuFeatures.Name(isa)} depthwise{(rowRingOnly ? " (row ring)" : noChannelGroups ? " (no channel groups)" : "")} {testCase}: channel {c} at ({oh},{ow}) expected {expected[i]} got {actual[i]}";
                }
        }
        // A channel range, as a worker thread runs it: channels 1 .. C-2 into an output holding a sentinel, which the
        // channels outside the range must keep (whole-vector stores may run on only to the end of the range).
        if (g.Channels >= 3)
        {
            const byte Sentinel = 0xA5;
            Array.Fill(actual, Sentinel);
            var scratch = new int[DepthwiseConv.ScratchLength(g)];
            DepthwiseConv.Run(isa, g, data.X, testCase.XSigned, data.XZeroPoint, data.Weights, data.Bias, data.Multipliers,
                data.YZeroPoint, data.YMin, data.YMax, actual, scratch, 1, g.Channels - 2);
            for (int i = 0; i < actual.Length; i++)
            {
                int c = i / g.OutPlane;
                byte want = c == 0 || c == g.Channels - 1 ? Sentinel : expected[i];
                if (actual[i] != want)
                    return $"{CpuFeatures.Name(isa)} depthwise {testCase} channels 1..{g.Channels - 2}: channel {c} at ({i % g.OutPlane / g.OutWidth},{i % g.OutWidth}) expected {want} got {actual[i]}";
            }
        }
        // Row bands, as worker threads splitting a layer by rows run them: a middle band into an output holding a
        // sentinel, which every other row must keep (a band's whole-vector stores stop at the end of its rows of each
        // channel), then the bands above and below it, which must complete the reference's output.
        if (g.OutHeight >= 2)
        {
            const byte Sentinel = 0x5A;
            int first = (testCase.Seed & 0x7fffffff) % g.OutHeight, count = Math.Max(1, (g.OutHeight - first) / 2);
            Array.Fill(actual, Sentinel);
            RunRows(isa, testCase, data, actual, first, count);
            for (int i = 0; i < actual.Length; i++)
            {
                int oh = i % g.OutPlane / g.OutWidth;
                byte want = oh >= first && oh < first + count ? expected[i] : Sentinel;
                if (actual[i] != want)
                    return $"{CpuFeatures.Name(isa)} depthwise {testCase} rows {first}..{first + count - 1}: channel {i / g.OutPlane} at ({oh},{i % g.OutWidth}) expected {want} got {actual[i]}";
            }
            RunRows(isa, testCase, data, actual, 0, first);
            RunRows(isa, testCase, data, actual, first + count, g.OutHeight - first - count);
            for (int i = 0; i < expected.Length; i++)
                if (expected[i] != actual[i])
                    return $"{CpuFeatures.Name(isa)} depthwise {testCase} in the row bands [0, {first}), [{first}, {first + count}), [{first + count}, {g.OutHeight}): channel {i / g.OutPlane} at ({i % g.OutPlane / g.OutWidth},{i % g.OutWidth}) expected {expected[i]} got {actual[i]}";
        }
        return null;
    }

    private static void RunRows(IsaPath isa, in DepthwiseConvSelfTestCase testCase, CaseData data, byte[] y, int rowFirst, int rowCount)
    {
        var g = testCase.Geometry;
        var weights = new DepthwiseConvWeights(g, data.Weights, isa);
        DepthwiseConv.Run(isa, g, data.X, testCase.XSigned, data.XZeroPoint, weights, data.Bias, data.Multipliers,
            data.YZeroPoint, data.YMin, data.YMax, y, new int[DepthwiseConv.ScratchLength(g, rowFirst, rowCount)], 0, g.Channels, rowFirst, rowCount);
    }

    /// <summary>Inputs of one case, generated from its seed.</summary>
    public sealed class CaseData
    {
        /// <summary>Input bytes <c>[C, H, W]</c>.</summary>
        public required byte[] X { get; init; }
        /// <summary>Weights minus zero points <c>[C][KH*KW]</c>.</summary>
        public required short[] Weights { get; init; }
        /// <summary>Per-channel bias, or empty.</summary>
        public required int[] Bias { get; init; }
        /// <summary>Per-channel multipliers.</summary>
        public required float[] Multipliers { get; init; }
        /// <summary>Input zero point.</summary>
        public int XZeroPoint { get; init; }
        /// <summary>Output zero point.</summary>
        public int YZeroPoint { get; init; }
        /// <summary>Output lower bound.</summary>
        public int YMin { get; init; }
        /// <summary>Output upper bound.</summary>
        public int YMax { get; init; }

        /// <summary>Generates the data of <paramref name="testCase"/>.</summary>
        public static CaseData Create(in DepthwiseConvSelfTestCase testCase)
        {
            var g = testCase.Geometry;
            var random = new Random(testCase.Seed);
            int xLow = Requantization.MinOf(testCase.XSigned), xHigh = Requantization.MaxOf(testCase.XSigned);
            int yLow = Requantization.MinOf(testCase.YSigned), yHigh = Requantization.MaxOf(testCase.YSigned);
            var x = new byte[g.Channels * g.InPlane];
            var weights = new short[g.Channels * g.Taps];
            var bias = testCase.WithBias ? new int[g.Channels] : [];
            var multipliers = new float[g.Channels];
            int xZeroPoint;
            if (testCase.Extreme)
            {
                // Inputs at one end of the range, the zero point at the other: |x - xZeroPoint| = 255 where not padding.
                bool high = random.Next(2) == 0;
                xZeroPoint = high ? xLow : xHigh;
                for (int i = 0; i < x.Length; i++)
                {
                    int value = random.Next(8) == 0 ? random.Next(xLow, xHigh + 1) : high ? xHigh : xLow;
                    x[i] = (byte)value;
                }
                // Every other seed keeps the weights in int8 (symmetric int8 models; the SDOT path needs them there).
                bool int8Weights = (testCase.Seed & 1) == 0;
                for (int i = 0; i < weights.Length; i++)
                    weights[i] = (short)(int8Weights ? (random.Next(2) == 0 ? 127 : -128) : (random.Next(2) == 0 ? 255 : -255));
                float[] edgeMultipliers = [0.5f, 0.25f, 1f, 1f / 1024, 0f, 1e-12f, 1e30f, float.PositiveInfinity, float.NaN, 3.1e-5f];
                for (int c = 0; c < g.Channels; c++)
                {
                    multipliers[c] = edgeMultipliers[random.Next(edgeMultipliers.Length)];
                    if (bias.Length > 0)
                        bias[c] = random.Next(4) switch { 0 => int.MaxValue - random.Next(1000), 1 => int.MinValue + random.Next(1000), _ => random.Next(-3, 4) };
                }
            }
            else
            {
                random.NextBytes(x);
                xZeroPoint = random.Next(xLow, xHigh + 1);
                bool int8Weights = (testCase.Seed & 1) == 0;
                for (int i = 0; i < weights.Length; i++) weights[i] = (short)(int8Weights ? random.Next(-128, 128) : random.Next(-255, 256));
                for (int c = 0; c < g.Channels; c++)
                {
                    // Spread |acc| (≈ 255 * 255 * sqrt(taps)) over the output range, sometimes exactly onto ties.
                    multipliers[c] = random.Next(5) == 0 ? 1f / (1 << random.Next(6, 12)) : (float)(random.NextDouble() * 4e-3);
                    if (bias.Length > 0) bias[c] = random.Next(-100000, 100001);
                }
            }
            int yZeroPoint = random.Next(yLow, yHigh + 1);
            int yMin = yLow, yMax = yHigh;
            if (testCase.FusedClamp)
            {
                yMin = Math.Max(yLow, yZeroPoint);                      // Relu
                yMax = Math.Min(yHigh, yMin + random.Next(1, 200));     // Relu6-like upper bound
            }
            return new CaseData { X = x, Weights = weights, Bias = bias, Multipliers = multipliers, XZeroPoint = xZeroPoint, YZeroPoint = yZeroPoint, YMin = yMin, YMax = yMax };
        }
    }
}
