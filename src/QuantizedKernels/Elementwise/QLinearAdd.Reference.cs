using EdgeRuntime.Kernels.Common;

namespace EdgeRuntime.Kernels.Elementwise;

/// <summary>
/// Numpy-style broadcast of two inputs A and B to an output, precomputed once (at bind time). The output is
/// walked as rows of its innermost dimension: row <c>r</c> covers output elements
/// <c>[r*InnerLength, (r+1)*InnerLength)</c> and reads A at <c>RowOffsetsA[r] + i*InnerStrideA</c>
/// and B at <c>RowOffsetsB[r] + i*InnerStrideB</c> (stride 0 where that input is broadcast).
/// </summary>
public sealed class QuantizedBroadcast
{
    /// <summary>Output dimensions.</summary>
    public int[] OutputShape { get; }
    /// <summary>Total output elements.</summary>
    public int OutputCount { get; }
    /// <summary>Elements per row (the innermost output dimension).</summary>
    public int InnerLength { get; }
    /// <summary>Step of A along a row (0 or 1).</summary>
    public int InnerStrideA { get; }
    /// <summary>Step of B along a row (0 or 1).</summary>
    public int InnerStrideB { get; }
    /// <summary>Start of each row in A.</summary>
    public int[] RowOffsetsA { get; }
    /// <summary>Start of each row in B.</summary>
    public int[] RowOffsetsB { get; }

    /// <summary>Builds the plan; returns null when the shapes do not broadcast.</summary>
    public static QuantizedBroadcast? Create(int[] shapeA, int[] shapeB)
    {
        int rank = Math.Max(Math.Max(shapeA.Length, shapeB.Length), 1);
        var outShape = new int[rank];
        var strideA = new int[rank];
        var strideB = new int[rank];
        int accA = 1, accB = 1;
        for (int d = rank - 1; d >= 0; d--)
        {
            int ia = d - (rank - shapeA.Length), ib = d - (rank - shapeB.Length);
            int da = ia >= 0 ? shapeA[ia] : 1, db = ib >= 0 ? shapeB[ib] : 1;
            if (da != db && da != 1 && db != 1) return null;
            outShape[d] = da == 1 ? db : da;
            strideA[d] = da == 1 ? 0 : accA;
            strideB[d] = db == 1 ? 0 : accB;
            accA *= da;
            accB *= db;
        }
        return new QuantizedBroadcast(outShape, strideA, strideB);
    }

    private QuantizedBroadcast(int[] outputShape, int[] stridesA, int[] stridesB)
    {
        OutputShape = outputShape;
        int rank = outputShape.Length;
        long count = 1;
        foreach (var d in outputShape) count *= d;
        OutputCount = checked((int)count);
        InnerLength = outputShape[rank - 1];
        InnerStrideA = stridesA[rank - 1];
        InnerStrideB = stridesB[rank - 1];
        int rows = InnerLength == 0 ? 0 : OutputCount / InnerLength;
        RowOffsetsA = new int[rows];
        RowOffsetsB = new int[rows];
        var counter = new int[rank];
        int offsetA = 0, offsetB = 0;
        for (int r = 0; r < rows; r++)
        {
            RowOffsetsA[r] = offsetA;
            RowOffsetsB[r] = offsetB;
            for (int d = rank - 2; d >= 0; d--)
            {
                counter[d]++;
                offsetA += stridesA[d];
                offsetB += stridesB[d];
                if (counter[d] < outputShape[d]) break;
                offsetA -= stridesA[d] * outputShape[d];
                offsetB -= stridesB[d] * outputShape[d];
                counter[d] = 0;
            }
        }
    }
}

/// <summary>Scales and zero points of a quantized binary op <c>C = f(A, B)</c>; all three tensors share the 8-bit type.</summary>
public readonly record struct QLinearBinaryParameters(
    float ScaleA, int ZeroPointA, float ScaleB, int ZeroPointB, float ScaleC, int ZeroPointC, bool Signed);

/// <summary>
/// Reference com.microsoft QLinearAdd, following ONNX Runtime's MLAS arithmetic (its portable path):
/// <code>
/// a = ScaleA * (float)(A - ZeroPointA);  b = ScaleB * (float)(B - ZeroPointB)     (float32)
/// C = clamp(RoundHalfToEven((a + b) / ScaleC) + ZeroPointC, min, max)
/// </code>
/// ORT's x64/ARM SIMD paths use a fixed-point approximation of the same formula and agree within 1 LSB.
/// </summary>
public static class QLinearAddReference
{
    /// <summary>One output element.</summary>
    public static byte Compute(byte a, byte b, in QLinearBinaryParameters p)
    {
        float va = p.ScaleA * (QuantizedByte.Value(a, p.Signed) - p.ZeroPointA);
        float vb = p.ScaleB * (QuantizedByte.Value(b, p.Signed) - p.ZeroPointB);
        return (byte)Requantization.RoundAndClamp((va + vb) / p.ScaleC, p.ZeroPointC, Requantization.MinOf(p.Signed), Requantization.MaxOf(p.Signed));
    }

    /// <summary>Broadcasting add over whole tensors.</summary>
    public static void Run(QuantizedBroadcast plan, ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, Span<byte> c, in QLinearBinaryParameters p)
    {
        int inner = plan.InnerLength, sa = plan.InnerStrideA, sb = plan.InnerStrideB;
        for (int r = 0; r < plan.RowOffsetsA.Length; r++)
        {
            int oa = plan.RowOffsetsA[r], ob = plan.RowOffsetsB[r], oc = r * inner;
            for (int i = 0; i < inner; i++)
                c[oc + i] = Compute(a[oa + i * sa], b[ob + i * sb], p);
        }
    }
}
