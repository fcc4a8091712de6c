using EdgeRuntime.Kernels.Gemm;
using EdgeRuntime.Tensors;

namespace EdgeRuntime.Execution.Ops.Float;

/// <summary>
/// ONNX Gemm (opsets 7–13), float32: <c>Y = alpha * op(A) · op(B) + beta * C</c> with <c>op</c> = transpose when
/// transA/transB, A and B 2-D, optional C unidirectionally broadcastable to [M, N]. A constant B is packed once at bind.
/// </summary>
internal sealed class GemmOp : OpDefinition
{
    public override string OpType => "Gemm";

    public override IOpKernel Bind(OpContext ctx)
    {
        var a = ctx.InputOfType(0, TensorElementType.Float32);
        var b = ctx.InputOfType(1, TensorElementType.Float32);
        if (a.Shape.Length != 2 || b.Shape.Length != 2) throw ctx.Fail($"inputs A and B must be 2-D, got A {a} and B {b}");
        bool transA = ctx.GetInt("transA", 0) != 0, transB = ctx.GetInt("transB", 0) != 0;
        float alpha = ctx.GetFloat("alpha", 1f), beta = ctx.GetFloat("beta", 1f);
        int m = transA ? a.Shape[1] : a.Shape[0];
        int k = transA ? a.Shape[0] : a.Shape[1];
        int kb = transB ? b.Shape[1] : b.Shape[0];
        int n = transB ? b.Shape[0] : b.Shape[1];
        if (k != kb) throw ctx.Fail($"inner dimensions differ: op(A) is [{m},{k}] and op(B) is [{kb},{n}] (transA={(transA ? 1 : 0)}, transB={(transB ? 1 : 0)})");

        int[]? cShape = null;
        if (ctx.HasInput(2))
        {
            var c = ctx.InputOfType(2, TensorElementType.Float32);
            if (c.Shape.Length > 2) throw ctx.Fail($"input C must have rank <= 2, got {c}");
            // Right-align C against [M, N]; each dimension must be 1 or equal.
            var aligned = new int[2] { 1, 1 };
            for (int i = 0; i < c.Shape.Length; i++) aligned[2 - c.Shape.Length + i] = c.Shape[i];
            if ((aligned[0] != 1 && aligned[0] != m) || (aligned[1] != 1 && aligned[1] != n))
                throw ctx.Fail($"input C {c} cannot be broadcast to [{m},{n}]");
            cShape = aligned;
        }
        ctx.SetOutput(0, TensorElementType.Float32, [m, n]);
        float[]? packedB = null;
        if (ctx.Constant(1) is { } constantB)
        {
            packedB = new float[GemmFloatPacked.PackedBLength(k, n)];
            GemmFloatPacked.PackB(constantB.AsSpan<float>(), b.Shape[1], transB, k, n, packedB);
        }
        return new Kernel(m, n, k, transA, transB, a.Shape[1], b.Shape[1], alpha, beta, cShape, packedB);
    }

    private sealed class Kernel : IOpKernel, IPacksConstantInputs
    {
        private readonly int _m, _n, _k, _lda, _ldb;
        private readonly bool _transA, _transB, _constantB;
        private readonly float _alpha, _beta;
        private readonly int[]? _cShape;
        private readonly float[] _packedA, _packedB;

        public Kernel(int m, int n, int k, bool transA, bool transB, int lda, int ldb, float alpha, float beta, int[]? cShape, float[]? packedB)
        {
            (_m, _n, _k, _transA, _transB, _lda, _ldb, _alpha, _beta, _cShape) = (m, n, k, transA, transB, lda, ldb, alpha, beta, cShape);
            _packedA = new float[GemmFloatPacked.PackedALength(m, k)];
            _constantB = packedB != null;
            _packedB = packedB ?? new float[GemmFloatPacked.PackedBLength(k, n)];
        }

        public bool ReadsAtRun(int index) => index != 1 || !_constantB; // a constant B is packed at load

        public long PackedBytes => _constantB ? (long)_packedB.Length * sizeof(float) : 0;

