using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeRuntime.Kernels.Gemm;

/// <summary>
/// AVX-VNNI path. VPDPBUSD multiplies unsigned bytes by signed bytes and adds groups of four products exactly into
/// int32. A (weights) is the signed operand; B is made unsigned by flipping its sign bit (<c>b ^ 0x80 = b + 128</c>),
/// which adds <c>128 · Σ_k A[m, k]</c> to every accumulator of row m. That constant is computed at pack time and
/// stored in the packed A buffer; the microkernel starts its accumulators at <c>-128 · Σ_k A[m, k]</c>.
/// <para>Packed A, per block of 6 rows (zero padded): <c>[6 int32 start values][⌈K/4⌉ k-quads][6 rows][4 k]</c> sbytes.</para>
/// <para>B panel in scratch (16 columns): <c>[⌈K/4⌉ k-quads][16 columns][4 k]</c> bytes, already xor 0x80;
/// rows past K and columns past n hold 0x80 (their A weights are zero / their results are discarded).</para>
/// <para>Microkernel: 6 rows × 16 columns = 12 ymm accumulators.</para>
/// </summary>
public static partial class QGemm
{
    private const int VnniRowsPerBlock = 6;
    private const int VnniColumnsPerPanel = 16;

    private static int VnniBlockBytes(int k) => checked(VnniRowsPerBlock * sizeof(int) + DivideRoundingUp(k, 4) * VnniRowsPerBlock * 4);

    private static int AvxVnniPackedALength(int m, int k) => checked(DivideRoundingUp(m, VnniRowsPerBlock) * VnniBlockBytes(k));

    private static int AvxVnniScratchLength(int k) => checked(DivideRoundingUp(k, 4) * VnniColumnsPerPanel);

