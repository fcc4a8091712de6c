using EdgeRuntime.Kernels.DataMovement;
using EdgeRuntime.Tensors;

namespace EdgeRuntime.Execution.Ops.Float;

/// <summary>Transpose: output dim i = input dim perm[i]; perm defaults to reversing the axes. Any element type.</summary>
internal sealed class TransposeOp : OpDefinition
{
    public override string OpType => "Transpose";

    public override IOpKernel Bind(OpContext ctx)
    {
        ShapeOpHelpers.RequireInputCount(ctx, 1, 1);
        var data = ctx.InputOfType(0, ShapeOpHelpers.AnyType);
        int rank = data.Shape.Length;
        var permRaw = ctx.GetInts("perm");
        var perm = new int[rank];
        if (permRaw == null)
        {
            for (int i = 0; i < rank; i++) perm[i] = rank - 1 - i;
        }
        else
        {
            if (permRaw.Length != rank)
                throw ctx.Fail($"perm [{string.Join(",", permRaw)}] has {permRaw.Length} entries, the input {TensorShape.Format(data.Shape)} has rank {rank}");
            var seen = new bool[rank];
            for (int i = 0; i < rank; i++)
            {
                long p = permRaw[i];
                if (p < 0 || p >= rank || seen[p])
                    throw ctx.Fail($"perm [{string.Join(",", permRaw)}] is not a permutation of 0..{rank - 1}");
                seen[p] = true;
                perm[i] = (int)p;
            }
        }
        var shape = new int[rank];
        for (int i = 0; i < rank; i++) shape[i] = data.Shape[perm[i]];
        ctx.SetOutput(0, data.Type, shape);
        var plan = TransposePlan.Create(data.Shape, perm);
        int elementSize = data.Type.SizeInBytes();
        int lineElements = 64 / elementSize;
        if (ctx.Workers is { ThreadCount: > 1 } workers && (long)plan.ElementCount * elementSize >= MinParallelBytes
            && plan.Dims[^1] >= 2 * lineElements * workers.ThreadCount)
            return new BandedKernel(plan, elementSize, workers);
        return new Kernel(plan, elementSize);
    }

    /// <summary>
    /// Outputs of at least this many bytes are written by all threads (MobileNetV2's NHWC → NCHW input transpose,
    /// 150 KB): besides sharing the work, each thread then writes the band of every plane that its own share of the
    /// first convolution reads. On the 2-vCPU build machine, with the vCPUs apart (a cache line between them took
    /// about 300 ns), that transpose took 0.110 ms on the calling thread against 0.020 ms with them close (per-step
    /// profile, 2026-11-29 06:40 UTC).
    /// </summary>
    private const int MinParallelBytes = 64 * 1024;

    private static void Transpose(TransposePlan plan, int elementSize, Tensor x, Tensor y, int first, int count)
    {
        switch (elementSize)
        {
            case 1: TransposeReference.Transpose(x.AsSpan<byte>(), y.AsSpan<byte>(), plan, first, count); break;
            case 2: TransposeReference.Transpose(x.AsSpan<ushort>(), y.AsSpan<ushort>(), plan, first, count); break;
            case 4: TransposeReference.Transpose(x.AsSpan<uint>(), y.AsSpan<uint>(), plan, first, count); break;
            default: TransposeReference.Transpose(x.AsSpan<ulong>(), y.AsSpan<ulong>(), plan, first, count); break;
        }
    }

    private sealed class Kernel(TransposePlan plan, int elementSize) : IOpKernel
    {
        public void Run(ReadOnlySpan<Tensor?> inputs, ReadOnlySpan<Tensor?> outputs)
            => Transpose(plan, elementSize, inputs[0]!, outputs[0]!, 0, plan.Dims[^1]);
    }

    /// <summary>
    /// One item per thread: item t writes columns [t·L/T, (t+1)·L/T) of every output row, L the row's 64-byte lines,
    /// so no two threads write one line (the arena starts buffers on lines; rows off a line boundary share at most
    /// their end lines). The values do not depend on the split.
    /// </summary>
    private sealed class BandedKernel : IOpKernel, IParallelWork
    {
        private readonly TransposePlan _plan;
        private readonly int _elementSize, _lineElements, _lines, _bands;
        private readonly WorkerPool _workers;
        private Tensor? _x, _y;

