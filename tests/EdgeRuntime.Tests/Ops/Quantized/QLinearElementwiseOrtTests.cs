using EdgeRuntime.Onnx;
using EdgeRuntime.Tensors;
using Xunit;
using Xunit.Abstractions;
using static EdgeRuntime.Tests.Ops.Quantized.QuantizedTestSupport;

namespace EdgeRuntime.Tests.Ops.Quantized;

/// <summary>
/// com.microsoft QLinearConcat, QLinearMul (same shape and squeeze-and-excitation broadcasts), QLinearGlobalAveragePool
/// and QLinearAveragePool — now on their fast paths — against ONNX Runtime on seeded random shapes, parameters and data,
/// uint8 and int8, within 1 LSB (exact-match counts are printed).
/// </summary>
public sealed class QLinearElementwiseOrtTests(ITestOutputHelper output)
{
    private static OpInput In(Tensor t) => new(t, false);
    private static OpInput C(Tensor t) => new(t, true);

    private void Report(string op, long exact, long total) =>
        output.WriteLine($"{op}: {exact}/{total} elements exactly equal to ORT ({100.0 * exact / Math.Max(1, total):F3}%)");

    private static float RandomScale(Random rng) => 0.005f + (float)rng.NextDouble() * 0.05f;

    private static int RandomZeroPoint(Random rng, bool signed) => signed ? rng.Next(-100, 100) : rng.Next(20, 236);

    [Fact]
    public void QLinearConcat_MatchesOrt()
    {
        var rng = new Random(301);
        long exact = 0, total = 0;
        for (int c = 0; c < 40; c++)
        {
            bool signed = c % 2 == 1;
            int rank = 1 + rng.Next(4);
            var baseShape = Enumerable.Range(0, rank).Select(_ => 1 + rng.Next(6)).ToArray();
            int axis = rng.Next(-rank, rank);
            int normalized = axis < 0 ? axis + rank : axis;
            int count = 1 + rng.Next(4);
            float yScale = RandomScale(rng);
            int yZeroPoint = RandomZeroPoint(rng, signed);
            var inputs = new List<OpInput?> { C(Scalar(yScale)), C(ZeroPoint(signed, yZeroPoint)) };
            for (int k = 0; k < count; k++)
            {
                var shape = (int[])baseShape.Clone();
                shape[normalized] = rng.Next(4) == 0 ? 0 : 1 + rng.Next(5); // some empty inputs
                bool same = rng.Next(3) == 0;                               // parameters equal to the output's: a copy
                inputs.Add(In(Random8(rng, signed, shape)));
                inputs.Add(C(Scalar(same ? yScale : RandomScale(rng) * (rng.Next(2) == 0 ? 0.1f : 3f))));
                inputs.Add(C(ZeroPoint(signed, same ? yZeroPoint : RandomZeroPoint(rng, signed))));
            }
            var (ort, native) = RunBoth("QLinearConcat", "com.microsoft", 1, inputs.ToArray(), Attrs(("axis", (long)axis)), signed ? TensorElementType.Int8 : TensorElementType.UInt8);
            exact += AssertClose(ort, native, $"case {c} base {TensorShape.Format(baseShape)} axis {axis} inputs {count}");
            total += ort.ElementCount;
        }
        Report("QLinearConcat", exact, total);
        Assert.Equal(total, exact); // the table is ORT's own arithmetic: exact
    }

    [Fact]
    public void QLinearConcat_BadModels_AreModelFormatErrors()
    {
        var x = U8([1, 2], 1, 2);
        OpInput?[] valid = [C(Scalar(0.1f)), C(U8([], 3)), In(x), C(Scalar(0.2f)), C(U8([], 1)), In(x), C(Scalar(0.1f)), C(U8([], 3))];
        Assert.Throws<ModelFormatException>(() => RunNative("QLinearConcat", "com.microsoft", 1, valid, Attrs()));                  // no axis
        Assert.Throws<ModelFormatException>(() => RunNative("QLinearConcat", "com.microsoft", 1, valid, Attrs(("axis", 2L))));      // out of range
        Assert.Throws<ModelFormatException>(() => RunNative("QLinearConcat", "com.microsoft", 1, valid[..7], Attrs(("axis", 1L)))); // broken tuple
        OpInput?[] mismatch = [.. valid[..5], In(U8([2, 1], 1, 2)), C(Scalar(0.1f)), C(U8([], 3))];
        Assert.Throws<ModelFormatException>(() => RunNative("QLinearConcat", "com.microsoft", 1, mismatch, Attrs(("axis", 1L))));
        OpInput?[] mixedTypes = [.. valid[..5], In(I8([1, 2], 1, 2)), C(Scalar(0.1f)), C(I8([], 3))];
        Assert.Throws<ModelFormatException>(() => RunNative("QLinearConcat", "com.microsoft", 1, mixedTypes, Attrs(("axis", 1L))));
        OpInput?[] zeroScale = [C(Scalar(0f)), .. valid[1..]];
        Assert.Throws<ModelFormatException>(() => RunNative("QLinearConcat", "com.microsoft", 1, zeroScale, Attrs(("axis", 1L))));
    }

