using EdgeRuntime.Kernels.Common;

namespace EdgeRuntime.Kernels.Elementwise;

/// <summary>
/// Reference com.microsoft QLinearMul:
/// <code>
/// multiplier = (ScaleA * ScaleB) / ScaleC                                   (float32, computed once)
/// C = clamp(RoundHalfToEven((float)((A - ZeroPointA) * (B - ZeroPointB)) * multiplier) + ZeroPointC, min, max)
/// </code>
/// i.e. <see cref="Requantization.Requantize"/> of the exact integer product.
/// </summary>
public static class QLinearMulReference
{
    /// <summary>The product's requantization multiplier.</summary>
    public static float Multiplier(in QLinearBinaryParameters p) => Requantization.Multiplier(p.ScaleA, p.ScaleB, p.ScaleC);

    /// <summary>One output element; <paramref name="multiplier"/> from <see cref="Multiplier"/>.</summary>
    public static byte Compute(byte a, byte b, float multiplier, in QLinearBinaryParameters p)
    {
        int product = (QuantizedByte.Value(a, p.Signed) - p.ZeroPointA) * (QuantizedByte.Value(b, p.Signed) - p.ZeroPointB);
        return (byte)Requantization.Requantize(product, multiplier, p.ZeroPointC, Requantization.MinOf(p.Signed), Requantization.MaxOf(p.Signed));
    }

    /// <summary>Broadcasting multiply over whole tensors.</summary>
    public static void Run(QuantizedBroadcast plan, ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, Span<byte> c, in QLinearBinaryParameters p)
    {
        float multiplier = Multiplier(p);
        int inner = plan.InnerLength, sa = plan.InnerStrideA, sb = plan.InnerStrideB;
        for (int r = 0; r < plan.RowOffsetsA.Length; r++)
        {
            int oa = plan.RowOffsetsA[r], ob = plan.RowOffsetsB[r], oc = r * inner;
            for (int i = 0; i < inner; i++)
                c[oc + i] = Compute(a[oa + i * sa], b[ob + i * sb], multiplier, p);
        }
    }
}
