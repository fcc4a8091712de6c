using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeRuntime.Kernels.Gemm;

/// <summary>
/// AVX2 path. AVX2 has no exact int8 dot product (VPMADDUBSW saturates its int16 pair sums), so both operands are
/// widened to int16 and multiplied with VPMADDWD, which forms <c>a0·b0 + a1·b1</c> exactly in int32: 16 MACs per
/// instruction, one VPADDD to accumulate. (The fused GEMM of QGemm.Avx2.Fused.cs uses this format only for weights
/// that would need many corrections in its VPMADDUBSW format, QGemm.Avx2.Quads.cs.)
/// <para>Packed A (int16, zero padded to whole blocks): <c>[⌈M/6⌉ blocks][⌈K/2⌉ k-pairs][6 rows][2 k]</c>, so one
/// 32-bit broadcast gives a row's (a[m, 2p], a[m, 2p+1]) pair.</para>
/// <para>B panel in scratch (int16, 16 columns): <c>[⌈K/2⌉ k-pairs][16 columns][2 k]</c>, zero padded in k and
/// columns; built per 16-column strip of B just before use so it stays in L1 while every row block of A streams past.</para>
/// <para>Microkernel: 6 rows × 16 columns = 12 ymm accumulators.</para>
/// </summary>
public static partial class QGemm
{
    private const int Avx2RowsPerBlock = 6;
    private const int Avx2ColumnsPerPanel = 16;

    private static int Avx2PackedALength(int m, int k) =>
        checked(DivideRoundingUp(m, Avx2RowsPerBlock) * Avx2RowsPerBlock * DivideRoundingUp(k, 2) * 2 * sizeof(short));

    private static int Avx2ScratchLength(int k) => checked(DivideRoundingUp(k, 2) * Avx2ColumnsPerPanel);

    private static int DivideRoundingUp(int value, int divisor) => (value + divisor - 1) / divisor;

    private static void PackAAvx2(ReadOnlySpan<sbyte> a, int m, int k, Span<sbyte> packed) => PackAAvx2(a, m, k, [], packed);

