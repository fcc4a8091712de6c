using EdgeRuntime.Kernels.Common;
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
    /// <summary>
    /// Where a requantizing sink writes the current row block: row r to <c>Y + r·Ldy</c>, with <c>Bias[r]</c> and
    /// <c>Multipliers[r]</c>; rows from <c>Rows</c> on are computed (padding of the last block) but not stored.
    /// </summary>
    private readonly unsafe struct Avx2RowTarget(byte* y, int ldy, int* bias, float* multipliers, int rows)
    {
        public readonly byte* Y = y;
        public readonly int Ldy = ldy;
        public readonly int* Bias = bias;
        public readonly float* Multipliers = multipliers;
        public readonly int Rows = rows;
    }

    /// <summary>Requantizes tile rows into bytes: row r of the tile goes to <c>y + r·ldy</c>, with row r's bias and multiplier.</summary>
    private unsafe struct Avx2RequantizeRows : IAvx2RequantizeSink
    {
        public Avx2RowTarget Target;
        public Vector256<float> Low, High;
        public Vector256<int> ZeroPoint;

        public void SetRows(in Avx2RowTarget target) => Target = target;

        public readonly Vector256<int> Initial(int r) => Vector256.Create(Target.Bias[r]);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly void RowPair(int r, Vector256<int> low0, Vector256<int> high0, Vector256<int> low1, Vector256<int> high1)
        {
            Row(r, low0, high0);
            if (r + 1 < Target.Rows) Row(r + 1, low1, high1);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private readonly void Row(int r, Vector256<int> low, Vector256<int> high)
        {
            var multiplier = Vector256.Create(Target.Multipliers[r]);
            var q0 = Requantize(low, multiplier);
            var q1 = Requantize(high, multiplier);
            // Values lie in [-128, 255]: keep the low byte of each (two's complement for int8) and pack without saturating.
            var byteMask = Vector256.Create(0xFF);
            q0 = Avx2.And(q0, byteMask);
            q1 = Avx2.And(q1, byteMask);
            var words0 = Sse41.PackUnsignedSaturate(q0.GetLower(), q0.GetUpper()).AsInt16();
            var words1 = Sse41.PackUnsignedSaturate(q1.GetLower(), q1.GetUpper()).AsInt16();
            Sse2.Store(Target.Y + (long)r * Target.Ldy, Sse2.PackUnsignedSaturate(words0, words1));
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

    /// <summary>
    /// The same requantization with fewer operations per row, for finite multipliers (then the product is never NaN):
    /// convert to float, multiply, cap at 32767 (so an overflowing product cannot convert to int.MinValue; skipped when
    /// every |multiplier| &lt; 1, as then |product| &lt; 2³¹ for any int32), convert with round-half-even (a large
    /// negative product becomes int.MinValue), then in integers: VPACKSSDW to int16, VPADDSW the zero point, pack to
    /// bytes with the output type's saturation and clamp to [yMin, yMax] on bytes. Equal to the float clamp of
    /// <see cref="Avx2RequantizeRows"/>: rounding is monotone and the bounds are integers, so clamping after rounding
    /// gives the same value, and every saturation only moves values that lie beyond [yMin, yMax] ⊂ [-128, 255] further
    /// or to that side (|zp| ≤ 255 cannot bring a saturated ±32767 back). Two rows are packed together: one 32-byte
    /// vector holds row r in its low half and row r + 1 in its high half.
    /// </summary>
    private unsafe struct Avx2RequantizeRowsInt16 : IAvx2RequantizeSink
    {
        public Avx2RowTarget Target;
        public Vector256<short> ZeroPoint;
        public Vector256<byte> Min, Max; // the clamp bounds as bytes of the output type
        public bool Signed;
        public bool CapProducts;

        public void SetRows(in Avx2RowTarget target) => Target = target;

        public readonly Vector256<int> Initial(int r) => Vector256.Create(Target.Bias[r]);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly void RowPair(int r, Vector256<int> low0, Vector256<int> high0, Vector256<int> low1, Vector256<int> high1)
        {
            var multiplier0 = Vector256.Create(Target.Multipliers[r]);
            var multiplier1 = Vector256.Create(Target.Multipliers[r + 1]);
            // VPACKSSDW packs within 128-bit lanes: words of row r = (0..3, 8..11 | 4..7, 12..15), likewise row r + 1.
            var words0 = Avx2.AddSaturate(Avx2.PackSignedSaturate(Scale(low0, multiplier0), Scale(high0, multiplier0)), ZeroPoint);
            var words1 = Avx2.AddSaturate(Avx2.PackSignedSaturate(Scale(low1, multiplier1), Scale(high1, multiplier1)), ZeroPoint);
            // Bytes as 4-byte groups: (r 0..3, r 8..11, r+1 0..3, r+1 8..11 | r 4..7, r 12..15, r+1 4..7, r+1 12..15);
            // VPERMD puts row r in the low half and row r + 1 in the high half, each in column order.
            var rowOrder = Vector256.Create(0, 4, 1, 5, 2, 6, 3, 7);
            Vector256<byte> bytes;
            if (Signed)
            {
                var packed = Avx2.PermuteVar8x32(Avx2.PackSignedSaturate(words0, words1).AsInt32(), rowOrder).AsSByte();
                bytes = Avx2.Min(Avx2.Max(packed, Min.AsSByte()), Max.AsSByte()).AsByte();
            }
            else
            {
                var packed = Avx2.PermuteVar8x32(Avx2.PackUnsignedSaturate(words0, words1).AsInt32(), rowOrder).AsByte();
                bytes = Avx2.Min(Avx2.Max(packed, Min), Max);
            }
            byte* row = Target.Y + (long)r * Target.Ldy;
            Sse2.Store(row, bytes.GetLower());
            if (r + 1 < Target.Rows) Sse2.Store(row + Target.Ldy, bytes.GetUpper());
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private readonly Vector256<int> Scale(Vector256<int> value, Vector256<float> multiplier)
        {
            var product = Avx.Multiply(Avx.ConvertToVector256Single(value), multiplier);
            if (CapProducts) product = Avx.Min(product, Vector256.Create(32767f));
            // VCVTPS2DQ rounds with MXCSR's mode, which .NET leaves at round-to-nearest-even.
            return Avx.ConvertToVector256Int32(product);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void MultiplyRequantizeAvx2(int m, int n, int k, ReadOnlySpan<sbyte> packedA, ReadOnlySpan<sbyte> b, int ldb,
        ReadOnlySpan<int> bias, ReadOnlySpan<float> multipliers, int yZeroPoint, int yMin, int yMax, Span<byte> y, int ldy, Span<int> scratch,
        MultiplierRange range)
    {
        // Arguments were checked, and the multipliers classified, by MultiplyRequantize.
        if (yZeroPoint >= -255 && yZeroPoint <= 255 && range != MultiplierRange.NotAllFinite)
        {
            bool signed = yMin < 0;
            var sink = new Avx2RequantizeRowsInt16
            {
                ZeroPoint = Vector256.Create((short)yZeroPoint),
                Min = signed ? Vector256.Create((sbyte)yMin).AsByte() : Vector256.Create((byte)yMin),
                Max = signed ? Vector256.Create((sbyte)yMax).AsByte() : Vector256.Create((byte)yMax),
                Signed = signed,
                CapProducts = range != MultiplierRange.FiniteBelowOne,
            };
            MultiplyRequantizeAvx2Tiles(m, n, k, packedA, b, ldb, bias, multipliers, yZeroPoint, yMin, yMax, y, ldy, scratch, ref sink);
            return;
        }
        var floatSink = new Avx2RequantizeRows
        {
            Low = Vector256.Create((float)(yMin - yZeroPoint)),
            High = Vector256.Create((float)(yMax - yZeroPoint)),
            ZeroPoint = Vector256.Create(yZeroPoint),
        };
        MultiplyRequantizeAvx2Tiles(m, n, k, packedA, b, ldb, bias, multipliers, yZeroPoint, yMin, yMax, y, ldy, scratch, ref floatSink);
    }

    /// <summary>Widest last panel computed column by column with the matrix-vector product.</summary>
    private const int VectorTailColumns = 2;

    /// <summary>
    /// Widest B (columns) for which the fused GEMM keeps each row block of A in L1 while it runs over all
    /// of B's panels (packed together first), instead of streaming all of A once per panel: for MobileNet's 7×7 layers
    /// (N = 49, A up to 1280 × 320 int16 pairs = 800 KiB, more than L2) that reads the weights once instead of four times.
    /// At this width the packed panels take at most 64 ints per k pair (256 KiB for K = 2048), which stay in L2.
    /// </summary>
    private const int WeightStationaryMaxColumns = 64;

    /// <summary>Ints of scratch the AVX2 fused GEMM needs for N columns (all panels at once when N is small; see above).</summary>
    private static int Avx2FusedScratchLength(int n, int k) =>
        n <= WeightStationaryMaxColumns ? checked(DivideRoundingUp(k, 2) * WeightStationaryMaxColumns) : Avx2ScratchLength(k);

    /// <summary>What the tile loop of <see cref="MultiplyRequantizeAvx2Tiles"/> points a requantizing sink at per row block.</summary>
    private unsafe interface IAvx2RequantizeSink : IAvx2TileSink
    {
        void SetRows(in Avx2RowTarget target);
    }

    /// <summary>
    /// The tile loop. A last panel of at most <see cref="VectorTailColumns"/> columns runs as that many matrix-vector
    /// products, a partial panel of more through a 6×16 byte buffer on the stack; a last row block of 1–5 rows runs the
    /// 2-, 4- or 6-row kernel and stores only its rows. The order depends on N: up to
    /// <see cref="WeightStationaryMaxColumns"/> columns, all panels are packed first and each row block of A runs over
    /// all of them (A is read once); wider, each 16-column panel of B is packed in turn and every row block of A runs
    /// over it (B stays in L1). Every output is the same sum either way.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void MultiplyRequantizeAvx2Tiles<TSink>(int m, int n, int k, ReadOnlySpan<sbyte> packedA, ReadOnlySpan<sbyte> b, int ldb,
        ReadOnlySpan<int> bias, ReadOnlySpan<float> multipliers, int yZeroPoint, int yMin, int yMax, Span<byte> y, int ldy, Span<int> scratch,
        ref TSink sink)
        where TSink : struct, IAvx2RequantizeSink
    {
        // A last panel of at most VectorTailColumns columns (N = 49 or 196 in MobileNets) is cheaper as that many
        // matrix-vector products than as a 16-column tile of mostly padding.
        int tail = n % Avx2ColumnsPerPanel;
        int vectorColumns = tail > 0 && tail <= VectorTailColumns ? tail : 0;
        int panelColumns = n - vectorColumns;
        int pairs = DivideRoundingUp(k, 2);
        int blockInts = pairs * Avx2RowsPerBlock;
        int panelInts = pairs * Avx2ColumnsPerPanel;
        int fullBlocksEnd = m - m % Avx2RowsPerBlock, lastRows = m - fullBlocksEnd;
        bool weightStationary = n <= WeightStationaryMaxColumns && m > Avx2RowsPerBlock && scratch.Length >= Avx2FusedScratchLength(n, k);
        byte* tile = stackalloc byte[Avx2RowsPerBlock * Avx2ColumnsPerPanel];
        // Bias and multipliers of the last block padded to 6 rows, so the kernel's rows past M read defined values.
        int* paddedBias = stackalloc int[Avx2RowsPerBlock];
        float* paddedMultipliers = stackalloc float[Avx2RowsPerBlock];
        for (int r = 0; r < lastRows; r++)
        {
            paddedBias[r] = bias[fullBlocksEnd + r];
            paddedMultipliers[r] = multipliers[fullBlocksEnd + r];
        }
        fixed (sbyte* aBase = packedA)
        fixed (sbyte* bBase = b)
        fixed (byte* yBase = y)
        fixed (int* scratchBase = scratch)
        fixed (int* biasBase = bias)
        fixed (float* multiplierBase = multipliers)
        {
            if (weightStationary)
            {
                int panels = DivideRoundingUp(panelColumns, Avx2ColumnsPerPanel);
                for (int p = 0; p < panels; p++)
                    PackBPanelAvx2(bBase + p * Avx2ColumnsPerPanel, ldb, k, Math.Min(Avx2ColumnsPerPanel, panelColumns - p * Avx2ColumnsPerPanel),
                        (short*)(scratchBase + p * panelInts));
                int* expanded = scratchBase + panels * panelInts; // one expanded B column per vector column, blockInts each
                for (int t = 0; t < vectorColumns; t++)
                    ExpandVectorAvx2(bBase + panelColumns + t, ldb, k, (short*)(expanded + t * blockInts));
                for (int i0 = 0; i0 < m; i0 += Avx2RowsPerBlock)
                {
                    int rows = Math.Min(Avx2RowsPerBlock, m - i0);
                    int* aBlock = (int*)aBase + i0 / Avx2RowsPerBlock * blockInts;
                    int* blockBias = rows == Avx2RowsPerBlock ? biasBase + i0 : paddedBias;
                    float* blockMultipliers = rows == Avx2RowsPerBlock ? multiplierBase + i0 : paddedMultipliers;
                    byte* destination = yBase + (long)i0 * ldy;
                    for (int p = 0; p < panels; p++, destination += Avx2ColumnsPerPanel)
                    {
                        int columns = Math.Min(Avx2ColumnsPerPanel, panelColumns - p * Avx2ColumnsPerPanel);
                        RowBlockAvx2(aBlock, scratchBase + p * panelInts, pairs, rows, columns, blockBias, blockMultipliers, destination, ldy, tile, ref sink);
                    }
                    for (int t = 0; t < vectorColumns; t++)
                        MultiplyVectorBlockAvx2((int*)aBase, expanded + t * blockInts, pairs, i0, rows, biasBase, multiplierBase,
                            yZeroPoint, yMin, yMax, yBase + (long)i0 * ldy + panelColumns + t, ldy);
                }
                return;
            }

            for (int t = 0; t < vectorColumns; t++)
                MultiplyVectorRequantizeAvx2(m, k, packedA, b[(panelColumns + t)..], ldb, bias, multipliers, yZeroPoint, yMin, yMax, y[(panelColumns + t)..], ldy, scratch);
            for (int j0 = 0; j0 < panelColumns; j0 += Avx2ColumnsPerPanel)
            {
                int columns = Math.Min(Avx2ColumnsPerPanel, panelColumns - j0);
                PackBPanelAvx2(bBase + j0, ldb, k, columns, (short*)scratchBase);
                byte* destination = yBase + j0;
                int* aBlock = (int*)aBase;
                for (int i0 = 0; i0 < fullBlocksEnd; i0 += Avx2RowsPerBlock, aBlock += blockInts, destination += (long)Avx2RowsPerBlock * ldy)
                    RowBlockAvx2(aBlock, scratchBase, pairs, Avx2RowsPerBlock, columns, biasBase + i0, multiplierBase + i0, destination, ldy, tile, ref sink);
                if (lastRows > 0)
                    RowBlockAvx2(aBlock, scratchBase, pairs, lastRows, columns, paddedBias, paddedMultipliers, destination, ldy, tile, ref sink);
            }
        }
    }

    /// <summary>
    /// One row block (<paramref name="rows"/> ≤ 6 rows) times one packed panel of <paramref name="columns"/> ≤ 16
    /// columns into <paramref name="destination"/>: the narrowest kernel that covers the rows, stored directly for a
    /// full panel, else through <paramref name="tile"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void RowBlockAvx2<TSink>(int* aBlock, int* panel, int pairs, int rows, int columns, int* bias, float* multipliers,
        byte* destination, int ldy, byte* tile, ref TSink sink)
        where TSink : struct, IAvx2RequantizeSink
    {
        bool fullPanel = columns == Avx2ColumnsPerPanel;
        sink.SetRows(new Avx2RowTarget(fullPanel ? destination : tile, fullPanel ? ldy : Avx2ColumnsPerPanel, bias, multipliers, rows));
        if (rows > 4) Avx2Kernel<Avx2SixRows, TSink>(aBlock, panel, pairs, ref sink);
        else if (rows > 2) Avx2Kernel<Avx2FourRows, TSink>(aBlock, panel, pairs, ref sink);
        else Avx2Kernel<Avx2TwoRows, TSink>(aBlock, panel, pairs, ref sink);
        if (!fullPanel) CopyTileRows(tile, destination, ldy, rows, columns);
    }

    /// <summary>Copies <paramref name="rows"/> rows of <paramref name="columns"/> bytes from the 16-byte-stride tile buffer.</summary>
    private static unsafe void CopyTileRows(byte* tile, byte* destination, int ldy, int rows, int columns)
    {
        for (int r = 0; r < rows; r++)
            new ReadOnlySpan<byte>(tile + r * Avx2ColumnsPerPanel, columns).CopyTo(new Span<byte>(destination + (long)r * ldy, columns));
    }

    /// <summary>
    /// N = 1, or each column of a last panel of 1–2 columns, on the GEMM's packed A (dense layers go to MultiplyVectorRequantize's own
    /// layout): a matrix-vector product instead of a 16-column tile that would be mostly padding. The B column is
    /// expanded into scratch once (<see cref="ExpandVectorAvx2"/>), then every row block runs
    /// <see cref="MultiplyVectorBlockAvx2"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void MultiplyVectorRequantizeAvx2(int m, int k, ReadOnlySpan<sbyte> packedA, ReadOnlySpan<sbyte> b, int ldb,
        ReadOnlySpan<int> bias, ReadOnlySpan<float> multipliers, int yZeroPoint, int yMin, int yMax, Span<byte> y, int ldy, Span<int> scratch)
    {
        int pairs = DivideRoundingUp(k, 2);
        fixed (sbyte* aBase = packedA)
        fixed (sbyte* bBase = b)
        fixed (int* e = scratch)
        fixed (int* biasBase = bias)
        fixed (float* multiplierBase = multipliers)
        fixed (byte* yBase = y)
        {
            ExpandVectorAvx2(bBase, ldb, k, (short*)e);
            for (int i0 = 0; i0 < m; i0 += Avx2RowsPerBlock)
                MultiplyVectorBlockAvx2((int*)aBase, e, pairs, i0, Math.Min(Avx2RowsPerBlock, m - i0), biasBase, multiplierBase,
                    yZeroPoint, yMin, yMax, yBase + (long)i0 * ldy, ldy);
        }
    }

    /// <summary>
    /// The B column (b[kk·ldb], kk &lt; K) expanded for <see cref="MultiplyVectorBlockAvx2"/>: per k pair p, the int16
    /// pair (b[2p], b[2p+1] or 0) six times, matching a row block of packed A (<c>pairs·6</c> ints).
    /// </summary>
    private static unsafe void ExpandVectorAvx2(sbyte* b, int ldb, int k, short* expanded)
    {
        int pairs = DivideRoundingUp(k, 2);
        for (int p = 0; p < pairs; p++)
        {
            short b0 = b[(long)2 * p * ldb], b1 = 2 * p + 1 < k ? b[(long)(2 * p + 1) * ldb] : (short)0;
            for (int r = 0; r < Avx2RowsPerBlock; r++)
            {
                expanded[(p * Avx2RowsPerBlock + r) * 2] = b0;
                expanded[(p * Avx2RowsPerBlock + r) * 2 + 1] = b1;
            }
        }
    }

    /// <summary>
    /// Rows <paramref name="i0"/> .. i0 + <paramref name="rows"/> − 1 (one row block) of A times the expanded column
    /// <paramref name="e"/>, requantized to <c>y[r·ldy]</c>. Over the block's packed A, <c>[pairs][6 rows][2 k]</c>
    /// read as ints, one VPMADDWD multiplies 8 consecutive A ints by their matching expanded B pairs. Three accumulators
    /// cover the 24-int period of 8-lane vectors over 6-row groups, so lane l of accumulator c always belongs to row
    /// (8c + l) mod 6; the rows are summed from those lanes at the end. The last pairs (fewer than 4) are done in scalar
    /// code. Requantization is the scalar definition.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void MultiplyVectorBlockAvx2(int* aBase, int* e, int pairs, int i0, int rows, int* bias, float* multipliers,
        int yZeroPoint, int yMin, int yMax, byte* y, int ldy)
    {
        int blockInts = pairs * Avx2RowsPerBlock;
        int vectorInts = pairs / 4 * 24; // whole 24-int periods
        int* lanes = stackalloc int[24];
        int* rowSums = stackalloc int[Avx2RowsPerBlock];
        int* a = aBase + i0 / Avx2RowsPerBlock * blockInts;
        Vector256<int> acc0 = default, acc1 = default, acc2 = default;
        for (int i = 0; i < vectorInts; i += 24)
        {
            acc0 = Avx2.Add(acc0, Avx2.MultiplyAddAdjacent(Avx.LoadVector256((short*)(a + i)), Avx.LoadVector256((short*)(e + i))));
            acc1 = Avx2.Add(acc1, Avx2.MultiplyAddAdjacent(Avx.LoadVector256((short*)(a + i + 8)), Avx.LoadVector256((short*)(e + i + 8))));
            acc2 = Avx2.Add(acc2, Avx2.MultiplyAddAdjacent(Avx.LoadVector256((short*)(a + i + 16)), Avx.LoadVector256((short*)(e + i + 16))));
        }
        Avx.Store(lanes, acc0);
        Avx.Store(lanes + 8, acc1);
        Avx.Store(lanes + 16, acc2);
        for (int r = 0; r < Avx2RowsPerBlock; r++) rowSums[r] = 0;
        for (int l = 0; l < 24; l++) rowSums[l % Avx2RowsPerBlock] = unchecked(rowSums[l % Avx2RowsPerBlock] + lanes[l]);
        for (int i = vectorInts; i < blockInts; i++)
        {
            short* ai = (short*)(a + i), ei = (short*)(e + i);
            rowSums[i % Avx2RowsPerBlock] = unchecked(rowSums[i % Avx2RowsPerBlock] + ai[0] * ei[0] + ai[1] * ei[1]);
        }
        for (int r = 0; r < rows; r++)
            y[(long)r * ldy] = (byte)Requantization.Requantize(unchecked(rowSums[r] + bias[i0 + r]), multipliers[i0 + r], yZeroPoint, yMin, yMax);
    }
}
