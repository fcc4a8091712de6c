using EdgeRuntime.Kernels.Common;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeRuntime.Kernels.Gemm;

/// <summary>
/// The avx512vnni path: AVX-512 VNNI's VPDPBUSD (four uint8 × int8 products summed exactly into each int32 lane, one
/// instruction where AVX2 needs VPMADDUBSW + VPMADDWD + VPADDD), EVEX-encoded, as on Zen 4 / Zen 5 and Intel Ice Lake /
/// Sapphire Rapids: the GEMM (fused and int32) on 512-bit vectors, one zmm per row of a 6×16 tile (Zen 5 runs them at
/// the rate of 256-bit ones), the depthwise rows on 512-bit vectors with AVX512_VBMI, else on 256-bit ones (AVX512VL). .NET 10 has no API for that form: its <see cref="AvxVnni"/> class emits
/// the VEX form, which those CPUs lack, and its 512-bit VNNI classes need AVX10. So the k loop of the 6×16
/// microkernel is machine code: QGemm.Avx512Vnni.s, assembled by tools/assemble-machine-code.sh into
/// QGemm.Avx512Vnni.MachineCode.cs, mapped executable once per process (<see cref="ExecutableMemory"/>) and called
/// through an unmanaged function pointer without a GC transition (it runs a few hundred nanoseconds and touches only
/// the pinned buffers it is given). Everything around it is the AVX2 path's code and data layouts:
/// <list type="bullet">
/// <item><see cref="Multiply"/> (int32 out): the AVX-VNNI packing of QGemm.AvxVnni.cs (<c>[6 start values][⌈K/4⌉
/// quads][6 rows][4 k]</c> per block, B panels flipped to uint8), the machine code writing each 6×16 tile.</item>
/// <item><see cref="MultiplyRequantize"/>: the AVX2 fused packing's layout as exact quads: the weights clamped to int8,
/// corrected only where that changed one (VPDPBUSD cannot saturate, so AVX2's pair limit does not apply), or the
/// int16-pair format where the corrections would not fit. The machine code fills the tiles, adds the row block's
/// corrections and requantizes; only tiles it cannot requantize (a last block of fewer than six rows on a partial
/// panel, or multipliers that are not all finite) take its int32 tile and finish in C#. The int16-pair format runs the
/// AVX2 code, and 1–2-column matrix-vector tails run AVX2 code that sums exact quads without saturation
/// (Avx2ExactQuadStep).</item>
/// <item>Depthwise convolution and the element-wise kernels: the AVX2 code.</item>
/// </list>
/// Linux x64 only (System V calling convention); <see cref="Avx512VnniCode.UnavailableReason"/> says why it is not
/// available elsewhere. <c>DOTNET_EnableAVX512F=0</c> does not turn it off (the runtime does not compile this code);
/// <c>EDGE_ISA=avx2</c> does.
/// </summary>
public static partial class QGemm
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void MultiplyAvx512Vnni(int m, int n, int k, ReadOnlySpan<sbyte> packedA,
        ReadOnlySpan<sbyte> b, int ldb, Span<int> acc, int ldAcc, Span<int> scratch)
    {
        CheckMultiplyArguments(m, n, k, packedA, AvxVnniPackedALength(m, k), b, ldb, acc, ldAcc, scratch, AvxVnniScratchLength(k));
        if (m == 0 || n == 0) return;
        int quads = DivideRoundingUp(k, 4), blockBytes = VnniBlockBytes(k);
        int* tile = stackalloc int[VnniRowsPerBlock * VnniColumnsPerPanel];
        var kernel = Avx512VnniCode.Quads6x16;
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
                    int* block = (int*)(aBase + (long)(i0 / VnniRowsPerBlock) * blockBytes);
                    int* c = accBase + (long)i0 * ldAcc + j0;
                    bool full = rows == VnniRowsPerBlock && columns == VnniColumnsPerPanel;
                    // The block starts with its six rows' start values, then the quads.
                    kernel(block + VnniRowsPerBlock, panel, quads, block, full ? c : tile, (full ? ldAcc : VnniColumnsPerPanel) * (long)sizeof(int));
                    if (!full) CopyTile(tile, VnniColumnsPerPanel, c, ldAcc, rows, columns);
                }
            }
        }
    }

    /// <summary>The AVX2 fused GEMM's quad format with the machine-code k loop (see the class summary).</summary>
    private readonly struct Avx512VnniQuadFormat : IAvx2PackedFormat
    {
        public static int Steps(int k) => Avx2QuadFormat.Steps(k);

        public static bool HasCorrections => true;

        public static unsafe void PackPanel(sbyte* b, int ldb, int k, int columns, int* panel) => Avx2QuadFormat.PackPanel(b, ldb, k, columns, panel);

        /// <summary>
        /// Four full panels at a time by edge_pack_quads4 (64-byte rows: per k quad 4 loads, 8 unpacks, 8 lane shuffles
        /// and 4 stores, where the 16-byte packer takes four times its 22 instructions, and each row line is read once
        /// instead of once per panel), the rest panel by panel. In machine code rather than C# Vector512 so that the
        /// Native AOT build runs it too: its instruction-set baseline (x86-64-v3) makes Avx512BW.IsSupported a constant
        /// false there.
        /// </summary>
        public static unsafe void PackPanels(sbyte* b, int ldb, int k, int columns, int panelInts, int* panels)
        {
            const int fourPanels = 4 * Avx2ColumnsPerPanel;
            int c = 0;
            if (columns >= fourPanels)
            {
                var packFour = Avx512VnniCode.PackQuads4;
                for (; c + fourPanels <= columns; c += fourPanels, panels += 4 * panelInts)
                    packFour(b + c, ldb, k, (byte*)panels, panelInts * (long)sizeof(int));
            }
            PackPanelByPanel<Avx512VnniQuadFormat>(b + c, ldb, k, columns - c, panelInts, panels);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static unsafe void Kernel<TRows, TSink, TCorrected>(int* a, int* panel, int steps, int* corrections, int correctionCount, ref TSink sink)
            where TRows : struct, IAvx2BlockRows where TSink : struct, IAvx2TileSink where TCorrected : struct, IAvx2Flag =>
            Avx512VnniQuadKernel<TRows, TSink, TCorrected>(a, panel, steps, corrections, correctionCount, ref sink);

        public static unsafe void ExpandVector(sbyte* b, int ldb, int k, int* expanded) => Avx2QuadFormat.ExpandVector(b, ldb, k, expanded);

        public static unsafe void VectorBlock(in Avx2PackedA packedA, int* e, int steps, int i0, int rows, int* bias, float* multipliers,
            int yZeroPoint, int yMin, int yMax, byte* y, int ldy)
        {
            if (packedA.Exact) MultiplyVectorBlockAvx2<Avx2ExactQuadStep>(packedA, e, steps, i0, rows, bias, multipliers, yZeroPoint, yMin, yMax, y, ldy, corrected: true);
            else Avx2QuadFormat.VectorBlock(packedA, e, steps, i0, rows, bias, multipliers, yZeroPoint, yMin, yMax, y, ldy);
        }

        /// <summary>
        /// A row block with the int16 requantization (finite multipliers): every full panel of the chunk in one
        /// machine-code call (k loops, the block's corrections and epilogues), which saves the per-tile call and set-up.
        /// Corrections (weights past int8 after the zero point: 0–2 row blocks in most MobileNetV2 layers) used to
        /// send their block tile by tile through the C# kernel, about 3× the time; in the machine code they cost a few
        /// instructions per entry and panel (MobileNetV2's 16x32x12544 layer, one such block of three: fastest of 400
        /// runs 0.045–0.046 → 0.033–0.035 ms, 96x16x12544 0.103 → 0.092–0.094, the stem 0.074 → 0.066–0.068; Native
        /// AOT, alternated, 2026-11-29). A last
        /// block of fewer than six rows runs the same code for six rows (packed A, row offsets, bias and multipliers are
        /// padded to six) into <paramref name="staging"/>, and its rows are copied out. Tile by tile through the C#
        /// sink, as before, the few rows cost more than six: M = 32, K = 27, N = 12544 took 124.3 µs against 117.9 for
        /// M = 36, and M = 16, K = 32 80.6 against 74.1 for M = 18; now 118.5–119.5 and 72.0–74.3 µs (fastest of 300
        /// calls after a warm-up pass, two runs, 2026-11-28).
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static unsafe int RunFullPanels<TSink>(int* aBlock, int* panels, int steps, in Avx2RowTarget target, int fullPanels,
            byte* destination, int ldy, byte* staging, ref TSink sink) where TSink : struct, IAvx2RequantizeSink
        {
            if (typeof(TSink) != typeof(Avx2RequantizeRowsInt16) || fullPanels == 0 || fullPanels > Avx2MaxPanelsPerChunk) return 0;
            ref var int16Sink = ref Unsafe.As<TSink, Avx2RequantizeRowsInt16>(ref sink);
            var context = VnniEpilogue(int16Sink, target.Bias, target.RowOffsets, target.Multipliers, fullPanels, target.Corrections, target.CorrectionCount);
            var code = Avx512VnniCode.Quads6x16Requantize(int16Sink.Signed, int16Sink.CapProducts, int16Sink.ClampBytes);
            if (target.Rows == Avx2RowsPerBlock)
            {
                code(aBlock, panels, steps, &context, destination, ldy);
                return fullPanels;
            }
            int columns = fullPanels * Avx2ColumnsPerPanel;
            code(aBlock, panels, steps, &context, staging, columns);
            for (int r = 0; r < target.Rows; r++)
                Buffer.MemoryCopy(staging + r * columns, destination + (long)r * ldy, columns, columns);
            return fullPanels;
        }
    }

    /// <summary>The context for a row block (bias, row offsets, multipliers) over <paramref name="panels"/> panels with <paramref name="sink"/>'s constants.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Avx512VnniEpilogue VnniEpilogue(in Avx2RequantizeRowsInt16 sink, int* bias, int* rowOffsets, float* multipliers, long panels,
        int* corrections, int correctionCount) => new()
    {
        Corrections = corrections,
        CorrectionCount = correctionCount,
        Bias = bias,
        RowOffsets = rowOffsets,
        Multipliers = multipliers,
        Panels = panels,
        ZeroPoint = sink.ZeroPoint.ToScalar(),
        Min = sink.Min.ToScalar(),
        Max = sink.Max.ToScalar(),
        Cap = sink.CapProducts ? 32767f : float.PositiveInfinity,
    };

    /// <summary>
    /// <see cref="Avx2Kernel{TRows, TSink, TStep, TCorrected}"/> for the quad format with the k loop in machine code. A
    /// six-row tile with the int16 requantization runs whole in the machine code, corrections included; otherwise it
    /// computes the block's six rows (packed A and the row starts are padded to six) into a 6×16 int32 tile on the
    /// stack, the block's corrections d·s are added there, and the sink requantizes the first
    /// <typeparamref name="TRows"/>.Count rows from it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization), SkipLocalsInit]
    private static unsafe void Avx512VnniQuadKernel<TRows, TSink, TCorrected>(int* a, int* panel, int steps, int* corrections, int correctionCount, ref TSink sink)
        where TRows : struct, IAvx2BlockRows where TSink : struct, IAvx2TileSink where TCorrected : struct, IAvx2Flag
    {
        if (typeof(TSink) == typeof(Avx2RequantizeRowsInt16) && TRows.Count == Avx2RowsPerBlock)
        {
            // The common tile (six rows, finite multipliers): k loop, corrections and requantization in machine code.
            ref var int16Sink = ref Unsafe.As<TSink, Avx2RequantizeRowsInt16>(ref sink);
            ref readonly var target = ref int16Sink.Target;
            if (target.Rows == Avx2RowsPerBlock)
            {
                var context = VnniEpilogue(int16Sink, target.Bias, target.RowOffsets, target.Multipliers, 1,
                    TCorrected.Value ? corrections : null, TCorrected.Value ? correctionCount : 0);
                Avx512VnniCode.Quads6x16Requantize(int16Sink.Signed, int16Sink.CapProducts, int16Sink.ClampBytes)(a, panel, steps, &context, target.Y, target.Ldy);
                return;
            }
        }
        int* initial = stackalloc int[Avx2RowsPerBlock];
        // 64-byte aligned: a 32-byte store that crosses a cache line is not forwarded to the load that reads it back.
        int* unaligned = stackalloc int[Avx2RowsPerBlock * Avx2ColumnsPerPanel + 16];
        int* tile = (int*)(((nint)unaligned + 63) & ~(nint)63);
        for (int r = 0; r < Avx2RowsPerBlock; r++) initial[r] = r < TRows.Count ? sink.Initial(r).ToScalar() : 0;
        Avx512VnniCode.Quads6x16(a, panel, steps, initial, tile, Avx2ColumnsPerPanel * sizeof(int));
        if (TCorrected.Value)
        {
            // As in the AVX2 kernel: s = u − 128 of k read back from the quad panel, times d, added to the row.
            var byteMask = Vector256.Create(0xFFu);
            var half = Vector256.Create(128);
            for (int e = 0; e < correctionCount; e++)
            {
                int code = corrections[2 * e], kk = code >> 3;
                int* quad = panel + kk / 4 * Avx2ColumnsPerPanel;
                var shift = Vector256.Create((uint)(kk % 4 * 8));
                var delta = Vector256.Create(corrections[2 * e + 1]);
                int* row = tile + (code & 7) * Avx2ColumnsPerPanel;
                var low = Avx2.MultiplyLow(Avx2.Subtract(Avx2.And(Avx2.ShiftRightLogicalVariable(Avx.LoadVector256((uint*)quad), shift), byteMask).AsInt32(), half), delta);
                var high = Avx2.MultiplyLow(Avx2.Subtract(Avx2.And(Avx2.ShiftRightLogicalVariable(Avx.LoadVector256((uint*)(quad + 8)), shift), byteMask).AsInt32(), half), delta);
                Avx.Store(row, Avx2.Add(Avx.LoadVector256(row), low));
                Avx.Store(row + 8, Avx2.Add(Avx.LoadVector256(row + 8), high));
            }
        }
        sink.RowPair(0, Avx.LoadVector256(tile), Avx.LoadVector256(tile + 8), Avx.LoadVector256(tile + 16), Avx.LoadVector256(tile + 24));
        if (TRows.Count > 2) sink.RowPair(2, Avx.LoadVector256(tile + 32), Avx.LoadVector256(tile + 40), Avx.LoadVector256(tile + 48), Avx.LoadVector256(tile + 56));
        if (TRows.Count > 4) sink.RowPair(4, Avx.LoadVector256(tile + 64), Avx.LoadVector256(tile + 72), Avx.LoadVector256(tile + 80), Avx.LoadVector256(tile + 88));
    }
}

