using EdgeRuntime.Kernels.Common;
using EdgeRuntime.Kernels.Elementwise;
using EdgeRuntime.Kernels.Pooling;

namespace EdgeRuntime.Kernels.SelfTest;

/// <summary>
/// Self-test groups of the int8 element-wise and pooling kernels (QLinearMul, QLinearGlobalAveragePool,
/// QLinearAveragePool): each path against the scalar reference over the channel sweep of
/// <see cref="KernelSelfTest.RowCounts"/>, odd spatial sizes, every broadcast form, both layouts, uint8 and int8,
/// random and saturating parameters.
/// </summary>
public static class ElementwiseSelfTest
{
    private static string TypeName(bool signed) => signed ? "int8" : "uint8";

    private static string Shape(int[] shape) => "[" + string.Join(",", shape) + "]";

    private static void Compare(SelfTestRecorder recorder, byte[] expected, byte[] actual, Func<string> describe)
    {
        int at = expected.AsSpan().CommonPrefixLength(actual);
        recorder.Check(at == expected.Length, describe, () => $"element {at}: expected {expected[at]} got {actual[at]}");
    }

    private static float RandomScale(Random rng) => (float)(rng.NextDouble() * 0.1 + 1e-3);

    private static int RandomZeroPoint(Random rng, bool signed) => signed ? rng.Next(-128, 128) : rng.Next(0, 256);

    /// <summary>QLinearMul: same shape, squeeze-and-excitation [1,C,H,W]×[1,C,1,1] (both orders), row and scalar broadcasts.</summary>
    public static void CheckQLinearMul(IsaPath isa, SelfTestRecorder recorder)
    {
        var rng = new Random(3131);
        foreach (var signed in new[] { false, true })
            foreach (var channels in KernelSelfTest.RowCounts)
                for (int variant = 0; variant < 7; variant++)
                {
                    int h = 1 + rng.Next(9), w = KernelSelfTest.ColumnCounts[rng.Next(KernelSelfTest.ColumnCounts.Count)];
                    int[] full = [1, channels, h, w];
                    (int[] a, int[] b) = variant switch
                    {
                        0 or 1 => (full, full),
                        2 => (full, new[] { 1, channels, 1, 1 }),
                        3 => (new[] { 1, channels, 1, 1 }, full),
                        4 => (full, new[] { 1, 1, 1, w }),
                        5 => (full, new[] { 1 }),
                        _ => (new[] { channels, 1, w }, new[] { 1, h, 1 }),
                    };
                    var plan = QuantizedBroadcast.Create(a, b)!;
                    var da = new byte[Count(a)];
                    var db = new byte[Count(b)];
                    rng.NextBytes(da);
                    rng.NextBytes(db);
                    // variant 1 saturates (tiny output scale); the others stay mostly in range.
                    var p = new QLinearBinaryParameters(RandomScale(rng), RandomZeroPoint(rng, signed), RandomScale(rng), RandomZeroPoint(rng, signed),
                        variant == 1 ? 1e-6f : RandomScale(rng) * 0.05f, RandomZeroPoint(rng, signed), signed);
                    var expected = new byte[plan.OutputCount];
                    var actual = new byte[plan.OutputCount];
                    QLinearMulReference.Run(plan, da, db, expected, p);
                    QLinearMul.Run(isa, plan, da, db, actual, p);
                    Compare(recorder, expected, actual, () => $"{TypeName(signed)} {Shape(a)}×{Shape(b)} {p}");
                }
    }

    /// <summary>QLinearGlobalAveragePool: NCHW and channels-last, image sizes around the 16-bit partial-sum flushes.</summary>
    public static void CheckQLinearGlobalAveragePool(IsaPath isa, SelfTestRecorder recorder)
    {
        var rng = new Random(5151);
        int[] imageSizes = [1, 2, 7, 15, 16, 17, 49, 255, 256, 257, 2047, 2048, 2049, 4113];
        foreach (var signed in new[] { false, true })
            foreach (var channelsLast in new[] { false, true })
                foreach (var channels in KernelSelfTest.RowCounts)
                    for (int t = 0; t < 3; t++)
                    {
                        int imageSize = imageSizes[rng.Next(imageSizes.Length)];
                        if (channels * imageSize > 70_000) imageSize = 49;
                        int batch = 1 + rng.Next(2);
                        var x = new byte[batch * channels * imageSize];
                        if (t == 2) Array.Fill(x, signed ? (byte)0x7F : (byte)0xFF); // all at the maximum: widest partial sums
                        else rng.NextBytes(x);
                        float xScale = RandomScale(rng), yScale = t == 1 ? RandomScale(rng) * 0.01f : RandomScale(rng);
                        int xZeroPoint = RandomZeroPoint(rng, signed), yZeroPoint = RandomZeroPoint(rng, signed);
                        var expected = new byte[batch * channels];
                        var actual = new byte[batch * channels];
                        QLinearGlobalAveragePoolReference.Run(x, signed, xScale, xZeroPoint, yScale, yZeroPoint, batch, channels, imageSize, channelsLast, expected);
                        QLinearGlobalAveragePool.Run(isa, x, signed, xScale, xZeroPoint, yScale, yZeroPoint, batch, channels, imageSize, channelsLast, actual);
                        Compare(recorder, expected, actual, () => $"{TypeName(signed)} N={batch} C={channels} image={imageSize} {(channelsLast ? "NHWC" : "NCHW")}");
                    }
    }

