using Xunit;
using EdgeRuntime.Onnx;
using EdgeRuntime.Tensors;
using Xunit.Abstractions;
using static EdgeRuntime.Tests.Ops.Quantized.QuantizedTestSupport;

namespace EdgeRuntime.Tests.Ops.Quantized;

/// <summary>Every quantized op against ONNX Runtime on seeded random shapes, attributes and data (within 1 LSB).</summary>
public sealed class QuantizedOpTests(ITestOutputHelper output)
{
    private static OpInput In(Tensor t) => new(t, false);
    private static OpInput C(Tensor t) => new(t, true);

    private void Report(string op, long exact, long total) =>
        output.WriteLine($"{op}: {exact}/{total} elements exactly equal to ORT ({100.0 * exact / Math.Max(1, total):F3}%)");

    [Fact]
    public void QuantizeLinear_MatchesOrt()
    {
        var rng = new Random(11);
        long exact = 0, total = 0;
        for (int c = 0; c < 24; c++)
        {
            bool signed = c % 2 == 1;
            int opset = c % 3 == 0 ? 10 : 13;
            bool perAxis = opset >= 13 && c % 4 == 1;
            int[] shape = [1 + rng.Next(3), 1 + rng.Next(5), 1 + rng.Next(7)];
            var x = Tensor.FromFloats(shape, Enumerable.Range(0, TensorShape.ElementCount(shape)).Select(_ => (float)(rng.NextDouble() * 20 - 10)).ToArray());
            // Exact ties: values that are k + 0.5 quantization steps.
            x.AsSpan<float>()[0] = 2.5f * 0.25f;
            int axis = perAxis ? rng.Next(-3, 3) : 1;
            int channels = perAxis ? shape[axis < 0 ? axis + 3 : axis] : 1;
            var scale = perAxis ? Tensor.FromFloats([channels], Enumerable.Range(0, channels).Select(_ => 0.02f + (float)rng.NextDouble() * 0.1f).ToArray()) : Scalar(0.25f);
            var zps = Enumerable.Range(0, channels).Select(_ => rng.Next(signed ? -20 : 100, signed ? 20 : 140)).ToArray();
            var zp = perAxis ? (signed ? I8([channels], zps) : U8([channels], zps)) : ZeroPoint(signed, zps[0]);
            var attrs = perAxis ? Attrs(("axis", (long)axis)) : Attrs();
            var (ort, native) = RunBoth("QuantizeLinear", "", opset, [In(x), C(scale), c % 6 == 0 ? null : C(zp)], attrs, c % 6 == 0 ? TensorElementType.UInt8 : zp.ElementType);
            exact += AssertClose(ort, native, $"case {c} shape {TensorShape.Format(shape)} perAxis {perAxis} axis {axis}", tolerance: 0);
            total += ort.ElementCount;
        }
        Report("QuantizeLinear", exact, total);
    }

    [Fact]
    public void DequantizeLinear_MatchesOrtExactly()
    {
        var rng = new Random(12);
        for (int c = 0; c < 18; c++)
        {
            int kind = c % 3; // 0 uint8, 1 int8, 2 int32
            int opset = c % 4 == 0 ? 10 : 13;
            bool perAxis = opset >= 13 && kind != 2 && c % 2 == 1;
            int[] shape = [2, 1 + rng.Next(4), 1 + rng.Next(5)];
            Tensor x = kind switch
            {
                0 => Random8(rng, false, shape),
                1 => Random8(rng, true, shape),
                _ => Tensor.FromArray<int>(TensorElementType.Int32, shape, Enumerable.Range(0, TensorShape.ElementCount(shape)).Select(_ => rng.Next(-100000, 100000)).ToArray()),
            };
            int channels = perAxis ? shape[1] : 1;
            var scale = perAxis ? Tensor.FromFloats([channels], Enumerable.Range(0, channels).Select(_ => (float)rng.NextDouble()).ToArray()) : Scalar(0.037f);
            Tensor? zp = kind switch
            {
                0 => perAxis ? U8([channels], Enumerable.Range(0, channels).Select(_ => rng.Next(256)).ToArray()) : U8([], 131),
                1 => perAxis ? I8([channels], Enumerable.Range(0, channels).Select(_ => rng.Next(-128, 128)).ToArray()) : I8([], -7),
                _ => Tensor.FromArray<int>(TensorElementType.Int32, [], [0]),
            };
            var (ort, native) = RunBoth("DequantizeLinear", "", opset, [In(x), C(scale), C(zp)], perAxis ? Attrs(("axis", 1L)) : Attrs(), TensorElementType.Float32);
            Assert.Equal(ort.AsSpan<float>().ToArray(), native.AsSpan<float>().ToArray());
        }
    }

