using Xunit;
using System.Diagnostics;
using EdgeRuntime.Kernels.Conv;
using EdgeRuntime.Onnx;
using EdgeRuntime.Tensors;
using EdgeRuntime.Tests.Infrastructure;
using Xunit.Abstractions;
using static EdgeRuntime.Tests.Ops.Float.ConvFamilyOracle;

namespace EdgeRuntime.Tests.Ops.Float;

/// <summary>Float Conv against ONNX Runtime. Tolerance |ours - ort| &lt;= 1e-4 + 1e-4*|ort|.</summary>
public sealed class ConvTests
{
    private static readonly (int H, int W)[] Kernels = [(1, 1), (3, 3), (5, 5), (3, 1)];
    private static readonly string[] Paddings = ["none", "symmetric", "asymmetric", "SAME_UPPER", "SAME_LOWER", "VALID"];

    /// <summary>Every combination of group kind × stride × dilation × kernel × padding × bias, with random odd shapes.</summary>
    private static List<OracleCase> AllCombinations(int seed)
    {
        var rng = new Random(seed);
        var cases = new List<OracleCase>();
        foreach (var groupKind in new[] { "1", "2", "depthwise" })
        foreach (var stride in new[] { 1, 2, 3 })
        foreach (var dilation in new[] { 1, 2 })
        foreach (var kernel in Kernels)
        foreach (var padding in Paddings)
        foreach (var withBias in new[] { false, true })
        {
            // ONNX Runtime rejects dilated convolutions with SAME_* auto_pad ("Dilation not supported"), so the oracle cannot check them.
            if (dilation != 1 && padding.StartsWith("SAME", StringComparison.Ordinal)) continue;
            int group, channels, outChannels;
            switch (groupKind)
            {
                case "1": group = 1; channels = rng.Next(1, 6); outChannels = rng.Next(1, 10); break;
                case "2": group = 2; channels = 2 * rng.Next(1, 4); outChannels = 2 * rng.Next(1, 5); break;
                default: channels = rng.Next(2, 7); group = channels; outChannels = channels; break;
            }
            int batch = rng.Next(1, 3);
            int effH = (kernel.H - 1) * dilation + 1, effW = (kernel.W - 1) * dilation + 1;
            int h = effH + rng.Next(0, 10), w = effW + rng.Next(0, 12);
            var x = RandomFloats(rng, batch, channels, h, w);
            var weights = RandomFloats(rng, outChannels, channels / group, kernel.H, kernel.W);
            var bias = withBias ? RandomFloats(rng, outChannels) : null;
            var c = new OracleCase
            {
                OpType = "Conv",
                Description = $"group={groupKind} stride={stride} dilation={dilation} kernel={kernel.H}x{kernel.W} pad={padding} bias={withBias} x=[{batch},{channels},{h},{w}] M={outChannels}",
                Inputs = withBias ? [x, weights, bias] : [x, weights],
                ConstantInputs = [1, 2],
            };
            if (group != 1) c.With("group", (long)group);
            c.With("strides", new long[] { stride, stride });
            if (dilation != 1) c.With("dilations", new long[] { dilation, dilation });
            if (rng.Next(2) == 0) c.With("kernel_shape", new long[] { kernel.H, kernel.W });
            switch (padding)
            {
                case "symmetric": { long ph = rng.Next(0, 3), pw = rng.Next(0, 3); c.With("pads", new[] { ph, pw, ph, pw }); break; }
                case "asymmetric": c.With("pads", new long[] { rng.Next(0, 4), rng.Next(0, 4), rng.Next(0, 4), rng.Next(0, 4) }); break;
                case "none": break;
                default: c.With("auto_pad", padding); break;
            }
            cases.Add(c);
        }
        return cases;
    }

    [Fact]
    public void AllCombinationsMatchOnnxRuntime() => AssertAllMatch(13, AllCombinations(seed: 1234), chunkSize: 150);

