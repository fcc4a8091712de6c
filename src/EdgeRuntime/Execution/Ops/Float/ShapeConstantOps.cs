using EdgeRuntime.Kernels.DataMovement;
using EdgeRuntime.Tensors;

namespace EdgeRuntime.Execution.Ops.Float;

/// <summary>A kernel whose output 0 is fully known at bind time (Constant, Shape): constant folding can take <see cref="Value"/>.</summary>
internal sealed class ConstantKernel(Tensor value) : IOpKernel
{
    /// <summary>The output value (do not modify).</summary>
    public Tensor Value => value;

    public void Run(ReadOnlySpan<Tensor?> inputs, ReadOnlySpan<Tensor?> outputs) => value.Bytes.CopyTo(outputs[0]!.Bytes);
}

/// <summary>
/// Constant: exactly one of <c>value</c> (tensor), <c>value_float</c>, <c>value_floats</c>, <c>value_int</c>,
/// <c>value_ints</c>. Float16 tensors are widened to float32.
/// </summary>
internal sealed class ConstantOp : OpDefinition
{
    public override string OpType => "Constant";

    public override IOpKernel Bind(OpContext ctx)
    {
        if (ctx.InputCount != 0) throw ctx.Fail($"expects no inputs, got {ctx.InputCount}");
        var present = ctx.Node.Attributes.Keys.Where(k => k.StartsWith("value", StringComparison.Ordinal) || k == "sparse_value").ToArray();
        if (present.Length != 1)
            throw ctx.Fail(present.Length == 0 ? "no value attribute (value, value_float, value_floats, value_int, value_ints)" : $"more than one value attribute: {string.Join(", ", present)}");
        Tensor value = present[0] switch
        {
            "value" => ctx.GetTensor("value")!,
            "value_float" => Tensor.FromFloats([], [ctx.GetFloat("value_float", 0f)]),
            "value_floats" => Tensor.FromFloats([ctx.GetFloats("value_floats")!.Length], ctx.GetFloats("value_floats")),
            "value_int" => Tensor.FromArray<long>(TensorElementType.Int64, [], [ctx.GetInt("value_int", 0)]),
            "value_ints" => Tensor.FromArray<long>(TensorElementType.Int64, [ctx.GetInts("value_ints")!.Length], ctx.GetInts("value_ints")),
            var other => throw ctx.Fail($"attribute '{other}' is not supported (EdgeRuntime supports numeric dense constants)"),
        };
        if (value.ElementType == TensorElementType.Float16)
            value = Tensor.FromFloats(value.Shape, value.ToFloatArray());
        ctx.SetOutput(0, value.ElementType, value.Shape);
        return new ConstantKernel(value);
    }
}

/// <summary>Shape: the input's static shape as int64 [rank]; opset 15+ <c>start</c>/<c>end</c> select a slice (clamped like Python slicing).</summary>
internal sealed class ShapeOp : OpDefinition
{
    public override string OpType => "Shape";

    public override IOpKernel Bind(OpContext ctx)
    {
        ShapeOpHelpers.RequireInputCount(ctx, 1, 1);
        var data = ctx.InputOfType(0, ShapeOpHelpers.AnyType);
        int rank = data.Shape.Length;
        int start = 0, end = rank;
        if (ctx.Opset >= 15)
        {
            start = Clamp(ctx.GetInt("start", 0), rank);
            end = Clamp(ctx.GetInt("end", rank), rank);
        }
        int length = Math.Max(0, end - start);
        var values = new long[length];
        for (int i = 0; i < length; i++) values[i] = data.Shape[start + i];
        ctx.SetOutput(0, TensorElementType.Int64, [length]);
        return new ConstantKernel(Tensor.FromArray<long>(TensorElementType.Int64, [length], values));
    }

    private static int Clamp(long index, int rank)
    {
        if (index < 0) index += rank;
        return (int)Math.Clamp(index, 0, rank);
    }
}

/// <summary>
/// Gather along <c>axis</c> (default 0) with int32 or int64 indices (negative counts from the end).
/// Output shape = data[..axis] + indices.shape + data[axis+1..]. Constant indices are validated at bind.
/// Any data type.
/// </summary>
internal sealed class GatherOp : OpDefinition
{
    public override string OpType => "Gather";

    public override IOpKernel Bind(OpContext ctx)
    {
        ShapeOpHelpers.RequireInputCount(ctx, 2, 2);
        var data = ctx.InputOfType(0, ShapeOpHelpers.AnyType);
        var indices = ctx.InputOfType(1, TensorElementType.Int32, TensorElementType.Int64);
        int rank = data.Shape.Length;
        if (rank == 0) throw ctx.Fail("data must have rank 1 or more, got a scalar");
        int axis = ShapeOpHelpers.NormalizeAxis(ctx, ctx.GetInt("axis", 0), rank);
        int axisLength = data.Shape[axis];

        long[]? constantIndices = null;
        if (ctx.Constant(1) is { } constant)
        {
            constantIndices = ShapeOpHelpers.ReadInt64List(ctx, Flatten(constant), "indices");
            for (int i = 0; i < constantIndices.Length; i++)
            {
                long index = constantIndices[i];
                if (index < -axisLength || index >= axisLength)
                    throw ctx.Fail($"index {index} is out of range [{-axisLength}, {axisLength - 1}] for axis {axis} of {TensorShape.Format(data.Shape)}");
            }
        }

        var shape = new List<int>();
        shape.AddRange(data.Shape.AsSpan(0, axis));
        shape.AddRange(indices.Shape);
        shape.AddRange(data.Shape.AsSpan(axis + 1));
        ctx.SetOutput(0, data.Type, shape.ToArray());
        int elementSize = data.Type.SizeInBytes();
        return new Kernel(constantIndices, ShapeOpHelpers.Product(data.Shape, 0, axis), axisLength,
            ShapeOpHelpers.Product(data.Shape, axis + 1, rank) * elementSize);
    }

    private static Tensor Flatten(Tensor t) => new(t.ElementType, [t.ElementCount], t.Bytes.ToArray());

    private sealed class Kernel(long[]? constantIndices, int outer, int axisLength, int innerBytes) : IOpKernel
    {
        public void Run(ReadOnlySpan<Tensor?> inputs, ReadOnlySpan<Tensor?> outputs)
        {
            Span<byte> data = inputs[0]!.Bytes, y = outputs[0]!.Bytes;
            if (constantIndices != null)
                GatherReference.Gather<byte, long>(data, constantIndices, y, outer, axisLength, innerBytes);
            else if (inputs[1]!.ElementType == TensorElementType.Int64)
                GatherReference.Gather<byte, long>(data, inputs[1]!.AsSpan<long>(), y, outer, axisLength, innerBytes);
            else
                GatherReference.Gather<byte, int>(data, inputs[1]!.AsSpan<int>(), y, outer, axisLength, innerBytes);
        }
    }
}