    [Fact]
    public void QLinearConv_MatchesOrt()
    {
        var rng = new Random(1234);
        long exact = 0, total = 0;
        for (int c = 0; c < 48; c++)
        {
            bool xSigned = c % 4 == 3;
            bool wSigned = xSigned || c % 2 == 1; // ORT has no int8-activation / uint8-weight kernel
            bool perChannel = c % 3 != 0;
            bool withBias = c % 5 != 0;
            bool oneD = c % 11 == 7;
            int groupKind = rng.Next(3); // 0: 1, 1: 2 groups, 2: depthwise
            int cinPerGroup = 1 + rng.Next(5), group = groupKind switch { 0 => 1, 1 => 2, _ => 3 + rng.Next(4) };
            int coutPerGroup = groupKind == 2 ? 1 + rng.Next(2) : 1 + rng.Next(6);
            if (groupKind == 2) cinPerGroup = 1;
            int cin = cinPerGroup * group, cout = coutPerGroup * group;
            int kh = oneD ? 1 : 1 + rng.Next(3), kw = 1 + rng.Next(3);
            if (c % 13 == 5) { kh = oneD ? 1 : 5; kw = 5; }
            int h = oneD ? 1 : kh + rng.Next(9), w = kw + rng.Next(9) + 2;
            int sh = 1 + rng.Next(2), sw = 1 + rng.Next(2), dh = 1 + (c % 7 == 2 ? 1 : 0), dw = 1 + (c % 5 == 2 ? 1 : 0);
            h += (kh - 1) * (dh - 1); w += (kw - 1) * (dw - 1);
            var attrs = new List<(string, object)> { ("group", (long)group) };
            string autoPad = (c % 9) switch { 1 => "SAME_UPPER", 4 => "SAME_LOWER", 6 => "VALID", _ => "NOTSET" };
            if (autoPad.StartsWith("SAME")) { dh = 1; dw = 1; } // ORT rejects dilations with SAME_* padding
            if (autoPad != "NOTSET") attrs.Add(("auto_pad", autoPad));
            if (oneD)
            {
                attrs.Add(("strides", new long[] { sw }));
                attrs.Add(("dilations", new long[] { dw }));
                if (autoPad == "NOTSET") attrs.Add(("pads", new long[] { rng.Next(3), rng.Next(3) }));
                attrs.Add(("kernel_shape", new long[] { kw }));
            }
            else
            {
                attrs.Add(("strides", new long[] { sh, sw }));
                attrs.Add(("dilations", new long[] { dh, dw }));
                if (autoPad == "NOTSET") attrs.Add(("pads", new long[] { rng.Next(3), rng.Next(3), rng.Next(3), rng.Next(3) }));
            }
            int batch = 1 + (c % 8 == 0 ? 1 : 0);
            int[] xShape = oneD ? [batch, cin, w] : [batch, cin, h, w];
            int[] wShape = oneD ? [cout, cinPerGroup, kw] : [cout, cinPerGroup, kh, kw];
            var x = Random8(rng, xSigned, xShape);
            // Keep |w - zp| below 64 for uint8 x × int8 w: ORT's AVX2 u8s8 kernel saturates int16 pair sums otherwise.
            var weights = Random8(rng, wSigned, wShape, wSigned ? -63 : 0, wSigned ? 63 : 255);
            float xScale = 0.01f + (float)rng.NextDouble() * 0.05f;
            int xZp = xSigned ? rng.Next(-10, 10) : rng.Next(100, 150);
            var wScales = Enumerable.Range(0, perChannel ? cout : 1).Select(_ => 0.001f + (float)rng.NextDouble() * 0.01f).ToArray();
            var wZps = Enumerable.Range(0, perChannel ? cout : 1).Select(_ => wSigned ? 0 : rng.Next(110, 140)).ToArray();
            int k = cinPerGroup * kh * kw;
            float accStd = MathF.Sqrt(k) * 60 * (wSigned ? 36 : 74);
            float yScale = xScale * wScales.Average() * accStd / 50f;
            int yZp = xSigned ? rng.Next(-5, 5) : rng.Next(120, 136);
            Tensor wScaleT = perChannel ? Tensor.FromFloats([cout], wScales) : Scalar(wScales[0]);
            Tensor wZpT = perChannel ? (wSigned ? I8([cout], wZps) : U8([cout], wZps)) : ZeroPoint(wSigned, wZps[0]);
            Tensor? bias = withBias ? Tensor.FromArray<int>(TensorElementType.Int32, [cout], Enumerable.Range(0, cout).Select(_ => rng.Next(-20000, 20000)).ToArray()) : null;
            var inputs = new OpInput?[] { In(x), C(Scalar(xScale)), C(ZeroPoint(xSigned, xZp)), C(weights), C(wScaleT), C(wZpT), C(Scalar(yScale)), C(ZeroPoint(xSigned, yZp)), bias == null ? null : C(bias) };
            if (bias == null) inputs = inputs[..8];
            string ctx = $"case {c}: x {TensorShape.Format(xShape)} {(xSigned ? "s8" : "u8")}, w {TensorShape.Format(wShape)} {(wSigned ? "s8" : "u8")}, group {group}, perChannel {perChannel}, bias {withBias}, {string.Join(" ", attrs.Select(a => a.Item1 + "=" + (a.Item2 is long[] l ? "[" + string.Join(",", l) + "]" : a.Item2)))}";
            var (ort, native) = RunBoth("QLinearConv", "", 10, inputs, attrs.ToArray(), x.ElementType);
            exact += AssertClose(ort, native, ctx);
            total += ort.ElementCount;
        }
        Report("QLinearConv", exact, total);
    }

