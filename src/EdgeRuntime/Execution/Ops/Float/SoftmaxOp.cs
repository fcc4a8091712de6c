using EdgeRuntime.Kernels.Softmax;
using EdgeRuntime.Tensors;

namespace EdgeRuntime.Execution.Ops.Float;

/// <summary>
/// Softmax on float32. Opset &lt; 13: the input is coerced to 2-D [prod(dims[..axis]), prod(dims[axis..])]
/// (default axis 1) and each row is normalized. Opset ≥ 13: normalized along the single axis (default -1).
/// </summary>
internal sealed class SoftmaxOp : OpDefinition
{
    public override string OpType => "Softmax";

    public override IOpKernel Bind(OpContext ctx)
    {
        ShapeOpHelpers.RequireInputCount(ctx, 1, 1);
        var x = ctx.InputOfType(0, TensorElementType.Float32);
        int rank = x.Shape.Length;
        if (rank == 0) throw ctx.Fail("input must have rank 1 or more, got a scalar");
        bool legacy = ctx.Opset < 13;
        int axis = ShapeOpHelpers.NormalizeAxis(ctx, ctx.GetInt("axis", legacy ? 1 : -1), rank);
        int outer = ShapeOpHelpers.Product(x.Shape, 0, axis);
        int axisLength = legacy ? ShapeOpHelpers.Product(x.Shape, axis, rank) : x.Shape[axis];
        int inner = legacy ? 1 : ShapeOpHelpers.Product(x.Shape, axis + 1, rank);
        ctx.SetOutput(0, TensorElementType.Float32, x.Shape);
        return new Kernel(outer, axisLength, inner);
    }

    private sealed class Kernel(int outer, int axisLength, int inner) : IOpKernel
    {
        public void Run(ReadOnlySpan<Tensor?> inputs, ReadOnlySpan<Tensor?> outputs) =>
            SoftmaxReference.Softmax(inputs[0]!.AsSpan<float>(), outputs[0]!.AsSpan<float>(), outer, axisLength, inner);
    }
}
