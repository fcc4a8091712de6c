using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;

namespace EdgeRuntime.Kernels.Gemm;

// IsaPath.Neon (ARM64 AdvSimd without dot product, e.g. Cortex-A72 / Raspberry Pi 4).
//
// Exactness: SMLAL into int16 lanes would overflow for two (-128)·(-128) products (32768 > 32767), so every int16
// lane holds exactly ONE product (SMULL/SMULL2, |p| <= 16384) and SADALP immediately folds adjacent pairs of lanes into
// int32 accumulators. int32 accumulation wraps modulo 2^32 exactly like the scalar definition.
//
// Layouts (G = 2 k values per group, MR = 4 rows, NR = 16 columns; K is zero-padded to a multiple of 2 and M to 4):
//   packed A:  [M/4][K/2][4 rows][2 k]                 — one LD1R (.8h) replicates a row's k pair across a vector.
//   B panel:   [K/2][16 cols][2 k]  (32 bytes per pair) — SMULL of 8 bytes = 4 columns × 2 k against the replicated
//              pair gives 8 products whose adjacent pairs belong to the same column, so SADALP yields 4 column sums.
//   narrow B panel (the last n % 16 columns, 4 at a time): [K/2][4 cols][2 k].
// Loop order: for each B panel (packed into scratch, reused from L1 by every row block), for each 4-row block of A.
public static partial class QGemm
{
    private const int NeonRowBlock = 4;
    private const int NeonColumnBlock = 16;
    private const int NeonNarrowColumnBlock = 4;

    private static int NeonPairs(int k) => (k + 1) / 2;

    private static int PackedALengthNeon(int m, int k) => checked(RoundUp(m, NeonRowBlock) * NeonPairs(k) * 2);

    private static int ScratchLengthNeon(int k) => checked(NeonPairs(k) * 2 * NeonColumnBlock / sizeof(int));

    private static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;

    private static void PackANeon(ReadOnlySpan<sbyte> a, int m, int k, Span<sbyte> packed) =>
        PackAInterleaved(a, m, k, NeonRowBlock, 2, packed, PackedALengthNeon(m, k), ReadOnlySpan<int>.Empty);

    /// <summary>
    /// Packs row-major A as <c>[M/rowBlock][K/group][rowBlock][group]</c> sbytes, zero-padded to whole blocks: the
    /// layout of the ARM microkernels (group 2 for SMULL/SADALP pairs, 4 for SDOT quads). A non-empty
    /// <paramref name="rowShifts"/> stores <c>a[row, kk] - rowShifts[row]</c> instead (the caller guarantees it fits).
    /// </summary>
    private static void PackAInterleaved(ReadOnlySpan<sbyte> a, int m, int k, int rowBlock, int group, Span<sbyte> packed, int length,
        ReadOnlySpan<int> rowShifts)
    {
        int steps = (k + group - 1) / group;
        if (a.Length < m * k) throw new ArgumentException($"a holds {a.Length} values, fewer than m*k = {m * k}", nameof(a));
        if (packed.Length < length) throw new ArgumentException($"packed holds {packed.Length} values, fewer than {length}", nameof(packed));
        int o = 0;
        for (int block = 0; block < m; block += rowBlock)
            for (int step = 0; step < steps; step++)
                for (int r = 0; r < rowBlock; r++)
                    for (int g = 0; g < group; g++)
                    {
                        int row = block + r, kk = group * step + g;
                        packed[o++] = row < m && kk < k ? (sbyte)(a[row * k + kk] - (rowShifts.IsEmpty ? 0 : rowShifts[row])) : (sbyte)0;
                    }
    }

    private static void MultiplyNeon(int m, int n, int k, ReadOnlySpan<sbyte> packedA,
        ReadOnlySpan<sbyte> b, int ldb, Span<int> acc, int ldAcc, Span<int> scratch) =>
        MultiplyArm<NeonMicrokernel>(m, n, k, packedA, PackedALengthNeon(m, k), b, ldb, acc, ldAcc, scratch, ScratchLengthNeon(k));

    /// <summary>
    /// One ARM microkernel family: A packed by <see cref="PackAInterleaved"/> with <see cref="Group"/> k values per
    /// step, B panels of 16 (and narrow 4) columns packed the same way, 4×16 and 4×4 register tiles.
    /// </summary>
    private interface IArmMicrokernel
    {
        /// <summary>k values per step: 2 for SMULL/SADALP pairs, 4 for SDOT quads.</summary>
        static abstract int Group { get; }
        static abstract unsafe void PackPanel16(sbyte* b, int ldb, int k, sbyte* panel);
        /// <summary>
        /// <see cref="PackPanel16"/> that also writes the 16 column sums <c>sums[j] = Σ_kk b[kk·ldb + j]</c> (wrapping
        /// int32, as <see cref="ColumnSumsScalar"/>) from the rows it has loaded anyway.
        /// </summary>
        static abstract unsafe void PackPanel16WithSums(sbyte* b, int ldb, int k, sbyte* panel, int* sums);
        /// <summary>
        /// <paramref name="noMinus128"/>: every packed A value lies in [-127, 127] (the SMULL/SMLAL kernel may then
        /// add two products in one int16 lane: |p1 + p2| ≤ 2·127·128 = 32512); paths that do not need it ignore it.
        /// </summary>
        /// <summary>
        /// All 4-row blocks of A (the first at <paramref name="a"/>, each <paramref name="blockStride"/> bytes after the
        /// previous; <paramref name="rows"/> rows in all) against one 16-column panel; the sink moves on by
        /// <see cref="IArmTileSink.NextBlock"/> after each block.
        /// </summary>
        static abstract unsafe void Kernel4x16<TSink>(sbyte* a, sbyte* panel, int steps, TSink sink, int rows, int blockStride, bool noMinus128) where TSink : struct, IArmTileSink;
        static abstract unsafe void Kernel4x4<TSink>(sbyte* a, sbyte* panel, int steps, TSink sink, int rows, int cols, bool noMinus128) where TSink : struct, IArmTileSink;
        /// <summary>
        /// Row sums of one 4-row block of A times one column of B, the column packed by <see cref="PackColumn"/>
        /// (lane r = Σ_k a[r, k]·b[k], wrapping int32).
        /// </summary>
        static abstract unsafe Vector128<int> Column(sbyte* a, sbyte* column, int steps, bool noMinus128);
    }