    [Fact]
    public void QLinearMatMul_MatchesOrt()
    {
        var rng = new Random(77);
        long exact = 0, total = 0;
        for (int c = 0; c < 20; c++)
        {
            bool aSigned = c % 4 == 3, bSigned = aSigned || c % 2 == 1;
            bool perColumn = c % 3 == 1;
            int m = 1 + rng.Next(6), k = 1 + rng.Next(20), n = 1 + rng.Next(7);
            int[] aShape = (c % 5) switch { 0 => [m, k], 1 => [2, m, k], 2 => [3, 1, m, k], 3 => [k], _ => [m, k] };
            int[] bShape = (c % 5) switch { 0 => [k, n], 1 => [k, n], 2 => [2, k, n], 3 => [k, n], _ => [2, k, n] };
            if (perColumn && bShape.Length != 2) perColumn = false;
            var a = Random8(rng, aSigned, aShape);
            var b = Random8(rng, bSigned, bShape, bSigned ? -63 : 0, bSigned ? 63 : 255);
            float aScale = 0.02f, yScale = 0.02f * 0.01f * MathF.Sqrt(k) * 60 * 50 / 50f;
            var bScales = Enumerable.Range(0, perColumn ? n : 1).Select(_ => 0.005f + (float)rng.NextDouble() * 0.01f).ToArray();
            var bZps = Enumerable.Range(0, perColumn ? n : 1).Select(_ => bSigned ? 0 : rng.Next(110, 140)).ToArray();
            Tensor bScaleT = perColumn ? Tensor.FromFloats([n], bScales) : Scalar(bScales[0]);
            Tensor bZpT = perColumn ? (bSigned ? I8([n], bZps) : U8([n], bZps)) : ZeroPoint(bSigned, bZps[0]);
            var inputs = new OpInput?[] { In(a), C(Scalar(aScale)), C(ZeroPoint(aSigned, aSigned ? 3 : 128)), c % 2 == 0 ? In(b) : C(b), C(bScaleT), C(bZpT), C(Scalar(yScale)), C(ZeroPoint(aSigned, aSigned ? -2 : 127)) };
            var (ort, native) = RunBoth("QLinearMatMul", "", 10, inputs, Attrs(), a.ElementType);
            exact += AssertClose(ort, native, $"case {c}: a {TensorShape.Format(aShape)} b {TensorShape.Format(bShape)} perColumn {perColumn}");
            total += ort.ElementCount;
        }
        Report("QLinearMatMul", exact, total);
    }

