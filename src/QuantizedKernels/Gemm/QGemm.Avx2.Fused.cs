using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeRuntime.Kernels.Gemm;

/// <summary>
/// AVX2 fused GEMM + requantization: the 6×16 microkernel of <see cref="MultiplyAvx2"/> with an epilogue that
/// requantizes each accumulator row in registers (the operation sequence of QGemmRequantization's AVX2 rows:
/// add bias, convert to float, multiply, NaN → 0, clamp to [yMin − zp, yMax − zp], convert with round-half-even,
/// add zp) and stores 16 bytes per row. Partial tiles go through a 6×16 byte buffer on the stack.
/// </summary>
public static partial class QGemm
{
    /// <summary>Requantizes tile rows into bytes: row r of the tile goes to <c>y + r·ldy</c>, with row r's bias and multiplier.</summary>
    private unsafe struct Avx2RequantizeRows : IAvx2TileSink
    {
        public byte* Y;
        public int Ldy;
        public int* Bias;
        public float* Multipliers;
        public Vector256<float> Low, High;
        public Vector256<int> ZeroPoint;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly void Row(int r, Vector256<int> low, Vector256<int> high)
        {
            var bias = Vector256.Create(Bias[r]);
            var multiplier = Vector256.Create(Multipliers[r]);
            var q0 = Requantize(Avx2.Add(low, bias), multiplier);
            var q1 = Requantize(Avx2.Add(high, bias), multiplier);
            // Values lie in [-128, 255]: keep the low byte of each (two's complement for int8) and pack without saturating.
            var byteMask = Vector256.Create(0xFF);
            q0 = Avx2.And(q0, byteMask);
            q1 = Avx2.And(q1, byteMask);
            var words0 = Sse41.PackUnsignedSaturate(q0.GetLower(), q0.GetUpper()).AsInt16();
            var words1 = Sse41.PackUnsignedSaturate(q1.GetLower(), q1.GetUpper()).AsInt16();
            Sse2.Store(Y + (long)r * Ldy, Sse2.PackUnsignedSaturate(words0, words1));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private readonly Vector256<int> Requantize(Vector256<int> value, Vector256<float> multiplier)
        {
            var scaled = Avx.Multiply(Avx.ConvertToVector256Single(value), multiplier);
            scaled = Avx.And(scaled, Avx.CompareEqual(scaled, scaled)); // NaN → +0
            scaled = Avx.Min(Avx.Max(scaled, Low), High);
            // VCVTPS2DQ rounds with MXCSR's mode, which .NET leaves at round-to-nearest-even.
            return Avx2.Add(Avx.ConvertToVector256Int32(scaled), ZeroPoint);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void MultiplyRequantizeAvx2(int m, int n, int k, ReadOnlySpan<sbyte> packedA, ReadOnlySpan<sbyte> b, int ldb,
        ReadOnlySpan<int> bias, ReadOnlySpan<float> multipliers, int yZeroPoint, int yMin, int yMax, Span<byte> y, int ldy, Span<int> scratch)
    {
        // Arguments were checked by MultiplyRequantize.
        int pairs = DivideRoundingUp(k, 2);
        int blockInts = pairs * Avx2RowsPerBlock;
        byte* tile = stackalloc byte[Avx2RowsPerBlock * Avx2ColumnsPerPanel];
        // Bias and multipliers padded to whole row blocks, so the microkernel's rows past M read defined values.
        int* paddedBias = stackalloc int[Avx2RowsPerBlock];
        float* paddedMultipliers = stackalloc float[Avx2RowsPerBlock];
        fixed (sbyte* aBase = packedA)
        fixed (sbyte* bBase = b)
        fixed (byte* yBase = y)
        fixed (int* panel = scratch)
        fixed (int* biasBase = bias)
        fixed (float* multiplierBase = multipliers)
        {
            var sink = new Avx2RequantizeRows
            {
                Low = Vector256.Create((float)(yMin - yZeroPoint)),
                High = Vector256.Create((float)(yMax - yZeroPoint)),
                ZeroPoint = Vector256.Create(yZeroPoint),
            };
            for (int j0 = 0; j0 < n; j0 += Avx2ColumnsPerPanel)
            {
                int columns = Math.Min(Avx2ColumnsPerPanel, n - j0);
                PackBPanelAvx2(bBase + j0, ldb, k, columns, (short*)panel);
                for (int i0 = 0; i0 < m; i0 += Avx2RowsPerBlock)
                {
                    int rows = Math.Min(Avx2RowsPerBlock, m - i0);
                    int* aBlock = (int*)aBase + (i0 / Avx2RowsPerBlock) * blockInts;
                    byte* destination = yBase + (long)i0 * ldy + j0;
                    bool full = rows == Avx2RowsPerBlock && columns == Avx2ColumnsPerPanel;
                    if (rows == Avx2RowsPerBlock)
                    {
                        sink.Bias = biasBase + i0;
                        sink.Multipliers = multiplierBase + i0;
                    }
                    else
                    {
                        for (int r = 0; r < Avx2RowsPerBlock; r++)
                        {
                            paddedBias[r] = r < rows ? biasBase[i0 + r] : 0;
                            paddedMultipliers[r] = r < rows ? multiplierBase[i0 + r] : 0f;
                        }
                        sink.Bias = paddedBias;
                        sink.Multipliers = paddedMultipliers;
                    }
                    sink.Y = full ? destination : tile;
                    sink.Ldy = full ? ldy : Avx2ColumnsPerPanel;
                    Avx2Kernel6x16(aBlock, panel, pairs, ref sink);
                    if (!full)
                        for (int r = 0; r < rows; r++)
                            new ReadOnlySpan<byte>(tile + r * Avx2ColumnsPerPanel, columns).CopyTo(new Span<byte>(destination + (long)r * ldy, columns));
                }
            }
        }
    }
}
