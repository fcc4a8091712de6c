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
    /// Where a requantizing sink writes the current row block: row r to <c>Y + r·Ldy</c>, with <c>Bias[r]</c>,
    /// <c>RowOffsets[r]</c> (what the packed A adds to every accumulator) and <c>Multipliers[r]</c>; rows from
    /// <c>Rows</c> on are computed (padding of the last block) but not stored. <c>CorrectionCount</c> entries at
    /// <c>Corrections</c> are the block's quad-format corrections (the tile loop passes them to the kernel).
    /// </summary>
    private readonly unsafe struct Avx2RowTarget(byte* y, int ldy, int* bias, int* rowOffsets, float* multipliers, int rows,
        int* corrections = null, int correctionCount = 0)
    {
        public readonly byte* Y = y;
        public readonly int Ldy = ldy;
        public readonly int* Bias = bias;
        public readonly int* RowOffsets = rowOffsets;
        public readonly float* Multipliers = multipliers;
        public readonly int Rows = rows;
        public readonly int* Corrections = corrections;
        public readonly int CorrectionCount = correctionCount;

        public Vector256<int> Initial(int r) => Vector256.Create(Bias[r] + RowOffsets[r]);
    }

    /// <summary>Requantizes tile rows into bytes: row r of the tile goes to <c>y + r·ldy</c>, with row r's bias and multiplier.</summary>
    private unsafe struct Avx2RequantizeRows : IAvx2RequantizeSink
    {
        public Avx2RowTarget Target;
        public Vector256<float> Low, High;
        public Vector256<int> ZeroPoint;

        public void SetRows(in Avx2RowTarget target) => Target = target;

        public readonly Vector256<int> Initial(int r) => Target.Initial(r);

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
        /// <summary>Whether [yMin, yMax] is narrower than the output type (a fused activation), so the byte clamp can change a value.</summary>
        public bool ClampBytes;

        public void SetRows(in Avx2RowTarget target) => Target = target;

        public readonly Vector256<int> Initial(int r) => Target.Initial(r);

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
                bytes = ClampBytes ? Avx2.Min(Avx2.Max(packed, Min.AsSByte()), Max.AsSByte()).AsByte() : packed.AsByte();
            }
            else
            {
                var packed = Avx2.PermuteVar8x32(Avx2.PackUnsignedSaturate(words0, words1).AsInt32(), rowOrder).AsByte();
                bytes = ClampBytes ? Avx2.Min(Avx2.Max(packed, Min), Max) : packed;
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
        MultiplierRange range, bool vnni)
    {
        // Arguments were checked, and the multipliers classified, by MultiplyRequantize. With vnni (the avx512vnni
        // path) the quad format's k loop is VPDPBUSD machine code (QGemm.Avx512Vnni.cs).
        bool quads = CheckFusedPackedAAvx2(packedA, m, k) == Avx2FormatQuads;
        if (!vnni && quads && MemoryMarshal.Cast<sbyte, int>(packedA)[Avx2ExactHeaderInt] == 1)
            throw new ArgumentException("packed A holds exact quads, packed for the avx512vnni path; the AVX2 kernels need it packed for avx2", nameof(packedA));
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
                ClampBytes = yMin > Requantization.MinOf(signed) || yMax < Requantization.MaxOf(signed),
            };
            if (quads && vnni) MultiplyRequantizeAvx2Tiles<Avx2RequantizeRowsInt16, Avx512VnniQuadFormat>(m, n, k, packedA, b, ldb, bias, multipliers, yZeroPoint, yMin, yMax, y, ldy, scratch, ref sink);
            else if (quads) MultiplyRequantizeAvx2Tiles<Avx2RequantizeRowsInt16, Avx2QuadFormat>(m, n, k, packedA, b, ldb, bias, multipliers, yZeroPoint, yMin, yMax, y, ldy, scratch, ref sink);
            else MultiplyRequantizeAvx2Tiles<Avx2RequantizeRowsInt16, Avx2PairFormat>(m, n, k, packedA, b, ldb, bias, multipliers, yZeroPoint, yMin, yMax, y, ldy, scratch, ref sink);
            return;
        }
        var floatSink = new Avx2RequantizeRows
        {
            Low = Vector256.Create((float)(yMin - yZeroPoint)),
            High = Vector256.Create((float)(yMax - yZeroPoint)),
            ZeroPoint = Vector256.Create(yZeroPoint),
        };
        if (quads && vnni) MultiplyRequantizeAvx2Tiles<Avx2RequantizeRows, Avx512VnniQuadFormat>(m, n, k, packedA, b, ldb, bias, multipliers, yZeroPoint, yMin, yMax, y, ldy, scratch, ref floatSink);
        else if (quads) MultiplyRequantizeAvx2Tiles<Avx2RequantizeRows, Avx2QuadFormat>(m, n, k, packedA, b, ldb, bias, multipliers, yZeroPoint, yMin, yMax, y, ldy, scratch, ref floatSink);
        else MultiplyRequantizeAvx2Tiles<Avx2RequantizeRows, Avx2PairFormat>(m, n, k, packedA, b, ldb, bias, multipliers, yZeroPoint, yMin, yMax, y, ldy, scratch, ref floatSink);
    }

    /// <summary>
    /// What the tile loop does differently for the two packed A formats (see QGemm.Avx2.Quads.cs): k steps of 2 or 4,
    /// panel packing, microkernel, and the matrix-vector kernel for 1–2-column tails.
    /// </summary>
    private unsafe interface IAvx2PackedFormat
    {
        /// <summary>k pairs or k quads: the steps of the microkernel's loop, each 16 ints of panel and 6 of a row block.</summary>
        static abstract int Steps(int k);

        /// <summary>Whether row blocks can have corrections.</summary>
        static abstract bool HasCorrections { get; }

        static abstract void PackPanel(sbyte* b, int ldb, int k, int columns, int* panel);

        /// <summary>
        /// Packs the ⌈<paramref name="columns"/> / 16⌉ panels of a chunk (columns 0 .. <paramref name="columns"/> − 1
        /// of B) to <paramref name="panels"/>, <paramref name="panelInts"/> apart: for each the bytes
        /// <see cref="PackPanel"/> writes, several panels at a time where the format and the CPU can.
        /// </summary>
        static abstract void PackPanels(sbyte* b, int ldb, int k, int columns, int panelInts, int* panels);

        /// <summary>The microkernel; with <typeparamref name="TCorrected"/> true it also adds the given corrections.</summary>
        static abstract void Kernel<TRows, TSink, TCorrected>(int* a, int* panel, int steps, int* corrections, int correctionCount, ref TSink sink)
            where TRows : struct, IAvx2BlockRows where TSink : struct, IAvx2TileSink where TCorrected : struct, IAvx2Flag;

        /// <summary>Expands one B column into <c>Steps(k)·6</c> ints for <see cref="VectorBlock"/>.</summary>
        static abstract void ExpandVector(sbyte* b, int ldb, int k, int* expanded);

        static abstract void VectorBlock(in Avx2PackedA packedA, int* e, int steps, int i0, int rows, int* bias, float* multipliers,
            int yZeroPoint, int yMin, int yMax, byte* y, int ldy);

        /// <summary>
        /// Runs row block <paramref name="target"/> over the first panels of a chunk, all <paramref name="fullPanels"/>
        /// (at most <see cref="Avx2MaxPanelsPerChunk"/>) of them full 16-column panels at <paramref name="panels"/>
        /// (consecutive), in one go where the format can (avx512vnni's machine code), and returns how many it ran; the
        /// tile loop runs the rest one by one. <paramref name="staging"/> holds six rows of a chunk
        /// (<see cref="Avx2StagingBytes"/>) for a last block of fewer than six rows.
        /// </summary>
        static abstract int RunFullPanels<TSink>(int* aBlock, int* panels, int steps, in Avx2RowTarget target, int fullPanels,
            byte* destination, int ldy, byte* staging, ref TSink sink) where TSink : struct, IAvx2RequantizeSink;
    }

    /// <summary>
    /// <see cref="IAvx2PackedFormat.PackPanels"/> one panel at a time with <typeparamref name="TFormat"/>'s
    /// <see cref="IAvx2PackedFormat.PackPanel"/> (the last one partial when <paramref name="columns"/> is not a multiple of 16).
    /// </summary>
    private static unsafe void PackPanelByPanel<TFormat>(sbyte* b, int ldb, int k, int columns, int panelInts, int* panels)
        where TFormat : struct, IAvx2PackedFormat
    {
        for (int c = 0; c < columns; c += Avx2ColumnsPerPanel, panels += panelInts)
            TFormat.PackPanel(b + c, ldb, k, Math.Min(Avx2ColumnsPerPanel, columns - c), panels);
    }

    /// <summary>int16 (a0, a1) pairs × int16 B with VPMADDWD (QGemm.Avx2.cs).</summary>
    private readonly struct Avx2PairFormat : IAvx2PackedFormat
    {
        public static int Steps(int k) => DivideRoundingUp(k, 2);

        public static bool HasCorrections => false;

        public static unsafe void PackPanel(sbyte* b, int ldb, int k, int columns, int* panel) => PackBPanelAvx2(b, ldb, k, columns, (short*)panel);

        public static unsafe void PackPanels(sbyte* b, int ldb, int k, int columns, int panelInts, int* panels) =>
            PackPanelByPanel<Avx2PairFormat>(b, ldb, k, columns, panelInts, panels);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static unsafe void Kernel<TRows, TSink, TCorrected>(int* a, int* panel, int steps, int* corrections, int correctionCount, ref TSink sink)
            where TRows : struct, IAvx2BlockRows where TSink : struct, IAvx2TileSink where TCorrected : struct, IAvx2Flag =>
            Avx2Kernel<TRows, TSink>(a, panel, steps, ref sink);

        public static unsafe void ExpandVector(sbyte* b, int ldb, int k, int* expanded) => ExpandVectorAvx2(b, ldb, k, (short*)expanded);

        public static unsafe void VectorBlock(in Avx2PackedA packedA, int* e, int steps, int i0, int rows, int* bias, float* multipliers,
            int yZeroPoint, int yMin, int yMax, byte* y, int ldy) =>
            MultiplyVectorBlockAvx2<Avx2PairStep>(packedA, e, steps, i0, rows, bias, multipliers, yZeroPoint, yMin, yMax, y, ldy, corrected: false);

        public static unsafe int RunFullPanels<TSink>(int* aBlock, int* panels, int steps, in Avx2RowTarget target, int fullPanels,
            byte* destination, int ldy, byte* staging, ref TSink sink) where TSink : struct, IAvx2RequantizeSink => 0;
    }

    /// <summary>int8 weight quads × uint8 B with VPMADDUBSW, plus corrections (QGemm.Avx2.Quads.cs).</summary>
    private readonly struct Avx2QuadFormat : IAvx2PackedFormat
    {
        public static int Steps(int k) => DivideRoundingUp(k, 4);

        public static bool HasCorrections => true;

        public static unsafe void PackPanel(sbyte* b, int ldb, int k, int columns, int* panel) => PackBPanelQuadsAvx2(b, ldb, k, columns, panel);

        public static unsafe void PackPanels(sbyte* b, int ldb, int k, int columns, int panelInts, int* panels) =>
            PackPanelByPanel<Avx2QuadFormat>(b, ldb, k, columns, panelInts, panels);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static unsafe void Kernel<TRows, TSink, TCorrected>(int* a, int* panel, int steps, int* corrections, int correctionCount, ref TSink sink)
            where TRows : struct, IAvx2BlockRows where TSink : struct, IAvx2TileSink where TCorrected : struct, IAvx2Flag =>
            Avx2Kernel<TRows, TSink, Avx2QuadStep, TCorrected>(a, panel, steps, corrections, correctionCount, ref sink);

        public static unsafe void ExpandVector(sbyte* b, int ldb, int k, int* expanded) => ExpandVectorQuadsAvx2(b, ldb, k, expanded);

        public static unsafe void VectorBlock(in Avx2PackedA packedA, int* e, int steps, int i0, int rows, int* bias, float* multipliers,
            int yZeroPoint, int yMin, int yMax, byte* y, int ldy) =>
            MultiplyVectorBlockAvx2<Avx2QuadStep>(packedA, e, steps, i0, rows, bias, multipliers, yZeroPoint, yMin, yMax, y, ldy, corrected: true);

        public static unsafe int RunFullPanels<TSink>(int* aBlock, int* panels, int steps, in Avx2RowTarget target, int fullPanels,
            byte* destination, int ldy, byte* staging, ref TSink sink) where TSink : struct, IAvx2RequantizeSink => 0;
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

    /// <summary>
    /// Most panels of B packed together when N is wide: 512 columns, eight 64-byte lines of each output row per row
    /// block, as many as the chunk's scratch holds (<see cref="Avx2FusedScratchLength"/>: in the quad format 32 panels for
    /// K ≤ 32, 7 for K = 144, 2 for K = 576). With the avx512vnni machine code, small-K layers are bound by writing the output,
    /// and longer runs per row make that cheaper: against 4 panels (one line), 96x16x12544 325-329 -> 453-467 GOPS,
    /// 16x32x12544 337-361 -> 420-425, 144x24x3136 415-426 -> 546-554, all shapes 385-387 -> 431-434 (--quick 0.1 2,
    /// alternated, Zen 5, 2026-11-29); the AVX2 path was unchanged (194 -> 192-195 GOPS, all shapes).
    /// </summary>
    private const int Avx2MaxPanelsPerChunk = 32;

    /// <summary>Bytes of the staging block for a last partial row block: six rows of a chunk's full panels.</summary>
    private const int Avx2StagingBytes = Avx2RowsPerBlock * Avx2MaxPanelsPerChunk * Avx2ColumnsPerPanel;

    /// <summary>
    /// Scratch, in ints, for the panels of one chunk when N is wide: up to <see cref="Avx2MaxPanelsPerChunk"/> panels,
    /// as many as 16 KB holds but never less than one panel of the int16-pair format. In the VPMADDUBSW format K ≤ 32
    /// gets 32 panels, K = 144 seven, K = 576 two; the int16-pair format half as many.
    /// </summary>
    private const int Avx2ChunkBudgetInts = 16 * 1024 / sizeof(int);

    /// <summary>Ints of scratch the AVX2 fused GEMM needs for N columns (all panels at once when N is small; see above).</summary>
    private static int Avx2FusedScratchLength(int n, int k) =>
        n <= WeightStationaryMaxColumns
            ? checked(DivideRoundingUp(k, 2) * WeightStationaryMaxColumns)
            : Math.Max(Avx2ScratchLength(k), Math.Min(checked(Avx2MaxPanelsPerChunk * Avx2ScratchLength(k)), Avx2ChunkBudgetInts));

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
    /// all of them (A is read once); wider, chunks of up to 32 16-column panels of B are packed in turn (as many as
    /// the scratch holds) and every row block of A runs over the chunk's panels (B stays in L1). Every output is the same sum either way. (A quad-format step takes no more scratch than
    /// a pair step, so the pair format's scratch lengths serve both.)
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void MultiplyRequantizeAvx2Tiles<TSink, TFormat>(int m, int n, int k, ReadOnlySpan<sbyte> packedA, ReadOnlySpan<sbyte> b, int ldb,
        ReadOnlySpan<int> bias, ReadOnlySpan<float> multipliers, int yZeroPoint, int yMin, int yMax, Span<byte> y, int ldy, Span<int> scratch,
        ref TSink sink)
        where TSink : struct, IAvx2RequantizeSink where TFormat : struct, IAvx2PackedFormat
    {
        // A last panel of at most VectorTailColumns columns (N = 49 or 196 in MobileNets) is cheaper as that many
        // matrix-vector products than as a 16-column tile of mostly padding.
        int tail = n % Avx2ColumnsPerPanel;
        int vectorColumns = tail > 0 && tail <= VectorTailColumns ? tail : 0;
        int panelColumns = n - vectorColumns;
        int steps = TFormat.Steps(k);
        int blockInts = steps * Avx2RowsPerBlock;
        int panelInts = steps * Avx2ColumnsPerPanel;
        int fullBlocksEnd = m - m % Avx2RowsPerBlock, lastRows = m - fullBlocksEnd;
        bool weightStationary = n <= WeightStationaryMaxColumns && m > Avx2RowsPerBlock && scratch.Length >= Avx2FusedScratchLength(n, k);
        byte* tile = stackalloc byte[Avx2RowsPerBlock * Avx2ColumnsPerPanel];
        byte* staging = stackalloc byte[Avx2StagingBytes];
        // Bias and multipliers of the last block padded to 6 rows, so the kernel's rows past M read defined values.
        int* paddedBias = stackalloc int[Avx2RowsPerBlock];
        float* paddedMultipliers = stackalloc float[Avx2RowsPerBlock];
        for (int r = 0; r < Avx2RowsPerBlock; r++)
        {
            paddedBias[r] = r < lastRows ? bias[fullBlocksEnd + r] : 0;
            paddedMultipliers[r] = r < lastRows ? multipliers[fullBlocksEnd + r] : 0f;
        }
        fixed (sbyte* aBase = packedA)
        fixed (sbyte* bBase = b)
        fixed (byte* yBase = y)
        fixed (int* scratchBase = scratch)
        fixed (int* biasBase = bias)
        fixed (float* multiplierBase = multipliers)
        {
            var layout = new Avx2PackedA((int*)aBase, m, k);
            // Chunks of panels: each row block runs over a chunk's panels before the next row block, so it writes whole
            // 64-byte lines of its six output rows (on 112×112 outputs, rows 12.5 KB apart, one panel at a time touched
            // 96 pages per panel; four panels were 4–10% faster for K ≤ 192, QGemm fastest runs, 2026-11-28, and the
            // same for K = 384–576; up to 32 were faster again with the avx512vnni machine code, see Avx2MaxPanelsPerChunk). Weight-stationary, the one chunk is every panel, and each 1–2 tail column is expanded
            // after them and run per row block, so A is read once; otherwise chunks are as many panels as the scratch
            // holds (at most Avx2MaxPanelsPerChunk) and each tail column is expanded once and run over every row block first.
            int chunkPanels = weightStationary ? DivideRoundingUp(panelColumns, Avx2ColumnsPerPanel)
                : Math.Clamp(scratch.Length / panelInts, 1, Avx2MaxPanelsPerChunk);
            int* expanded = scratchBase + chunkPanels * panelInts; // weight-stationary: blockInts per tail column
            for (int t = 0; t < vectorColumns; t++)
            {
                byte* column = yBase + panelColumns + t;
                if (weightStationary)
                {
                    TFormat.ExpandVector(bBase + panelColumns + t, ldb, k, expanded + t * blockInts);
                    continue;
                }
                TFormat.ExpandVector(bBase + panelColumns + t, ldb, k, scratchBase);
                for (int i0 = 0; i0 < m; i0 += Avx2RowsPerBlock)
                    TFormat.VectorBlock(layout, scratchBase, steps, i0, Math.Min(Avx2RowsPerBlock, m - i0), biasBase, multiplierBase,
                        yZeroPoint, yMin, yMax, column + (long)i0 * ldy, ldy);
            }
            int c0 = 0;
            do // at least once, so that weight-stationary tail columns run even when there is no panel
            {
                int chunkColumns = Math.Min(chunkPanels * Avx2ColumnsPerPanel, panelColumns - c0);
                int panels = DivideRoundingUp(chunkColumns, Avx2ColumnsPerPanel);
                TFormat.PackPanels(bBase + c0, ldb, k, chunkColumns, panelInts, scratchBase);
                int* aBlock = layout.Data;
                byte* destination = yBase + c0;
                for (int i0 = 0; i0 < m; i0 += Avx2RowsPerBlock, aBlock += blockInts, destination += (long)Avx2RowsPerBlock * ldy)
                {
                    var target = Avx2BlockTarget<TFormat>(layout, i0, m, i0 < fullBlocksEnd ? biasBase + i0 : paddedBias, i0 < fullBlocksEnd ? multiplierBase + i0 : paddedMultipliers);
                    int p = TFormat.RunFullPanels(aBlock, scratchBase, steps, target, chunkColumns / Avx2ColumnsPerPanel, destination, ldy, staging, ref sink);
                    for (; p < panels; p++)
                        RowBlockAvx2<TSink, TFormat>(aBlock, scratchBase + p * panelInts, steps, target,
                            Math.Min(Avx2ColumnsPerPanel, chunkColumns - p * Avx2ColumnsPerPanel), destination + p * Avx2ColumnsPerPanel, ldy, tile, ref sink);
                    if (weightStationary)
                        for (int t = 0; t < vectorColumns; t++)
                            TFormat.VectorBlock(layout, expanded + t * blockInts, steps, i0, Math.Min(Avx2RowsPerBlock, m - i0), biasBase, multiplierBase,
                                yZeroPoint, yMin, yMax, yBase + (long)i0 * ldy + panelColumns + t, ldy);
                }
                c0 += chunkColumns;
            } while (c0 < panelColumns);
        }
    }

    /// <summary>
    /// Row block <paramref name="i0"/> / 6 (rows i0 ..): its bias, row offsets and multipliers (padded to 6 rows for a
    /// last partial block), and its corrections (quad format). Y is set per tile.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Avx2RowTarget Avx2BlockTarget<TFormat>(in Avx2PackedA layout, int i0, int m, int* blockBias, float* blockMultipliers)
        where TFormat : struct, IAvx2PackedFormat
    {
        int* corrections = null;
        int count = 0;
        if (TFormat.HasCorrections)
        {
            var (start, end) = layout.BlockCorrections(i0 / Avx2RowsPerBlock);
            corrections = layout.Corrections + 2 * start;
            count = end - start;
        }
        return new Avx2RowTarget(null, 0, blockBias, layout.RowOffsets + i0, blockMultipliers, Math.Min(Avx2RowsPerBlock, m - i0), corrections, count);
    }

    /// <summary>
    /// One row block (<c>target.Rows</c> ≤ 6 rows) times one packed panel of <paramref name="columns"/> ≤ 16
    /// columns into <paramref name="destination"/>: the narrowest kernel that covers the rows, stored directly for a
    /// full panel, else through <paramref name="tile"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void RowBlockAvx2<TSink, TFormat>(int* aBlock, int* panel, int steps, in Avx2RowTarget target, int columns,
        byte* destination, int ldy, byte* tile, ref TSink sink)
        where TSink : struct, IAvx2RequantizeSink where TFormat : struct, IAvx2PackedFormat
    {
        bool fullPanel = columns == Avx2ColumnsPerPanel;
        int rows = target.Rows;
        sink.SetRows(new Avx2RowTarget(fullPanel ? destination : tile, fullPanel ? ldy : Avx2ColumnsPerPanel, target.Bias, target.RowOffsets,
            target.Multipliers, rows));
        int* corrections = target.Corrections;
        int count = target.CorrectionCount;
        if (TFormat.HasCorrections && count != 0)
        {
            if (rows > 4) TFormat.Kernel<Avx2SixRows, TSink, Avx2Yes>(aBlock, panel, steps, corrections, count, ref sink);
            else if (rows > 2) TFormat.Kernel<Avx2FourRows, TSink, Avx2Yes>(aBlock, panel, steps, corrections, count, ref sink);
            else TFormat.Kernel<Avx2TwoRows, TSink, Avx2Yes>(aBlock, panel, steps, corrections, count, ref sink);
        }
        else if (rows > 4) TFormat.Kernel<Avx2SixRows, TSink, Avx2No>(aBlock, panel, steps, null, 0, ref sink);
        else if (rows > 2) TFormat.Kernel<Avx2FourRows, TSink, Avx2No>(aBlock, panel, steps, null, 0, ref sink);
        else TFormat.Kernel<Avx2TwoRows, TSink, Avx2No>(aBlock, panel, steps, null, 0, ref sink);
        if (!fullPanel) CopyTileRows(tile, destination, ldy, rows, columns);
    }

    /// <summary>Copies <paramref name="rows"/> rows of <paramref name="columns"/> bytes from the 16-byte-stride tile buffer.</summary>
    private static unsafe void CopyTileRows(byte* tile, byte* destination, int ldy, int rows, int columns)
    {
        for (int r = 0; r < rows; r++)
            new ReadOnlySpan<byte>(tile + r * Avx2ColumnsPerPanel, columns).CopyTo(new Span<byte>(destination + (long)r * ldy, columns));
    }

    /// <summary>
    /// The B column (b[kk·ldb], kk &lt; K) expanded for <see cref="MultiplyVectorBlockAvx2{TStep}"/>: per k pair p, the int16
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
    /// <paramref name="e"/>, requantized to <c>y[r·ldy]</c>. Over the block's packed A, <c>[steps][6 rows]</c> read as
    /// ints (int16 pairs or int8 quads), one <typeparamref name="TStep"/> product covers 8 consecutive A ints and their
    /// matching expanded B ints. Three accumulators cover the 24-int period of 8-lane vectors over 6-row groups, so lane
    /// l of accumulator c always belongs to row (8c + l) mod 6; the rows are summed from those lanes at the end, with
    /// the row offsets. The last steps (fewer than 4) are done in scalar code, then the quad format's corrections d·s
    /// (s from the expanded column) when <paramref name="corrected"/>. Requantization is the scalar definition.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void MultiplyVectorBlockAvx2<TStep>(in Avx2PackedA packedA, int* e, int steps, int i0, int rows, int* bias, float* multipliers,
        int yZeroPoint, int yMin, int yMax, byte* y, int ldy, bool corrected)
        where TStep : struct, IAvx2KStep
    {
        int blockInts = steps * Avx2RowsPerBlock;
        int vectorInts = steps / 4 * 24; // whole 24-int periods
        int* lanes = stackalloc int[24];
        int* rowSums = stackalloc int[Avx2RowsPerBlock];
        int block = i0 / Avx2RowsPerBlock;
        int* a = packedA.Data + block * blockInts;
        Vector256<int> acc0 = default, acc1 = default, acc2 = default;
        for (int i = 0; i < vectorInts; i += 24)
        {
            acc0 = Avx2.Add(acc0, TStep.Products(Avx.LoadVector256((byte*)(e + i)), Avx.LoadVector256(a + i)));
            acc1 = Avx2.Add(acc1, TStep.Products(Avx.LoadVector256((byte*)(e + i + 8)), Avx.LoadVector256(a + i + 8)));
            acc2 = Avx2.Add(acc2, TStep.Products(Avx.LoadVector256((byte*)(e + i + 16)), Avx.LoadVector256(a + i + 16)));
        }
        Avx.Store(lanes, acc0);
        Avx.Store(lanes + 8, acc1);
        Avx.Store(lanes + 16, acc2);
        for (int r = 0; r < Avx2RowsPerBlock; r++) rowSums[r] = packedA.RowOffsets[i0 + r];
        for (int l = 0; l < 24; l++) rowSums[l % Avx2RowsPerBlock] = unchecked(rowSums[l % Avx2RowsPerBlock] + lanes[l]);
        for (int i = vectorInts; i < blockInts; i++)
            rowSums[i % Avx2RowsPerBlock] = unchecked(rowSums[i % Avx2RowsPerBlock] + TStep.ScalarProducts(e[i], a[i]));
        if (corrected)
        {
            var (start, end) = packedA.BlockCorrections(block);
            for (int c = start; c < end; c++)
            {
                int code = packedA.Corrections[2 * c], kk = code >> 3;
                int s = ((byte*)(e + kk / 4 * Avx2RowsPerBlock))[kk % 4] - 128;
                rowSums[code & 7] = unchecked(rowSums[code & 7] + packedA.Corrections[2 * c + 1] * s);
            }
        }
        for (int r = 0; r < rows; r++)
            y[(long)r * ldy] = (byte)Requantization.Requantize(unchecked(rowSums[r] + bias[i0 + r]), multipliers[i0 + r], yZeroPoint, yMin, yMax);
    }
}
