using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace EdgeRuntime.Kernels.Gemm;

/// <summary>
/// Portable <see cref="Vector128{T}"/> path (no ISA-specific intrinsics). A product of two int8 values always fits
/// in int16 (−16256 … 16384), so operands are widened to int16, multiplied lane-wise in int16 (exact) and the
/// products widened to int32 before accumulating.
/// <para>Packed A (int16, zero padded): <c>[⌈M/4⌉ blocks][K][4 rows]</c>.</para>
/// <para>B panel in scratch (int16, 8 columns): <c>[K][8 columns]</c>, zero padded.</para>
/// <para>Microkernel: 4 rows × 8 columns = 8 int32 accumulators.</para>
/// </summary>
public static partial class QGemm
{
    private const int V128RowsPerBlock = 4;
    private const int V128ColumnsPerPanel = 8;

    private static int Vector128PackedALength(int m, int k) =>
        checked(DivideRoundingUp(m, V128RowsPerBlock) * V128RowsPerBlock * k * sizeof(short));

    private static int Vector128ScratchLength(int k) => checked(k * V128ColumnsPerPanel / 2);

    private static void PackAVector128(ReadOnlySpan<sbyte> a, int m, int k, Span<sbyte> packed)
    {
        int length = Vector128PackedALength(m, k);
        CheckPackArguments(a, m, k, packed, length);
        var destination = MemoryMarshal.Cast<sbyte, short>(packed[..length]);
        int index = 0;
        for (int block = 0; block < m; block += V128RowsPerBlock)
            for (int kk = 0; kk < k; kk++)
                for (int r = 0; r < V128RowsPerBlock; r++)
                    destination[index++] = block + r < m ? a[(block + r) * k + kk] : (short)0;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void MultiplyVector128(int m, int n, int k, ReadOnlySpan<sbyte> packedA,
        ReadOnlySpan<sbyte> b, int ldb, Span<int> acc, int ldAcc, Span<int> scratch)
    {
        CheckMultiplyArguments(m, n, k, packedA, Vector128PackedALength(m, k), b, ldb, acc, ldAcc, scratch, Vector128ScratchLength(k));
        if (m == 0 || n == 0) return;
        int blockShorts = k * V128RowsPerBlock;
        int* tile = stackalloc int[V128RowsPerBlock * V128ColumnsPerPanel];
        fixed (sbyte* aBase = packedA)
        fixed (sbyte* bBase = b)
        fixed (int* accBase = acc)
        fixed (int* panel = scratch)
        {
            for (int j0 = 0; j0 < n; j0 += V128ColumnsPerPanel)
            {
                int columns = Math.Min(V128ColumnsPerPanel, n - j0);
                PackBPanelVector128(bBase + j0, ldb, k, columns, (short*)panel);
                for (int i0 = 0; i0 < m; i0 += V128RowsPerBlock)
                {
                    int rows = Math.Min(V128RowsPerBlock, m - i0);
                    short* aBlock = (short*)aBase + (long)(i0 / V128RowsPerBlock) * blockShorts;
                    int* c = accBase + (long)i0 * ldAcc + j0;
                    bool full = rows == V128RowsPerBlock && columns == V128ColumnsPerPanel;
                    Vector128Kernel4x8(aBlock, (short*)panel, k, full ? c : tile, full ? ldAcc : V128ColumnsPerPanel);
                    if (!full) CopyTile(tile, V128ColumnsPerPanel, c, ldAcc, rows, columns);
                }
            }
        }
    }

    private static unsafe void PackBPanelVector128(sbyte* b, int ldb, int k, int columns, short* panel)
    {
        if (columns == V128ColumnsPerPanel)
        {
            for (int kk = 0; kk < k; kk++)
            {
                var bytes = Vector128.CreateScalar(Unsafe.ReadUnaligned<long>(b + (long)kk * ldb)).AsSByte();
                Vector128.WidenLower(bytes).Store(panel + kk * V128ColumnsPerPanel);
            }
            return;
        }
        for (int kk = 0; kk < k; kk++)
            for (int j = 0; j < V128ColumnsPerPanel; j++)
                panel[kk * V128ColumnsPerPanel + j] = j < columns ? b[(long)kk * ldb + j] : (short)0;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Vector128Kernel4x8(short* a, short* panel, int k, int* c, int ldc)
    {
        Vector128<int> c0Low = default, c0High = default, c1Low = default, c1High = default;
        Vector128<int> c2Low = default, c2High = default, c3Low = default, c3High = default;
        for (int kk = 0; kk < k; kk++)
        {
            var column = Vector128.Load(panel);
            var product = column * Vector128.Create(a[0]);
            c0Low += Vector128.WidenLower(product);
            c0High += Vector128.WidenUpper(product);
            product = column * Vector128.Create(a[1]);
            c1Low += Vector128.WidenLower(product);
            c1High += Vector128.WidenUpper(product);
            product = column * Vector128.Create(a[2]);
            c2Low += Vector128.WidenLower(product);
            c2High += Vector128.WidenUpper(product);
            product = column * Vector128.Create(a[3]);
            c3Low += Vector128.WidenLower(product);
            c3High += Vector128.WidenUpper(product);
            a += V128RowsPerBlock;
            panel += V128ColumnsPerPanel;
        }
        c0Low.Store(c); c0High.Store(c + 4); c += ldc;
        c1Low.Store(c); c1High.Store(c + 4); c += ldc;
        c2Low.Store(c); c2High.Store(c + 4); c += ldc;
        c3Low.Store(c); c3High.Store(c + 4);
    }
}

public static partial class QGemm
{
    /// <summary>
    /// Portable column sums: 8 columns at a time, widened to int16 and summed there for up to 256 rows
    /// (|sum| ≤ 128 · 256 = 32768 fits: the extremes are −32768 and 32512), then widened into int32 totals.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void ColumnSumsVector128(ReadOnlySpan<sbyte> b, int k, int n, int ldb, Span<int> sums)
    {
        CheckColumnSumsArguments(b, k, n, ldb, sums);
        if (k == 0) { sums[..n].Clear(); return; }
        int j = 0;
        fixed (sbyte* bBase = b)
        fixed (int* sumBase = sums)
        {
            for (; j + 8 <= n; j += 8)
            {
                Vector128<int> total0 = default, total1 = default;
                for (int k0 = 0; k0 < k; k0 += 256)
                {
                    int kEnd = Math.Min(k, k0 + 256);
                    Vector128<short> partial = default;
                    for (int kk = k0; kk < kEnd; kk++)
                        partial += Vector128.WidenLower(Vector128.CreateScalar(Unsafe.ReadUnaligned<long>(bBase + (long)kk * ldb + j)).AsSByte());
                    total0 += Vector128.WidenLower(partial);
                    total1 += Vector128.WidenUpper(partial);
                }
                total0.Store(sumBase + j);
                total1.Store(sumBase + j + 4);
            }
        }
        if (j < n) ColumnSumsScalar(b[j..], k, n - j, ldb, sums[j..]);
    }

    private static void CheckColumnSumsArguments(ReadOnlySpan<sbyte> b, int k, int n, int ldb, Span<int> sums)
    {
        if (k < 0 || n < 0) throw new ArgumentOutOfRangeException(nameof(k), $"negative dimension k={k}, n={n}");
        if (sums.Length < n) throw new ArgumentException($"sums holds {sums.Length} ints, needs {n}", nameof(sums));
        if (k > 0 && n > 0 && (ldb < n || b.Length < (long)(k - 1) * ldb + n)) throw new ArgumentException($"B ({b.Length} bytes, ldb {ldb}) is too small for {k}x{n}", nameof(b));
    }
}
