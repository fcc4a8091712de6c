using EdgeRuntime.Tensors;

namespace EdgeRuntime.Execution.Ops.Float;

/// <summary>
/// Reshape (opset 5+): the target shape is input 1 and must be constant. 0 copies the input dim at the
/// same index (unless allowzero=1, opset 14+, where 0 is a literal zero dim); a single -1 is inferred
/// from the remaining element count. Any element type; the data is copied unchanged.
/// </summary>
internal sealed class ReshapeOp : OpDefinition
{
    public override string OpType => "Reshape";

    public override IOpKernel Bind(OpContext ctx)
    {
        ShapeOpHelpers.RequireInputCount(ctx, 2, 2);
        var data = ctx.InputOfType(0, ShapeOpHelpers.AnyType);
        var requested = ShapeOpHelpers.ReadInt64List(ctx, ctx.RequireConstant(1, "shape"), "shape");
        bool allowZero = ctx.GetInt("allowzero", 0) != 0;
        var shape = new int[requested.Length];
        int inferredAxis = -1;
        long knownProduct = 1;
        for (int i = 0; i < requested.Length; i++)
        {
            long d = requested[i];
            if (d == -1)
            {
                if (inferredAxis >= 0) throw ctx.Fail($"shape {Format(requested)} has more than one -1");
                inferredAxis = i;
                continue;
            }
            if (d == 0 && !allowZero)
            {
                if (i >= data.Shape.Length)
                    throw ctx.Fail($"shape {Format(requested)} copies dim {i} (0) but the input {TensorShape.Format(data.Shape)} has rank {data.Shape.Length}");
                d = data.Shape[i];
            }
            if (d < 0 || d > int.MaxValue) throw ctx.Fail($"shape {Format(requested)} has invalid dim {requested[i]}");
            shape[i] = (int)d;
            knownProduct *= d;
            if (knownProduct > int.MaxValue) throw ctx.Fail($"shape {Format(requested)} has more than 2^31-1 elements");
        }
        int count = data.ElementCount;
        if (inferredAxis >= 0)
        {
            if (allowZero && knownProduct == 0 && Array.IndexOf(requested, 0L) >= 0)
                throw ctx.Fail($"shape {Format(requested)} has both a -1 and a literal 0 (allowzero=1)");
            if (knownProduct == 0 || count % knownProduct != 0)
                throw ctx.Fail($"cannot reshape {TensorShape.Format(data.Shape)} ({count} elements) to {Format(requested)}: the -1 dim cannot be inferred");
            shape[inferredAxis] = (int)(count / knownProduct);
        }
        else if (knownProduct != count)
            throw ctx.Fail($"cannot reshape {TensorShape.Format(data.Shape)} ({count} elements) to {Format(requested)} ({knownProduct} elements)");
        ctx.SetOutput(0, data.Type, shape);
        return CopyKernel.Instance;
    }

    private static string Format(long[] shape) => "[" + string.Join(",", shape) + "]";
}

/// <summary>Flatten: [prod(dims[..axis]), prod(dims[axis..])], axis in [-rank, rank] (default 1). Any element type.</summary>
internal sealed class FlattenOp : OpDefinition
{
    public override string OpType => "Flatten";

    public override IOpKernel Bind(OpContext ctx)
    {
        ShapeOpHelpers.RequireInputCount(ctx, 1, 1);
        var data = ctx.InputOfType(0, ShapeOpHelpers.AnyType);
        int rank = data.Shape.Length;
        int axis = ShapeOpHelpers.NormalizeAxis(ctx, ctx.GetInt("axis", 1), rank, "axis", inclusiveEnd: true);
        ctx.SetOutput(0, data.Type, [ShapeOpHelpers.Product(data.Shape, 0, axis), ShapeOpHelpers.Product(data.Shape, axis, rank)]);
        return CopyKernel.Instance;
    }
}

/// <summary>
/// Squeeze: removes the listed axes (each must have size 1) — from the <c>axes</c> attribute before
/// opset 13, from the optional constant input 1 from opset 13. Without axes every size-1 dim is removed.
/// </summary>
internal sealed class SqueezeOp : OpDefinition
{
    public override string OpType => "Squeeze";

    public override IOpKernel Bind(OpContext ctx)
    {
        var data = ctx.InputOfType(0, ShapeOpHelpers.AnyType);
        int rank = data.Shape.Length;
        long[]? axesRaw;
        if (ctx.Opset < 13)
        {
            ShapeOpHelpers.RequireInputCount(ctx, 1, 1);
            axesRaw = ctx.GetInts("axes");
        }
        else
        {
            ShapeOpHelpers.RequireInputCount(ctx, 1, 2);
            axesRaw = ctx.HasInput(1) ? ShapeOpHelpers.ReadInt64List(ctx, ctx.RequireConstant(1, "axes"), "axes") : null;
        }
        var remove = new bool[rank];
        if (axesRaw == null)
        {
            for (int i = 0; i < rank; i++) remove[i] = data.Shape[i] == 1;
        }
        else
        {
            foreach (var axis in ShapeOpHelpers.NormalizeAxes(ctx, axesRaw, rank, "axes"))
            {
                if (data.Shape[axis] != 1)
                    throw ctx.Fail($"cannot squeeze axis {axis} of {TensorShape.Format(data.Shape)}: its size is {data.Shape[axis]}, not 1");
                remove[axis] = true;
            }
        }
        var shape = new List<int>();
        for (int i = 0; i < rank; i++) if (!remove[i]) shape.Add(data.Shape[i]);
        ctx.SetOutput(0, data.Type, shape.ToArray());
        return CopyKernel.Instance;
    }
}

