using EdgeRuntime.Kernels.Common;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeRuntime.Kernels.Gemm;

/// <summary>AVX2 requantization, 8 outputs per step; used by every x86 path.</summary>
public static partial class QGemmRequantization
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void RowsAvx2(ReadOnlySpan<int> acc, int ldAcc, int m, int n,
        ReadOnlySpan<int> bias, ReadOnlySpan<int> weightZeroPoints, ReadOnlySpan<int> columnSums,
        ReadOnlySpan<float> multipliers, int yZeroPoint, int yMin, int yMax, int outputXor, Span<byte> y, int ldy)
    {
        if (!CanVectorize(acc, ldAcc, m, n, bias, weightZeroPoints, columnSums, multipliers, yZeroPoint, yMin, yMax, y, ldy))
        {
            RowsScalar(acc, ldAcc, m, n, bias, weightZeroPoints, columnSums, multipliers, yZeroPoint, yMin, yMax, outputXor, y, ldy);
            return;
        }
        // The same float bounds as Requantization.RoundAndClamp.
        float low = yMin - yZeroPoint, high = yMax - yZeroPoint;
        var lowV = Vector256.Create(low);
        var highV = Vector256.Create(high);
        var zeroPointV = Vector256.Create(yZeroPoint);
        var xorV = Vector256.Create(outputXor & 0xFF);
        var byteMask = Vector256.Create(0xFF);
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
                var biasV = Vector256.Create(b);
                var multV = Vector256.Create(mult);
                var wzV = Vector256.Create(wz);
                int j = 0;
                for (; j + 8 <= n; j += 8)
                {
                    var value = Avx2.Add(Avx.LoadVector256(accRow + j), biasV);
                    if (wz != 0) value = Avx2.Subtract(value, Avx2.MultiplyLow(wzV, Avx.LoadVector256(sumBase + j)));
                    var scaled = Avx.Multiply(Avx.ConvertToVector256Single(value), multV);
                    scaled = Avx.And(scaled, Avx.CompareEqual(scaled, scaled)); // NaN → +0
                    scaled = Avx.Min(Avx.Max(scaled, lowV), highV);
                    // VCVTPS2DQ rounds with MXCSR's mode, which .NET leaves at round-to-nearest-even.
                    var quantized = Avx2.Add(Avx.ConvertToVector256Int32(scaled), zeroPointV);
                    quantized = Avx2.And(Avx2.Xor(quantized, xorV), byteMask);
                    var words = Sse41.PackUnsignedSaturate(quantized.GetLower(), quantized.GetUpper()).AsInt16();
                    var bytes = Sse2.PackUnsignedSaturate(words, words);
                    Sse2.StoreScalar((long*)(yRow + j), bytes.AsInt64());
                }
                for (; j < n; j++)
                    yRow[j] = (byte)(Requantization.Requantize(accRow[j] + b - wz * (wz == 0 ? 0 : sumBase[j]), mult, yZeroPoint, yMin, yMax) ^ outputXor);
            }
        }
    }
}
