using EdgeRuntime.Kernels.DataMovement;
using EdgeRuntime.Kernels.Elementwise;
using EdgeRuntime.Tensors;

namespace EdgeRuntime.Execution.Ops.Float;

/// <summary>
/// Add, Sub, Mul, Div (opset 7+, multidirectional broadcasting) on float32, int32 and int64 — the
/// integer forms appear in exported shape arithmetic. The broadcasting plan is computed at bind time.
/// </summary>
internal sealed class BinaryArithmeticOp(string opType, BinaryOperation operation) : OpDefinition
{
    public override string OpType => opType;

    public override IOpKernel Bind(OpContext ctx)
    {
        ShapeOpHelpers.RequireInputCount(ctx, 2, 2);
        var a = ctx.InputOfType(0, TensorElementType.Float32, TensorElementType.Int32, TensorElementType.Int64);
        var b = ctx.Input(1);
        if (b.Type != a.Type)
            throw ctx.Fail($"inputs must have the same type, got {a.Type.OnnxName()} and {b.Type.OnnxName()}");
        if (!BroadcastPlan.TryCreate(a.Shape, b.Shape, out var plan, out var error))
            throw ctx.Fail(error!);
        ctx.SetOutput(0, a.Type, plan!.OutputShape);
        return new Kernel(operation, a.Type, plan);
    }

    private sealed class Kernel(BinaryOperation operation, TensorElementType type, BroadcastPlan plan) : IOpKernel
    {
        public void Run(ReadOnlySpan<Tensor?> inputs, ReadOnlySpan<Tensor?> outputs)
        {
            Tensor a = inputs[0]!, b = inputs[1]!, y = outputs[0]!;
            switch (type)
            {
                case TensorElementType.Float32:
                    BinaryArithmeticReference.Compute(operation, a.AsSpan<float>(), b.AsSpan<float>(), y.AsSpan<float>(), plan);
                    break;
                case TensorElementType.Int32:
                    BinaryArithmeticReference.Compute(operation, a.AsSpan<int>(), b.AsSpan<int>(), y.AsSpan<int>(), plan);
                    break;
                default:
                    BinaryArithmeticReference.Compute(operation, a.AsSpan<long>(), b.AsSpan<long>(), y.AsSpan<long>(), plan);
                    break;
            }
        }
    }
}