/// <summary>
/// Unsqueeze: inserts size-1 dims at the listed axes, which index the output (rank + number of axes) —
/// from the <c>axes</c> attribute before opset 13, from constant input 1 from opset 13.
/// </summary>
internal sealed class UnsqueezeOp : OpDefinition
{
    public override string OpType => "Unsqueeze";

    public override IOpKernel Bind(OpContext ctx)
    {
        var data = ctx.InputOfType(0, ShapeOpHelpers.AnyType);
        long[] axesRaw;
        if (ctx.Opset < 13)
        {
            ShapeOpHelpers.RequireInputCount(ctx, 1, 1);
            axesRaw = ctx.GetInts("axes") ?? throw ctx.Fail("attribute 'axes' is required");
        }
        else
        {
            ShapeOpHelpers.RequireInputCount(ctx, 2, 2);
            axesRaw = ShapeOpHelpers.ReadInt64List(ctx, ctx.RequireConstant(1, "axes"), "axes");
        }
        int outputRank = data.Shape.Length + axesRaw.Length;
        var inserted = new bool[outputRank];
        foreach (var axis in ShapeOpHelpers.NormalizeAxes(ctx, axesRaw, outputRank, "axes")) inserted[axis] = true;
        var shape = new int[outputRank];
        for (int i = 0, src = 0; i < outputRank; i++) shape[i] = inserted[i] ? 1 : data.Shape[src++];
        ctx.SetOutput(0, data.Type, shape);
        return CopyKernel.Instance;
    }
}

/// <summary>Identity: copies its input (any element type).</summary>
internal sealed class IdentityOp : OpDefinition
{
    public override string OpType => "Identity";

    public override IOpKernel Bind(OpContext ctx)
    {
        ShapeOpHelpers.RequireInputCount(ctx, 1, 1);
        var data = ctx.InputOfType(0, ShapeOpHelpers.AnyType);
        ctx.SetOutput(0, data.Type, data.Shape);
        return CopyKernel.Instance;
    }
}

/// <summary>
/// Dropout at inference: output = input. The optional mask output (type of the input before opset 10,
/// bool from 10) is filled with <see cref="MaskValue"/>'s rule: opset ≥ 12 marks every element kept
/// (true, as the spec's inference function does); opsets 7–11 write zeros as ONNX Runtime does.
/// From opset 12 a training_mode input must be a constant false.
/// </summary>
internal sealed class DropoutOp : OpDefinition
{
    public override string OpType => "Dropout";

    /// <summary>The byte value written to every mask element for a given opset.</summary>
    public static byte MaskValue(int opset) => opset >= 12 ? (byte)1 : (byte)0;

    public override IOpKernel Bind(OpContext ctx)
    {
        ShapeOpHelpers.RequireInputCount(ctx, 1, ctx.Opset >= 12 ? 3 : 1);
        var data = ctx.InputOfType(0, TensorElementType.Float32);
        if (ctx.Opset >= 12 && ctx.HasInput(2))
        {
            var mode = ctx.RequireConstant(2, "training_mode");
            if (mode.ElementCount != 1 || mode.ElementType != TensorElementType.Bool)
                throw ctx.Fail("training_mode must be a bool scalar");
            if (mode.AsSpan<byte>()[0] != 0)
                throw ctx.Fail("training_mode=true is not supported (EdgeRuntime runs inference only)");
        }
        if (ctx.Opset < 7 && ctx.GetInt("is_test", 0) == 0)
            throw ctx.Fail("Dropout with is_test=0 (training) is not supported");
        ctx.SetOutput(0, data.Type, data.Shape);
        bool wantsMask = ctx.Node.Outputs.Length > 1 && ctx.Node.Outputs[1].Length > 0;
        if (ctx.Node.Outputs.Length > 2) throw ctx.Fail($"expects at most 2 outputs, got {ctx.Node.Outputs.Length}");
        if (wantsMask)
        {
            var maskType = ctx.Opset < 10 ? data.Type : TensorElementType.Bool;
            ctx.SetOutput(1, maskType, data.Shape);
        }
        return new Kernel(MaskValue(ctx.Opset), ctx.Opset < 10);
    }

    private sealed class Kernel(byte maskValue, bool maskIsFloat) : IOpKernel
    {
        public void Run(ReadOnlySpan<Tensor?> inputs, ReadOnlySpan<Tensor?> outputs)
        {
            inputs[0]!.Bytes.CopyTo(outputs[0]!.Bytes);
            if (outputs.Length > 1 && outputs[1] is { } mask)
            {
                if (maskIsFloat) mask.AsSpan<float>().Fill(maskValue);
                else mask.Bytes.Fill(maskValue);
            }
        }
    }
}