/// <summary>
/// What edge_quads6x16_requantize_s8/_u8 read besides their operands (layout fixed by QGemm.Avx512Vnni.s): the row
/// block's bias, row offsets and multipliers (six each), its corrections, and the requantization constants of
/// <c>QGemm.Avx2RequantizeRowsInt16</c> as scalars, which the routines broadcast; a product cap of +infinity leaves
/// products unchanged (finite multipliers). Built for every row block, so it holds nothing the code can derive (the
/// lane order is a constant of the code image, ZMM_LANE_ORDER).
/// </summary>
[System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Explicit, Size = 56)]
internal unsafe struct Avx512VnniEpilogue
{
    [System.Runtime.InteropServices.FieldOffset(0)] public int* Bias;
    [System.Runtime.InteropServices.FieldOffset(8)] public int* RowOffsets;
    [System.Runtime.InteropServices.FieldOffset(16)] public float* Multipliers;
    [System.Runtime.InteropServices.FieldOffset(24)] public long Panels;
    [System.Runtime.InteropServices.FieldOffset(32)] public short ZeroPoint;
    /// <summary>The clamp bounds as bytes of the output type (int8 two's complement or uint8).</summary>
    [System.Runtime.InteropServices.FieldOffset(34)] public byte Min;
    [System.Runtime.InteropServices.FieldOffset(35)] public byte Max;
    [System.Runtime.InteropServices.FieldOffset(36)] public float Cap;
    /// <summary>The row block's corrections, (k · 8 + row, d) pairs (Avx2PackedA.BlockCorrections), or null.</summary>
    [System.Runtime.InteropServices.FieldOffset(40)] public int* Corrections;
    [System.Runtime.InteropServices.FieldOffset(48)] public long CorrectionCount;
}