    /// <summary>
    /// Packs one column of B (k values, stride ldb) as [steps][4 copies][group]: each step's group of k values repeated
    /// for the 4 rows of an A block, zeros past k. Each value is read once; the group (2 or 4 bytes) is written as one
    /// word per copy. Returns the column's sum (wrapping int32, as <see cref="ColumnSumsScalar"/>).
    /// </summary>
    private static unsafe int PackColumn(sbyte* b, int ldb, int k, int group, sbyte* column)
    {
        int steps = (k + group - 1) / group, sum = 0, kk = 0;
        long stride = ldb;
        for (int s = 0; s < steps; s++)
        {
            uint word = 0;
            for (int g = 0; g < group; g++, kk++)
            {
                int v = kk < k ? *b : 0;
                b += stride;
                sum += v;
                word |= (uint)(byte)v << (8 * g);
            }
            if (group == 4)
                for (int copy = 0; copy < 4; copy++) ((uint*)column)[copy] = word;
            else
                for (int copy = 0; copy < 4; copy++) ((ushort*)column)[copy] = (ushort)word;
            column += 4 * group;
        }
        return sum;
    }

    /// <summary>Whether a microkernel instantiation runs only full 4-row blocks (the row count is then a constant).</summary>
    private interface IRowBlockKind
    {
        static abstract bool Full { get; }
    }

    private readonly struct FullBlocks : IRowBlockKind { public static bool Full => true; }
    private readonly struct PartialBlock : IRowBlockKind { public static bool Full => false; }

    /// <summary>What the ARM microkernels do with a finished accumulator row (specialised per sink type).</summary>
    private interface IArmTileSink
    {
        /// <summary>The initial accumulator of every column of row r (the requantizing sink starts from the bias).</summary>
        Vector128<int> Initial(int r);

        /// <summary>Lane r: the initial accumulator of row r, for a full 4-row block (all 4 rows exist).</summary>
        Vector128<int> Initial4();

        /// <summary>A full 4-row block of a 4×16 tile: row r, columns 4q..4q+3 in <c>c{r}{q}</c>.</summary>
        void Tile16(Vector128<int> c00, Vector128<int> c01, Vector128<int> c02, Vector128<int> c03,
            Vector128<int> c10, Vector128<int> c11, Vector128<int> c12, Vector128<int> c13,
            Vector128<int> c20, Vector128<int> c21, Vector128<int> c22, Vector128<int> c23,
            Vector128<int> c30, Vector128<int> c31, Vector128<int> c32, Vector128<int> c33);

        /// <summary>Row r of a 4×16 tile: columns 4q..4q+3 in <paramref name="v0"/>..<paramref name="v3"/>.</summary>
        void Row16(int r, Vector128<int> v0, Vector128<int> v1, Vector128<int> v2, Vector128<int> v3);
        /// <summary>Row r of a 4×4 tile, of which the first <paramref name="cols"/> lanes are real columns.</summary>
        void Row4(int r, Vector128<int> v, int cols);

        /// <summary>Moves on to the next 4 rows (the next block of A).</summary>
        void NextBlock();
    }