    /// <summary>Packs <c>a[row, kk] - rowOffsets[row]</c> (no offsets when empty); padding stays zero.</summary>
    private static void PackAAvx2(ReadOnlySpan<sbyte> a, int m, int k, ReadOnlySpan<int> rowOffsets, Span<sbyte> packed)
    {
        int length = Avx2PackedALength(m, k);
        CheckPackArguments(a, m, k, packed, length);
        var destination = MemoryMarshal.Cast<sbyte, short>(packed[..length]);
        int pairs = DivideRoundingUp(k, 2), index = 0;
        for (int block = 0; block < m; block += Avx2RowsPerBlock)
            for (int pair = 0; pair < pairs; pair++)
                for (int r = 0; r < Avx2RowsPerBlock; r++)
                {
                    int row = block + r, k0 = 2 * pair, k1 = k0 + 1;
                    int offset = row < m && !rowOffsets.IsEmpty ? rowOffsets[row] : 0;
                    destination[index++] = row < m ? checked((short)(a[row * k + k0] - offset)) : (short)0;
                    destination[index++] = row < m && k1 < k ? checked((short)(a[row * k + k1] - offset)) : (short)0;
                }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void MultiplyAvx2(int m, int n, int k, ReadOnlySpan<sbyte> packedA,
        ReadOnlySpan<sbyte> b, int ldb, Span<int> acc, int ldAcc, Span<int> scratch)
    {
        CheckMultiplyArguments(m, n, k, packedA, Avx2PackedALength(m, k), b, ldb, acc, ldAcc, scratch, Avx2ScratchLength(k));
        if (m == 0 || n == 0) return;
        int pairs = DivideRoundingUp(k, 2);
        int blockInts = pairs * Avx2RowsPerBlock; // one int = one (a0, a1) int16 pair
        int* tile = stackalloc int[Avx2RowsPerBlock * Avx2ColumnsPerPanel];
        fixed (sbyte* aBase = packedA)
        fixed (sbyte* bBase = b)
        fixed (int* accBase = acc)
        fixed (int* panel = scratch)
        {
            for (int j0 = 0; j0 < n; j0 += Avx2ColumnsPerPanel)
            {
                int columns = Math.Min(Avx2ColumnsPerPanel, n - j0);
                PackBPanelAvx2(bBase + j0, ldb, k, columns, (short*)panel);
                for (int i0 = 0; i0 < m; i0 += Avx2RowsPerBlock)
                {
                    int rows = Math.Min(Avx2RowsPerBlock, m - i0);
                    int* aBlock = (int*)aBase + (i0 / Avx2RowsPerBlock) * blockInts;
                    int* c = accBase + (long)i0 * ldAcc + j0;
                    bool full = rows == Avx2RowsPerBlock && columns == Avx2ColumnsPerPanel;
                    var sink = new Avx2StoreInt32(full ? c : tile, full ? ldAcc : Avx2ColumnsPerPanel);
                    Avx2Kernel<Avx2SixRows, Avx2StoreInt32>(aBlock, panel, pairs, ref sink);
                    if (!full) CopyTile(tile, Avx2ColumnsPerPanel, c, ldAcc, rows, columns);
                }
            }
        }
    }

    /// <summary>Sign-extends a strip of up to 16 columns of B into the interleaved int16 pair panel.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void PackBPanelAvx2(sbyte* b, int ldb, int k, int columns, short* panel)
    {
        int pairs = DivideRoundingUp(k, 2);
        if (columns == Avx2ColumnsPerPanel)
        {
            for (int pair = 0; pair < pairs; pair++)
            {
                var row0 = Sse2.LoadVector128(b + (long)(2 * pair) * ldb);
                var row1 = 2 * pair + 1 < k ? Sse2.LoadVector128(b + (long)(2 * pair + 1) * ldb) : Vector128<sbyte>.Zero;
                short* destination = panel + pair * 2 * Avx2ColumnsPerPanel;
                Avx.Store(destination, Avx2.ConvertToVector256Int16(Sse2.UnpackLow(row0, row1)));
                Avx.Store(destination + 16, Avx2.ConvertToVector256Int16(Sse2.UnpackHigh(row0, row1)));
            }
            return;
        }
        for (int pair = 0; pair < pairs; pair++)
        {
            short* destination = panel + pair * 2 * Avx2ColumnsPerPanel;
            sbyte* row0 = b + (long)(2 * pair) * ldb;
            sbyte* row1 = row0 + ldb;
            bool hasRow1 = 2 * pair + 1 < k;
            for (int j = 0; j < Avx2ColumnsPerPanel; j++)
            {
                destination[2 * j] = j < columns ? row0[j] : (short)0;
                destination[2 * j + 1] = j < columns && hasRow1 ? row1[j] : (short)0;
            }
        }
    }

    /// <summary>
    /// What the 6×16 microkernel starts its accumulators from and does with them when done (specialised per sink type).
    /// Finished rows arrive in pairs so that a requantizing sink can pack two rows into one 32-byte vector.
    /// </summary>
    private interface IAvx2TileSink
    {
        /// <summary>Initial value of every accumulator of row <paramref name="r"/> (zero, or the row's bias: int32 sums wrap, so where the bias is added does not matter).</summary>
        Vector256<int> Initial(int r);

        /// <summary>Rows <paramref name="r"/> and r + 1 of the tile: columns 0–7 in the low vectors, 8–15 in the high ones.</summary>
        void RowPair(int r, Vector256<int> low0, Vector256<int> high0, Vector256<int> low1, Vector256<int> high1);
    }

    /// <summary>How many rows (2, 4 or 6) of a 6-row block the microkernel computes; a type argument, so the JIT drops the other rows' code.</summary>
    private interface IAvx2BlockRows
    {
        static abstract int Count { get; }
    }

    private readonly struct Avx2TwoRows : IAvx2BlockRows { public static int Count => 2; }
    private readonly struct Avx2FourRows : IAvx2BlockRows { public static int Count => 4; }
    private readonly struct Avx2SixRows : IAvx2BlockRows { public static int Count => 6; }

    /// <summary>Stores the int32 accumulators: row r at <c>c + r·ldc</c>.</summary>
    private readonly unsafe struct Avx2StoreInt32(int* c, int ldc) : IAvx2TileSink
    {
        public Vector256<int> Initial(int r) => Vector256<int>.Zero;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void RowPair(int r, Vector256<int> low0, Vector256<int> high0, Vector256<int> low1, Vector256<int> high1)
        {
            int* row = c + (long)r * ldc;
            Avx.Store(row, low0);
            Avx.Store(row + 8, high0);
            Avx.Store(row + ldc, low1);
            Avx.Store(row + ldc + 8, high1);
        }
    }

    /// <summary>What one k step of the microkernel multiplies: a panel vector by a row's broadcast weights.</summary>
    private interface IAvx2KStep
    {
        /// <summary>The 8 int32 sums one k step adds to an accumulator (8 columns).</summary>
        static abstract Vector256<int> Products(Vector256<byte> panel, Vector256<int> weights);

        /// <summary>The same for one int of B and one of A (the scalar tail of the matrix-vector kernel).</summary>
        static abstract int ScalarProducts(int panel, int weights);
    }

    /// <summary>int16 pairs: a step is 2 k; VPMADDWD of the panel's (b0, b1) pairs by the row's (a0, a1).</summary>
    private readonly struct Avx2PairStep : IAvx2KStep
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Products(Vector256<byte> panel, Vector256<int> weights) =>
            Avx2.MultiplyAddAdjacent(panel.AsInt16(), weights.AsInt16());

        public static int ScalarProducts(int panel, int weights) =>
            (short)panel * (short)weights + (panel >> 16) * (weights >> 16);
    }