    [Fact]
    public void OlderOpsetAndOneDimensionalConvMatchOnnxRuntime()
    {
        var rng = new Random(77);
        var cases = new List<OracleCase>();
        for (int i = 0; i < 20; i++)
        {
            int c = rng.Next(1, 5), m = rng.Next(1, 7), k = rng.Next(1, 4) * 2 - 1, w = k + rng.Next(0, 30);
            cases.Add(new OracleCase
            {
                OpType = "Conv",
                Description = $"1-D c={c} m={m} k={k} w={w}",
                Inputs = [RandomFloats(rng, 1, c, w), RandomFloats(rng, m, c, k), RandomFloats(rng, m)],
                ConstantInputs = [1, 2],
            }.With("pads", new long[] { rng.Next(0, 2), rng.Next(0, 3) }).With("strides", new long[] { rng.Next(1, 3) }));
        }
        AssertAllMatch(7, cases);
    }

    /// <summary>
    /// ORT rejects dilated convolutions with SAME_* auto_pad, so these check EdgeRuntime's ONNX-spec padding
    /// (total = max(0, (ceil(in/s) - 1)*s + (k-1)*d + 1 - in), odd element at the end for UPPER, at the start for LOWER)
    /// against ORT running the same convolution with those pads written out explicitly.
    /// </summary>
    [Fact]
    public void DilatedSameAutoPadFollowsTheSpec()
    {
        var rng = new Random(12);
        var cases = new List<OracleCase>();
        foreach (var mode in new[] { "SAME_UPPER", "SAME_LOWER" })
        for (int i = 0; i < 12; i++)
        {
            int k = rng.Next(2, 4), d = rng.Next(2, 4), s = rng.Next(1, 4), h = rng.Next(1, 14), w = rng.Next(1, 14);
            var pads = new long[4];
            int[] extents = [h, w];
            for (int axis = 0; axis < 2; axis++)
            {
                int outExtent = (extents[axis] + s - 1) / s;
                int total = Math.Max(0, (outExtent - 1) * s + (k - 1) * d + 1 - extents[axis]);
                pads[axis] = mode == "SAME_UPPER" ? total / 2 : total - total / 2;
                pads[axis + 2] = total - pads[axis];
            }
            var oc = new OracleCase
            {
                OpType = "Conv",
                Description = $"{mode} k={k} d={d} s={s} x=[1,2,{h},{w}] pads=[{string.Join(",", pads)}]",
                Inputs = [RandomFloats(rng, 1, 2, h, w), RandomFloats(rng, 3, 2, k, k)],
                ConstantInputs = [1],
            }.With("auto_pad", mode).With("dilations", new long[] { d, d }).With("strides", new long[] { s, s });
            oc.OrtAttributes = [("pads", pads), ("dilations", new long[] { d, d }), ("strides", new long[] { s, s })];
            cases.Add(oc);
        }
        AssertAllMatch(13, cases);
    }

    /// <summary>Wider layers exercise several GEMM row blocks and column panels, including partial ones.</summary>
    [Fact]
    public void LargerLayersMatchOnnxRuntime()
    {
        var rng = new Random(5);
        var cases = new List<OracleCase>();
        foreach (var (c, m, h, k, s, p) in new[] { (3, 16, 37, 7, 2, 3), (16, 33, 15, 3, 1, 1), (32, 18, 9, 1, 1, 0), (24, 24, 19, 3, 2, 1), (40, 40, 13, 3, 1, 1) })
        {
            cases.Add(new OracleCase
            {
                OpType = "Conv",
                Description = $"c={c} m={m} h={h} k={k} s={s} p={p}",
                Inputs = [RandomFloats(rng, 1, c, h, h + 2), RandomFloats(rng, m, c, k, k), RandomFloats(rng, m)],
                ConstantInputs = [1, 2],
            }.With("strides", new long[] { s, s }).With("pads", new long[] { p, p, p, p }));
        }
        cases.Add(new OracleCase
        {
            OpType = "Conv",
            Description = "depthwise 32ch 3x3 s2",
            Inputs = [RandomFloats(rng, 1, 32, 21, 17), RandomFloats(rng, 32, 1, 3, 3), RandomFloats(rng, 32)],
            ConstantInputs = [1, 2],
        }.With("group", 32L).With("strides", new long[] { 2, 2 }).With("pads", new long[] { 1, 1, 1, 1 }));
        AssertAllMatch(11, cases);
    }

