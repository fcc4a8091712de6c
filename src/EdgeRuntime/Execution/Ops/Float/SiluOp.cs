using EdgeRuntime.Kernels.Activations;
using EdgeRuntime.Tensors;

namespace EdgeRuntime.Execution.Ops.Float;

/// <summary>
/// Float32 SiLU <c>y = x · sigmoid(x)</c> (domain <c>ai.edgeruntime</c>, no attributes): produced by
/// <see cref="Graph.Passes.SiluFusion"/> from <c>Mul(x, Sigmoid(x))</c>; bit-identical to the two unfused ops.
/// </summary>
internal sealed class SiluOp : OpDefinition
{
    public override string OpType => "Silu";
    public override string Domain => Graph.Passes.QdqFusion.EdgeDomain;

    public override IOpKernel Bind(OpContext ctx)
    {
        if (ctx.InputCount != 1) throw ctx.Fail($"expects 1 input, got {ctx.InputCount}");
        var x = ctx.InputOfType(0, TensorElementType.Float32);
        ctx.SetOutput(0, TensorElementType.Float32, (int[])x.Shape.Clone());
        return new Kernel();
    }

    private sealed class Kernel : IOpKernel
    {
        public void Run(ReadOnlySpan<Tensor?> inputs, ReadOnlySpan<Tensor?> outputs) =>
            SiluReference.Run(inputs[0]!.AsSpan<float>(), outputs[0]!.AsSpan<float>());
    }
}
