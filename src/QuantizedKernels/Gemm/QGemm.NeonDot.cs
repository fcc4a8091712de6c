using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;

namespace EdgeRuntime.Kernels.Gemm;

// IsaPath.NeonDot (ARM64 with the dot-product extension, e.g. Cortex-A76 / Raspberry Pi 5).
//
// SDOT (by element) adds, to each int32 lane i, Σ_{g<4} b[4i+g]·a[4·index+g] with exact int32 arithmetic, so any
// operands in -128..127 are fine. int32 accumulation wraps modulo 2^32 exactly like the scalar definition.
//
// Layouts (G = 4 k values per group, MR = 4 rows, NR = 16 columns; K is zero-padded to a multiple of 4 and M to 4):
//   packed A:  [M/4][K/4][4 rows][4 k]       — one 16-byte load per k quad; quadruplet r of it is row r.
//   B panel:   [K/4][16 cols][4 k]           — 4 vectors per k quad, each 4 columns × 4 k (lane = column).
//   narrow B panel (the last n % 16 columns, 4 at a time): [K/4][4 cols][4 k].
// Loop order as in QGemm.Neon.cs: for each B panel packed into scratch, for each 4-row block of A.
public static partial class QGemm
{
    private static int NeonDotQuads(int k) => (k + 3) / 4;

    private static int PackedALengthNeonDot(int m, int k) => checked(RoundUp(m, NeonRowBlock) * NeonDotQuads(k) * 4);

    private static int ScratchLengthNeonDot(int k) => checked(NeonDotQuads(k) * 4 * NeonColumnBlock / sizeof(int));

    private static void PackANeonDot(ReadOnlySpan<sbyte> a, int m, int k, Span<sbyte> packed) =>
        PackAInterleaved(a, m, k, NeonRowBlock, 4, packed, PackedALengthNeonDot(m, k), ReadOnlySpan<int>.Empty);

    private static void MultiplyNeonDot(int m, int n, int k, ReadOnlySpan<sbyte> packedA,
        ReadOnlySpan<sbyte> b, int ldb, Span<int> acc, int ldAcc, Span<int> scratch) =>
        MultiplyArm<NeonDotMicrokernel>(m, n, k, packedA, PackedALengthNeonDot(m, k), b, ldb, acc, ldAcc, scratch, ScratchLengthNeonDot(k));

    private readonly struct NeonDotMicrokernel : IArmMicrokernel
    {
        public static int Group => 4;
        public static unsafe void PackPanel16(sbyte* b, int ldb, int k, sbyte* panel) => PackBPanelNeonDot16<NoRowOffsets>(b, ldb, k, panel, null);
        public static unsafe void PackPanel16WithSums(sbyte* b, int ldb, int k, sbyte* panel, int* sums) => PackBPanelNeonDot16<WithRowOffsets>(b, ldb, k, panel, sums);
        public static unsafe void Kernel4x16<TSink>(sbyte* a, sbyte* panel, int steps, TSink sink, int rows, int blockStride, bool noMinus128) where TSink : struct, IArmTileSink => KernelNeonDot4x16(a, panel, steps, sink, rows, blockStride);
        public static unsafe void Kernel4x4<TSink>(sbyte* a, sbyte* panel, int steps, TSink sink, int rows, int cols, bool noMinus128) where TSink : struct, IArmTileSink => KernelNeonDot4x4(a, panel, steps, sink, rows, cols);

        /// <summary>
        /// One SDOT per k quad: 4 rows × 4 k of A against the column's quad replicated in every lane; four quads per
        /// loop iteration into two accumulators, counted by the A pointer.
        /// </summary>
        public static unsafe Vector128<int> Column(sbyte* a, sbyte* column, int steps, bool noMinus128)
        {
            Vector128<int> acc = Vector128<int>.Zero, acc2 = Vector128<int>.Zero;
            sbyte* end = a + (long)(steps & ~3) * 16;
            while (a < end)
            {
                var a0 = AdvSimd.LoadVector128(a);
                var a1 = AdvSimd.LoadVector128(a + 16);
                var a2 = AdvSimd.LoadVector128(a + 32);
                var a3 = AdvSimd.LoadVector128(a + 48);
                var b0 = AdvSimd.LoadVector128(column);
                var b1 = AdvSimd.LoadVector128(column + 16);
                var b2 = AdvSimd.LoadVector128(column + 32);
                var b3 = AdvSimd.LoadVector128(column + 48);
                acc = Dp.DotProduct(acc, a0, b0);
                acc2 = Dp.DotProduct(acc2, a1, b1);
                acc = Dp.DotProduct(acc, a2, b2);
                acc2 = Dp.DotProduct(acc2, a3, b3);
                a += 64;
                column += 64;
            }
            for (int q = steps & 3; q > 0; q--, a += 16, column += 16)
                acc = Dp.DotProduct(acc, AdvSimd.LoadVector128(a), AdvSimd.LoadVector128(column));
            return AdvSimd.Add(acc, acc2);
        }
    }

