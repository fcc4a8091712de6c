using EdgeRuntime.Execution;
using EdgeRuntime.Tensors;
using EdgeRuntime.Tests.Infrastructure;
using Xunit;

namespace EdgeRuntime.Tests.Ops.Float;

/// <summary>
/// Conv with auto_pad SAME_UPPER / SAME_LOWER when the stride is larger than the window, so that the spec's total
/// padding <c>(ceil(in/s) - 1)·s + k - in</c> is negative. EdgeRuntime clamps the total at 0 (windows start at 0, s,
/// 2s, …; see SpatialWindow.Resolve), which is what ONNX Runtime 1.31 computes for totals of −1 and −2 in both modes:
/// these cases pin that down. (For totals of −3 and below ONNX Runtime's windows start one element in — e.g. 10
/// wide, stride 5, 1×1 — in both modes, which follows no rule of the spec, so those are not pinned.)
/// </summary>
public class SameAutoPadTests
{
    [Theory]
    [InlineData("SAME_UPPER", 6, 2)]   // total −1
    [InlineData("SAME_UPPER", 7, 4)]   // total −2: a halved total would start at −1
    [InlineData("SAME_LOWER", 7, 4)]
    [InlineData("SAME_LOWER", 9, 3)]   // total −2 on one layout, with a 1-wide last window
    public void Strided_one_by_one_conv_matches_onnx_runtime(string autoPad, int extent, int stride)
    {
        var weights = Enumerable.Range(0, 6).Select(i => 0.5f * i - 1.25f).ToArray();
        var model = new OnnxModelBuilder()
            .Input("x", TensorElementType.Float32, 1, 2, extent, extent)
            .Output("y", TensorElementType.Float32)
            .Initializer("w", Tensor.FromFloats([3, 2, 1, 1], weights))
            .Node("Conv", ["x", "w"], ["y"], a => a.String("auto_pad", autoPad).Ints("strides", stride, stride))
            .Build();
        var values = Enumerable.Range(0, 2 * extent * extent).Select(i => (float)((i * 37) % 101) - 50f).ToArray();
        var x = Tensor.FromFloats([1, 2, extent, extent], values);

        using var native = EdgeModel.Load(model, "same.onnx", new EdgeModelOptions { Backend = BackendKind.Native, Threads = 1 });
        var actual = native.Run([x])[0];
        var expected = OrtRunner.Run(model, new Dictionary<string, Tensor> { ["x"] = x })["y"];
        int outExtent = (extent + stride - 1) / stride;
        Assert.Equal(new[] { 1, 3, outExtent, outExtent }, actual.Shape);
        Assert.Equal(expected.AsSpan<float>().ToArray(), actual.AsSpan<float>().ToArray());
    }
}