    /// <summary>The scalar reference kernel (which defines the op) agrees with ORT as well.</summary>
    [Fact]
    public void ReferenceKernelMatchesOnnxRuntime()
    {
        var cases = AllCombinations(seed: 99).Where((_, i) => i % 7 == 0).Where(c => !c.Attributes.Any(a => a.Name == "auto_pad")).ToList();
        var ort = cases.Select(c => OrtRunner.Run(SingleNodeModel(c), new Dictionary<string, Tensor> { ["x"] = c.Inputs[0]! })["y"]).ToList();
        for (int i = 0; i < cases.Count; i++)
        {
            var c = cases[i];
            var x = c.Inputs[0]!; var w = c.Inputs[1]!;
            long Attr(string name, int index, long fallback) => c.Attributes.Where(a => a.Name == name).Select(a => ((long[])a.Value)[index]).DefaultIfEmpty(fallback).First();
            long group = c.Attributes.Where(a => a.Name == "group").Select(a => (long)a.Value).DefaultIfEmpty(1).First();
            int kh = w.Shape[2], kw = w.Shape[3];
            int sh = (int)Attr("strides", 0, 1), sw = (int)Attr("strides", 1, 1), dh = (int)Attr("dilations", 0, 1), dw = (int)Attr("dilations", 1, 1);
            int pt = (int)Attr("pads", 0, 0), pl = (int)Attr("pads", 1, 0), pb = (int)Attr("pads", 2, 0), pr = (int)Attr("pads", 3, 0);
            int oh = (x.Shape[2] + pt + pb - ((kh - 1) * dh + 1)) / sh + 1, ow = (x.Shape[3] + pl + pr - ((kw - 1) * dw + 1)) / sw + 1;
            var shape = new ConvFloatShape(x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3], w.Shape[0], (int)group, kh, kw, sh, sw, pt, pl, dh, dw, oh, ow);
            var y = new Tensor(TensorElementType.Float32, [x.Shape[0], w.Shape[0], oh, ow]);
            ConvFloatReference.Conv(shape, x.AsSpan<float>(), w.AsSpan<float>(), c.Inputs.Length > 2 ? c.Inputs[2]!.AsSpan<float>() : default, y.AsSpan<float>());
            Assert.True(Compare(y, ort[i]) is null, $"{c.Description}: {Compare(y, ort[i])}");
        }
    }

    private static byte[] SingleNodeModel(OracleCase c)
    {
        var b = new OnnxModelBuilder(13).Input("x", TensorElementType.Float32, c.Inputs[0]!.Shape).Initializer("w", c.Inputs[1]!);
        if (c.Inputs.Length > 2) b.Initializer("b", c.Inputs[2]!);
        b.Node("Conv", c.Inputs.Length > 2 ? ["x", "w", "b"] : ["x", "w"], ["y"], a =>
        {
            foreach (var (name, value) in c.Attributes)
                if (value is long[] ints) a.Ints(name, ints); else if (value is long v) a.Int(name, v); else if (value is string s) a.String(name, s);
        });
        return b.Output("y", TensorElementType.Float32).Build();
    }

    /// <summary>Runs the 20 convolutions of ResNet-18 at 224×224 (random weights) and reports the time.</summary>
    [Fact]
    public void KernelShapeMismatchIsRejected() =>
        AssertRejected(Attrs(("kernel_shape", new long[] { 5, 5 })), weights: [4, 3, 3, 3], "kernel_shape");

    [Fact]
    public void WrongWeightRankIsRejected() => AssertRejected([], weights: [4, 3, 9], "rank");

    [Fact]
    public void ChannelsNotDivisibleByGroupIsRejected() =>
        AssertRejected(Attrs(("group", 2L)), weights: [4, 1, 3, 3], "divisible");

    [Fact]
    public void NegativePadsAreRejected() =>
        AssertRejected(Attrs(("pads", new long[] { -1, 0, 0, 0 })), weights: [4, 3, 3, 3], "negative");

    [Fact]
    public void ZeroStrideAndBadAutoPadAreRejected()
    {
        AssertRejected(Attrs(("strides", new long[] { 0, 1 })), weights: [4, 3, 3, 3], "strides");
        AssertRejected(Attrs(("auto_pad", "SAME")), weights: [4, 3, 3, 3], "auto_pad");
        AssertRejected(Attrs(("pads", new long[] { 1, 1 })), weights: [4, 3, 3, 3], "pads");
    }

    [Fact]
    public void WeightChannelMismatchAndNonConstantWeightsAreRejected()
    {
        AssertRejected([], weights: [4, 2, 3, 3], "input channels");
        var node = OpHarness.MakeNode("Conv", 2);
        var ex = Assert.Throws<ModelFormatException>(() => OpHarness.Run(node, [new Tensor(TensorElementType.Float32, [1, 3, 8, 8]), new Tensor(TensorElementType.Float32, [4, 3, 3, 3])], []));
        Assert.Contains("constant", ex.Message);
    }

    [Fact]
    public void InputOfWrongRankIsRejected()
    {
        var node = OpHarness.MakeNode("Conv", 2);
        Assert.Throws<ModelFormatException>(() => OpHarness.Run(node, [new Tensor(TensorElementType.Float32, [1, 3, 4, 8, 8]), new Tensor(TensorElementType.Float32, [4, 3, 3, 3, 3])], [1]));
    }

    private static Graph.NodeAttribute[] Attrs(params (string Name, object Value)[] attributes) =>
        attributes.Select(a => a.Value switch
        {
            long v => OpHarness.Int(a.Name, v),
            string s => OpHarness.Str(a.Name, s),
            long[] v => OpHarness.Ints(a.Name, v),
            _ => throw new ArgumentException(a.Name),
        }).ToArray();

    private static void AssertRejected(Graph.NodeAttribute[] attributes, int[] weights, string expectedText)
    {
        var node = OpHarness.MakeNode("Conv", 2, 1, "", attributes);
        var ex = Assert.Throws<ModelFormatException>(() =>
            OpHarness.Run(node, [new Tensor(TensorElementType.Float32, [1, 3, 8, 8]), new Tensor(TensorElementType.Float32, weights)], [1]));
        Assert.Contains(expectedText, ex.Message);
    }
}

