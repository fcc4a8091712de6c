using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using EdgeRuntime.Kernels.Common;

namespace EdgeRuntime.Kernels.Gemm;

public static partial class QGemm
{
    /// <summary>
    /// ARM64 column sums, 16 columns at a time: SADDW/SADDW2 add int8 rows into int16 lanes for blocks of at most 256
    /// rows (|sum| ≤ 256·128 = 32768 and the only sum reaching 32768 in magnitude is -32768, which int16 holds), then
    /// the block is widened into int32 lanes. Tail columns use the scalar loop. Exact for any k.
    /// </summary>
    private static unsafe void ColumnSumsNeon(ReadOnlySpan<sbyte> b, int k, int n, int ldb, Span<int> sums)
    {
        if (n <= 0) return;
        if (ldb < n) throw new ArgumentOutOfRangeException(nameof(ldb), $"ldb={ldb} is smaller than n={n}");
        if (k > 0 && b.Length < (long)(k - 1) * ldb + n) throw new ArgumentException("b holds fewer than (k-1)*ldb+n values", nameof(b));
        if (sums.Length < n) throw new ArgumentException($"sums holds {sums.Length} values, fewer than n={n}", nameof(sums));
        int j = 0;
        fixed (sbyte* pb = b)
        fixed (int* ps = sums)
        {
            for (; j + 16 <= n; j += 16)
            {
                Vector128<int> s0 = default, s1 = default, s2 = default, s3 = default;
                for (int block = 0; block < k; block += 256)
                {
                    int end = Math.Min(k, block + 256);
                    Vector128<short> low = default, high = default;
                    for (int kk = block; kk < end; kk++)
                    {
                        var row = AdvSimd.LoadVector128(pb + (long)kk * ldb + j);
                        low = AdvSimd.AddWideningLower(low, row.GetLower());
                        high = AdvSimd.AddWideningUpper(high, row);
                    }
                    s0 = AdvSimd.AddWideningLower(s0, low.GetLower());
                    s1 = AdvSimd.AddWideningUpper(s1, low);
                    s2 = AdvSimd.AddWideningLower(s2, high.GetLower());
                    s3 = AdvSimd.AddWideningUpper(s3, high);
                }
                s0.Store(ps + j);
                s1.Store(ps + j + 4);
                s2.Store(ps + j + 8);
                s3.Store(ps + j + 12);
            }
        }
        if (j < n) ColumnSumsScalar(b[j..], k, n - j, ldb, sums[j..]);
    }
}