/// <summary>
/// The avx512vnni machine code (QGemm.Avx512Vnni.s), mapped on first use when this process can run it: Linux on
/// x86-64 with AVX2, a CPU that reports AVX512F, AVX512BW, AVX512VL and AVX512_VNNI (CPUID leaf 7), and an OS that saves the
/// AVX-512 register state (XCR0 bits 1, 2, 5, 6, 7), as EVEX-encoded instructions need even on 256-bit vectors.
/// </summary>
internal static unsafe class Avx512VnniCode
{
    private static readonly byte* Code;

    /// <summary>Why the path cannot run here, or null when it can.</summary>
    public static readonly string? UnavailableReason;

    static Avx512VnniCode() => UnavailableReason = Load(out Code);

    /// <summary>True when the machine code is mapped and this CPU and OS can run it.</summary>
    public static bool IsAvailable => Code != null;

    /// <summary>edge_quads6x16(a, panel, steps, initial, c, ldcBytes) of QGemm.Avx512Vnni.s. Only when <see cref="IsAvailable"/>.</summary>
    public static delegate* unmanaged[SuppressGCTransition]<int*, int*, long, int*, int*, long, void> Quads6x16 =>
        (delegate* unmanaged[SuppressGCTransition]<int*, int*, long, int*, int*, long, void>)Entry(Avx512VnniMachineCode.Quads6x16Offset);