    /// <summary>
    /// int8 quads (QGemm.Avx2.Quads.cs): a step is 4 k; VPMADDUBSW of the panel's uint8 by the row's int8 (pair sums
    /// that cannot saturate, by the packing), then VPMADDWD by 1 to int32.
    /// </summary>
    private readonly struct Avx2QuadStep : IAvx2KStep
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Products(Vector256<byte> panel, Vector256<int> weights) =>
            Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(panel, weights.AsSByte()), Vector256.Create((short)1));

        public static int ScalarProducts(int panel, int weights) =>
            (byte)panel * (sbyte)weights + (byte)(panel >> 8) * (sbyte)(weights >> 8)
            + (byte)(panel >> 16) * (sbyte)(weights >> 16) + (byte)(panel >> 24) * (sbyte)(weights >> 24);
    }

    /// <summary>
    /// Exact int8 quads (<see cref="Avx2ExactHeaderInt"/>) without saturation: per int32 lane, the four uint8 × int8
    /// products widened to int16 (even and odd bytes apart) and summed by two VPMADDWD, which cannot overflow. For the
    /// avx512vnni path's matrix-vector tail columns, the only place its exact quads meet AVX2 code.
    /// </summary>
    private readonly struct Avx2ExactQuadStep : IAvx2KStep
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Products(Vector256<byte> panel, Vector256<int> weights)
        {
            var w = weights.AsInt16();
            var u = panel.AsInt16();
            var evenU = Avx2.And(u, Vector256.Create((short)0xFF));
            var oddU = Avx2.ShiftRightLogical(u, 8);
            var evenW = Avx2.ShiftRightArithmetic(Avx2.ShiftLeftLogical(w, 8), 8);
            var oddW = Avx2.ShiftRightArithmetic(w, 8);
            return Avx2.Add(Avx2.MultiplyAddAdjacent(evenU, evenW), Avx2.MultiplyAddAdjacent(oddU, oddW));
        }

        public static int ScalarProducts(int panel, int weights) => Avx2QuadStep.ScalarProducts(panel, weights);
    }

    /// <summary>The int16 pair microkernel without corrections (see the general form below).</summary>
    private static unsafe void Avx2Kernel<TRows, TSink>(int* a, int* panel, int pairs, ref TSink sink)
        where TRows : struct, IAvx2BlockRows where TSink : struct, IAvx2TileSink =>
        Avx2Kernel<TRows, TSink, Avx2PairStep, Avx2No>(a, panel, pairs, null, 0, ref sink);

    /// <summary>
    /// The microkernel: <typeparamref name="TRows"/>.Count rows (of a packed 6-row block, whose stride stays 6 rows per
    /// step) × 16 columns, two ymm accumulators per row. Per k step: two loads of the panel, one 32-bit broadcast of
    /// each row's weights, and per row two <typeparamref name="TStep"/> products + VPADDD. With
    /// <typeparamref name="TCorrected"/> (quad format only) the block's corrections are added after the loop.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Avx2Kernel<TRows, TSink, TStep, TCorrected>(int* a, int* panel, int steps, int* corrections, int correctionCount, ref TSink sink)
        where TRows : struct, IAvx2BlockRows where TSink : struct, IAvx2TileSink where TStep : struct, IAvx2KStep where TCorrected : struct, IAvx2Flag
    {
        int* panelStart = panel;
        Vector256<int> c00 = sink.Initial(0), c10 = sink.Initial(1), c20 = default, c30 = default, c40 = default, c50 = default;
        if (TRows.Count > 2) { c20 = sink.Initial(2); c30 = sink.Initial(3); }
        if (TRows.Count > 4) { c40 = sink.Initial(4); c50 = sink.Initial(5); }
        Vector256<int> c01 = c00, c11 = c10, c21 = c20, c31 = c30, c41 = c40, c51 = c50;
        // Quads: 17 live vectors (12 accumulators, two panel vectors, the ones, a weight broadcast, a product), so the
        // JIT keeps one accumulator on the stack: one load-add and one store per step, cheaper than broadcasting each
        // row's weights twice (once per half panel), which measured 10% slower.
        for (int p = 0; p < steps; p++)
        {
            var b0 = Avx.LoadVector256((byte*)panel);
            var b1 = Avx.LoadVector256((byte*)(panel + 8));
            var w = Avx2.BroadcastScalarToVector256(a);
            c00 = Avx2.Add(c00, TStep.Products(b0, w));
            c01 = Avx2.Add(c01, TStep.Products(b1, w));
            w = Avx2.BroadcastScalarToVector256(a + 1);
            c10 = Avx2.Add(c10, TStep.Products(b0, w));
            c11 = Avx2.Add(c11, TStep.Products(b1, w));
            if (TRows.Count > 2)
            {
                w = Avx2.BroadcastScalarToVector256(a + 2);
                c20 = Avx2.Add(c20, TStep.Products(b0, w));
                c21 = Avx2.Add(c21, TStep.Products(b1, w));
                w = Avx2.BroadcastScalarToVector256(a + 3);
                c30 = Avx2.Add(c30, TStep.Products(b0, w));
                c31 = Avx2.Add(c31, TStep.Products(b1, w));
            }
            if (TRows.Count > 4)
            {
                w = Avx2.BroadcastScalarToVector256(a + 4);
                c40 = Avx2.Add(c40, TStep.Products(b0, w));
                c41 = Avx2.Add(c41, TStep.Products(b1, w));
                w = Avx2.BroadcastScalarToVector256(a + 5);
                c50 = Avx2.Add(c50, TStep.Products(b0, w));
                c51 = Avx2.Add(c51, TStep.Products(b1, w));
            }
            a += Avx2RowsPerBlock;
            panel += Avx2ColumnsPerPanel;
        }
        if (TCorrected.Value)
        {
            // The block's corrections d·s, s = u − 128 of k read back from the quad panel, added to their row. Kept in
            // this method (an instantiation run only for blocks that have corrections): a call here would make the
            // JIT keep accumulators on the stack throughout the k loop.
            var byteMask = Vector256.Create(0xFFu);
            var half = Vector256.Create(128);
            for (int e = 0; e < correctionCount; e++)
            {
                int code = corrections[2 * e], kk = code >> 3;
                int* quad = panelStart + kk / 4 * Avx2ColumnsPerPanel;
                var shift = Vector256.Create((uint)(kk % 4 * 8));
                var delta = Vector256.Create(corrections[2 * e + 1]);
                var low = Avx2.MultiplyLow(Avx2.Subtract(Avx2.And(Avx2.ShiftRightLogicalVariable(Avx.LoadVector256((uint*)quad), shift), byteMask).AsInt32(), half), delta);
                var high = Avx2.MultiplyLow(Avx2.Subtract(Avx2.And(Avx2.ShiftRightLogicalVariable(Avx.LoadVector256((uint*)(quad + 8)), shift), byteMask).AsInt32(), half), delta);
                switch (code & 7)
                {
                    case 0: c00 = Avx2.Add(c00, low); c01 = Avx2.Add(c01, high); break;
                    case 1: c10 = Avx2.Add(c10, low); c11 = Avx2.Add(c11, high); break;
                    case 2: c20 = Avx2.Add(c20, low); c21 = Avx2.Add(c21, high); break;
                    case 3: c30 = Avx2.Add(c30, low); c31 = Avx2.Add(c31, high); break;
                    case 4: c40 = Avx2.Add(c40, low); c41 = Avx2.Add(c41, high); break;
                    default: c50 = Avx2.Add(c50, low); c51 = Avx2.Add(c51, high); break;
                }
            }
        }
        sink.RowPair(0, c00, c01, c10, c11);
        if (TRows.Count > 2) sink.RowPair(2, c20, c21, c30, c31);
        if (TRows.Count > 4) sink.RowPair(4, c40, c41, c50, c51);
    }

    /// <summary>Copies the valid rows × columns of a padded microkernel tile into acc.</summary>
    private static unsafe void CopyTile(int* tile, int tileStride, int* c, int ldc, int rows, int columns)
    {
        for (int r = 0; r < rows; r++)
            new ReadOnlySpan<int>(tile + r * tileStride, columns).CopyTo(new Span<int>(c + (long)r * ldc, columns));
    }

    private static void CheckPackArguments(ReadOnlySpan<sbyte> a, int m, int k, Span<sbyte> packed, int packedLength)
    {
        if (m < 0 || k < 0) throw new ArgumentOutOfRangeException(nameof(m), $"negative GEMM dimension m={m}, k={k}");
        if (a.Length < (long)m * k) throw new ArgumentException($"A holds {a.Length} values, {m}x{k} needs {(long)m * k}", nameof(a));
        if (packed.Length < packedLength) throw new ArgumentException($"packed A holds {packed.Length} bytes, needs {packedLength}", nameof(packed));
    }

    /// <summary>Bounds checks for the unsafe paths: every pointer a kernel forms must lie inside its span.</summary>
    private static void CheckMultiplyArguments(int m, int n, int k, ReadOnlySpan<sbyte> packedA, int packedALength,
        ReadOnlySpan<sbyte> b, int ldb, Span<int> acc, int ldAcc, Span<int> scratch, int scratchLength)
    {
        if (m < 0 || n < 0 || k < 0) throw new ArgumentOutOfRangeException(nameof(m), $"negative GEMM dimension m={m}, n={n}, k={k}");
        if (m == 0 || n == 0) return;
        if (packedA.Length < packedALength) throw new ArgumentException($"packed A holds {packedA.Length} bytes, needs {packedALength}", nameof(packedA));
        if (scratch.Length < scratchLength) throw new ArgumentException($"scratch holds {scratch.Length} ints, needs {scratchLength}", nameof(scratch));
        if (ldAcc < n || acc.Length < (long)(m - 1) * ldAcc + n) throw new ArgumentException($"acc ({acc.Length} ints, ldAcc {ldAcc}) is too small for {m}x{n}", nameof(acc));
        if (k > 0 && (ldb < n || b.Length < (long)(k - 1) * ldb + n)) throw new ArgumentException($"B ({b.Length} bytes, ldb {ldb}) is too small for {k}x{n}", nameof(b));
    }
}