    [Theory]
    [InlineData("QLinearAdd")]
    [InlineData("QLinearMul")]
    public void QLinearBinary_MatchesOrt(string op)
    {
        var rng = new Random(op.Length * 31);
        long exact = 0, total = 0;
        int[][][] shapes =
        [
            [[2, 3, 4, 5], [2, 3, 4, 5]], [[1, 3, 1, 5], [2, 1, 4, 1]], [[7], [3, 1]], [[2, 3, 5, 5], [3, 1, 1]],
            [[4, 9], [9]], [[], [3, 2]], [[1, 16, 7, 7], [1, 16, 7, 7]], [[5, 1], []],
        ];
        for (int c = 0; c < shapes.Length * 2; c++)
        {
            bool signed = c % 2 == 1;
            var (sa, sb) = (shapes[c / 2][0], shapes[c / 2][1]);
            var a = Random8(rng, signed, sa);
            var b = Random8(rng, signed, sb);
            float scA = 0.01f + (float)rng.NextDouble() * 0.1f, scB = 0.01f + (float)rng.NextDouble() * 0.1f;
            float scC = op == "QLinearAdd" ? (scA + scB) * (0.6f + (float)rng.NextDouble()) : scA * scB * (40f + 60f * (float)rng.NextDouble());
            var inputs = new OpInput?[] { In(a), C(Scalar(scA)), C(ZeroPoint(signed, rng.Next(-20, 20) + (signed ? 0 : 128))), In(b), C(Scalar(scB)), C(ZeroPoint(signed, rng.Next(-20, 20) + (signed ? 0 : 128))), C(Scalar(scC)), C(ZeroPoint(signed, rng.Next(-20, 20) + (signed ? 0 : 128))) };
            var (ort, native) = RunBoth(op, "com.microsoft", 1, inputs, Attrs(), a.ElementType);
            exact += AssertClose(ort, native, $"{op} case {c}: {TensorShape.Format(sa)} + {TensorShape.Format(sb)} signed {signed}");
            total += ort.ElementCount;
        }
        Report(op, exact, total);
    }

