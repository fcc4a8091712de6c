namespace EdgeRuntime.Kernels.Gemm;

/// <summary>
/// Scalar reference for the float32 matrix product that Gemm, MatMul and Conv are built on.
/// Defines the exact semantics that the packed, vectorized <see cref="GemmFloatPacked"/> implements.
/// </summary>
public static class GemmFloatReference
{
    /// <summary>
    /// <c>c[i*ldc + j] = alpha * sum_p opA(i,p) * opB(p,j) + (accumulate ? c[i*ldc + j] : 0)</c> for
    /// <c>i &lt; m</c>, <c>j &lt; n</c>, <c>p &lt; k</c>, where <c>opA(i,p)</c> is <c>a[i*lda + p]</c>
    /// (or <c>a[p*lda + i]</c> when <paramref name="transposeA"/>) and <c>opB(p,j)</c> is
    /// <c>b[p*ldb + j]</c> (or <c>b[j*ldb + p]</c> when <paramref name="transposeB"/>). Row-major throughout.
    /// </summary>
    public static void Multiply(
        int m, int n, int k,
        ReadOnlySpan<float> a, int lda, bool transposeA,
        ReadOnlySpan<float> b, int ldb, bool transposeB,
        Span<float> c, int ldc, float alpha, bool accumulate)
    {
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                float sum = 0;
                for (int p = 0; p < k; p++)
                {
                    float av = transposeA ? a[p * lda + i] : a[i * lda + p];
                    float bv = transposeB ? b[j * ldb + p] : b[p * ldb + j];
                    sum += av * bv;
                }
                c[i * ldc + j] = alpha * sum + (accumulate ? c[i * ldc + j] : 0f);
            }
        }
    }
}