public static partial class QGemm
{
    /// <summary>
    /// AVX2 column sums: 16 columns at a time, sign-extended to int16 and summed there for up to 256 rows
    /// (|sum| ≤ 128 · 256 = 32768 fits: the extremes are −32768 and 32512), then widened into int32 totals.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void ColumnSumsAvx2(ReadOnlySpan<sbyte> b, int k, int n, int ldb, Span<int> sums)
    {
        CheckColumnSumsArguments(b, k, n, ldb, sums);
        if (k == 0) { sums[..n].Clear(); return; }
        int j = 0;
        fixed (sbyte* bBase = b)
        fixed (int* sumBase = sums)
        {
            for (; j + 16 <= n; j += 16)
            {
                Vector256<int> total0 = default, total1 = default;
                for (int k0 = 0; k0 < k; k0 += 256)
                {
                    int kEnd = Math.Min(k, k0 + 256);
                    Vector256<short> partial = default;
                    for (int kk = k0; kk < kEnd; kk++)
                        partial = Avx2.Add(partial, Avx2.ConvertToVector256Int16(Sse2.LoadVector128(bBase + (long)kk * ldb + j)));
                    total0 = Avx2.Add(total0, Avx2.ConvertToVector256Int32(partial.GetLower()));
                    total1 = Avx2.Add(total1, Avx2.ConvertToVector256Int32(partial.GetUpper()));
                }
                Avx.Store(sumBase + j, total0);
                Avx.Store(sumBase + j + 8, total1);
            }
        }
        if (j < n) ColumnSumsScalar(b[j..], k, n - j, ldb, sums[j..]);
    }
}