    /// <summary>
    /// Row-initial accumulators of a 4×16 block (the value every column of row r starts from): a full block reads all
    /// four with one <see cref="IArmTileSink.Initial4"/>; a partial block asks per real row, and missing rows start at 0.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void InitialRows<TSink>(in TSink sink, int rows, out Vector128<int> r0, out Vector128<int> r1, out Vector128<int> r2,
        out Vector128<int> r3) where TSink : struct, IArmTileSink
    {
        if (rows == NeonRowBlock)
        {
            var initial = sink.Initial4();
            r0 = AdvSimd.DuplicateSelectedScalarToVector128(initial, 0);
            r1 = AdvSimd.DuplicateSelectedScalarToVector128(initial, 1);
            r2 = AdvSimd.DuplicateSelectedScalarToVector128(initial, 2);
            r3 = AdvSimd.DuplicateSelectedScalarToVector128(initial, 3);
            return;
        }
        r0 = sink.Initial(0); // a partial block has 1 to 3 rows
        r1 = rows > 1 ? sink.Initial(1) : default;
        r2 = rows > 2 ? sink.Initial(2) : default;
        r3 = default;
    }

    /// <summary>Hands a 4×16 block to the sink: <see cref="IArmTileSink.Tile16"/> when full, else one <see cref="IArmTileSink.Row16"/> per real row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRows16<TSink>(ref TSink sink, int rows, Vector128<int> c00, Vector128<int> c01, Vector128<int> c02, Vector128<int> c03,
        Vector128<int> c10, Vector128<int> c11, Vector128<int> c12, Vector128<int> c13, Vector128<int> c20, Vector128<int> c21, Vector128<int> c22,
        Vector128<int> c23, Vector128<int> c30, Vector128<int> c31, Vector128<int> c32, Vector128<int> c33) where TSink : struct, IArmTileSink
    {
        if (rows == NeonRowBlock)
        {
            sink.Tile16(c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33);
            return;
        }
        sink.Row16(0, c00, c01, c02, c03); // a partial block has 1 to 3 rows
        if (rows > 1) sink.Row16(1, c10, c11, c12, c13);
        if (rows > 2) sink.Row16(2, c20, c21, c22, c23);
    }

    /// <summary>Stores int32 accumulators: row r at <c>c + r·ldc</c>.</summary>
    private unsafe struct ArmStoreInt32(int* c, int ldc) : IArmTileSink
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void NextBlock() => c += (long)NeonRowBlock * ldc;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly Vector128<int> Initial(int r) => default;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly Vector128<int> Initial4() => default;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly void Tile16(Vector128<int> c00, Vector128<int> c01, Vector128<int> c02, Vector128<int> c03,
            Vector128<int> c10, Vector128<int> c11, Vector128<int> c12, Vector128<int> c13,
            Vector128<int> c20, Vector128<int> c21, Vector128<int> c22, Vector128<int> c23,
            Vector128<int> c30, Vector128<int> c31, Vector128<int> c32, Vector128<int> c33)
        {
            StoreRow16(c, c00, c01, c02, c03);
            StoreRow16(c + ldc, c10, c11, c12, c13);
            StoreRow16(c + 2L * ldc, c20, c21, c22, c23);
            StoreRow16(c + 3L * ldc, c30, c31, c32, c33);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly void Row16(int r, Vector128<int> v0, Vector128<int> v1, Vector128<int> v2, Vector128<int> v3) => StoreRow16(c + (long)r * ldc, v0, v1, v2, v3);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly void Row4(int r, Vector128<int> v, int cols) => StoreRowPartial(c + (long)r * ldc, v, cols);
    }

    private readonly struct NeonMicrokernel : IArmMicrokernel
    {
        public static int Group => 2;
        public static unsafe void PackPanel16(sbyte* b, int ldb, int k, sbyte* panel) => PackBPanelNeon16(b, ldb, k, panel);
        public static unsafe void PackPanel16WithSums(sbyte* b, int ldb, int k, sbyte* panel, int* sums) => PackBPanelNeon16WithSums(b, ldb, k, panel, sums);
        public static unsafe void Kernel4x16<TSink>(sbyte* a, sbyte* panel, int steps, TSink sink, int rows, int blockStride, bool noMinus128) where TSink : struct, IArmTileSink
        {
            if (noMinus128) KernelNeon4x16Paired(a, panel, steps, sink, rows, blockStride);
            else KernelNeon4x16(a, panel, steps, sink, rows, blockStride);
        }
        public static unsafe void Kernel4x4<TSink>(sbyte* a, sbyte* panel, int steps, TSink sink, int rows, int cols, bool noMinus128) where TSink : struct, IArmTileSink
        {
            if (noMinus128) KernelNeon4x4Paired(a, panel, steps, sink, rows, cols);
            else KernelNeon4x4(a, panel, steps, sink, rows, cols);
        }

        /// <summary>
        /// Per k pair, SMULL of 4 rows × 2 k of A by the column's pair replicated, then SADALP into the rows' lanes;
        /// two pairs per SMULL + SMLAL2 when A has no −128 (two products per int16 lane, as in the paired tiles), four
        /// pairs per loop iteration counted by the A pointer. The low halves are separate 8-byte loads (GetLower()
        /// would cost a register copy each).
        /// </summary>
        public static unsafe Vector128<int> Column(sbyte* a, sbyte* column, int steps, bool noMinus128)
        {
            var acc = Vector128<int>.Zero;
            int p = 0;
            if (noMinus128)
            {
                var acc2 = Vector128<int>.Zero;
                sbyte* end = a + (long)(steps & ~3) * 8;
                while (a < end)
                {
                    var a0 = AdvSimd.LoadVector128(a);
                    var a1 = AdvSimd.LoadVector128(a + 16);
                    var b0 = AdvSimd.LoadVector128(column);
                    var b1 = AdvSimd.LoadVector128(column + 16);
                    acc = AdvSimd.AddPairwiseWideningAndAdd(acc,
                        AdvSimd.MultiplyWideningUpperAndAdd(AdvSimd.MultiplyWideningLower(AdvSimd.LoadVector64(a), AdvSimd.LoadVector64(column)), a0, b0));
                    acc2 = AdvSimd.AddPairwiseWideningAndAdd(acc2,
                        AdvSimd.MultiplyWideningUpperAndAdd(AdvSimd.MultiplyWideningLower(AdvSimd.LoadVector64(a + 16), AdvSimd.LoadVector64(column + 16)), a1, b1));
                    a += 32;
                    column += 32;
                }
                acc = AdvSimd.Add(acc, acc2);
                p = steps & ~3;
                if ((steps & 2) != 0)
                {
                    acc = AdvSimd.AddPairwiseWideningAndAdd(acc,
                        AdvSimd.MultiplyWideningUpperAndAdd(AdvSimd.MultiplyWideningLower(AdvSimd.LoadVector64(a), AdvSimd.LoadVector64(column)),
                            AdvSimd.LoadVector128(a), AdvSimd.LoadVector128(column)));
                    a += 16;
                    column += 16;
                    p += 2;
                }
            }
            for (; p < steps; p++, a += 8, column += 8)
                acc = AdvSimd.AddPairwiseWideningAndAdd(acc, AdvSimd.MultiplyWideningLower(AdvSimd.LoadVector64(a), AdvSimd.LoadVector64(column)));
            return acc;
        }
    }

    /// <summary>
    /// The ARM GEMM driver, specialised per microkernel family at compile time (no indirect calls): for each strip of
    /// 16 columns, pack the B panel once and run the 4×16 kernel down all rows; the last columns use 4-wide panels.
    /// </summary>
    private static unsafe void MultiplyArm<TKernel>(int m, int n, int k, ReadOnlySpan<sbyte> packedA, int packedANeeded,
        ReadOnlySpan<sbyte> b, int ldb, Span<int> acc, int ldAcc, Span<int> scratch, int scratchNeeded)
        where TKernel : struct, IArmMicrokernel
    {
        ValidateMultiply(m, n, k, packedA.Length, packedANeeded, b.Length, ldb, acc.Length, ldAcc, scratch.Length, scratchNeeded);
        if (m == 0 || n == 0) return;
        int steps = (k + TKernel.Group - 1) / TKernel.Group;
        int blockStride = steps * TKernel.Group; // sbytes of packed A per row of a 4-row block
        var panel = MemoryMarshal.AsBytes(scratch);
        fixed (sbyte* pa = packedA)
        fixed (sbyte* pb = b)
        fixed (int* pc = acc)
        fixed (byte* pp = panel)
        {
            var panelPtr = (sbyte*)pp;
            int j = 0;
            for (; j + NeonColumnBlock <= n; j += NeonColumnBlock)
            {
                TKernel.PackPanel16(pb + j, ldb, k, panelPtr);
                TKernel.Kernel4x16(pa, panelPtr, steps, new ArmStoreInt32(pc + j, ldAcc), m, NeonRowBlock * blockStride, false);
            }
            for (; j < n; j += NeonNarrowColumnBlock)
            {
                int cols = Math.Min(NeonNarrowColumnBlock, n - j);
                PackBPanel4(pb + j, ldb, k, cols, TKernel.Group, panelPtr, null);
                for (int i = 0; i < m; i += NeonRowBlock)
                {
                    var sink = new ArmStoreInt32(pc + i * ldAcc + j, ldAcc);
                    TKernel.Kernel4x4(pa + i * blockStride, panelPtr, steps, sink, Math.Min(NeonRowBlock, m - i), cols, false);
                }
            }
        }
    }

    private static void ValidateMultiply(int m, int n, int k, int packedALength, int packedANeeded, int bLength, int ldb,
        int accLength, int ldAcc, int scratchLength, int scratchNeeded)
    {
        if (m < 0 || n < 0 || k < 0) throw new ArgumentOutOfRangeException(nameof(m), $"negative dimension (m={m}, n={n}, k={k})");
        if (m == 0 || n == 0) return;
        if (ldb < n) throw new ArgumentOutOfRangeException(nameof(ldb), $"ldb={ldb} is smaller than n={n}");
        if (ldAcc < n) throw new ArgumentOutOfRangeException(nameof(ldAcc), $"ldAcc={ldAcc} is smaller than n={n}");
        if (packedALength < packedANeeded) throw new ArgumentException($"packedA holds {packedALength} values, fewer than {packedANeeded}", "packedA");
        if (k > 0 && bLength < (long)(k - 1) * ldb + n) throw new ArgumentException($"b holds {bLength} values, fewer than (k-1)*ldb+n", "b");
        if (accLength < (long)(m - 1) * ldAcc + n) throw new ArgumentException($"acc holds {accLength} values, fewer than (m-1)*ldAcc+n", "acc");
        if (scratchLength < scratchNeeded) throw new ArgumentException($"scratch holds {scratchLength} ints, fewer than {scratchNeeded}", "scratch");
    }

    /// <summary>Packs 16 columns of B into [K/2][16][2] with ZIP1/ZIP2 of two rows; an odd last row pairs with zeros.</summary>
    private static unsafe void PackBPanelNeon16(sbyte* b, int ldb, int k, sbyte* panel)
    {
        long stride = ldb;
        for (int pairsLeft = k / 2; pairsLeft > 0; pairsLeft--)
        {
            var r0 = AdvSimd.LoadVector128(b);
            var r1 = AdvSimd.LoadVector128(b + stride);
            AdvSimd.Store(panel, AdvSimd.Arm64.ZipLow(r0, r1));
            AdvSimd.Store(panel + 16, AdvSimd.Arm64.ZipHigh(r0, r1));
            b += 2 * stride;
            panel += 32;
        }
        if ((k & 1) != 0)
        {
            var r0 = AdvSimd.LoadVector128(b);
            AdvSimd.Store(panel, AdvSimd.Arm64.ZipLow(r0, Vector128<sbyte>.Zero));
            AdvSimd.Store(panel + 16, AdvSimd.Arm64.ZipHigh(r0, Vector128<sbyte>.Zero));
        }
    }

    /// <summary>
    /// <see cref="PackBPanelNeon16"/> plus the column sums: SADALP of each zipped vector (8 columns × a k pair) adds
    /// the pair into the column's int16 lane. A lane takes at most 128 pairs (|sum| ≤ 128·256 = 32768, and only
    /// -32768 reaches it) before it is widened into the int32 sums, so the result is exact for any k.
    /// </summary>
    private static unsafe void PackBPanelNeon16WithSums(sbyte* b, int ldb, int k, sbyte* panel, int* sums)
    {
        Vector128<int> s0 = default, s1 = default, s2 = default, s3 = default;
        long stride = ldb;
        for (int block = 0; block < k; block += 256)
        {
            int rowsInBlock = Math.Min(k - block, 256);
            Vector128<short> low = default, high = default; // columns 0..7 and 8..15
            for (int pairsLeft = rowsInBlock / 2; pairsLeft > 0; pairsLeft--)
            {
                var r0 = AdvSimd.LoadVector128(b);
                var r1 = AdvSimd.LoadVector128(b + stride);
                var z0 = AdvSimd.Arm64.ZipLow(r0, r1);
                var z1 = AdvSimd.Arm64.ZipHigh(r0, r1);
                AdvSimd.Store(panel, z0);
                AdvSimd.Store(panel + 16, z1);
                low = AdvSimd.AddPairwiseWideningAndAdd(low, z0);
                high = AdvSimd.AddPairwiseWideningAndAdd(high, z1);
                b += 2 * stride;
                panel += 32;
            }
            if ((rowsInBlock & 1) != 0) // odd k: the last row pairs with zeros (only the last block can be odd)
            {
                var r0 = AdvSimd.LoadVector128(b);
                var z0 = AdvSimd.Arm64.ZipLow(r0, Vector128<sbyte>.Zero);
                var z1 = AdvSimd.Arm64.ZipHigh(r0, Vector128<sbyte>.Zero);
                AdvSimd.Store(panel, z0);
                AdvSimd.Store(panel + 16, z1);
                low = AdvSimd.AddPairwiseWideningAndAdd(low, z0);
                high = AdvSimd.AddPairwiseWideningAndAdd(high, z1);
            }
            s0 = AdvSimd.AddWideningLower(s0, low.GetLower());
            s1 = AdvSimd.AddWideningUpper(s1, low);
            s2 = AdvSimd.AddWideningLower(s2, high.GetLower());
            s3 = AdvSimd.AddWideningUpper(s3, high);
        }
        s0.Store(sums);
        s1.Store(sums + 4);
        s2.Store(sums + 8);
        s3.Store(sums + 12);
    }

    /// <summary>
    /// Scalar packing of <paramref name="cols"/> (1..4) columns of B into a narrow panel [ceil(K/group)][4][group],
    /// zero-filling missing columns and the k padding; each value is read once. A non-null <paramref name="sums"/>
    /// receives the 4 column sums (zero for missing columns; wrapping int32, as <see cref="ColumnSumsScalar"/>).
    /// </summary>
    private static unsafe void PackBPanel4(sbyte* b, int ldb, int k, int cols, int group, sbyte* panel, int* sums)
    {
        int groups = (k + group - 1) / group, s0 = 0, s1 = 0, s2 = 0, s3 = 0, kk = 0;
        long stride = ldb;
        for (int gi = 0; gi < groups; gi++, panel += NeonNarrowColumnBlock * group)
            for (int g = 0; g < group; g++, kk++)
            {
                int v0 = 0, v1 = 0, v2 = 0, v3 = 0;
                if (kk < k)
                {
                    v0 = b[0];
                    if (cols > 1) v1 = b[1];
                    if (cols > 2) v2 = b[2];
                    if (cols > 3) v3 = b[3];
                    b += stride;
                }
                panel[g] = (sbyte)v0;
                panel[group + g] = (sbyte)v1;
                panel[2 * group + g] = (sbyte)v2;
                panel[3 * group + g] = (sbyte)v3;
                s0 += v0;
                s1 += v1;
                s2 += v2;
                s3 += v3;
            }
        if (sums != null)
        {
            sums[0] = s0;
            sums[1] = s1;
            sums[2] = s2;
            sums[3] = s3;
        }
    }

    // The low halves are loaded separately (LDR d / LD1R .4h) rather than taken with GetLower(): the code generator
    // copies a register for GetLower(), which costs a SIMD issue slot per use on Cortex-A72; loads use the load pipe.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> NeonMacLow(Vector128<int> sum, Vector64<sbyte> bLow, Vector64<sbyte> aLow) =>
        AdvSimd.AddPairwiseWideningAndAdd(sum, AdvSimd.MultiplyWideningLower(bLow, aLow));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> NeonMacHigh(Vector128<int> sum, Vector128<sbyte> b, Vector128<sbyte> a) =>
        AdvSimd.AddPairwiseWideningAndAdd(sum, AdvSimd.MultiplyWideningUpper(b, a));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector64<sbyte> ReplicatePair64(sbyte* pair) => AdvSimd.LoadAndReplicateToVector64((short*)pair).AsSByte();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector128<sbyte> ReplicatePair128(sbyte* pair) => AdvSimd.LoadAndReplicateToVector128((short*)pair).AsSByte();

    /// <summary>
    /// 4×16 tile: 16 int32 accumulators (row r, columns 4q..4q+3), one k pair per step: per row, SMULL (columns 0..3,
    /// 8..11) and SMULL2 (4..7, 12..15) of the panel against the replicated pair of A, each followed by SADALP.
    /// </summary>
    private static unsafe void KernelNeon4x16<TSink>(sbyte* aFirst, sbyte* panelFirst, int pairs, TSink sink, int totalRows, int blockStride) where TSink : struct, IArmTileSink
    {
        // Every 4-row block of A against the same panel: one call per panel (the sink moves on by 4 rows per block).
        for (int rowsLeft = totalRows; rowsLeft > 0; rowsLeft -= NeonRowBlock, aFirst += blockStride, sink.NextBlock())
        {
            int rows = Math.Min(NeonRowBlock, rowsLeft);
            sbyte* a = aFirst, panel = panelFirst;
            Vector128<int> c00 = sink.Initial(0), c01 = c00, c02 = c00, c03 = c00;
            Vector128<int> c10 = rows > 1 ? sink.Initial(1) : default, c11 = c10, c12 = c10, c13 = c10;
            Vector128<int> c20 = rows > 2 ? sink.Initial(2) : default, c21 = c20, c22 = c20, c23 = c20;
            Vector128<int> c30 = rows > 3 ? sink.Initial(3) : default, c31 = c30, c32 = c30, c33 = c30;
            for (int p = 0; p < pairs; p++)
            {
                var b0 = AdvSimd.LoadVector128(panel);
                var b1 = AdvSimd.LoadVector128(panel + 16);
                var b0Low = AdvSimd.LoadVector64(panel);
                var b1Low = AdvSimd.LoadVector64(panel + 16);
                var a0 = ReplicatePair128(a);
                var a0Low = ReplicatePair64(a);
                c00 = NeonMacLow(c00, b0Low, a0Low); c01 = NeonMacHigh(c01, b0, a0); c02 = NeonMacLow(c02, b1Low, a0Low); c03 = NeonMacHigh(c03, b1, a0);
                var a1 = ReplicatePair128(a + 2);
                var a1Low = ReplicatePair64(a + 2);
                c10 = NeonMacLow(c10, b0Low, a1Low); c11 = NeonMacHigh(c11, b0, a1); c12 = NeonMacLow(c12, b1Low, a1Low); c13 = NeonMacHigh(c13, b1, a1);
                var a2 = ReplicatePair128(a + 4);
                var a2Low = ReplicatePair64(a + 4);
                c20 = NeonMacLow(c20, b0Low, a2Low); c21 = NeonMacHigh(c21, b0, a2); c22 = NeonMacLow(c22, b1Low, a2Low); c23 = NeonMacHigh(c23, b1, a2);
                var a3 = ReplicatePair128(a + 6);
                var a3Low = ReplicatePair64(a + 6);
                c30 = NeonMacLow(c30, b0Low, a3Low); c31 = NeonMacHigh(c31, b0, a3); c32 = NeonMacLow(c32, b1Low, a3Low); c33 = NeonMacHigh(c33, b1, a3);
                a += 8;
                panel += 32;
            }
            sink.Row16(0, c00, c01, c02, c03);
            if (rows > 1) sink.Row16(1, c10, c11, c12, c13);
            if (rows > 2) sink.Row16(2, c20, c21, c22, c23);
            if (rows > 3) sink.Row16(3, c30, c31, c32, c33);
        }
    }

    /// <summary>
    /// 4×16 tile when every packed A value lies in [-127, 127]: two k pairs per step, SMULL2 of the first pair then
    /// SMLAL2 of the second into the same int16 lanes (|p1 + p2| ≤ 32512, exact), then one SADALP — 3 instructions per
    /// 16 products instead of 4. Only high halves are used (SMULL2/SMLAL2): A is replicated into both halves, and the
    /// B vector for columns 4q..4q+3 is loaded from <c>panel + 8q - 8</c> so that those 8 bytes sit in its high half;
    /// the first load therefore reads the 8 bytes before the panel (the drivers leave 16 bytes of slack there).
    /// An odd last pair uses SMULL2 + SADALP alone.
    /// </summary>
    /// <summary>
    /// 4×16 tiles when every packed A value lies in [-127, 127]: every 4-row block of A against the same panel (the
    /// sink moves on by 4 rows per block). Full blocks and the last partial one are separate instantiations of
    /// <see cref="RowBlocksNeon4x16Paired"/>, so full blocks test no row count and requantize all 4 rows with one load
    /// of bias and multipliers.
    /// </summary>
    private static unsafe void KernelNeon4x16Paired<TSink>(sbyte* a, sbyte* panel, int pairs, TSink sink, int totalRows, int blockStride) where TSink : struct, IArmTileSink
    {
        int fullBlocks = totalRows / NeonRowBlock, lastRows = totalRows % NeonRowBlock;
        if (fullBlocks > 0)
        {
            RowBlocksNeon4x16Paired<TSink, FullBlocks>(a, panel, pairs, ref sink, NeonRowBlock, fullBlocks, blockStride);
            a += (long)fullBlocks * blockStride;
        }
        if (lastRows > 0) RowBlocksNeon4x16Paired<TSink, PartialBlock>(a, panel, pairs, ref sink, lastRows, 1, blockStride);
    }

    /// <summary>
    /// <paramref name="blocks"/> 4-row blocks, each <paramref name="blockStride"/> bytes of A after the previous, of
    /// <paramref name="rowsIfPartial"/> real rows each, or 4 when <typeparamref name="TFull"/> is <see cref="FullBlocks"/>
    /// (then a compile-time constant): two k pairs per step, SMULL2 of
    /// the first pair then SMLAL2 of the second into the same int16 lanes (|p1 + p2| ≤ 32512, exact), then one SADALP
    /// — 3 instructions per 16 products instead of 4. Only high halves are used (SMULL2/SMLAL2): A is replicated into
    /// both halves, and the B vector for columns 4q..4q+3 is loaded from <c>panel + 8q - 8</c> so that those 8 bytes
    /// sit in its high half; the first load therefore reads the 8 bytes before the panel (the drivers leave 16 bytes of
    /// slack there). An odd last pair uses SMULL2 + SADALP alone.
    /// </summary>
    [SkipLocalsInit]
    private static unsafe void RowBlocksNeon4x16Paired<TSink, TFull>(sbyte* aFirst, sbyte* panelFirst, int pairs, ref TSink sinkRef, int rowsIfPartial,
        int blocks, int blockStride)
        where TSink : struct, IArmTileSink
        where TFull : struct, IRowBlockKind
    {
        int rows = TFull.Full ? NeonRowBlock : rowsIfPartial;
        var sink = sinkRef; // a local copy, so that its fields live in registers
        for (; blocks > 0; blocks--, aFirst += blockStride, sink.NextBlock())
        {
            sbyte* a = aFirst, panel = panelFirst;
            InitialRows(sink, rows, out var c00, out var c10, out var c20, out var c30);
            Vector128<int> c01 = c00, c02 = c00, c03 = c00, c11 = c10, c12 = c10, c13 = c10;
            Vector128<int> c21 = c20, c22 = c20, c23 = c20, c31 = c30, c32 = c30, c33 = c30;
            // Two steps of two k pairs per iteration, counted by the A pointer against its end (add, add, compare, branch
            // once per 96 multiply instructions). 16 bytes of A = [2 pairs][4 rows][2 k]: LD4R of its first 8 bytes
            // replicates each row's first pair across a register (a0..a3), of the next 8 each row's second pair (f0..f3).
            // B is loaded as LDP, two registers per instruction, column groups 0 and 2 first, then 1 and 3, so that at
            // most 4 B registers are live (16 accumulators + 8 A + 4 B + a product temporary fit the 32 vector registers).
            // B loads come in consecutive 16-byte pairs at immediate offsets, which the code generator turns into LDP; those
            // starting 8 bytes off a 16-byte boundary go through a second pointer, 8 bytes before the panel, since LDP's
            // offset must be a multiple of 16 (an explicit LoadPairVector128 would cost an address ADD each).
            sbyte* shifted = panel - 8;
            sbyte* end = a + (long)(pairs & ~3) * 8;
            while (a < end)
            {
                TwoPairsPaired4x16(ref c00, ref c01, ref c02, ref c03, ref c10, ref c11, ref c12, ref c13, ref c20, ref c21, ref c22, ref c23, ref c30, ref c31, ref c32, ref c33, a, panel, shifted, 0);
                TwoPairsPaired4x16(ref c00, ref c01, ref c02, ref c03, ref c10, ref c11, ref c12, ref c13, ref c20, ref c21, ref c22, ref c23, ref c30, ref c31, ref c32, ref c33, a, panel, shifted, 1);
                a += 32;
                panel += 128;
                shifted += 128;
            }
            if ((pairs & 2) != 0)
            {
                TwoPairsPaired4x16(ref c00, ref c01, ref c02, ref c03, ref c10, ref c11, ref c12, ref c13, ref c20, ref c21, ref c22, ref c23, ref c30, ref c31, ref c32, ref c33, a, panel, shifted, 0);
                a += 16;
                panel += 64;
                shifted += 64;
            }
            if ((pairs & 1) != 0)
            {
                var b0 = AdvSimd.LoadVector128(panel - 8);
                var b1 = AdvSimd.LoadVector128(panel);
                var b2 = AdvSimd.LoadVector128(panel + 8);
                var b3 = AdvSimd.LoadVector128(panel + 16);
                var ar = ReplicatePair128(a);
                c00 = NeonMacHigh(c00, b0, ar); c01 = NeonMacHigh(c01, b1, ar); c02 = NeonMacHigh(c02, b2, ar); c03 = NeonMacHigh(c03, b3, ar);
                ar = ReplicatePair128(a + 2);
                c10 = NeonMacHigh(c10, b0, ar); c11 = NeonMacHigh(c11, b1, ar); c12 = NeonMacHigh(c12, b2, ar); c13 = NeonMacHigh(c13, b3, ar);
                ar = ReplicatePair128(a + 4);
                c20 = NeonMacHigh(c20, b0, ar); c21 = NeonMacHigh(c21, b1, ar); c22 = NeonMacHigh(c22, b2, ar); c23 = NeonMacHigh(c23, b3, ar);
                ar = ReplicatePair128(a + 6);
                c30 = NeonMacHigh(c30, b0, ar); c31 = NeonMacHigh(c31, b1, ar); c32 = NeonMacHigh(c32, b2, ar); c33 = NeonMacHigh(c33, b3, ar);
            }
            StoreRows16(ref sink, rows, c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33);
        }
        sinkRef = sink;
    }

    /// <summary>
    /// Two k pairs (step <paramref name="step"/> of an iteration: A bytes <c>16·step</c>.., B bytes <c>64·step</c>..) of
    /// <see cref="RowBlocksNeon4x16Paired{TSink, TFull}"/>: LD4R replicates each row's first pair (a0..a3) and second pair
    /// (f0..f3); B column groups 0 and 2 come through <paramref name="shifted"/> (8 bytes before the panel, so their bytes
    /// sit in the high halves), groups 1 and 3 from <paramref name="panel"/>, two at a time so at most 4 B registers are
    /// live. The offsets are constants after inlining, so consecutive loads become LDP with immediate offsets.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void TwoPairsPaired4x16(ref Vector128<int> c00, ref Vector128<int> c01, ref Vector128<int> c02, ref Vector128<int> c03,
        ref Vector128<int> c10, ref Vector128<int> c11, ref Vector128<int> c12, ref Vector128<int> c13,
        ref Vector128<int> c20, ref Vector128<int> c21, ref Vector128<int> c22, ref Vector128<int> c23,
        ref Vector128<int> c30, ref Vector128<int> c31, ref Vector128<int> c32, ref Vector128<int> c33,
        sbyte* a, sbyte* panel, sbyte* shifted, [ConstantExpected(Max = 1)] int step)
    {
        var (a0, a1, a2, a3) = AdvSimd.Arm64.LoadAndReplicateToVector128x4((short*)(a + 16 * step));
        var (f0, f1, f2, f3) = AdvSimd.Arm64.LoadAndReplicateToVector128x4((short*)(a + (16 * step + 8)));
        var b0 = AdvSimd.LoadVector128(shifted + 64 * step);
        var b2 = AdvSimd.LoadVector128(shifted + (64 * step + 16));
        var e0 = AdvSimd.LoadVector128(shifted + (64 * step + 32));
        var e2 = AdvSimd.LoadVector128(shifted + (64 * step + 48));
        c00 = NeonMac2(c00, b0, a0.AsSByte(), e0, f0.AsSByte()); c02 = NeonMac2(c02, b2, a0.AsSByte(), e2, f0.AsSByte());
        c10 = NeonMac2(c10, b0, a1.AsSByte(), e0, f1.AsSByte()); c12 = NeonMac2(c12, b2, a1.AsSByte(), e2, f1.AsSByte());
        c20 = NeonMac2(c20, b0, a2.AsSByte(), e0, f2.AsSByte()); c22 = NeonMac2(c22, b2, a2.AsSByte(), e2, f2.AsSByte());
        c30 = NeonMac2(c30, b0, a3.AsSByte(), e0, f3.AsSByte()); c32 = NeonMac2(c32, b2, a3.AsSByte(), e2, f3.AsSByte());
        var b1 = AdvSimd.LoadVector128(panel + 64 * step);
        var b3 = AdvSimd.LoadVector128(panel + (64 * step + 16));
        var e1 = AdvSimd.LoadVector128(panel + (64 * step + 32));
        var e3 = AdvSimd.LoadVector128(panel + (64 * step + 48));
        c01 = NeonMac2(c01, b1, a0.AsSByte(), e1, f0.AsSByte()); c03 = NeonMac2(c03, b3, a0.AsSByte(), e3, f0.AsSByte());
        c11 = NeonMac2(c11, b1, a1.AsSByte(), e1, f1.AsSByte()); c13 = NeonMac2(c13, b3, a1.AsSByte(), e3, f1.AsSByte());
        c21 = NeonMac2(c21, b1, a2.AsSByte(), e1, f2.AsSByte()); c23 = NeonMac2(c23, b3, a2.AsSByte(), e3, f2.AsSByte());
        c31 = NeonMac2(c31, b1, a3.AsSByte(), e1, f3.AsSByte()); c33 = NeonMac2(c33, b3, a3.AsSByte(), e3, f3.AsSByte());
    }

    /// <summary>DUP of one 16-bit lane (a k pair of one row) across the vector.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<sbyte> ReplicateLane(Vector128<short> pairs, [System.Diagnostics.CodeAnalysis.ConstantExpected(Max = (byte)7)] byte lane) =>
        AdvSimd.DuplicateSelectedScalarToVector128(pairs, lane).AsSByte();

    /// <summary>
    /// 4×4 column-tail tile when every packed A value lies in [-127, 127]: two k pairs per step as in
    /// <see cref="KernelNeon4x16Paired"/>; the 8-byte panel rows of pairs p and p + 1 are the high halves of loads at
    /// <c>panel - 8</c> and <c>panel</c>.
    /// </summary>
    private static unsafe void KernelNeon4x4Paired<TSink>(sbyte* a, sbyte* panel, int pairs, TSink sink, int rows, int cols) where TSink : struct, IArmTileSink
    {
        Vector128<int> c0 = sink.Initial(0), c1 = rows > 1 ? sink.Initial(1) : default;
        Vector128<int> c2 = rows > 2 ? sink.Initial(2) : default, c3 = rows > 3 ? sink.Initial(3) : default;
        // DUP of lanes rather than two LD4R: with few registers live the allocator may start an LD4R group at v29 and
        // wrap to v0, which the .NET 10 JIT miscompiles (v0 clobbered).
        sbyte* end = a + (long)(pairs & ~1) * 8;
        while (a < end)
        {
            var b = AdvSimd.LoadVector128(panel - 8);
            var e = AdvSimd.LoadVector128(panel);
            var av = AdvSimd.LoadVector128(a).AsInt16();
            c0 = NeonMac2(c0, b, ReplicateLane(av, 0), e, ReplicateLane(av, 4));
            c1 = NeonMac2(c1, b, ReplicateLane(av, 1), e, ReplicateLane(av, 5));
            c2 = NeonMac2(c2, b, ReplicateLane(av, 2), e, ReplicateLane(av, 6));
            c3 = NeonMac2(c3, b, ReplicateLane(av, 3), e, ReplicateLane(av, 7));
            a += 16;
            panel += 16;
        }
        if ((pairs & 1) != 0)
        {
            var b = AdvSimd.LoadVector128(panel - 8);
            c0 = NeonMacHigh(c0, b, ReplicatePair128(a));
            c1 = NeonMacHigh(c1, b, ReplicatePair128(a + 2));
            c2 = NeonMacHigh(c2, b, ReplicatePair128(a + 4));
            c3 = NeonMacHigh(c3, b, ReplicatePair128(a + 6));
        }
        sink.Row4(0, c0, cols);
        if (rows > 1) sink.Row4(1, c1, cols);
        if (rows > 2) sink.Row4(2, c2, cols);
        if (rows > 3) sink.Row4(3, c3, cols);
    }

    /// <summary>SADALP(sum, SMLAL2(SMULL2(b, a), e, f)): two products per int16 lane (needs |a|, |f| ≤ 127).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> NeonMac2(Vector128<int> sum, Vector128<sbyte> b, Vector128<sbyte> a, Vector128<sbyte> e, Vector128<sbyte> f) =>
        AdvSimd.AddPairwiseWideningAndAdd(sum, AdvSimd.MultiplyWideningUpperAndAdd(AdvSimd.MultiplyWideningUpper(b, a), e, f));

    /// <summary>4×4 tile for the column tail: one SMULL + SADALP per row and k pair.</summary>
    private static unsafe void KernelNeon4x4<TSink>(sbyte* a, sbyte* panel, int pairs, TSink sink, int rows, int cols) where TSink : struct, IArmTileSink
    {
        Vector128<int> c0 = sink.Initial(0), c1 = rows > 1 ? sink.Initial(1) : default;
        Vector128<int> c2 = rows > 2 ? sink.Initial(2) : default, c3 = rows > 3 ? sink.Initial(3) : default;
        for (int p = 0; p < pairs; p++)
        {
            var b = AdvSimd.LoadVector64(panel);
            c0 = NeonMacLow(c0, b, ReplicatePair64(a));
            c1 = NeonMacLow(c1, b, ReplicatePair64(a + 2));
            c2 = NeonMacLow(c2, b, ReplicatePair64(a + 4));
            c3 = NeonMacLow(c3, b, ReplicatePair64(a + 6));
            a += 8;
            panel += 8;
        }
        sink.Row4(0, c0, cols);
        if (rows > 1) sink.Row4(1, c1, cols);
        if (rows > 2) sink.Row4(2, c2, cols);
        if (rows > 3) sink.Row4(3, c3, cols);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void StoreRow16(int* c, Vector128<int> v0, Vector128<int> v1, Vector128<int> v2, Vector128<int> v3)
    {
        v0.Store(c);
        v1.Store(c + 4);
        v2.Store(c + 8);
        v3.Store(c + 12);
    }

    /// <summary>Stores the first <paramref name="cols"/> (1..4) lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void StoreRowPartial(int* c, Vector128<int> v, int cols)
    {
        if (cols == 4) { v.Store(c); return; }
        c[0] = v.GetElement(0);
        if (cols > 1) c[1] = v.GetElement(1);
        if (cols > 2) c[2] = v.GetElement(2);
    }
}