        public BandedKernel(TransposePlan plan, int elementSize, WorkerPool workers)
        {
            _plan = plan;
            _elementSize = elementSize;
            _workers = workers;
            _lineElements = 64 / elementSize;
            _lines = (plan.Dims[^1] + _lineElements - 1) / _lineElements;
            _bands = workers.ThreadCount;
        }

        public void Run(ReadOnlySpan<Tensor?> inputs, ReadOnlySpan<Tensor?> outputs)
        {
            (_x, _y) = (inputs[0], outputs[0]);
            _workers.Run(this, _bands);
            (_x, _y) = (null, null);
        }

        public void Execute(int item, int worker)
        {
            int inner = _plan.Dims[^1];
            int first = Math.Min(inner, item * _lines / _bands * _lineElements);
            int end = Math.Min(inner, (item + 1) * _lines / _bands * _lineElements);
            Transpose(_plan, _elementSize, _x!, _y!, first, end - first);
        }
    }
}

/// <summary>Concat along <c>axis</c> (required; negative allowed from opset 11). All inputs share type and rank; other dims must match.</summary>
internal sealed class ConcatOp : OpDefinition
{
    public override string OpType => "Concat";

    public override IOpKernel Bind(OpContext ctx)
    {
        if (ctx.InputCount < 1) throw ctx.Fail("expects at least one input");
        var first = ctx.InputOfType(0, ShapeOpHelpers.AnyType);
        int rank = first.Shape.Length;
        if (rank == 0) throw ctx.Fail("cannot concatenate scalars (rank 0)");
        if (!ctx.HasAttribute("axis")) throw ctx.Fail("attribute 'axis' is required");
        int axis = ShapeOpHelpers.NormalizeAxis(ctx, ctx.GetInt("axis", 0), rank);
        var shape = (int[])first.Shape.Clone();
        long axisTotal = 0;
        var rowLengths = new int[ctx.InputCount];
        int inner = ShapeOpHelpers.Product(first.Shape, axis + 1, rank);
        for (int k = 0; k < ctx.InputCount; k++)
        {
            var input = ctx.Input(k);
            if (input.Type != first.Type)
                throw ctx.Fail($"input {k} has type {input.Type.OnnxName()}, input 0 has {first.Type.OnnxName()}");
            if (input.Shape.Length != rank)
                throw ctx.Fail($"input {k} has shape {TensorShape.Format(input.Shape)} of rank {input.Shape.Length}, input 0 has rank {rank}");
            for (int d = 0; d < rank; d++)
                if (d != axis && input.Shape[d] != first.Shape[d])
                    throw ctx.Fail($"input {k} shape {TensorShape.Format(input.Shape)} differs from input 0 {TensorShape.Format(first.Shape)} outside axis {axis}");
            axisTotal += input.Shape[axis];
            rowLengths[k] = input.Shape[axis] * inner;
        }
        if (axisTotal > int.MaxValue) throw ctx.Fail("concatenated axis is too large");
        shape[axis] = (int)axisTotal;
        ctx.SetOutput(0, first.Type, shape);
        return new Kernel(ShapeOpHelpers.Product(first.Shape, 0, axis), rowLengths, (int)axisTotal * inner, first.Type.SizeInBytes());
    }

    private sealed class Kernel(int outer, int[] rowLengths, int outputRowLength, int elementSize) : IOpKernel
    {
        public void Run(ReadOnlySpan<Tensor?> inputs, ReadOnlySpan<Tensor?> outputs)
        {
            Span<byte> y = outputs[0]!.Bytes;
            int offset = 0;
            for (int k = 0; k < rowLengths.Length; k++)
            {
                ConcatReference.CopyInput<byte>(inputs[k]!.Bytes, y, outer, rowLengths[k] * elementSize, outputRowLength * elementSize, offset * elementSize);
                offset += rowLengths[k];
            }
        }
    }
}
