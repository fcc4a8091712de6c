using EdgeRuntime.Kernels.Common;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace EdgeRuntime.Kernels.Gemm;

/// <summary>Portable <see cref="Vector128{T}"/> requantization, 8 outputs per step.</summary>
public static partial class QGemmRequantization
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void RowsVector128(ReadOnlySpan<int> acc, int ldAcc, int m, int n,
        ReadOnlySpan<int> bias, ReadOnlySpan<int> weightZeroPoints, ReadOnlySpan<int> columnSums,
        ReadOnlySpan<float> multipliers, int yZeroPoint, int yMin, int yMax, int outputXor, Span<byte> y, int ldy)
    {
        if (!CanVectorize(acc, ldAcc, m, n, bias, weightZeroPoints, columnSums, multipliers, yZeroPoint, yMin, yMax, y, ldy))
        {
            RowsScalar(acc, ldAcc, m, n, bias, weightZeroPoints, columnSums, multipliers, yZeroPoint, yMin, yMax, outputXor, y, ldy);
            return;
        }
        float low = yMin - yZeroPoint, high = yMax - yZeroPoint;
        var lowV = Vector128.Create(low);
        var highV = Vector128.Create(high);
        var zeroPointV = Vector128.Create(yZeroPoint);
        var xorV = Vector128.Create(outputXor);
        fixed (int* accBase = acc)
        fixed (int* sumBase = columnSums)
        fixed (byte* yBase = y)
        {
            for (int i = 0; i < m; i++)
            {
                int wz = weightZeroPoints.IsEmpty ? 0 : weightZeroPoints[i];
                int b = bias[i];
                float mult = multipliers[i];
                int* accRow = accBase + (long)i * ldAcc;
                byte* yRow = yBase + (long)i * ldy;
                var biasV = Vector128.Create(b);
                var multV = Vector128.Create(mult);
                var wzV = Vector128.Create(wz);
                int j = 0;
                for (; j + 8 <= n; j += 8)
                {
                    var value0 = Vector128.Load(accRow + j) + biasV;
                    var value1 = Vector128.Load(accRow + j + 4) + biasV;
                    if (wz != 0)
                    {
                        value0 -= wzV * Vector128.Load(sumBase + j);
                        value1 -= wzV * Vector128.Load(sumBase + j + 4);
                    }
                    var q0 = Quantize(value0, multV, lowV, highV, zeroPointV) ^ xorV;
                    var q1 = Quantize(value1, multV, lowV, highV, zeroPointV) ^ xorV;
                    // Narrow truncates, like the scalar (byte) cast.
                    var words = Vector128.Narrow(q0.AsUInt32(), q1.AsUInt32());
                    var bytes = Vector128.Narrow(words, words);
                    Unsafe.WriteUnaligned(yRow + j, bytes.AsUInt64().ToScalar());
                }
                for (; j < n; j++)
                    yRow[j] = (byte)(Requantization.Requantize(accRow[j] + b - wz * (wz == 0 ? 0 : sumBase[j]), mult, yZeroPoint, yMin, yMax) ^ outputXor);
            }
        }
    }

    /// <summary><see cref="Requantization.RoundAndClamp"/> on four lanes (before the zero point is added back: see caller).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> Quantize(Vector128<int> value, Vector128<float> multiplier, Vector128<float> low, Vector128<float> high, Vector128<int> zeroPoint)
    {
        var scaled = Vector128.ConvertToSingle(value) * multiplier;
        scaled = Vector128.ConditionalSelect(Vector128.Equals(scaled, scaled), scaled, Vector128<float>.Zero);
        scaled = Vector128.ConditionalSelect(Vector128.LessThan(scaled, low), low, scaled);
        scaled = Vector128.ConditionalSelect(Vector128.GreaterThan(scaled, high), high, scaled);
        return Vector128.ConvertToInt32(Vector128.Round(scaled)) + zeroPoint;
    }

    /// <summary>
    /// True when the vector paths may run: every span is large enough for the unchecked pointer accesses, and the
    /// clamp bounds are small enough that the rounded value converts to int32 without saturation.
    /// </summary>
    private static bool CanVectorize(ReadOnlySpan<int> acc, int ldAcc, int m, int n,
        ReadOnlySpan<int> bias, ReadOnlySpan<int> weightZeroPoints, ReadOnlySpan<int> columnSums,
        ReadOnlySpan<float> multipliers, int yZeroPoint, int yMin, int yMax, Span<byte> y, int ldy)
    {
        const long limit = 1 << 30;
        if (m <= 0 || n <= 0) return false;
        if (Math.Abs((long)yMin - yZeroPoint) > limit || Math.Abs((long)yMax - yZeroPoint) > limit) return false;
        if (ldAcc < n || ldy < n || acc.Length < (long)(m - 1) * ldAcc + n || y.Length < (long)(m - 1) * ldy + n) return false;
        if (bias.Length < m || multipliers.Length < m) return false;
        if (!weightZeroPoints.IsEmpty && (weightZeroPoints.Length < m || columnSums.Length < n)) return false;
        return true;
    }
}
