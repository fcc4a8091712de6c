using EdgeRuntime.Execution;
using EdgeRuntime.Kernels.DataMovement;
using EdgeRuntime.Tensors;
using EdgeRuntime.Tests.Infrastructure;
using Xunit;
using static EdgeRuntime.Tests.Ops.Float.FloatOpOracle;

namespace EdgeRuntime.Tests.Ops.Float;

/// <summary>
/// Large transposes are written by all threads, each a band of columns of every output row (the NHWC → NCHW input of
/// converted TFLite models: a band of pixels of each channel plane). The result must be ONNX Runtime's at any thread
/// count, and a band must write its columns and nothing else.
/// </summary>
public class TransposeThreadsTests
{
    [Theory]
    [InlineData(TensorElementType.UInt8, new[] { 1, 224, 224, 3 }, new long[] { 0, 3, 1, 2 })] // RGB deinterleave, plane of whole lines
    [InlineData(TensorElementType.UInt8, new[] { 2, 150, 151, 3 }, new long[] { 0, 3, 1, 2 })] // two images, planes off a line boundary
    [InlineData(TensorElementType.Float32, new[] { 1, 96, 97, 5 }, new long[] { 0, 3, 1, 2 })] // the strided odometer path
    [InlineData(TensorElementType.Float32, new[] { 1, 5, 120, 130 }, new long[] { 0, 2, 3, 1 })] // rows of 5: too narrow to band
    [InlineData(TensorElementType.Int64, new[] { 70000 }, new long[] { 0 })]                      // a plain copy
    public void Transpose_at_any_thread_count_matches_onnx_runtime(TensorElementType type, int[] shape, long[] perm)
    {
        var model = new OnnxModelBuilder()
            .Input("x", type, shape)
            .Output("y", type)
            .Node("Transpose", ["x"], ["y"], a => a.Ints("perm", perm))
            .Build();
        var x = RandomOfType(new Random(shape.Sum()), type, shape);
        var expected = OrtRunner.Run(model, new Dictionary<string, Tensor> { ["x"] = x })["y"];
        foreach (int threads in new[] { 1, 2, 3, 4 })
        {
            using var native = EdgeModel.Load(model, "transpose.onnx", new EdgeModelOptions { Backend = BackendKind.Native, Threads = threads });
            for (int run = 0; run < 2; run++)
            {
                var actual = native.Run([x])[0];
                Assert.Equal(expected.Shape, actual.Shape);
                Assert.True(expected.Bytes.SequenceEqual(actual.Bytes), $"{type} {TensorShape.Format(shape)} at {threads} threads, run {run}");
            }
        }
    }

    [Theory]
    [InlineData(new[] { 1, 9, 11, 3 }, new[] { 0, 3, 1, 2 })]  // deinterleave
    [InlineData(new[] { 2, 4, 6, 5 }, new[] { 0, 3, 1, 2 })]   // odometer, strided rows
    [InlineData(new[] { 3, 4, 40 }, new[] { 1, 0, 2 })]        // odometer, contiguous rows
    [InlineData(new[] { 50 }, new[] { 0 })]                    // copy
    public void A_band_writes_its_columns_of_every_row_and_nothing_else(int[] shape, int[] perm)
    {
        var plan = TransposePlan.Create(shape, perm);
        int count = plan.ElementCount, inner = plan.Dims[^1];
        var input = Enumerable.Range(0, count).Select(i => (short)(i + 1)).ToArray();
        var full = new short[count];
        TransposeReference.Transpose<short>(input, full, plan);
        for (int first = 0; first <= inner; first += Math.Max(1, inner / 5))
            for (int length = 0; first + length <= inner; length += Math.Max(1, inner / 4))
            {
                var band = Enumerable.Repeat((short)-1, count).ToArray();
                TransposeReference.Transpose<short>(input, band, plan, first, length);
                for (int j = 0; j < count; j++)
                {
                    int column = j % inner;
                    short want = column >= first && column < first + length ? full[j] : (short)-1;
                    Assert.True(want == band[j], $"{TensorShape.Format(shape)} band [{first}, {first + length}) element {j}: {band[j]}, want {want}");
                }
            }
        Assert.Throws<ArgumentOutOfRangeException>(() => TransposeReference.Transpose<short>(input, new short[count], plan, inner - 1, 2));
    }
}