        public void Run(ReadOnlySpan<Tensor?> inputs, ReadOnlySpan<Tensor?> outputs)
        {
            var y = outputs[0]!.AsSpan<float>();
            bool accumulate = false;
            if (_cShape != null && inputs[2] is { } cTensor && _beta != 0f)
            {
                // Y starts as beta * broadcast(C); the product is added on top.
                var c = cTensor.AsSpan<float>();
                int rowStride = _cShape[0] == 1 ? 0 : _cShape[1];
                bool perColumn = _cShape[1] != 1;
                for (int i = 0; i < _m; i++)
                {
                    var row = y.Slice(i * _n, _n);
                    if (perColumn)
                        for (int j = 0; j < _n; j++) row[j] = _beta * c[i * rowStride + j];
                    else
                        row.Fill(_beta * c[i * rowStride]);
                }
                accumulate = true;
            }
            GemmFloatPacked.PackA(inputs[0]!.AsSpan<float>(), _lda, _transA, _m, _k, _packedA);
            if (!_constantB) GemmFloatPacked.PackB(inputs[1]!.AsSpan<float>(), _ldb, _transB, _k, _n, _packedB);
            GemmFloatPacked.Multiply(_m, _n, _k, _packedA, _packedB, y, _n, new GemmFloatEpilogue { Alpha = _alpha, Accumulate = accumulate });
        }
    }
}

/// <summary>
/// ONNX MatMul (opsets 1–13), float32, numpy semantics: a 1-D A is a row vector [1,K] and a 1-D B a column
/// vector [K,1] (the added axis is removed from the result); leading batch axes broadcast. A constant B is
/// packed once at bind; when B has no batch axes the batches of A are folded into one tall product.
/// </summary>
internal sealed class MatMulOp : OpDefinition
{
    public override string OpType => "MatMul";

    public override IOpKernel Bind(OpContext ctx)
    {
        var a = ctx.InputOfType(0, TensorElementType.Float32);
        var b = ctx.InputOfType(1, TensorElementType.Float32);
        if (a.Shape.Length == 0 || b.Shape.Length == 0) throw ctx.Fail($"MatMul inputs must have rank >= 1, got A {a} and B {b}");
        int[] aShape = a.Shape.Length == 1 ? [1, a.Shape[0]] : a.Shape;
        int[] bShape = b.Shape.Length == 1 ? [b.Shape[0], 1] : b.Shape;
        int m = aShape[^2], k = aShape[^1], n = bShape[^1];
        if (bShape[^2] != k) throw ctx.Fail($"inner dimensions differ: A {a} and B {b}");

        var aBatch = aShape[..^2];
        var bBatch = bShape[..^2];
        int batchRank = Math.Max(aBatch.Length, bBatch.Length);
        var outBatch = new int[batchRank];
        for (int i = 0; i < batchRank; i++)
        {
            int da = i - (batchRank - aBatch.Length) >= 0 ? aBatch[i - (batchRank - aBatch.Length)] : 1;
            int db = i - (batchRank - bBatch.Length) >= 0 ? bBatch[i - (batchRank - bBatch.Length)] : 1;
            if (da != db && da != 1 && db != 1) throw ctx.Fail($"batch dimensions of A {a} and B {b} do not broadcast");
            outBatch[i] = da == 1 ? db : da;
        }
        var outShape = new List<int>(outBatch);
        if (a.Shape.Length > 1) outShape.Add(m);
        if (b.Shape.Length > 1) outShape.Add(n);
        ctx.SetOutput(0, TensorElementType.Float32, outShape.ToArray());

        // For each output batch, which batch of A and of B it reads (row-major over the broadcast batch shape).
        int batches = TensorShape.ElementCount(outBatch);
        var aIndex = BroadcastIndex(aBatch, outBatch, batches);
        var bIndex = BroadcastIndex(bBatch, outBatch, batches);
        int bBatches = TensorShape.ElementCount(bBatch);
        bool foldBatchesIntoRows = bBatches == 1 && TensorShape.ElementCount(aBatch) == batches;

        float[]? packedB = null;
        int packedBLength = GemmFloatPacked.PackedBLength(k, n);
        if (ctx.Constant(1) is { } constantB)
        {
            packedB = new float[packedBLength * bBatches];
            var source = constantB.AsSpan<float>();
            for (int i = 0; i < bBatches; i++)
                GemmFloatPacked.PackB(source.Slice(i * k * n, k * n), n, false, k, n, packedB.AsSpan(i * packedBLength, packedBLength));
        }
        return new Kernel(m, n, k, batches, aIndex, bIndex, foldBatchesIntoRows, packedB, packedBLength);
    }