    /// <summary>
    /// edge_quads6x16_requantize_s8 / _u8[_uncapped][_unclamped](a, panel, steps, context, y, ldy) of QGemm.Avx512Vnni.s:
    /// a row block of the fused GEMM's quad format over the context's full panels, requantized to int8 or uint8 like
    /// Avx2RequantizeRowsInt16; without the product cap when <paramref name="capProducts"/> is false (every |multiplier|
    /// &lt; 1) and without the byte clamp when <paramref name="clampBytes"/> is false ([yMin, yMax] is the whole output
    /// type). Only when <see cref="IsAvailable"/>.
    /// </summary>
    public static delegate* unmanaged[SuppressGCTransition]<int*, int*, long, void*, byte*, long, void> Quads6x16Requantize(bool signedOutput, bool capProducts, bool clampBytes) =>
        (delegate* unmanaged[SuppressGCTransition]<int*, int*, long, void*, byte*, long, void>)Entry(
            Avx512VnniMachineCode.Quads6x16RequantizeOffsets[(signedOutput ? 4 : 0) + (capProducts ? 0 : 1) + (clampBytes ? 0 : 2)]);

    /// <summary>
    /// edge_dw3x3_s{1,2}_{u8,s8} (stride 1 or 2; int8 output when <paramref name="signedOutput"/>): sixteen flattened
    /// depthwise 3×3 outputs of one channel per block, two blocks per loop pass, from three byte rows of uint8 values
    /// (int8 input flipped to x + 128 by the plane copy); requantized with the fused GEMM's int16 sequence, which is
    /// exact only for |multiplier| &lt; 1 (see QGemm.Avx512Vnni.s and DepthwiseConv's avx512vnni flat path).
    /// </summary>
    public static delegate* unmanaged[SuppressGCTransition]<byte*, byte*, byte*, long, void*, byte*, void> Depthwise3x3(int stride, bool signedOutput) =>
        Depthwise3x3(stride, signedOutput, HasVbmi);