/// <summary>The fused-clamp binding (Conv + Relu/Clip) equals Conv followed by the clamp.</summary>
public sealed class ConvFusedClampTests
{
    [Theory]
    [InlineData(1, 0f, float.PositiveInfinity)]
    [InlineData(4, 0f, float.PositiveInfinity)]
    [InlineData(1, -0.5f, 0.75f)]
    [InlineData(4, -0.5f, 0.75f)]
    public void ClampIsApplied(int group, float min, float max)
    {
        var rng = new Random(group);
        var inputs = new Tensor?[] { RandomFloats(rng, 1, 4, 9, 11), RandomFloats(rng, 4, 4 / group, 3, 3), RandomFloats(rng, 4) };
        var node = OpHarness.MakeNode("Conv", 3, 1, "", OpHarness.Int("group", group), OpHarness.Ints("pads", 1, 1, 1, 1));
        var plain = OpHarness.Run(node, inputs, [1, 2])[0]!.ToArray<float>();

        var infos = inputs.Select(t => (Execution.Ops.TensorInfo?)new Execution.Ops.TensorInfo(t!.ElementType, t.Shape)).ToArray();
        var ctx = new Execution.Ops.OpContext(node, 13, "test.onnx", infos, [null, inputs[1], inputs[2]]);
        var kernel = new Execution.Ops.Float.ConvOp().Bind(ctx, min, max);
        var fused = new Tensor(TensorElementType.Float32, ctx.Outputs[0]!.Value.Shape);
        kernel.Run(inputs, [fused]);
        var actual = fused.ToArray<float>();
        Assert.Contains(plain, v => v < min || v > max);
        for (int i = 0; i < plain.Length; i++) Assert.Equal(Math.Clamp(plain[i], min, max), actual[i], 1e-6f);
    }
}
