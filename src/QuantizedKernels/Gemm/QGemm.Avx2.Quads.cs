using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeRuntime.Kernels.Gemm;

/// <summary>
/// The AVX2 fused GEMM's packed A, and its second microkernel: int8 weights multiplied by uint8 activations with
/// VPMADDUBSW, four k per 32-bit lane. Per 32 MACs that is VPMADDUBSW + VPMADDWD (by ones) + VPADDD, three vector
/// operations against the four of the int16 pair kernel (2 × VPMADDWD + 2 × VPADDD) for the same two multiply-port
/// operations; on Zen 3 the loop then runs at the multiply ports' rate (94 against 77 GMAC/s for a 6×16 tile over
/// K = 256 in L1, measured on this machine's EPYC).
/// <para><b>Exactness.</b> VPMADDUBSW saturates its int16 pair sums <c>u0·c0 + u1·c1</c>. With u in [0, 255] it cannot
/// when c0, c1 are int8 and, if both have the same sign, |c0 + c1| ≤ 128 (then |sum| ≤ 255·128 = 32640). Packing
/// splits every weight pair w = a − rowOffset into such a pair c plus a remainder d = w − c; the remainders (none for
/// most models: all 35 GEMM layers of MobileNetV2 1.0 have 268 together, counted at packing) form a sparse list applied to the accumulators before
/// requantization. When there are more than <see cref="Avx2QuadCorrectionCapacity"/> of them (uint8 weights with a
/// zero point far from 128, say), packing keeps the int16 pair format instead.</para>
/// <para><b>Activations.</b> B holds int8 values s; the kernel reads u = s + 128 (the byte with its top bit flipped),
/// so Σ c·u = Σ c·s + 128·Σ c, and each row starts from <c>bias − 128·Σ c</c>. Corrections add <c>d·s</c>. All
/// in wrapping int32 arithmetic, the total is Σ w·s, the definition's sum, bit for bit.</para>
/// <para><b>Packed A</b> (ints): a 16-int header (format, correction count, M, K), then the <c>RoundUp(M, 6)</c>
/// row offsets the accumulators start from (zero for the pair format), then either the pair format of QGemm.Avx2.cs
/// or: <c>[⌈M/6⌉ blocks][⌈K/4⌉ quads][6 rows][4 k]</c> int8 weights c (zero padded), the start of each block's
/// corrections (⌈M/6⌉ + 1 ints), and the corrections as int pairs <c>(k·8 + row in block, d)</c>, sorted by block.
/// Header int 4 marks exact quads (the avx512vnni packing: weights clamped to int8, no pair limit).</para>
/// <para><b>B panel</b> (uint8, 16 columns): <c>[⌈K/4⌉ quads][2 halves][8 columns][4 k]</c>: one 32-byte load
/// gives 8 columns' four k each; padding is zero.</para>
/// </summary>
public static partial class QGemm
{
    private const int Avx2HeaderInts = 16;
    private const int Avx2FormatPairs = 0;
    private const int Avx2FormatQuads = 1;

    /// <summary>
    /// Header int that marks exact quads (1): the weights clamped to int8 (corrections only where that changed one), no
    /// saturation-free pairs, which only VPDPBUSD (the avx512vnni path) or <see cref="Avx2ExactQuadStep"/> sum exactly;
    /// VPMADDUBSW could saturate on them. 0 for every other packing.
    /// </summary>
    private const int Avx2ExactHeaderInt = 4;

    /// <summary>Most corrections the quad format takes: each costs about as much per tile as eight rows of a k quad.</summary>
    private static int Avx2QuadCorrectionCapacity(int m, int k) => (int)Math.Min(1 << 24, (long)m * k / 128 + 16);

    private static int Avx2PaddedRows(int m) => DivideRoundingUp(m, Avx2RowsPerBlock) * Avx2RowsPerBlock;

    /// <summary>Ints of the quad format after the header and row offsets: weights, block starts, correction capacity.</summary>
    private static long Avx2QuadDataInts(int m, int k) =>
        (long)Avx2PaddedRows(m) * DivideRoundingUp(k, 4) + DivideRoundingUp(m, Avx2RowsPerBlock) + 1 + 2L * Avx2QuadCorrectionCapacity(m, k);