    private static int[] BroadcastIndex(int[] batchShape, int[] outBatch, int batches)
    {
        var result = new int[batches];
        var strides = TensorShape.Strides(batchShape);
        int offset = outBatch.Length - batchShape.Length;
        var coordinate = new int[outBatch.Length];
        for (int i = 0; i < batches; i++)
        {
            int index = 0;
            for (int d = 0; d < batchShape.Length; d++)
                if (batchShape[d] != 1) index += coordinate[d + offset] * strides[d];
            result[i] = index;
            for (int d = outBatch.Length - 1; d >= 0; d--)
            {
                if (++coordinate[d] < outBatch[d]) break;
                coordinate[d] = 0;
            }
        }
        return result;
    }

    private sealed class Kernel : IOpKernel, IPacksConstantInputs
    {
        private readonly int _m, _n, _k, _batches, _packedBLength;
        private readonly int[] _aIndex, _bIndex;
        private readonly bool _fold, _constantB;
        private readonly float[] _packedA, _packedB;

        public Kernel(int m, int n, int k, int batches, int[] aIndex, int[] bIndex, bool fold, float[]? packedB, int packedBLength)
        {
            (_m, _n, _k, _batches, _aIndex, _bIndex, _fold, _packedBLength) = (m, n, k, batches, aIndex, bIndex, fold, packedBLength);
            _packedA = new float[GemmFloatPacked.PackedALength(fold ? m * batches : m, k)];
            _constantB = packedB != null;
            _packedB = packedB ?? new float[packedBLength];
        }

        public bool ReadsAtRun(int index) => index != 1 || !_constantB; // a constant B is packed at load

        public long PackedBytes => _constantB ? (long)_packedB.Length * sizeof(float) : 0;

        public void Run(ReadOnlySpan<Tensor?> inputs, ReadOnlySpan<Tensor?> outputs)
        {
            var a = inputs[0]!.AsSpan<float>();
            var b = _constantB ? default : inputs[1]!.AsSpan<float>(); // a constant B was packed and released at load
            var y = outputs[0]!.AsSpan<float>();
            int aSize = _m * _k, bSize = _k * _n, ySize = _m * _n;
            var identity = new GemmFloatEpilogue();
            if (_fold)
            {
                int rows = _m * _batches;
                GemmFloatPacked.PackA(a, _k, false, rows, _k, _packedA);
                if (!_constantB) GemmFloatPacked.PackB(b, _n, false, _k, _n, _packedB);
                GemmFloatPacked.Multiply(rows, _n, _k, _packedA, _packedB.AsSpan(0, _packedBLength), y, _n, identity);
                return;
            }
            for (int i = 0; i < _batches; i++)
            {
                GemmFloatPacked.PackA(a.Slice(_aIndex[i] * aSize, aSize), _k, false, _m, _k, _packedA);
                ReadOnlySpan<float> packedB;
                if (_constantB) packedB = _packedB.AsSpan(_bIndex[i] * _packedBLength, _packedBLength);
                else
                {
                    GemmFloatPacked.PackB(b.Slice(_bIndex[i] * bSize, bSize), _n, false, _k, _n, _packedB);
                    packedB = _packedB;
                }
                GemmFloatPacked.Multiply(_m, _n, _k, _packedA, packedB, y.Slice(i * ySize, ySize), _n, identity);
            }
        }
    }
}