    /// <summary>
    /// <see cref="Depthwise3x3(int, bool)"/> in a chosen width: edge_dw3x3z_* (512-bit, VPERMB; only where
    /// <see cref="HasVbmi"/>) when <paramref name="zmm"/>, else edge_dw3x3_* (256-bit). Both compute the same bytes.
    /// </summary>
    public static delegate* unmanaged[SuppressGCTransition]<byte*, byte*, byte*, long, void*, byte*, void> Depthwise3x3(int stride, bool signedOutput, bool zmm) =>
        (delegate* unmanaged[SuppressGCTransition]<byte*, byte*, byte*, long, void*, byte*, void>)Entry(
            (zmm ? Avx512VnniMachineCode.Depthwise3x3ZmmOffsets : Avx512VnniMachineCode.Depthwise3x3Offsets)[(stride - 1) * 2 + (signedOutput ? 1 : 0)]);

    /// <summary>
    /// edge_dwgroup3x3z_s{1,2}(window, y, rows, columns, context) of QGemm.Avx512Vnni.s (stride 1 or 2 across a row; the
    /// context gives the row step): a 3×3 depthwise convolution of sixteen channels from their transposed padded input
    /// (<c>[padded row][padded column][16]</c> bytes) into <c>[rows · columns][16]</c> output bytes, requantized per
    /// channel like DepthwiseConv's AVX2 channel groups. Only where <see cref="HasVbmi"/> (VPERMB).
    /// </summary>
    public static delegate* unmanaged[SuppressGCTransition]<byte*, byte*, long, long, void*, void> DepthwiseGroup3x3(int strideWidth) =>
        HasVbmi
            ? (delegate* unmanaged[SuppressGCTransition]<byte*, byte*, long, long, void*, void>)Entry(Avx512VnniMachineCode.DepthwiseGroup3x3ZmmOffsets[strideWidth - 1])
            : throw new IsaNotSupportedException("the 512-bit depthwise channel groups need AVX512_VBMI (VPERMB), which this CPU lacks");