    private static int Avx2FusedPackedALength(int m, int k) =>
        checked((int)(((long)Avx2HeaderInts + Avx2PaddedRows(m)) * sizeof(int)
            + Math.Max(Avx2PackedALength(m, k), Avx2QuadDataInts(m, k) * sizeof(int))));

    /// <summary>
    /// The pair (c0, c1) of int8 values nearest to (w0, w1) whose VPMADDUBSW pair sum with any uint8 (u0, u1) fits
    /// int16: each clamped to [−128, 127], and when both have the same sign the second shrunk so |c0 + c1| ≤ 128.
    /// </summary>
    internal static (int C0, int C1) SaturationFreePair(int w0, int w1)
    {
        int c0 = Math.Clamp(w0, -128, 127), c1 = Math.Clamp(w1, -128, 127);
        if (c0 > 0 && c1 > 0 && c0 + c1 > 128) c1 = 128 - c0;
        else if (c0 < 0 && c1 < 0 && c0 + c1 < -128) c1 = -128 - c0;
        return (c0, c1);
    }

    /// <summary>
    /// The int8 pair a quad holds for the weights (w0, w1): each clamped to int8 for exact quads (VPDPBUSD), the
    /// saturation-free pair (<see cref="SaturationFreePair"/>) for VPMADDUBSW. What differs is corrected.
    /// </summary>
    private static (int C0, int C1) QuadWeights(int w0, int w1, bool exact) =>
        exact ? (Math.Clamp(w0, -128, 127), Math.Clamp(w1, -128, 127)) : SaturationFreePair(w0, w1);

    /// <summary>
    /// Packs for the AVX2 fused GEMM: the quad format when its corrections fit, else the pair format. Returns the bytes
    /// the chosen format occupies (<see cref="Avx2FusedPackedAUsedLength"/>); the rest of the bound is zero.
    /// </summary>
    private static int PackAFusedAvx2(ReadOnlySpan<sbyte> a, int m, int k, ReadOnlySpan<int> rowOffsets, Span<sbyte> packed, bool exactQuads = false)
    {
        int length = Avx2FusedPackedALength(m, k);
        CheckPackArguments(a, m, k, packed, length);
        packed[..length].Clear();
        var ints = MemoryMarshal.Cast<sbyte, int>(packed[..length]);
        int paddedM = Avx2PaddedRows(m), dataStart = Avx2HeaderInts + paddedM;
        ints[2] = m;
        ints[3] = k;

        // Exact quads (avx512vnni): VPDPBUSD sums u·c exactly, so a weight only needs a correction where it does not
        // fit int8 (weights minus a zero point far from 0), never for VPMADDUBSW's pair limit. Per-channel int8 weights
        // reach ±127 in every row, so the saturation-free pairs cost MobileNetV2 3-15 corrections per layer (90 in the
        // last), exact quads 0-2. Each correction is work per panel; when corrected blocks still ran tile by tile in C#,
        // M = 32, K = 27, N = 6272 (the stem's shape) with 4 such blocks of 6 took 58.6 µs a call, 25.9 as exact quads
        // (mean of a pass timing QGemm.MultiplyRequantize, 2026-11-29). The machine code now adds them itself (CORRECT_ROWS).
        int corrections = 0, capacity = Avx2QuadCorrectionCapacity(m, k);
        for (int row = 0; row < m && corrections <= capacity; row++)
            for (int kk = 0; kk < k; kk += 2)
            {
                int w0 = Weight(a, k, rowOffsets, row, kk), w1 = kk + 1 < k ? Weight(a, k, rowOffsets, row, kk + 1) : 0;
                var (c0, c1) = QuadWeights(w0, w1, exactQuads);
                corrections += (c0 != w0 ? 1 : 0) + (c1 != w1 ? 1 : 0);
            }
        if (corrections > capacity)
        {
            ints[0] = Avx2FormatPairs;
            PackAAvx2(a, m, k, rowOffsets, packed[(dataStart * sizeof(int))..]);
            return Avx2FusedPackedAUsedLength(Avx2FormatPairs, 0, m, k);
        }

        ints[0] = Avx2FormatQuads;
        ints[1] = corrections;
        ints[Avx2ExactHeaderInt] = exactQuads ? 1 : 0;
        int quads = DivideRoundingUp(k, 4), blocks = paddedM / Avx2RowsPerBlock;
        var weights = packed[(dataStart * sizeof(int))..];
        var blockStarts = ints.Slice(dataStart + paddedM * quads, blocks + 1);
        var entries = ints[(dataStart + paddedM * quads + blocks + 1)..];
        int entry = 0;
        for (int block = 0; block < blocks; block++)
        {
            blockStarts[block] = entry;
            for (int r = 0; r < Avx2RowsPerBlock; r++)
            {
                int row = block * Avx2RowsPerBlock + r;
                if (row >= m) break;
                int sum = 0;
                for (int kk = 0; kk < k; kk += 2)
                {
                    int w0 = Weight(a, k, rowOffsets, row, kk), w1 = kk + 1 < k ? Weight(a, k, rowOffsets, row, kk + 1) : 0;
                    var (c0, c1) = QuadWeights(w0, w1, exactQuads);
                    int at = ((block * quads + kk / 4) * Avx2RowsPerBlock + r) * 4 + kk % 4;
                    weights[at] = (sbyte)c0;
                    weights[at + 1] = (sbyte)c1;
                    sum += c0 + c1;
                    if (c0 != w0) { entries[2 * entry] = kk * 8 + r; entries[2 * entry + 1] = w0 - c0; entry++; }
                    if (c1 != w1) { entries[2 * entry] = (kk + 1) * 8 + r; entries[2 * entry + 1] = w1 - c1; entry++; }
                }
                ints[Avx2HeaderInts + row] = -128 * sum;
            }
        }
        blockStarts[blocks] = entry;
        return Avx2FusedPackedAUsedLength(Avx2FormatQuads, corrections, m, k);
    }