    private static void PackAAvxVnni(ReadOnlySpan<sbyte> a, int m, int k, Span<sbyte> packed)
    {
        int length = AvxVnniPackedALength(m, k);
        CheckPackArguments(a, m, k, packed, length);
        int quads = DivideRoundingUp(k, 4), blockBytes = VnniBlockBytes(k);
        for (int block = 0; block < m; block += VnniRowsPerBlock)
        {
            var destination = packed.Slice(block / VnniRowsPerBlock * blockBytes, blockBytes);
            var start = MemoryMarshal.Cast<sbyte, int>(destination[..(VnniRowsPerBlock * sizeof(int))]);
            var weights = destination[(VnniRowsPerBlock * sizeof(int))..];
            for (int r = 0; r < VnniRowsPerBlock; r++)
            {
                int row = block + r, sum = 0;
                for (int kk = 0; kk < k && row < m; kk++) sum += a[row * k + kk];
                start[r] = -128 * sum;
            }
            int index = 0;
            for (int quad = 0; quad < quads; quad++)
                for (int r = 0; r < VnniRowsPerBlock; r++)
                    for (int q = 0; q < 4; q++)
                    {
                        int row = block + r, kk = 4 * quad + q;
                        weights[index++] = row < m && kk < k ? a[row * k + kk] : (sbyte)0;
                    }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void MultiplyAvxVnni(int m, int n, int k, ReadOnlySpan<sbyte> packedA,
        ReadOnlySpan<sbyte> b, int ldb, Span<int> acc, int ldAcc, Span<int> scratch)
    {
        CheckMultiplyArguments(m, n, k, packedA, AvxVnniPackedALength(m, k), b, ldb, acc, ldAcc, scratch, AvxVnniScratchLength(k));
        if (m == 0 || n == 0) return;
        int quads = DivideRoundingUp(k, 4), blockBytes = VnniBlockBytes(k);
        int* tile = stackalloc int[VnniRowsPerBlock * VnniColumnsPerPanel];
        fixed (sbyte* aBase = packedA)
        fixed (sbyte* bBase = b)
        fixed (int* accBase = acc)
        fixed (int* panel = scratch)
        {
            for (int j0 = 0; j0 < n; j0 += VnniColumnsPerPanel)
            {
                int columns = Math.Min(VnniColumnsPerPanel, n - j0);
                PackBPanelQuads(bBase + j0, ldb, k, columns, VnniColumnsPerPanel, 0x80, (byte*)panel);
                for (int i0 = 0; i0 < m; i0 += VnniRowsPerBlock)
                {
                    int rows = Math.Min(VnniRowsPerBlock, m - i0);
                    sbyte* aBlock = aBase + (long)(i0 / VnniRowsPerBlock) * blockBytes;
                    int* c = accBase + (long)i0 * ldAcc + j0;
                    bool full = rows == VnniRowsPerBlock && columns == VnniColumnsPerPanel;
                    AvxVnniKernel6x16((int*)aBlock, panel, quads, full ? c : tile, full ? ldAcc : VnniColumnsPerPanel);
                    if (!full) CopyTile(tile, VnniColumnsPerPanel, c, ldAcc, rows, columns);
                }
            }
        }
    }

    /// <summary>
    /// Interleaves a strip of up to <paramref name="panelColumns"/> (a multiple of 16) columns of B in groups of four
    /// k: <c>panel[(quad * panelColumns + j) * 4 + q] = B[4 * quad + q, j] ^ xorMask</c>, padding with <c>0 ^ xorMask</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void PackBPanelQuads(sbyte* b, int ldb, int k, int columns, int panelColumns, byte xorMask, byte* panel)
    {
        int quads = DivideRoundingUp(k, 4);
        var flip = Vector128.Create(xorMask);
        for (int quad = 0; quad < quads; quad++)
        {
            int k0 = 4 * quad;
            byte* destination = panel + (long)quad * panelColumns * 4;
            int j = 0;
            for (; j + 16 <= columns; j += 16)
            {
                sbyte* source = b + (long)k0 * ldb + j;
                var row0 = Sse2.LoadVector128(source).AsByte();
                var row1 = k0 + 1 < k ? Sse2.LoadVector128(source + ldb).AsByte() : Vector128<byte>.Zero;
                var row2 = k0 + 2 < k ? Sse2.LoadVector128(source + 2L * ldb).AsByte() : Vector128<byte>.Zero;
                var row3 = k0 + 3 < k ? Sse2.LoadVector128(source + 3L * ldb).AsByte() : Vector128<byte>.Zero;
                var low01 = Sse2.UnpackLow(row0, row1).AsInt16();
                var high01 = Sse2.UnpackHigh(row0, row1).AsInt16();
                var low23 = Sse2.UnpackLow(row2, row3).AsInt16();
                var high23 = Sse2.UnpackHigh(row2, row3).AsInt16();
                byte* d = destination + j * 4;
                Sse2.Store(d, Sse2.Xor(Sse2.UnpackLow(low01, low23).AsByte(), flip));
                Sse2.Store(d + 16, Sse2.Xor(Sse2.UnpackHigh(low01, low23).AsByte(), flip));
                Sse2.Store(d + 32, Sse2.Xor(Sse2.UnpackLow(high01, high23).AsByte(), flip));
                Sse2.Store(d + 48, Sse2.Xor(Sse2.UnpackHigh(high01, high23).AsByte(), flip));
            }
            for (; j < panelColumns; j++)
                for (int q = 0; q < 4; q++)
                {
                    int kk = k0 + q;
                    sbyte value = j < columns && kk < k ? b[(long)kk * ldb + j] : (sbyte)0;
                    destination[j * 4 + q] = (byte)((byte)value ^ xorMask);
                }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void AvxVnniKernel6x16(int* block, int* panel, int quads, int* c, int ldc)
    {
        // block starts with the six rows' accumulator start values, then the k-quads.
        Vector256<int> c00 = Vector256.Create(block[0]), c01 = c00;
        Vector256<int> c10 = Vector256.Create(block[1]), c11 = c10;
        Vector256<int> c20 = Vector256.Create(block[2]), c21 = c20;
        Vector256<int> c30 = Vector256.Create(block[3]), c31 = c30;
        Vector256<int> c40 = Vector256.Create(block[4]), c41 = c40;
        Vector256<int> c50 = Vector256.Create(block[5]), c51 = c50;
        int* a = block + VnniRowsPerBlock;
        for (int q = 0; q < quads; q++)
        {
            var b0 = Avx.LoadVector256((byte*)panel);
            var b1 = Avx.LoadVector256((byte*)panel + 32);
            var w = Avx2.BroadcastScalarToVector256(a).AsSByte();
            c00 = AvxVnni.MultiplyWideningAndAdd(c00, b0, w);
            c01 = AvxVnni.MultiplyWideningAndAdd(c01, b1, w);
            w = Avx2.BroadcastScalarToVector256(a + 1).AsSByte();
            c10 = AvxVnni.MultiplyWideningAndAdd(c10, b0, w);
            c11 = AvxVnni.MultiplyWideningAndAdd(c11, b1, w);
            w = Avx2.BroadcastScalarToVector256(a + 2).AsSByte();
            c20 = AvxVnni.MultiplyWideningAndAdd(c20, b0, w);
            c21 = AvxVnni.MultiplyWideningAndAdd(c21, b1, w);
            w = Avx2.BroadcastScalarToVector256(a + 3).AsSByte();
            c30 = AvxVnni.MultiplyWideningAndAdd(c30, b0, w);
            c31 = AvxVnni.MultiplyWideningAndAdd(c31, b1, w);
            w = Avx2.BroadcastScalarToVector256(a + 4).AsSByte();
            c40 = AvxVnni.MultiplyWideningAndAdd(c40, b0, w);
            c41 = AvxVnni.MultiplyWideningAndAdd(c41, b1, w);
            w = Avx2.BroadcastScalarToVector256(a + 5).AsSByte();
            c50 = AvxVnni.MultiplyWideningAndAdd(c50, b0, w);
            c51 = AvxVnni.MultiplyWideningAndAdd(c51, b1, w);
            a += VnniRowsPerBlock;
            panel += VnniColumnsPerPanel;
        }
        Avx.Store(c, c00); Avx.Store(c + 8, c01); c += ldc;
        Avx.Store(c, c10); Avx.Store(c + 8, c11); c += ldc;
        Avx.Store(c, c20); Avx.Store(c + 8, c21); c += ldc;
        Avx.Store(c, c30); Avx.Store(c + 8, c31); c += ldc;
        Avx.Store(c, c40); Avx.Store(c + 8, c41); c += ldc;
        Avx.Store(c, c50); Avx.Store(c + 8, c51);
    }
}
