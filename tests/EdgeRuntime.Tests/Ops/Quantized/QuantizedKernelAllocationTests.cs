using EdgeRuntime.Execution.Ops;
using EdgeRuntime.Tensors;
using Xunit;
using static EdgeRuntime.Tests.Ops.Quantized.QuantizedTestSupport;

namespace EdgeRuntime.Tests.Ops.Quantized;

/// <summary>Bound quantized kernels must not allocate per inference.</summary>
public sealed class QuantizedKernelAllocationTests
{
    private static long AllocatedByRun(string opType, string domain, int opset, OpInput?[] inputs, (string, object)[] attributes)
    {
        var node = OpHarnessNode(opType, domain, inputs, attributes);
        var def = OpRegistry.Instance.Find(domain, opType)!;
        var tensors = inputs.Select(i => i?.Value).ToArray();
        var infos = tensors.Select(t => t == null ? (TensorInfo?)null : new TensorInfo(t.ElementType, t.Shape)).ToArray();
        var consts = inputs.Select(i => i?.Constant == true ? i.Value : null).ToArray();
        var ctx = new OpContext(node, opset, "test.onnx", infos, consts);
        var kernel = def.Bind(ctx);
        var outputs = ctx.Outputs.Select(o => (Tensor?)new Tensor(o!.Value.Type, o.Value.Shape)).ToArray();
        kernel.Run(tensors, outputs); // warm-up (JIT, static init)
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 3; i++) kernel.Run(tensors, outputs);
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    private static Graph.Node OpHarnessNode(string opType, string domain, OpInput?[] inputs, (string, object)[] attributes)
    {
        var node = Infrastructure.OpHarness.MakeNode(opType, inputs.Length, 1, domain, attributes.Select(ToNodeAttribute).ToArray());
        for (int i = 0; i < inputs.Length; i++) if (inputs[i]?.Value == null) node.Inputs[i] = "";
        return node;
    }

    [Fact]
    public void Run_DoesNotAllocate()
    {
        var rng = new Random(1);
        OpInput In(Tensor t) => new(t, false);
        OpInput C(Tensor t) => new(t, true);
        var x = Random8(rng, false, [1, 4, 9, 9]);
        var bias = Tensor.FromArray<int>(TensorElementType.Int32, [6], new int[6]);
        Assert.Equal(0, AllocatedByRun("QLinearConv", "", 10,
            [In(x), C(Scalar(0.1f)), C(U8([], 128)), C(Random8(rng, true, [6, 2, 3, 3])), C(Tensor.FromFloats([6], [1, 2, 3, 4, 5, 6])), C(I8([6], new int[6])), C(Scalar(0.5f)), C(U8([], 128)), In(bias)],
            [("group", 2L), ("pads", new long[] { 1, 1, 1, 1 })]));
        Assert.Equal(0, AllocatedByRun("QLinearMatMul", "", 10,
            [In(Random8(rng, false, [2, 3, 5])), C(Scalar(0.1f)), C(U8([], 128)), C(Random8(rng, false, [5, 4])), C(Scalar(0.1f)), C(U8([], 128)), C(Scalar(0.5f)), C(U8([], 128))], []));
        Assert.Equal(0, AllocatedByRun("QLinearAdd", "com.microsoft", 1,
            [In(x), C(Scalar(0.1f)), C(U8([], 128)), In(Random8(rng, false, [4, 1, 9])), C(Scalar(0.1f)), C(U8([], 128)), C(Scalar(0.5f)), C(U8([], 128))], []));
        Assert.Equal(0, AllocatedByRun("QLinearGlobalAveragePool", "com.microsoft", 1,
            [In(x), C(Scalar(0.1f)), C(U8([], 128)), C(Scalar(0.5f)), C(U8([], 128))], []));
        Assert.Equal(0, AllocatedByRun("QLinearAveragePool", "com.microsoft", 1,
            [In(x), C(Scalar(0.1f)), C(U8([], 128)), C(Scalar(0.5f)), C(U8([], 128))], [("kernel_shape", new long[] { 3, 3 })]));
        Assert.Equal(0, AllocatedByRun("QLinearSigmoid", "com.microsoft", 1,
            [In(x), C(Scalar(0.1f)), C(U8([], 128)), C(Scalar(0.5f)), C(U8([], 128))], []));
        Assert.Equal(0, AllocatedByRun("QuantizeLinear", "", 13,
            [In(Tensor.FromFloats([2, 3], new float[6])), C(Scalar(0.1f)), C(I8([], 1))], []));
        Assert.Equal(0, AllocatedByRun("DequantizeLinear", "", 13,
            [In(x), C(Scalar(0.1f)), C(U8([], 1))], []));
    }
}