    /// <summary>
    /// Bytes a fused packed A of <paramref name="format"/> occupies: header and row offsets, then the int16 pairs, or
    /// the quads, the block index and <paramref name="corrections"/> corrections. At most
    /// <see cref="Avx2FusedPackedALength"/>, and about half of it for the quad format (1 byte per weight, not 2).
    /// </summary>
    private static int Avx2FusedPackedAUsedLength(int format, int corrections, int m, int k)
    {
        int paddedM = Avx2PaddedRows(m);
        long ints = Avx2HeaderInts + paddedM;
        long bytes = format == Avx2FormatPairs
            ? ints * sizeof(int) + Avx2PackedALength(m, k)
            : (ints + (long)paddedM * DivideRoundingUp(k, 4) + paddedM / Avx2RowsPerBlock + 1 + 2L * corrections) * sizeof(int);
        return checked((int)bytes);
    }

    /// <summary>One weight minus its row's offset; like the pair packing, it must fit int16.</summary>
    private static int Weight(ReadOnlySpan<sbyte> a, int k, ReadOnlySpan<int> rowOffsets, int row, int kk) =>
        checked((short)(a[row * k + kk] - (rowOffsets.IsEmpty ? 0 : rowOffsets[row])));

    /// <summary>
    /// Checks a fused packed A against M and K before any kernel runs, so that no packed bytes can make a kernel read
    /// or write outside its buffers: the header (M, K, format, correction count within the capacity), the ends of the
    /// block index, and every correction's k (below K) and row (below 6). Returns the format. O(corrections), not
    /// O(M): this runs on every call (every tile item of every inference), and MobileNetV2's largest layer has 90
    /// corrections against 214 row blocks. Block starts between the ends are not checked here; the tile loop clamps
    /// each block's range into [0, count] (<see cref="Avx2PackedA.BlockCorrections"/>), so bad ones give wrong bytes,
    /// never an access outside the list.
    /// </summary>
    private static int CheckFusedPackedAAvx2(ReadOnlySpan<sbyte> packedA, int m, int k)
    {
        if (packedA.Length < Avx2HeaderInts * sizeof(int)) throw new ArgumentException($"packed A holds {packedA.Length} bytes, shorter than its header", nameof(packedA));
        var header = MemoryMarshal.Cast<sbyte, int>(packedA[..(Avx2HeaderInts * sizeof(int))]);
        if (header[2] != m || header[3] != k) throw new ArgumentException($"packed A was packed for {header[2]}x{header[3]}, not {m}x{k}", nameof(packedA));
        int format = header[0], count = header[1];
        if (format != Avx2FormatPairs && format != Avx2FormatQuads) throw new ArgumentException($"packed A has unknown format {format}", nameof(packedA));
        if (format == Avx2FormatQuads && (count < 0 || count > Avx2QuadCorrectionCapacity(m, k))) throw new ArgumentException($"packed A has {count} corrections", nameof(packedA));
        if (header[Avx2ExactHeaderInt] is not (0 or 1) || header[Avx2ExactHeaderInt] == 1 && format != Avx2FormatQuads)
            throw new ArgumentException($"packed A has an invalid exact-quads mark {header[Avx2ExactHeaderInt]}", nameof(packedA));
        // A caller may keep only the bytes the format occupies (what PackAWithRowOffsets returned), not the whole bound.
        int used = Avx2FusedPackedAUsedLength(format, format == Avx2FormatQuads ? count : 0, m, k);
        if (packedA.Length < used) throw new ArgumentException($"packed A holds {packedA.Length} bytes, its {(format == Avx2FormatQuads ? "quad" : "pair")} format needs {used}", nameof(packedA));
        if (format == Avx2FormatPairs) return Avx2FormatPairs;
        var ints = MemoryMarshal.Cast<sbyte, int>(packedA[..used]);
        int paddedM = Avx2PaddedRows(m), quads = DivideRoundingUp(k, 4), blocks = paddedM / Avx2RowsPerBlock;
        int startsAt = Avx2HeaderInts + paddedM + paddedM * quads;
        if (ints[startsAt] != 0 || ints[startsAt + blocks] != count) throw new ArgumentException("packed A's correction index is inconsistent", nameof(packedA));
        var entries = ints.Slice(startsAt + blocks + 1, 2 * count);
        for (int e = 0; e < count; e++)
        {
            int code = entries[2 * e];
            if (code < 0 || code >> 3 >= k || (code & 7) >= Avx2RowsPerBlock)
                throw new ArgumentException($"packed A's correction {e} names k={code >> 3}, row {code & 7} of a block", nameof(packedA));
        }
        return Avx2FormatQuads;
    }

