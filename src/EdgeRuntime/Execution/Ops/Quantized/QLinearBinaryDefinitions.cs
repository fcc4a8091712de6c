using EdgeRuntime.Kernels.Elementwise;
using EdgeRuntime.Tensors;

namespace EdgeRuntime.Execution.Ops.Quantized;

/// <summary>
/// com.microsoft QLinearAdd / QLinearMul: A, A_scale, A_zero_point, B, B_scale, B_zero_point, C_scale,
/// C_zero_point with numpy broadcasting; A, B and C share one 8-bit type. Scales/zero points are per-tensor constants.
/// </summary>
internal sealed class QLinearBinaryDefinition(string opType, bool multiply) : OpDefinition
{
    public override string OpType => opType;
    public override string Domain => "com.microsoft";

    public override IOpKernel Bind(OpContext ctx)
    {
        var a = ctx.InputOfType(0, TensorElementType.UInt8, TensorElementType.Int8);
        var b = ctx.InputOfType(3, a.Type);
        bool signed = a.Type == TensorElementType.Int8;
        var plan = QuantizedBroadcast.Create(a.Shape, b.Shape)
                   ?? throw ctx.Fail($"shapes {TensorShape.Format(a.Shape)} and {TensorShape.Format(b.Shape)} do not broadcast");
        var p = new QLinearBinaryParameters(
            QuantizationParameters.Scale(ctx, 1, "A_scale"), QuantizationParameters.ZeroPoint(ctx, 2, "A_zero_point", a.Type),
            QuantizationParameters.Scale(ctx, 4, "B_scale"), QuantizationParameters.ZeroPoint(ctx, 5, "B_zero_point", a.Type),
            QuantizationParameters.Scale(ctx, 6, "C_scale"), QuantizationParameters.ZeroPoint(ctx, 7, "C_zero_point", a.Type),
            signed);
        // Rank-0 inputs broadcast to a rank-0 output; the plan works on at least rank 1.
        int[] outShape = a.Shape.Length == 0 && b.Shape.Length == 0 ? [] : plan.OutputShape;
        ctx.SetOutput(0, a.Type, outShape);
        int count = plan.OutputShape.Aggregate(1, (x, y) => x * y);
        if (ctx.Workers is { ThreadCount: > 1 } workers && a.Shape.SequenceEqual(b.Shape) && count >= 2 * MinChunk)
            return new ChunkedKernel(count, p, multiply, ctx.Isa, workers);
        return new Kernel(plan, p, multiply, ctx.Isa);
    }

    /// <summary>Smallest share of a same-shape operation worth handing to another thread (several microseconds of work).</summary>
    private const int MinChunk = 4 * 1024;

    private sealed class Kernel(QuantizedBroadcast plan, QLinearBinaryParameters p, bool multiply, Kernels.Common.IsaPath isa) : IOpKernel
    {
        public void Run(ReadOnlySpan<Tensor?> inputs, ReadOnlySpan<Tensor?> outputs)
        {
            if (multiply) QLinearMul.Run(isa, plan, inputs[0]!.Bytes, inputs[3]!.Bytes, outputs[0]!.Bytes, p);
            else QLinearAdd.Run(isa, plan, inputs[0]!.Bytes, inputs[3]!.Bytes, outputs[0]!.Bytes, p);
        }
    }

    /// <summary>
    /// Same-shape inputs (residual additions) on several threads: the flat element range is cut into equal chunks (a
    /// multiple of 64 elements, the last one shorter), each computed as its own 1-D operation. Element-wise results do
    /// not depend on the cut, so the output is identical for any thread count.
    /// </summary>
    private sealed class ChunkedKernel : IOpKernel, IParallelWork
    {
        private readonly QLinearBinaryParameters _p;
        private readonly bool _multiply;
        private readonly Kernels.Common.IsaPath _isa;
        private readonly WorkerPool _workers;
        private readonly int _count, _chunk, _chunks;
        private readonly QuantizedBroadcast _full, _last;
        private Tensor? _a, _b, _y;

        public ChunkedKernel(int count, QLinearBinaryParameters p, bool multiply, Kernels.Common.IsaPath isa, WorkerPool workers)
        {
            _p = p;
            _multiply = multiply;
            _isa = isa;
            _workers = workers;
            _count = count;
            _chunks = Math.Min(2 * workers.ThreadCount, count / MinChunk);
            _chunk = (count + _chunks - 1) / _chunks + 63 & ~63;
            _chunks = (count + _chunk - 1) / _chunk;
            _full = QuantizedBroadcast.Create([_chunk], [_chunk])!;
            int last = count - (_chunks - 1) * _chunk;
            _last = QuantizedBroadcast.Create([last], [last])!;
        }

        public void Run(ReadOnlySpan<Tensor?> inputs, ReadOnlySpan<Tensor?> outputs)
        {
            (_a, _b, _y) = (inputs[0], inputs[3], outputs[0]);
            _workers.Run(this, _chunks);
            (_a, _b, _y) = (null, null, null);
        }

        public void Execute(int item, int worker)
        {
            int start = item * _chunk;
            var plan = item == _chunks - 1 ? _last : _full;
            int length = Math.Min(_chunk, _count - start);
            var a = _a!.Bytes.Slice(start, length);
            var b = _b!.Bytes.Slice(start, length);
            var y = _y!.Bytes.Slice(start, length);
            if (_multiply) QLinearMul.Run(_isa, plan, a, b, y, _p);
            else QLinearAdd.Run(_isa, plan, a, b, y, _p);
        }
    }
}
