using EdgeRuntime.Kernels.Common;
using EdgeRuntime.Kernels.Gemm;
using EdgeRuntime.Tensors;

namespace EdgeRuntime.Execution.Ops.Quantized;

/// <summary>
/// ONNX QLinearMatMul (opset 10): a, a_scale, a_zero_point, b, b_scale, b_zero_point, y_scale, y_zero_point.
/// numpy matmul shapes (1-D operands promoted, batch dimensions broadcast). a is per-tensor; b per-tensor or
/// per-column (scale/zero point with N elements). Scales and zero points must be constants.
/// </summary>
internal sealed class QLinearMatMulDefinition : OpDefinition
{
    public override string OpType => "QLinearMatMul";

    public override IOpKernel Bind(OpContext ctx)
    {
        var a = ctx.InputOfType(0, TensorElementType.UInt8, TensorElementType.Int8);
        var b = ctx.InputOfType(3, TensorElementType.UInt8, TensorElementType.Int8);
        if (a.Shape.Length == 0 || b.Shape.Length == 0) throw ctx.Fail("QLinearMatMul inputs must have rank ≥ 1");
        int[] aShape = a.Shape.Length == 1 ? [1, a.Shape[0]] : a.Shape;
        int[] bShape = b.Shape.Length == 1 ? [b.Shape[0], 1] : b.Shape;
        int m = aShape[^2], k = aShape[^1], n = bShape[^1];
        if (bShape[^2] != k) throw ctx.Fail($"inner dimensions differ: a {TensorShape.Format(a.Shape)}, b {TensorShape.Format(b.Shape)}");
        var batchA = aShape[..^2];
        var batchB = bShape[..^2];
        int rank = Math.Max(batchA.Length, batchB.Length);
        var batchOut = new int[rank];
        for (int d = 0; d < rank; d++)
        {
            int ia = d - (rank - batchA.Length), ib = d - (rank - batchB.Length);
            int da = ia >= 0 ? batchA[ia] : 1, db = ib >= 0 ? batchB[ib] : 1;
            if (da != db && da != 1 && db != 1) throw ctx.Fail($"batch dimensions of a {TensorShape.Format(a.Shape)} and b {TensorShape.Format(b.Shape)} do not broadcast");
            batchOut[d] = Math.Max(da, db) == 0 ? 0 : (da == 1 ? db : da);
        }
        int batches = TensorShape.ElementCount(batchOut);
        var offsetsA = new int[batches];
        var offsetsB = new int[batches];
        for (int i = 0; i < batches; i++)
        {
            int rest = i, oa = 0, ob = 0, strideA = 1, strideB = 1;
            for (int d = rank - 1; d >= 0; d--)
            {
                int idx = rest % batchOut[d];
                rest /= batchOut[d];
                int ia = d - (rank - batchA.Length), ib = d - (rank - batchB.Length);
                int da = ia >= 0 ? batchA[ia] : 1, db = ib >= 0 ? batchB[ib] : 1;
                if (da != 1) oa += idx * strideA;
                if (db != 1) ob += idx * strideB;
                strideA *= da;
                strideB *= db;
            }
            offsetsA[i] = oa * m * k;
            offsetsB[i] = ob * k * n;
        }

        float aScale = QuantizationParameters.Scale(ctx, 1, "a_scale");
        int aZeroPoint = QuantizationParameters.ZeroPoint(ctx, 2, "a_zero_point", a.Type);
        var bScales = QuantizationParameters.Scales(ctx, 4, "b_scale", n);
        var bZeroPoints = QuantizationParameters.ZeroPoints(ctx, 5, "b_zero_point", b.Type, n);
        float yScale = QuantizationParameters.Scale(ctx, 6, "y_scale");
        var yType = ctx.HasInput(7) ? ctx.Input(7).Type : a.Type;
        bool ySigned = QuantizationParameters.IsSigned(ctx, yType, "y_zero_point");
        int yZeroPoint = QuantizationParameters.ZeroPoint(ctx, 7, "y_zero_point", yType);
        var multipliers = bScales.Select(s => Requantization.Multiplier(aScale, s, yScale)).ToArray();

        var outShape = new List<int>(batchOut);
        if (a.Shape.Length > 1) outShape.Add(m);
        if (b.Shape.Length > 1) outShape.Add(n);
        ctx.SetOutput(0, yType, outShape.ToArray());
        return new Kernel(m, k, n, a.Type == TensorElementType.Int8, aZeroPoint, b.Type == TensorElementType.Int8, bZeroPoints,
            multipliers, yZeroPoint, Requantization.MinOf(ySigned), Requantization.MaxOf(ySigned), offsetsA, offsetsB,
            new int[QLinearMatMulReference.ScratchLength(n)]);
    }

    private sealed class Kernel(int m, int k, int n, bool aSigned, int aZeroPoint, bool bSigned, int[] bZeroPoints, float[] multipliers,
        int yZeroPoint, int yMin, int yMax, int[] offsetsA, int[] offsetsB, int[] scratch) : IOpKernel
    {
        public void Run(ReadOnlySpan<Tensor?> inputs, ReadOnlySpan<Tensor?> outputs)
        {
            var a = inputs[0]!.Bytes;
            var b = inputs[3]!.Bytes;
            var y = outputs[0]!.Bytes;
            for (int i = 0; i < offsetsA.Length; i++)
                QLinearMatMulReference.Run(m, k, n, a.Slice(offsetsA[i], m * k), aSigned, aZeroPoint,
                    b.Slice(offsetsB[i], k * n), bSigned, bZeroPoints, multipliers, yZeroPoint, yMin, yMax,
                    y.Slice(i * m * n, m * n), scratch);
        }
    }
}