    /// <summary>Where the parts of a fused packed A are (see the class summary), for the tile loop and its sinks.</summary>
    private readonly unsafe struct Avx2PackedA
    {
        public Avx2PackedA(int* baseInts, int m, int k)
        {
            int paddedM = Avx2PaddedRows(m);
            RowOffsets = baseInts + Avx2HeaderInts;
            Data = RowOffsets + paddedM;
            BlockStarts = Data + paddedM * DivideRoundingUp(k, 4);
            Corrections = BlockStarts + paddedM / Avx2RowsPerBlock + 1;
            CorrectionCount = baseInts[1];
            Exact = baseInts[Avx2ExactHeaderInt] == 1;
        }

        /// <summary>Exact quads (<see cref="Avx2ExactHeaderInt"/>): only VPDPBUSD, or <see cref="Avx2ExactQuadStep"/>, may sum them.</summary>
        public bool Exact { get; }

        /// <summary>What each row's accumulators start from besides its bias (zero for the pair format).</summary>
        public int* RowOffsets { get; }

        /// <summary>The blocks of weights (pairs or quads).</summary>
        public int* Data { get; }

        /// <summary>Quad format: block b's corrections are entries BlockStarts[b] .. BlockStarts[b + 1] − 1.</summary>
        public int* BlockStarts { get; }

        public int* Corrections { get; }

        /// <summary>Entries in <see cref="Corrections"/> (quad format; checked by CheckFusedPackedAAvx2).</summary>
        public int CorrectionCount { get; }

        /// <summary>Block <paramref name="block"/>'s corrections: entries [Start, End), clamped into the list.</summary>
        public (int Start, int End) BlockCorrections(int block)
        {
            int start = Math.Clamp(BlockStarts[block], 0, CorrectionCount);
            return (start, Math.Clamp(BlockStarts[block + 1], start, CorrectionCount));
        }
    }