    [Fact]
    public void QLinearGlobalAveragePool_MatchesOrt()
    {
        var rng = new Random(5);
        long exact = 0, total = 0;
        for (int c = 0; c < 16; c++)
        {
            bool signed = c % 2 == 1, channelsLast = c % 4 >= 2;
            int[] shape = c % 5 == 4 ? [1 + rng.Next(2), 3 + rng.Next(6), 1 + rng.Next(9)] : [1 + rng.Next(2), 1 + rng.Next(20), 1 + rng.Next(9), 1 + rng.Next(9)];
            var x = Random8(rng, signed, shape);
            float xs = 0.05f + (float)rng.NextDouble() * 0.1f, ys = xs * (0.3f + (float)rng.NextDouble());
            var inputs = new OpInput?[] { In(x), C(Scalar(xs)), C(ZeroPoint(signed, signed ? -3 : 125)), C(Scalar(ys)), C(ZeroPoint(signed, signed ? 4 : 130)) };
            var (ort, native) = RunBoth("QLinearGlobalAveragePool", "com.microsoft", 1, inputs, Attrs(("channels_last", (long)(channelsLast ? 1 : 0))), x.ElementType);
            exact += AssertClose(ort, native, $"case {c}: {TensorShape.Format(shape)} channelsLast {channelsLast}");
            total += ort.ElementCount;
        }
        Report("QLinearGlobalAveragePool", exact, total);
    }

    [Fact]
    public void QLinearAveragePool_MatchesOrt()
    {
        var rng = new Random(6);
        long exact = 0, total = 0;
        for (int c = 0; c < 24; c++)
        {
            bool signed = c % 2 == 1, channelsLast = c % 5 == 3, includePad = c % 3 == 1, ceil = c % 7 == 2;
            int kh = 1 + rng.Next(3), kw = 1 + rng.Next(3);
            int ch = 1 + rng.Next(4);
            int[] spatial = [kh + rng.Next(6), kw + rng.Next(6)];
            int[] shape = channelsLast ? [1, spatial[0], spatial[1], ch] : [1, ch, spatial[0], spatial[1]];
            var attrs = new List<(string, object)> { ("kernel_shape", new long[] { kh, kw }), ("strides", new long[] { 1 + rng.Next(2), 1 + rng.Next(2) }),
                ("count_include_pad", (long)(includePad ? 1 : 0)), ("channels_last", (long)(channelsLast ? 1 : 0)) };
            if (ceil) attrs.Add(("ceil_mode", 1L));
            string autoPad = (c % 8) switch { 1 => "SAME_UPPER", 5 => "VALID", _ => "NOTSET" };
            if (autoPad != "NOTSET") attrs.Add(("auto_pad", autoPad));
            else attrs.Add(("pads", new long[] { rng.Next(kh), rng.Next(kw), rng.Next(kh), rng.Next(kw) }));
            var x = Random8(rng, signed, shape);
            float xs = 0.05f, ys = 0.05f * (0.5f + (float)rng.NextDouble());
            var inputs = new OpInput?[] { In(x), C(Scalar(xs)), C(ZeroPoint(signed, signed ? 2 : 128)), C(Scalar(ys)), C(ZeroPoint(signed, signed ? -1 : 126)) };
            string ctx = $"case {c}: {TensorShape.Format(shape)} {string.Join(" ", attrs.Select(a => a.Item1 + "=" + (a.Item2 is long[] l ? "[" + string.Join(",", l) + "]" : a.Item2)))}";
            var (ort, native) = RunBoth("QLinearAveragePool", "com.microsoft", 1, inputs, attrs.ToArray(), x.ElementType);
            exact += AssertClose(ort, native, ctx);
            total += ort.ElementCount;
        }
        Report("QLinearAveragePool", exact, total);
    }

