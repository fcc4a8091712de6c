using EdgeRuntime.Execution.Ops;
using EdgeRuntime.Graph.Passes;
using EdgeRuntime.Tensors;
using Xunit;
using static EdgeRuntime.Tests.Ops.Quantized.QuantizedTestSupport;

namespace EdgeRuntime.Tests.Ops.Quantized;

/// <summary>QLinearConcat, QLinearMul broadcasts, QLinearSilu, float Silu and the pooling fast paths allocate nothing per run.</summary>
public sealed class QLinearElementwiseAllocationTests
{
    private static OpInput In(Tensor t) => new(t, false);
    private static OpInput C(Tensor t) => new(t, true);

    private static long AllocatedByRun(string opType, string domain, OpInput?[] inputs, params (string Name, object Value)[] attributes)
    {
        var node = Infrastructure.OpHarness.MakeNode(opType, inputs.Length, 1, domain, attributes.Select(ToNodeAttribute).ToArray());
        var def = OpRegistry.Instance.Find(domain, opType)!;
        var tensors = inputs.Select(i => i?.Value).ToArray();
        var infos = tensors.Select(t => t == null ? (TensorInfo?)null : new TensorInfo(t.ElementType, t.Shape)).ToArray();
        var consts = inputs.Select(i => i?.Constant == true ? i.Value : null).ToArray();
        var ctx = new OpContext(node, 1, "test.onnx", infos, consts);
        var kernel = def.Bind(ctx);
        var outputs = ctx.Outputs.Select(o => (Tensor?)new Tensor(o!.Value.Type, o.Value.Shape)).ToArray();
        kernel.Run(tensors, outputs); // warm-up (JIT, static init)
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 3; i++) kernel.Run(tensors, outputs);
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    [Fact]
    public void Run_DoesNotAllocate()
    {
        var rng = new Random(9);
        var x = Random8(rng, true, [1, 24, 7, 7]);
        var squeezed = Random8(rng, true, [1, 24, 1, 1]);
        OpInput?[] unary = [In(x), C(Scalar(0.1f)), C(I8([], 3)), C(Scalar(0.05f)), C(I8([], -5))];
        Assert.Equal(0, AllocatedByRun("QLinearConcat", "com.microsoft",
            [C(Scalar(0.1f)), C(I8([], 3)), In(x), C(Scalar(0.1f)), C(I8([], 3)), In(Random8(rng, true, [1, 24, 7, 3])), C(Scalar(0.2f)), C(I8([], 0))], ("axis", 3L)));
        Assert.Equal(0, AllocatedByRun("QLinearMul", "com.microsoft",
            [In(x), C(Scalar(0.1f)), C(I8([], 3)), In(squeezed), C(Scalar(0.01f)), C(I8([], -128)), C(Scalar(0.05f)), C(I8([], 0))]));
        Assert.Equal(0, AllocatedByRun("QLinearMul", "com.microsoft",
            [In(x), C(Scalar(0.1f)), C(I8([], 3)), In(x), C(Scalar(0.01f)), C(I8([], -128)), C(Scalar(0.05f)), C(I8([], 0))]));
        Assert.Equal(0, AllocatedByRun("QLinearSilu", QdqFusion.EdgeDomain, [.. unary, C(Scalar(1f / 256)), C(U8([], 0))]));
        Assert.Equal(0, AllocatedByRun("QLinearGlobalAveragePool", "com.microsoft", unary, ("channels_last", 1L)));
        Assert.Equal(0, AllocatedByRun("QLinearAveragePool", "com.microsoft", unary,
            ("kernel_shape", new long[] { 3, 3 }), ("strides", new long[] { 2, 2 }), ("pads", new long[] { 1, 1, 1, 1 })));
        Assert.Equal(0, AllocatedByRun("Silu", QdqFusion.EdgeDomain, [In(Tensor.FromFloats([2, 9], new float[18]))]));
    }
}