    /// <summary>Flips the top bit of each int8 of B (u = s + 128) into the quad panel; see the class summary for the layout.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void PackBPanelQuadsAvx2(sbyte* b, int ldb, int k, int columns, int* panel)
    {
        int quads = DivideRoundingUp(k, 4);
        byte* destination = (byte*)panel;
        if (columns == Avx2ColumnsPerPanel)
        {
            var flip = Vector128.Create((byte)0x80);
            for (int q = 0; q < quads; q++, destination += 64)
            {
                int k0 = 4 * q;
                // Rows past K are zero: their weights are zero, any value would do, but the bytes must be defined.
                var r0 = Sse2.Xor(Sse2.LoadVector128((byte*)b + (long)k0 * ldb), flip);
                var r1 = k0 + 1 < k ? Sse2.Xor(Sse2.LoadVector128((byte*)b + (long)(k0 + 1) * ldb), flip) : Vector128<byte>.Zero;
                var r2 = k0 + 2 < k ? Sse2.Xor(Sse2.LoadVector128((byte*)b + (long)(k0 + 2) * ldb), flip) : Vector128<byte>.Zero;
                var r3 = k0 + 3 < k ? Sse2.Xor(Sse2.LoadVector128((byte*)b + (long)(k0 + 3) * ldb), flip) : Vector128<byte>.Zero;
                var low01 = Sse2.UnpackLow(r0, r1).AsInt16();   // (r0, r1) of columns 0..7
                var high01 = Sse2.UnpackHigh(r0, r1).AsInt16(); // columns 8..15
                var low23 = Sse2.UnpackLow(r2, r3).AsInt16();
                var high23 = Sse2.UnpackHigh(r2, r3).AsInt16();
                Sse2.Store(destination, Sse2.UnpackLow(low01, low23).AsByte());        // columns 0..3, k0..k0+3 each
                Sse2.Store(destination + 16, Sse2.UnpackHigh(low01, low23).AsByte());  // columns 4..7
                Sse2.Store(destination + 32, Sse2.UnpackLow(high01, high23).AsByte()); // columns 8..11
                Sse2.Store(destination + 48, Sse2.UnpackHigh(high01, high23).AsByte());
            }
            return;
        }
        for (int q = 0; q < quads; q++, destination += 64)
            for (int j = 0; j < Avx2ColumnsPerPanel; j++)
                for (int t = 0; t < 4; t++)
                {
                    int kk = 4 * q + t;
                    destination[j * 4 + t] = j < columns && kk < k ? (byte)(b[(long)kk * ldb + j] ^ 0x80) : (byte)0;
                }
    }

    /// <summary>A compile-time switch for generic kernels: the JIT drops the code of the other value.</summary>
    private interface IAvx2Flag
    {
        static abstract bool Value { get; }
    }

    private readonly struct Avx2Yes : IAvx2Flag { public static bool Value => true; }
    private readonly struct Avx2No : IAvx2Flag { public static bool Value => false; }

    /// <summary>
    /// The B column (b[kk·ldb], kk &lt; K) for <see cref="MultiplyVectorBlockAvx2{TStep}"/>: per k quad, its four bytes
    /// u = s + 128 (zero past K) as one int, six times, matching a row block of quads (<c>quads·6</c> ints).
    /// </summary>
    private static unsafe void ExpandVectorQuadsAvx2(sbyte* b, int ldb, int k, int* expanded)
    {
        int quads = DivideRoundingUp(k, 4);
        for (int q = 0; q < quads; q++)
        {
            int packedQuad = 0;
            for (int t = 0; t < 4 && 4 * q + t < k; t++) packedQuad |= (byte)(b[(long)(4 * q + t) * ldb] ^ 0x80) << (8 * t);
            for (int r = 0; r < Avx2RowsPerBlock; r++) expanded[q * Avx2RowsPerBlock + r] = packedQuad;
        }
    }
}