    /// <summary>
    /// QLinearAveragePool: kernels 1–5, strides 1–3, pads 0–2, count_include_pad, both layouts, 1-D and 2-D; then
    /// whole-plane windows.
    /// </summary>
    public static void CheckQLinearAveragePool(IsaPath isa, SelfTestRecorder recorder)
    {
        var rng = new Random(7171);
        foreach (var signed in new[] { false, true })
            foreach (var channels in KernelSelfTest.RowCounts)
                for (int t = 0; t < 6; t++)
                {
                    bool oneD = t == 5, channelsLast = t % 2 == 1;
                    int kh = oneD ? 1 : 1 + rng.Next(5), kw = 1 + rng.Next(5);
                    int sh = oneD ? 1 : 1 + rng.Next(3), sw = 1 + rng.Next(3);
                    int padTop = oneD ? 0 : rng.Next(Math.Min(3, kh)), padLeft = rng.Next(Math.Min(3, kw));
                    int padBottom = oneD ? 0 : rng.Next(Math.Min(3, kh)), padRight = rng.Next(Math.Min(3, kw));
                    int ih = oneD ? 1 : kh + rng.Next(12), iw = kw + KernelSelfTest.ColumnCounts[rng.Next(KernelSelfTest.ColumnCounts.Count)] % 40;
                    int oh = (ih + padTop + padBottom - kh) / sh + 1, ow = (iw + padLeft + padRight - kw) / sw + 1;
                    var g = new QLinearPoolGeometry(1 + rng.Next(2), channels, ih, iw, oh, ow, kh, kw, sh, sw, padTop, padLeft, rng.Next(2) == 0, channelsLast);
                    var x = new byte[g.Batch * channels * ih * iw];
                    rng.NextBytes(x);
                    float xScale = RandomScale(rng), yScale = t == 4 ? RandomScale(rng) * 0.01f : RandomScale(rng);
                    int xZeroPoint = RandomZeroPoint(rng, signed), yZeroPoint = RandomZeroPoint(rng, signed);
                    var expected = new byte[g.Batch * channels * oh * ow];
                    var actual = new byte[expected.Length];
                    QLinearAveragePoolReference.Run(g, x, signed, xScale, xZeroPoint, yScale, yZeroPoint, expected);
                    QLinearAveragePool.Run(isa, g, x, signed, xScale, xZeroPoint, yScale, yZeroPoint, actual, new float[QLinearAveragePool.ScratchLength(g)]);
                    Compare(recorder, expected, actual, () => $"{TypeName(signed)} {g}");
                }
        // Whole-plane windows (one output per plane, MobileNet's final 7×7 average): planes below, at and above 16 and 32
        // elements and not multiples of 16, channel counts leaving 1–7 planes after groups of four, eight and 32, padded
        // kernels; t = 3 makes the terms of each plane cancel exactly, so that the output (with a tiny output scale) is
        // the sign of the float sum's rounding residue, which changes with the order of the additions.
        (int H, int W)[] planes = [(7, 7), (4, 4), (1, 16), (3, 5), (5, 9), (1, 1), (17, 3), (14, 14), (4, 8), (3, 11)];
        foreach (var signed in new[] { false, true })
            foreach (var channels in KernelSelfTest.RowCounts)
                for (int t = 0; t < 4; t++)
                {
                    var (ih, iw) = planes[rng.Next(planes.Length)];
                    int padTop = t == 2 ? 1 : 0, padLeft = t == 2 ? rng.Next(2) : 0;
                    var g = new QLinearPoolGeometry(1 + rng.Next(2), channels, ih, iw, 1, 1, ih + padTop, iw + padLeft, 1, 1,
                        padTop, padLeft, rng.Next(2) == 0, false);
                    var x = new byte[g.Batch * channels * ih * iw];
                    if (t == 1) Array.Fill(x, signed ? (byte)0x80 : (byte)0); // all at the minimum
                    else rng.NextBytes(x);
                    float xScale = RandomScale(rng), yScale = t == 1 ? RandomScale(rng) * 0.01f : RandomScale(rng);
                    int xZeroPoint = RandomZeroPoint(rng, signed), yZeroPoint = RandomZeroPoint(rng, signed);
                    if (t == 3)
                    {
                        xZeroPoint = signed ? 0 : 128;
                        yScale = 1e-30f;
                        FillCancelling(x, ih * iw, xZeroPoint, rng);
                    }
                    var expected = new byte[g.Batch * channels];
                    var actual = new byte[expected.Length];
                    QLinearAveragePoolReference.Run(g, x, signed, xScale, xZeroPoint, yScale, yZeroPoint, expected);
                    QLinearAveragePool.Run(isa, g, x, signed, xScale, xZeroPoint, yScale, yZeroPoint, actual, new float[QLinearAveragePool.ScratchLength(g)]);
                    Compare(recorder, expected, actual, () => $"{TypeName(signed)} whole plane {g}");
                }
    }

    /// <summary>
    /// Fills each plane of <paramref name="planeSize"/> bytes with <c>zeroPoint ± d</c> (1 ≤ d &lt; 100), each d once
    /// with each sign in shuffled order (plus one <c>zeroPoint</c> when the size is odd), so the differences sum to 0
    /// in integers and the float sum of the scaled terms is a rounding residue that depends on the order of the
    /// additions (what average-pool tests use to catch any reordering).
    /// </summary>
    public static void FillCancelling(byte[] x, int planeSize, int zeroPoint, Random rng)
    {
        var d = new int[planeSize];
        for (int start = 0; start < x.Length; start += planeSize)
        {
            for (int i = 0; i < planeSize / 2; i++)
            {
                d[2 * i] = rng.Next(1, 100);
                d[2 * i + 1] = -d[2 * i];
            }
            if (planeSize % 2 == 1) d[planeSize - 1] = 0;
            rng.Shuffle(d);
            for (int i = 0; i < planeSize; i++) x[start + i] = (byte)(zeroPoint + d[i]);
        }
    }

    private static int Count(int[] shape)
    {
        int n = 1;
        foreach (var d in shape) n *= d;
        return n;
    }
}