public static partial class QGemmRequantization
{
    /// <summary>
    /// ARM64 version of <see cref="Rows"/>, 16 outputs per step with the scalar arithmetic of
    /// <see cref="Requantization.Requantize"/> done lane-wise: int32 add/multiply-subtract (wrapping like C#), SCVTF
    /// (round to nearest even), one FMUL, NaN → 0 (FCMEQ mask), FMAX/FMIN against the float bounds, FCVTNS (round half
    /// to even), + zero point, then the low byte of each lane (two XTN) XOR <c>outputXor</c>. Tail columns use the
    /// scalar definition itself.
    /// </summary>
    private static unsafe void RowsNeon(ReadOnlySpan<int> acc, int ldAcc, int m, int n,
        ReadOnlySpan<int> bias, ReadOnlySpan<int> weightZeroPoints, ReadOnlySpan<int> columnSums,
        ReadOnlySpan<float> multipliers, int yZeroPoint, int yMin, int yMax, int outputXor, Span<byte> y, int ldy)
    {
        if (m <= 0 || n <= 0) return;
        if (ldAcc < n || ldy < n) throw new ArgumentOutOfRangeException(nameof(ldAcc), $"ldAcc={ldAcc} or ldy={ldy} is smaller than n={n}");
        if (acc.Length < (long)(m - 1) * ldAcc + n) throw new ArgumentException("acc holds fewer than (m-1)*ldAcc+n values", nameof(acc));
        if (y.Length < (long)(m - 1) * ldy + n) throw new ArgumentException("y holds fewer than (m-1)*ldy+n values", nameof(y));
        if (bias.Length < m || multipliers.Length < m) throw new ArgumentException("bias and multipliers need m values");
        if (!weightZeroPoints.IsEmpty && (weightZeroPoints.Length < m || columnSums.Length < n))
            throw new ArgumentException("weightZeroPoints needs m values and columnSums n values");

        int full = n & ~15;
        var low = Vector128.Create((float)(yMin - yZeroPoint));
        var high = Vector128.Create((float)(yMax - yZeroPoint));
        var zero = Vector128.Create(yZeroPoint);
        var xor = Vector128.Create((byte)outputXor);
        fixed (int* pAcc = acc)
        fixed (int* pSums = columnSums)
        fixed (byte* pY = y)
        {
            for (int i = 0; i < m; i++)
            {
                int wz = weightZeroPoints.IsEmpty ? 0 : weightZeroPoints[i];
                var biasV = Vector128.Create(bias[i]);
                var wzV = Vector128.Create(wz);
                var multV = Vector128.Create(multipliers[i]);
                int* accRow = pAcc + (long)i * ldAcc;
                byte* yRow = pY + (long)i * ldy;
                for (int j = 0; j < full; j += 16)
                {
                    Vector128<int> v0 = AdvSimd.Add(AdvSimd.LoadVector128(accRow + j), biasV);
                    Vector128<int> v1 = AdvSimd.Add(AdvSimd.LoadVector128(accRow + j + 4), biasV);
                    Vector128<int> v2 = AdvSimd.Add(AdvSimd.LoadVector128(accRow + j + 8), biasV);
                    Vector128<int> v3 = AdvSimd.Add(AdvSimd.LoadVector128(accRow + j + 12), biasV);
                    if (wz != 0)
                    {
                        v0 = AdvSimd.MultiplySubtract(v0, wzV, AdvSimd.LoadVector128(pSums + j));
                        v1 = AdvSimd.MultiplySubtract(v1, wzV, AdvSimd.LoadVector128(pSums + j + 4));
                        v2 = AdvSimd.MultiplySubtract(v2, wzV, AdvSimd.LoadVector128(pSums + j + 8));
                        v3 = AdvSimd.MultiplySubtract(v3, wzV, AdvSimd.LoadVector128(pSums + j + 12));
                    }
                    var q0 = RequantizeLanes(v0, multV, low, high, zero);
                    var q1 = RequantizeLanes(v1, multV, low, high, zero);
                    var q2 = RequantizeLanes(v2, multV, low, high, zero);
                    var q3 = RequantizeLanes(v3, multV, low, high, zero);
                    var h01 = AdvSimd.ExtractNarrowingUpper(AdvSimd.ExtractNarrowingLower(q0), q1);
                    var h23 = AdvSimd.ExtractNarrowingUpper(AdvSimd.ExtractNarrowingLower(q2), q3);
                    var bytes = AdvSimd.ExtractNarrowingUpper(AdvSimd.ExtractNarrowingLower(h01.AsUInt16()), h23.AsUInt16());
                    AdvSimd.Store(yRow + j, AdvSimd.Xor(bytes, xor));
                }
                for (int j = full; j < n; j++)
                {
                    int value = accRow[j] + bias[i] - (wz == 0 ? 0 : wz * pSums[j]);
                    yRow[j] = (byte)(Requantization.Requantize(value, multipliers[i], yZeroPoint, yMin, yMax) ^ outputXor);
                }
            }
        }
    }

    /// <summary>Lane-wise <see cref="Requantization.Requantize"/> of int32 values (see <see cref="RowsNeon"/>).</summary>
    internal static Vector128<int> RequantizeLanes(Vector128<int> value, Vector128<float> multiplier,
        Vector128<float> low, Vector128<float> high, Vector128<int> zeroPoint)
    {
        var scaled = AdvSimd.Multiply(AdvSimd.ConvertToSingle(value), multiplier);
        // NaN compares unequal to itself: the mask clears it to +0, as the scalar definition does.
        scaled = AdvSimd.And(scaled, AdvSimd.CompareEqual(scaled, scaled));
        scaled = AdvSimd.Min(AdvSimd.Max(scaled, low), high);
        return AdvSimd.Add(AdvSimd.ConvertToInt32RoundToEven(scaled), zeroPoint);
    }
}