    /// <summary>
    /// Packs 16 columns of B into [K/4][16][4]: ZIP of bytes pairs rows (0,1) and (2,3), ZIP of 16-bit elements then
    /// joins the pairs into per-column quadruplets. Missing rows of the last quad are zeros. With
    /// <see cref="WithRowOffsets"/> (the sums the row offsets need) it also writes the 16 column sums: SDOT of each packed vector (4 columns × 4 k)
    /// with a vector of ones adds the column's quad into its int32 lane (exact; wraps like the scalar sums).
    /// </summary>
    private static unsafe void PackBPanelNeonDot16<TSums>(sbyte* b, int ldb, int k, sbyte* panel, int* sums) where TSums : struct, IArmRowOffsets
    {
        var ones = Vector128.Create((sbyte)1);
        Vector128<int> s0 = default, s1 = default, s2 = default, s3 = default;
        long stride = ldb;
        // Whole quads: the four rows at b, b + ldb, b + 2·ldb, b + 3·ldb (register-offset loads), b stepped by 4·ldb.
        // The multiples live in registers: computed inside the loop, the code generator redid 2·ldb and 3·ldb (a shift,
        // a move and a multiply) every quad, 3 of its 26 instructions.
        long stride2 = 2 * stride, stride3 = 3 * stride, stride4 = 4 * stride;
        for (int quadsLeft = k / 4; quadsLeft > 0; quadsLeft--)
        {
            var r0 = AdvSimd.LoadVector128(b);
            var r1 = AdvSimd.LoadVector128(b + stride);
            var r2 = AdvSimd.LoadVector128(b + stride2);
            var r3 = AdvSimd.LoadVector128(b + stride3);
            PackQuadNeonDot<TSums>(r0, r1, r2, r3, panel, ones, ref s0, ref s1, ref s2, ref s3);
            b += stride4;
            panel += 64;
        }
        int left = k % 4;
        if (left > 0)
        {
            var r0 = AdvSimd.LoadVector128(b);
            var r1 = left > 1 ? AdvSimd.LoadVector128(b + stride) : Vector128<sbyte>.Zero;
            var r2 = left > 2 ? AdvSimd.LoadVector128(b + 2 * stride) : Vector128<sbyte>.Zero;
            PackQuadNeonDot<TSums>(r0, r1, r2, Vector128<sbyte>.Zero, panel, ones, ref s0, ref s1, ref s2, ref s3);
        }
        if (TSums.Present)
        {
            s0.Store(sums);
            s1.Store(sums + 4);
            s2.Store(sums + 8);
            s3.Store(sums + 12);
        }
    }

