using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeRuntime.Kernels.Gemm;

/// <summary>
/// 512-bit VNNI path. .NET 10 exposes no 512-bit VPDPBUSD (the <c>Avx512Vnni</c> class of dotnet/runtime#86849 was
/// approved but never shipped), so this path uses the signed × signed form VPDPBSSD zmm
/// (<see cref="AvxVnniInt8.V512"/>, AVX10.2): four s8·s8 products summed exactly into each int32 lane, so neither
/// operand needs shifting and no correction term exists.
/// <para>Packed A (zero padded): <c>[⌈M/8⌉ blocks][⌈K/4⌉ k-quads][8 rows][4 k]</c> sbytes.</para>
/// <para>B panel in scratch (32 columns): <c>[⌈K/4⌉ k-quads][32 columns][4 k]</c> sbytes, zero padded.</para>
/// <para>Microkernel: 8 rows × 32 columns = 16 zmm accumulators.</para>
/// </summary>
public static partial class QGemm
{
    private const int Avx512RowsPerBlock = 8;
    private const int Avx512ColumnsPerPanel = 32;

    private static int Avx512VnniPackedALength(int m, int k) =>
        checked(DivideRoundingUp(m, Avx512RowsPerBlock) * Avx512RowsPerBlock * DivideRoundingUp(k, 4) * 4);

    private static int Avx512VnniScratchLength(int k) => checked(DivideRoundingUp(k, 4) * Avx512ColumnsPerPanel);

    private static void PackAAvx512Vnni(ReadOnlySpan<sbyte> a, int m, int k, Span<sbyte> packed)
    {
        CheckPackArguments(a, m, k, packed, Avx512VnniPackedALength(m, k));
        int quads = DivideRoundingUp(k, 4), index = 0;
        for (int block = 0; block < m; block += Avx512RowsPerBlock)
            for (int quad = 0; quad < quads; quad++)
                for (int r = 0; r < Avx512RowsPerBlock; r++)
                    for (int q = 0; q < 4; q++)
                    {
                        int row = block + r, kk = 4 * quad + q;
                        packed[index++] = row < m && kk < k ? a[row * k + kk] : (sbyte)0;
                    }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void MultiplyAvx512Vnni(int m, int n, int k, ReadOnlySpan<sbyte> packedA,
        ReadOnlySpan<sbyte> b, int ldb, Span<int> acc, int ldAcc, Span<int> scratch)
    {
        CheckMultiplyArguments(m, n, k, packedA, Avx512VnniPackedALength(m, k), b, ldb, acc, ldAcc, scratch, Avx512VnniScratchLength(k));
        if (m == 0 || n == 0) return;
        int quads = DivideRoundingUp(k, 4);
        int blockInts = quads * Avx512RowsPerBlock;
        int* tile = stackalloc int[Avx512RowsPerBlock * Avx512ColumnsPerPanel];
        fixed (sbyte* aBase = packedA)
        fixed (sbyte* bBase = b)
        fixed (int* accBase = acc)
        fixed (int* panel = scratch)
        {
            for (int j0 = 0; j0 < n; j0 += Avx512ColumnsPerPanel)
            {
                int columns = Math.Min(Avx512ColumnsPerPanel, n - j0);
                PackBPanelQuads(bBase + j0, ldb, k, columns, Avx512ColumnsPerPanel, 0, (byte*)panel);
                for (int i0 = 0; i0 < m; i0 += Avx512RowsPerBlock)
                {
                    int rows = Math.Min(Avx512RowsPerBlock, m - i0);
                    int* aBlock = (int*)aBase + (long)(i0 / Avx512RowsPerBlock) * blockInts;
                    int* c = accBase + (long)i0 * ldAcc + j0;
                    bool full = rows == Avx512RowsPerBlock && columns == Avx512ColumnsPerPanel;
                    Avx512VnniKernel8x32(aBlock, panel, quads, full ? c : tile, full ? ldAcc : Avx512ColumnsPerPanel);
                    if (!full) CopyTile(tile, Avx512ColumnsPerPanel, c, ldAcc, rows, columns);
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Avx512VnniKernel8x32(int* a, int* panel, int quads, int* c, int ldc)
    {
        Vector512<int> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        Vector512<int> c40 = default, c41 = default, c50 = default, c51 = default, c60 = default, c61 = default, c70 = default, c71 = default;
        for (int q = 0; q < quads; q++)
        {
            var b0 = Vector512.Load((sbyte*)panel);
            var b1 = Vector512.Load((sbyte*)panel + 64);
            var w = Vector512.Create(a[0]).AsSByte();
            c00 = AvxVnniInt8.V512.MultiplyWideningAndAdd(c00, w, b0);
            c01 = AvxVnniInt8.V512.MultiplyWideningAndAdd(c01, w, b1);
            w = Vector512.Create(a[1]).AsSByte();
            c10 = AvxVnniInt8.V512.MultiplyWideningAndAdd(c10, w, b0);
            c11 = AvxVnniInt8.V512.MultiplyWideningAndAdd(c11, w, b1);
            w = Vector512.Create(a[2]).AsSByte();
            c20 = AvxVnniInt8.V512.MultiplyWideningAndAdd(c20, w, b0);
            c21 = AvxVnniInt8.V512.MultiplyWideningAndAdd(c21, w, b1);
            w = Vector512.Create(a[3]).AsSByte();
            c30 = AvxVnniInt8.V512.MultiplyWideningAndAdd(c30, w, b0);
            c31 = AvxVnniInt8.V512.MultiplyWideningAndAdd(c31, w, b1);
            w = Vector512.Create(a[4]).AsSByte();
            c40 = AvxVnniInt8.V512.MultiplyWideningAndAdd(c40, w, b0);
            c41 = AvxVnniInt8.V512.MultiplyWideningAndAdd(c41, w, b1);
            w = Vector512.Create(a[5]).AsSByte();
            c50 = AvxVnniInt8.V512.MultiplyWideningAndAdd(c50, w, b0);
            c51 = AvxVnniInt8.V512.MultiplyWideningAndAdd(c51, w, b1);
            w = Vector512.Create(a[6]).AsSByte();
            c60 = AvxVnniInt8.V512.MultiplyWideningAndAdd(c60, w, b0);
            c61 = AvxVnniInt8.V512.MultiplyWideningAndAdd(c61, w, b1);
            w = Vector512.Create(a[7]).AsSByte();
            c70 = AvxVnniInt8.V512.MultiplyWideningAndAdd(c70, w, b0);
            c71 = AvxVnniInt8.V512.MultiplyWideningAndAdd(c71, w, b1);
            a += Avx512RowsPerBlock;
            panel += Avx512ColumnsPerPanel;
        }
        c00.Store(c); c01.Store(c + 16); c += ldc;
        c10.Store(c); c11.Store(c + 16); c += ldc;
        c20.Store(c); c21.Store(c + 16); c += ldc;
        c30.Store(c); c31.Store(c + 16); c += ldc;
        c40.Store(c); c41.Store(c + 16); c += ldc;
        c50.Store(c); c51.Store(c + 16); c += ldc;
        c60.Store(c); c61.Store(c + 16); c += ldc;
        c70.Store(c); c71.Store(c + 16);
    }
}