    [Theory]
    [InlineData("QLinearSigmoid")]
    [InlineData("QLinearLeakyRelu")]
    public void QLinearLookupTableOps_MatchOrt(string op)
    {
        long exact = 0, total = 0;
        foreach (bool signed in new[] { false, true })
        {
            // Every possible input byte.
            var x = signed ? I8([2, 128], Enumerable.Range(-128, 256).ToArray()) : U8([2, 128], Enumerable.Range(0, 256).ToArray());
            float xs = 0.05f, ys = op == "QLinearSigmoid" ? 1f / 256 : 0.04f;
            int yZp = op == "QLinearSigmoid" ? (signed ? -128 : 0) : (signed ? 10 : 140);
            var inputs = new OpInput?[] { In(x), C(Scalar(xs)), C(ZeroPoint(signed, signed ? 5 : 120)), C(Scalar(ys)), C(ZeroPoint(signed, yZp)) };
            var (ort, native) = RunBoth(op, "com.microsoft", 1, inputs, op == "QLinearLeakyRelu" ? Attrs(("alpha", 0.13f)) : Attrs(), x.ElementType);
            exact += AssertClose(ort, native, $"{op} signed {signed}");
            total += ort.ElementCount;
        }
        Report(op, exact, total);
    }

    [Fact]
    public void BadModels_FailWithModelFormatException()
    {
        var x = U8([1, 4, 5, 5], new int[100]);
        var w = U8([3, 2, 3, 3], new int[54]);
        OpInput?[] conv = [In(x), C(Scalar(0.1f)), C(U8([], 128)), C(w), C(Scalar(0.1f)), C(U8([], 128)), C(Scalar(0.1f)), C(U8([], 128))];
        Assert.Throws<ModelFormatException>(() => RunNative("QLinearConv", "", 10, conv, Attrs(("group", 3L))));
        Assert.Throws<ModelFormatException>(() => RunNative("QLinearConv", "", 10, conv, Attrs(("group", 2L), ("strides", new long[] { 0, 1 }))));
        Assert.Throws<ModelFormatException>(() => RunNative("QLinearConv", "", 10, conv, Attrs(("group", 2L), ("auto_pad", "WRONG"))));
        Assert.Throws<ModelFormatException>(() => RunNative("QLinearConv", "", 10, conv, Attrs(("group", 2L), ("pads", new long[] { 1, 1 }))));
        OpInput?[] nonConstScale = [In(x), In(Scalar(0.1f)), C(U8([], 128)), C(w), C(Scalar(0.1f)), C(U8([], 128)), C(Scalar(0.1f)), C(U8([], 128))];
        Assert.Throws<ModelFormatException>(() => RunNative("QLinearConv", "", 10, nonConstScale, Attrs(("group", 2L))));
        OpInput?[] wrongZpType = [In(x), C(Scalar(0.1f)), C(I8([], 0)), C(w), C(Scalar(0.1f)), C(U8([], 128)), C(Scalar(0.1f)), C(U8([], 128))];
        Assert.Throws<ModelFormatException>(() => RunNative("QLinearConv", "", 10, wrongZpType, Attrs(("group", 2L))));
        OpInput?[] pool = [In(x), C(Scalar(0.1f)), C(U8([], 128)), C(Scalar(0.1f)), C(U8([], 128))];
        Assert.Throws<ModelFormatException>(() => RunNative("QLinearAveragePool", "com.microsoft", 1, pool, Attrs()));
        Assert.Throws<ModelFormatException>(() => RunNative("QLinearGlobalAveragePool", "com.microsoft", 1, pool, Attrs(("channels_last", 2L))));
        OpInput?[] q = [In(Tensor.FromFloats([2, 3], new float[6])), C(Tensor.FromFloats([2], [1f, 2f])), C(U8([2], 0, 0))];
        Assert.Throws<ModelFormatException>(() => RunNative("QuantizeLinear", "", 13, q, Attrs(("axis", 1L))));
        Assert.Throws<ModelFormatException>(() => RunNative("QuantizeLinear", "", 13, q, Attrs(("axis", 5L))));
        OpInput?[] add = [In(U8([2, 3], new int[6])), C(Scalar(0.1f)), C(U8([], 1)), In(U8([4], new int[4])), C(Scalar(0.1f)), C(U8([], 1)), C(Scalar(0.1f)), C(U8([], 1))];
        Assert.Throws<ModelFormatException>(() => RunNative("QLinearAdd", "com.microsoft", 1, add, Attrs()));
    }
}