    /// <summary>
    /// True when the CPU also has AVX512_VBMI (VPERMB: Zen 4, Zen 5, Ice Lake and later), which the 512-bit depthwise
    /// routines need; Skylake-SP and Cascade Lake (AVX-512 VNNI without it) run the 256-bit ones.
    /// </summary>
    public static bool HasVbmi { get; private set; }

    /// <summary>
    /// edge_pack_quads4(b, ldb, k, destination, panelBytes) of QGemm.Avx512Vnni.s: four full 16-column panels of the
    /// quad B format (columns 0..63 of the k rows at b, ldb apart) at destination + p·panelBytes, the bytes
    /// PackBPanelQuadsAvx2 writes for each. Only when <see cref="IsAvailable"/>.
    /// </summary>
    public static delegate* unmanaged[SuppressGCTransition]<sbyte*, long, long, byte*, long, void> PackQuads4 =>
        (delegate* unmanaged[SuppressGCTransition]<sbyte*, long, long, byte*, long, void>)Entry(Avx512VnniMachineCode.PackQuads4Offset);

    /// <summary>edge_dpbusd_chains(iterations): 384 multiply-adds per iteration in 12 independent chains (peak probe).</summary>
    public static delegate* unmanaged[SuppressGCTransition]<long, int> DpbusdChains =>
        (delegate* unmanaged[SuppressGCTransition]<long, int>)Entry(Avx512VnniMachineCode.DpbusdChainsOffset);

    /// <summary>edge_dpbusd_chains_zmm(iterations): the same on 512-bit vectors, 768 multiply-adds per iteration (peak probe of the requantizing routines).</summary>
    public static delegate* unmanaged[SuppressGCTransition]<long, int> DpbusdChainsZmm =>
        (delegate* unmanaged[SuppressGCTransition]<long, int>)Entry(Avx512VnniMachineCode.DpbusdChainsZmmOffset);

    private static byte* Entry(int offset) =>
        Code != null ? Code + offset : throw new IsaNotSupportedException($"instruction set path 'avx512vnni' is not available: {UnavailableReason}");

    private static string? Load(out byte* code)
    {
        code = null;
        if (!X86Base.X64.IsSupported) return "not an x86-64 process";
        if (!OperatingSystem.IsLinux()) return "its machine code follows the Linux (System V) calling convention";
        if (!Avx2.IsSupported) return "the CPU (or DOTNET_EnableAVX2=0) gives no AVX2, which the rest of the path uses";
        if ((uint)X86Base.CpuId(0, 0).Eax < 7) return "the CPU reports no CPUID leaf 7";
        var (_, ebx, ecx, _) = X86Base.CpuId(7, 0);
        if ((ebx & (1 << 16)) == 0) return "the CPU lacks AVX512F";
        if ((ebx & (1 << 30)) == 0) return "the CPU lacks AVX512BW";
        if ((ebx & (1 << 31)) == 0) return "the CPU lacks AVX512VL";
        if ((ecx & (1 << 11)) == 0) return "the CPU lacks AVX512_VNNI";
        bool vbmi = (ecx & (1 << 1)) != 0;
        if ((X86Base.CpuId(1, 0).Ecx & (1 << 27)) == 0) return "the OS has not enabled XSAVE (CPUID.1:ECX.OSXSAVE)";
        byte* mapped = ExecutableMemory.TryMap(Avx512VnniMachineCode.Text, out var failure);
        if (mapped == null) return failure;
        ulong xcr0 = ((delegate* unmanaged[SuppressGCTransition]<ulong>)(mapped + Avx512VnniMachineCode.XgetbvOffset))();
        if ((xcr0 & 0xE6) != 0xE6) return $"the OS does not save the AVX-512 register state (XCR0 = 0x{xcr0:x})";
        code = mapped;
        HasVbmi = vbmi;
        return null;
    }
}
