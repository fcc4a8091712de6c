using EdgeRuntime.Kernels.DataMovement;
using EdgeRuntime.Tensors;

namespace EdgeRuntime.Execution.Ops.Quantized;

/// <summary>
/// com.microsoft QLinearConcat: inputs Y_scale, Y_zero_point, then (X, X_scale, X_zero_point) per concatenated tensor;
/// attribute axis (required, negative counts from the end). Every X shares the output's 8-bit type; scales and zero
/// points are per-tensor constants (an omitted zero point is 0). Each input is requantized to the output's parameters
/// through a 256-entry table built here, or copied when its parameters equal the output's (see <see cref="QLinearConcat"/>).
/// </summary>
internal sealed class QLinearConcatDefinition : OpDefinition
{
    public override string OpType => "QLinearConcat";
    public override string Domain => "com.microsoft";

    public override IOpKernel Bind(OpContext ctx)
    {
        if (ctx.InputCount < 5 || (ctx.InputCount - 2) % 3 != 0)
            throw ctx.Fail($"expects Y_scale, Y_zero_point and (X, X_scale, X_zero_point) per input, got {ctx.InputCount} inputs");
        if (!ctx.HasAttribute("axis")) throw ctx.Fail("attribute axis is required");
        int count = (ctx.InputCount - 2) / 3;
        var first = ctx.InputOfType(2, TensorElementType.UInt8, TensorElementType.Int8);
        bool signed = first.Type == TensorElementType.Int8;
        int rank = first.Shape.Length;
        if (rank == 0) throw ctx.Fail("cannot concatenate scalars (rank 0)");
        int axis = QuantizationParameters.NormalizeAxis(ctx, ctx.GetInt("axis", 0), rank);
        float yScale = QuantizationParameters.Scale(ctx, 0, "Y_scale");
        int yZeroPoint = QuantizationParameters.ZeroPoint(ctx, 1, "Y_zero_point", first.Type);

        var outShape = (int[])first.Shape.Clone();
        outShape[axis] = 0;
        int outer = 1, inner = 1;
        for (int d = 0; d < axis; d++) outer *= first.Shape[d];
        for (int d = axis + 1; d < rank; d++) inner *= first.Shape[d];
        var rowLengths = new int[count];
        var tables = new byte[count][];
        for (int k = 0; k < count; k++)
        {
            int at = 2 + 3 * k;
            var x = ctx.InputOfType(at, first.Type);
            if (x.Shape.Length != rank)
                throw ctx.Fail($"input {at} has shape {TensorShape.Format(x.Shape)}, rank {x.Shape.Length}; expected rank {rank} like {TensorShape.Format(first.Shape)}");
            for (int d = 0; d < rank; d++)
                if (d != axis && x.Shape[d] != first.Shape[d])
                    throw ctx.Fail($"input {at} has shape {TensorShape.Format(x.Shape)}, which differs from {TensorShape.Format(first.Shape)} outside axis {axis}");
            outShape[axis] = checked(outShape[axis] + x.Shape[axis]);
            rowLengths[k] = x.Shape[axis] * inner;
            float xScale = QuantizationParameters.Scale(ctx, at + 1, $"X_scale of input {k}");
            int xZeroPoint = QuantizationParameters.ZeroPoint(ctx, at + 2, $"X_zero_point of input {k}", first.Type);
            var table = new byte[256];
            tables[k] = QLinearConcat.BuildTable(table, signed, xScale, xZeroPoint, yScale, yZeroPoint) ? table : [];
        }
        ctx.SetOutput(0, first.Type, outShape);
        return new Kernel(tables, rowLengths, outer, outShape[axis] * inner);
    }

    private sealed class Kernel(byte[][] tables, int[] rowLengths, int outer, int outputRowLength) : IOpKernel
    {
        public void Run(ReadOnlySpan<Tensor?> inputs, ReadOnlySpan<Tensor?> outputs)
        {
            var y = outputs[0]!.Bytes;
            int offset = 0;
            for (int k = 0; k < tables.Length; k++)
            {
                QLinearConcat.CopyInput(inputs[2 + 3 * k]!.Bytes, tables[k], y, outer, rowLengths[k], outputRowLength, offset);
                offset += rowLengths[k];
            }
        }
    }
}