    /// <summary>One k quad of <see cref="PackBPanelNeonDot16{TSums}"/>: rows r0..r3 → 4 packed vectors (+ their column sums).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void PackQuadNeonDot<TSums>(Vector128<sbyte> r0, Vector128<sbyte> r1, Vector128<sbyte> r2, Vector128<sbyte> r3, sbyte* panel,
        Vector128<sbyte> ones, ref Vector128<int> s0, ref Vector128<int> s1, ref Vector128<int> s2, ref Vector128<int> s3) where TSums : struct, IArmRowOffsets
    {
        var p01Low = AdvSimd.Arm64.ZipLow(r0, r1).AsInt16();   // columns 0..7, (k0,k1) pairs
        var p01High = AdvSimd.Arm64.ZipHigh(r0, r1).AsInt16(); // columns 8..15
        var p23Low = AdvSimd.Arm64.ZipLow(r2, r3).AsInt16();
        var p23High = AdvSimd.Arm64.ZipHigh(r2, r3).AsInt16();
        var v0 = AdvSimd.Arm64.ZipLow(p01Low, p23Low).AsSByte();
        var v1 = AdvSimd.Arm64.ZipHigh(p01Low, p23Low).AsSByte();
        var v2 = AdvSimd.Arm64.ZipLow(p01High, p23High).AsSByte();
        var v3 = AdvSimd.Arm64.ZipHigh(p01High, p23High).AsSByte();
        AdvSimd.Store(panel, v0);
        AdvSimd.Store(panel + 16, v1);
        AdvSimd.Store(panel + 32, v2);
        AdvSimd.Store(panel + 48, v3);
        if (TSums.Present)
        {
            s0 = Dp.DotProduct(s0, v0, ones);
            s1 = Dp.DotProduct(s1, v1, ones);
            s2 = Dp.DotProduct(s2, v2, ones);
            s3 = Dp.DotProduct(s3, v3, ones);
        }
    }

    /// <summary>
    /// 4×16 tiles: every 4-row block of A against the same panel (the sink moves on by 4 rows per block). Full blocks
    /// and the last partial one are separate copies of <see cref="BlockNeonDot4x16"/>, so full blocks test no row
    /// count and requantize all 4 rows with one load of bias and multipliers.
    /// </summary>
    private static unsafe void KernelNeonDot4x16<TSink>(sbyte* a, sbyte* panel, int quads, TSink sink, int totalRows, int blockStride) where TSink : struct, IArmTileSink
    {
        int rowsLeft = totalRows;
        for (; rowsLeft >= NeonRowBlock; rowsLeft -= NeonRowBlock, a += blockStride, sink.NextBlock())
            BlockNeonDot4x16(a, panel, quads, sink, NeonRowBlock);
        if (rowsLeft > 0) BlockNeonDot4x16(a, panel, quads, sink, rowsLeft);
    }

    /// <summary>
    /// One 4-row block (<paramref name="rows"/> real rows, a constant after inlining): 16 int32 accumulators (row r,
    /// columns 4q..4q+3), 16 SDOT per k quad. Eight quads per loop iteration (A: 8 loads, B: 4 per quad, consecutive
    /// 16-byte loads at immediate offsets that the code generator pairs into LDP; the explicit LoadPairVector128 would
    /// cost an address ADD per pair) with the loop counted by the A pointer against its end, then 4, 2 and 1 remaining
    /// quads.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void BlockNeonDot4x16<TSink>(sbyte* a, sbyte* panel, int quads, TSink sink, int rows) where TSink : struct, IArmTileSink
    {
        InitialRows(sink, rows, out var c00, out var c10, out var c20, out var c30);
        Vector128<int> c01 = c00, c02 = c00, c03 = c00, c11 = c10, c12 = c10, c13 = c10;
        Vector128<int> c21 = c20, c22 = c20, c23 = c20, c31 = c30, c32 = c30, c33 = c30;
        Vector128<sbyte> a0, a1, a2, a3, a4, a5, a6, a7;
        sbyte* end = a + (long)(quads & ~7) * 16;
        while (a < end)
        {
            a0 = AdvSimd.LoadVector128(a);
            a1 = AdvSimd.LoadVector128(a + 16);
            a2 = AdvSimd.LoadVector128(a + 32);
            a3 = AdvSimd.LoadVector128(a + 48);
            a4 = AdvSimd.LoadVector128(a + 64);
            a5 = AdvSimd.LoadVector128(a + 80);
            a6 = AdvSimd.LoadVector128(a + 96);
            a7 = AdvSimd.LoadVector128(a + 112);
            DotQuad16(ref c00, ref c01, ref c02, ref c03, ref c10, ref c11, ref c12, ref c13, ref c20, ref c21, ref c22, ref c23, ref c30, ref c31, ref c32, ref c33, a0, panel, 0);
            DotQuad16(ref c00, ref c01, ref c02, ref c03, ref c10, ref c11, ref c12, ref c13, ref c20, ref c21, ref c22, ref c23, ref c30, ref c31, ref c32, ref c33, a1, panel, 64);
            DotQuad16(ref c00, ref c01, ref c02, ref c03, ref c10, ref c11, ref c12, ref c13, ref c20, ref c21, ref c22, ref c23, ref c30, ref c31, ref c32, ref c33, a2, panel, 128);
            DotQuad16(ref c00, ref c01, ref c02, ref c03, ref c10, ref c11, ref c12, ref c13, ref c20, ref c21, ref c22, ref c23, ref c30, ref c31, ref c32, ref c33, a3, panel, 192);
            DotQuad16(ref c00, ref c01, ref c02, ref c03, ref c10, ref c11, ref c12, ref c13, ref c20, ref c21, ref c22, ref c23, ref c30, ref c31, ref c32, ref c33, a4, panel, 256);
            DotQuad16(ref c00, ref c01, ref c02, ref c03, ref c10, ref c11, ref c12, ref c13, ref c20, ref c21, ref c22, ref c23, ref c30, ref c31, ref c32, ref c33, a5, panel, 320);
            DotQuad16(ref c00, ref c01, ref c02, ref c03, ref c10, ref c11, ref c12, ref c13, ref c20, ref c21, ref c22, ref c23, ref c30, ref c31, ref c32, ref c33, a6, panel, 384);
            DotQuad16(ref c00, ref c01, ref c02, ref c03, ref c10, ref c11, ref c12, ref c13, ref c20, ref c21, ref c22, ref c23, ref c30, ref c31, ref c32, ref c33, a7, panel, 448);
            a += 128;
            panel += 512;
        }
        if ((quads & 4) != 0)
        {
            a0 = AdvSimd.LoadVector128(a);
            a1 = AdvSimd.LoadVector128(a + 16);
            a2 = AdvSimd.LoadVector128(a + 32);
            a3 = AdvSimd.LoadVector128(a + 48);
            DotQuad16(ref c00, ref c01, ref c02, ref c03, ref c10, ref c11, ref c12, ref c13, ref c20, ref c21, ref c22, ref c23, ref c30, ref c31, ref c32, ref c33, a0, panel, 0);
            DotQuad16(ref c00, ref c01, ref c02, ref c03, ref c10, ref c11, ref c12, ref c13, ref c20, ref c21, ref c22, ref c23, ref c30, ref c31, ref c32, ref c33, a1, panel, 64);
            DotQuad16(ref c00, ref c01, ref c02, ref c03, ref c10, ref c11, ref c12, ref c13, ref c20, ref c21, ref c22, ref c23, ref c30, ref c31, ref c32, ref c33, a2, panel, 128);
            DotQuad16(ref c00, ref c01, ref c02, ref c03, ref c10, ref c11, ref c12, ref c13, ref c20, ref c21, ref c22, ref c23, ref c30, ref c31, ref c32, ref c33, a3, panel, 192);
            a += 64;
            panel += 256;
        }
        if ((quads & 2) != 0)
        {
            a0 = AdvSimd.LoadVector128(a);
            a1 = AdvSimd.LoadVector128(a + 16);
            DotQuad16(ref c00, ref c01, ref c02, ref c03, ref c10, ref c11, ref c12, ref c13, ref c20, ref c21, ref c22, ref c23, ref c30, ref c31, ref c32, ref c33, a0, panel, 0);
            DotQuad16(ref c00, ref c01, ref c02, ref c03, ref c10, ref c11, ref c12, ref c13, ref c20, ref c21, ref c22, ref c23, ref c30, ref c31, ref c32, ref c33, a1, panel, 64);
            a += 32;
            panel += 128;
        }
        if ((quads & 1) != 0)
        {
            a0 = AdvSimd.LoadVector128(a);
            DotQuad16(ref c00, ref c01, ref c02, ref c03, ref c10, ref c11, ref c12, ref c13, ref c20, ref c21, ref c22, ref c23, ref c30, ref c31, ref c32, ref c33, a0, panel, 0);
        }
        StoreRows16(ref sink, rows, c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33);
    }

    /// <summary>
    /// One k quad of a 4×16 block: the 4 column groups of B (64 bytes at <paramref name="panel"/> + <paramref name="offset"/>, loaded as consecutive
    /// vectors) each by row r's 4 bytes in lane r of <paramref name="a"/> (SDOT by element) into <c>c{r}{q}</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void DotQuad16(ref Vector128<int> c00, ref Vector128<int> c01, ref Vector128<int> c02, ref Vector128<int> c03,
        ref Vector128<int> c10, ref Vector128<int> c11, ref Vector128<int> c12, ref Vector128<int> c13,
        ref Vector128<int> c20, ref Vector128<int> c21, ref Vector128<int> c22, ref Vector128<int> c23,
        ref Vector128<int> c30, ref Vector128<int> c31, ref Vector128<int> c32, ref Vector128<int> c33, Vector128<sbyte> a, sbyte* panel,
        [ConstantExpected] int offset)
    {
        // panel + (constant): the offsets fold into the loads' immediates (a pointer computed first would cost an ADD).
        var b0 = AdvSimd.LoadVector128(panel + offset);
        var b1 = AdvSimd.LoadVector128(panel + (offset + 16));
        var b2 = AdvSimd.LoadVector128(panel + (offset + 32));
        var b3 = AdvSimd.LoadVector128(panel + (offset + 48));
        c00 = Dp.DotProductBySelectedQuadruplet(c00, b0, a, 0); c01 = Dp.DotProductBySelectedQuadruplet(c01, b1, a, 0); c02 = Dp.DotProductBySelectedQuadruplet(c02, b2, a, 0); c03 = Dp.DotProductBySelectedQuadruplet(c03, b3, a, 0);
        c10 = Dp.DotProductBySelectedQuadruplet(c10, b0, a, 1); c11 = Dp.DotProductBySelectedQuadruplet(c11, b1, a, 1); c12 = Dp.DotProductBySelectedQuadruplet(c12, b2, a, 1); c13 = Dp.DotProductBySelectedQuadruplet(c13, b3, a, 1);
        c20 = Dp.DotProductBySelectedQuadruplet(c20, b0, a, 2); c21 = Dp.DotProductBySelectedQuadruplet(c21, b1, a, 2); c22 = Dp.DotProductBySelectedQuadruplet(c22, b2, a, 2); c23 = Dp.DotProductBySelectedQuadruplet(c23, b3, a, 2);
        c30 = Dp.DotProductBySelectedQuadruplet(c30, b0, a, 3); c31 = Dp.DotProductBySelectedQuadruplet(c31, b1, a, 3); c32 = Dp.DotProductBySelectedQuadruplet(c32, b2, a, 3); c33 = Dp.DotProductBySelectedQuadruplet(c33, b3, a, 3);
    }

    /// <summary>4×4 tile for the column tail: one SDOT per row and k quad, two quads per iteration counted by the A pointer.</summary>
    private static unsafe void KernelNeonDot4x4<TSink>(sbyte* a, sbyte* panel, int quads, TSink sink, int rows, int cols) where TSink : struct, IArmTileSink
    {
        Vector128<int> c0 = sink.Initial(0), c1 = rows > 1 ? sink.Initial(1) : default;
        Vector128<int> c2 = rows > 2 ? sink.Initial(2) : default, c3 = rows > 3 ? sink.Initial(3) : default;
        sbyte* end = a + (long)(quads & ~1) * 16;
        while (a < end)
        {
            var a0 = AdvSimd.LoadVector128(a);
            var a1 = AdvSimd.LoadVector128(a + 16);
            var b0 = AdvSimd.LoadVector128(panel);
            var b1 = AdvSimd.LoadVector128(panel + 16);
            c0 = Dp.DotProductBySelectedQuadruplet(c0, b0, a0, 0);
            c1 = Dp.DotProductBySelectedQuadruplet(c1, b0, a0, 1);
            c2 = Dp.DotProductBySelectedQuadruplet(c2, b0, a0, 2);
            c3 = Dp.DotProductBySelectedQuadruplet(c3, b0, a0, 3);
            c0 = Dp.DotProductBySelectedQuadruplet(c0, b1, a1, 0);
            c1 = Dp.DotProductBySelectedQuadruplet(c1, b1, a1, 1);
            c2 = Dp.DotProductBySelectedQuadruplet(c2, b1, a1, 2);
            c3 = Dp.DotProductBySelectedQuadruplet(c3, b1, a1, 3);
            a += 32;
            panel += 32;
        }
        if ((quads & 1) != 0)
        {
            var av = AdvSimd.LoadVector128(a);
            var bv = AdvSimd.LoadVector128(panel);
            c0 = Dp.DotProductBySelectedQuadruplet(c0, bv, av, 0);
            c1 = Dp.DotProductBySelectedQuadruplet(c1, bv, av, 1);
            c2 = Dp.DotProductBySelectedQuadruplet(c2, bv, av, 2);
            c3 = Dp.DotProductBySelectedQuadruplet(c3, bv, av, 3);
        }
        sink.Row4(0, c0, cols);
        if (rows > 1) sink.Row4(1, c1, cols);
        if (rows > 2) sink.Row4(2, c2, cols);
        if (rows > 3) sink.Row4(3, c3, cols);
    }
}