    [Fact]
    public void QLinearMul_SameShapeAndBroadcasts_MatchOrt()
    {
        var rng = new Random(302);
        long exact = 0, total = 0;
        for (int c = 0; c < 48; c++)
        {
            bool signed = c % 2 == 1;
            int channels = 1 + rng.Next(40), h = 1 + rng.Next(9), w = 1 + rng.Next(19);
            int[] full = [1 + rng.Next(2), channels, h, w];
            int[] squeezed = [full[0], channels, 1, 1];
            (int[] a, int[] b) = (c / 2 % 6) switch
            {
                0 => (full, full),
                1 => (full, squeezed),          // squeeze-and-excitation
                2 => (squeezed, full),
                3 => (full, new[] { channels, 1, 1 }),
                4 => (full, new[] { 1 }),
                _ => (new[] { channels, 1, w }, new[] { h, 1 }),
            };
            var inputs = new OpInput?[]
            {
                In(Random8(rng, signed, a)), C(Scalar(RandomScale(rng))), C(ZeroPoint(signed, RandomZeroPoint(rng, signed))),
                In(Random8(rng, signed, b)), C(Scalar(RandomScale(rng))), C(ZeroPoint(signed, RandomZeroPoint(rng, signed))),
                C(Scalar(RandomScale(rng) * 0.05f)), C(ZeroPoint(signed, RandomZeroPoint(rng, signed))),
            };
            var (ort, native) = RunBoth("QLinearMul", "com.microsoft", 1, inputs, Attrs(), signed ? TensorElementType.Int8 : TensorElementType.UInt8);
            exact += AssertClose(ort, native, $"case {c} {TensorShape.Format(a)}×{TensorShape.Format(b)} signed {signed}");
            total += ort.ElementCount;
        }
        Report("QLinearMul", exact, total);
    }

    [Fact]
    public void QLinearGlobalAveragePool_MatchesOrt()
    {
        var rng = new Random(303);
        long exact = 0, total = 0;
        for (int c = 0; c < 32; c++)
        {
            bool signed = c % 2 == 1, channelsLast = c % 4 >= 2;
            int channels = 1 + rng.Next(70), height = 1 + rng.Next(15), width = 1 + rng.Next(15);
            int[] shape = channelsLast ? [1 + rng.Next(2), height, width, channels] : [1 + rng.Next(2), channels, height, width];
            var inputs = new OpInput?[]
            {
                In(Random8(rng, signed, shape)), C(Scalar(RandomScale(rng))), C(ZeroPoint(signed, RandomZeroPoint(rng, signed))),
                C(Scalar(RandomScale(rng) * 0.5f)), C(ZeroPoint(signed, RandomZeroPoint(rng, signed))),
            };
            var (ort, native) = RunBoth("QLinearGlobalAveragePool", "com.microsoft", 1, inputs, Attrs(("channels_last", channelsLast ? 1L : 0L)), signed ? TensorElementType.Int8 : TensorElementType.UInt8);
            exact += AssertClose(ort, native, $"case {c} {TensorShape.Format(shape)} channels_last {channelsLast}");
            total += ort.ElementCount;
        }
        Report("QLinearGlobalAveragePool", exact, total);
    }

    [Fact]
    public void QLinearAveragePool_MatchesOrt()
    {
        var rng = new Random(304);
        long exact = 0, total = 0;
        for (int c = 0; c < 48; c++)
        {
            bool signed = c % 2 == 1, oneD = c % 8 == 7;
            int kh = 1 + rng.Next(4), kw = 1 + rng.Next(4), sh = 1 + rng.Next(3), sw = 1 + rng.Next(3);
            int mode = rng.Next(4);
            // SAME_* with stride > kernel gives negative padding in ONNX Runtime (a shared WindowGeometry difference, not this kernel's).
            if (mode == 0) { sh = Math.Min(sh, kh); sw = Math.Min(sw, kw); }
            int ph0 = rng.Next(kh), ph1 = rng.Next(kh), pw0 = rng.Next(kw), pw1 = rng.Next(kw);
            int channels = 1 + rng.Next(20);
            int[] shape = oneD ? [1, channels, kw + rng.Next(30)] : [1 + rng.Next(2), channels, kh + rng.Next(12), kw + rng.Next(30)];
            var attrs = new List<(string, object)>
            {
                ("kernel_shape", oneD ? new long[] { kw } : new long[] { kh, kw }),
                ("strides", oneD ? new long[] { sw } : new long[] { sh, sw }),
                ("count_include_pad", (long)rng.Next(2)),
            };
            if (mode == 0) attrs.Add(("auto_pad", "SAME_UPPER"));
            else if (mode == 1) attrs.Add(("ceil_mode", 1L));
            if (mode != 0) attrs.Add(("pads", oneD ? new long[] { pw0, pw1 } : new long[] { ph0, pw0, ph1, pw1 }));
            var inputs = new OpInput?[]
            {
                In(Random8(rng, signed, shape)), C(Scalar(RandomScale(rng))), C(ZeroPoint(signed, RandomZeroPoint(rng, signed))),
                C(Scalar(RandomScale(rng) * 0.5f)), C(ZeroPoint(signed, RandomZeroPoint(rng, signed))),
            };
            var (ort, native) = RunBoth("QLinearAveragePool", "com.microsoft", 1, inputs, attrs.ToArray(), signed ? TensorElementType.Int8 : TensorElementType.UInt8);
            exact += AssertClose(ort, native, $"case {c} {TensorShape.Format(shape)} k=({kh},{kw}) s=({sh},{sw}) mode {mode}");
            total += ort.ElementCount;
        }
        Report("QLinearAveragePool", exact, total);
    }
}
