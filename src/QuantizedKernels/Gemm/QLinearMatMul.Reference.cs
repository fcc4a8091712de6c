using EdgeRuntime.Kernels.Common;

namespace EdgeRuntime.Kernels.Gemm;

/// <summary>
/// Reference QLinearMatMul for one matrix product <c>Y[M, N] = A[M, K] · B[K, N]</c> (row-major):
/// <code>
/// acc[i, j] = Σ_k (a[i, k] - aZeroPoint) * (b[k, j] - bZeroPoint[j])        (exact int32)
/// y[i, j]   = Requantization.Requantize(acc[i, j], multiplier[j], yZeroPoint, yMin, yMax)
/// </code>
/// where <c>multiplier[j] = Requantization.Multiplier(aScale, bScale[j], yScale)</c>; per-tensor B passes
/// single-element spans for the zero point and multiplier. Batched products call this once per matrix pair.
/// </summary>
public static class QLinearMatMulReference
{
    /// <summary>Length of the int32 scratch <see cref="Run"/> needs (one accumulator row).</summary>
    public static int ScratchLength(int n) => n;

    /// <summary>Computes one matrix product; see the class summary.</summary>
    public static void Run(int m, int k, int n,
        ReadOnlySpan<byte> a, bool aSigned, int aZeroPoint,
        ReadOnlySpan<byte> b, bool bSigned, ReadOnlySpan<int> bZeroPoints,
        ReadOnlySpan<float> multipliers, int yZeroPoint, int yMin, int yMax,
        Span<byte> y, Span<int> scratch)
    {
        bool perColumn = bZeroPoints.Length > 1 || multipliers.Length > 1;
        Span<int> acc = scratch[..n];
        for (int i = 0; i < m; i++)
        {
            acc.Clear();
            for (int kk = 0; kk < k; kk++)
            {
                int av = QuantizedByte.Value(a[i * k + kk], aSigned) - aZeroPoint;
                if (av == 0) continue;
                var bRow = b.Slice(kk * n, n);
                if (bZeroPoints.Length == 1)
                {
                    int bz = bZeroPoints[0];
                    for (int j = 0; j < n; j++) acc[j] += av * (QuantizedByte.Value(bRow[j], bSigned) - bz);
                }
                else
                {
                    for (int j = 0; j < n; j++) acc[j] += av * (QuantizedByte.Value(bRow[j], bSigned) - bZeroPoints[j]);
                }
            }
            var yRow = y.Slice(i * n, n);
            for (int j = 0; j < n; j++)
                yRow[j] = (byte)Requantization.Requantize(acc[j], multipliers[perColumn && multipliers.Length > 1 ? j : 0], yZeroPoint, yMin, yMax);
        }
    }
}
