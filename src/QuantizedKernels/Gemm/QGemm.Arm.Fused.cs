using EdgeRuntime.Kernels.Common;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;

namespace EdgeRuntime.Kernels.Gemm;

// Fused GEMM + requantization on the ARM paths (Neon: SMULL/SADALP, NeonDot: SDOT). The microkernels multiply int8
// weights, so the weight zero points cannot be folded into them as on AVX2 (w - wz needs 9 bits); instead the packed
// A carries them and the epilogue subtracts wz[row]·colsum[column] (column sums of B computed once per call, as the
// unfused path does). Epilogue per accumulator row, in registers: + bias, MLS wz·colsum, then
// QGemmRequantization.RequantizeLanes (SCVTF, FMUL, NaN → 0, FMAX/FMIN, FCVTNS, + zp) and two XTN narrowings.
//
// Packed A with row offsets: [the path's ordinary packed A][RoundUp(M, 4) int32 row offsets].
// Scratch: [the path's B panel][n + 3 int32 column sums (the 3 padding lanes zero, read by the 4-column tail tiles)].
public static partial class QGemm
{
    private static int ArmFusedPackedALength(IsaPath isa, int m, int k) =>
        checked((isa == IsaPath.Neon ? PackedALengthNeon(m, k) : PackedALengthNeonDot(m, k)) + RoundUp(m, NeonRowBlock) * sizeof(int));

    private static int ArmFusedScratchLength(IsaPath isa, int n, int k) =>
        checked((isa == IsaPath.Neon ? ScratchLengthNeon(k) : ScratchLengthNeonDot(k)) + n + 3);

    private static void PackAWithRowOffsetsArm(IsaPath isa, ReadOnlySpan<sbyte> a, int m, int k, ReadOnlySpan<int> rowOffsets, Span<sbyte> packed)
    {
        int baseLength = isa == IsaPath.Neon ? PackedALengthNeon(m, k) : PackedALengthNeonDot(m, k);
        if (packed.Length < ArmFusedPackedALength(isa, m, k)) throw new ArgumentException($"packed holds {packed.Length} values, fewer than {ArmFusedPackedALength(isa, m, k)}", nameof(packed));
        PackAInterleaved(a, m, k, NeonRowBlock, isa == IsaPath.Neon ? 2 : 4, packed, baseLength);
        var offsets = MemoryMarshal.Cast<sbyte, int>(packed.Slice(baseLength, RoundUp(m, NeonRowBlock) * sizeof(int)));
        offsets.Clear();
        for (int i = 0; i < m && !rowOffsets.IsEmpty; i++) offsets[i] = rowOffsets[i];
    }

    /// <summary>Requantizes ARM tile rows into bytes (see the file comment); row r goes to <c>Y + r·Ldy</c>.</summary>
    private unsafe struct ArmRequantizeRows : IArmTileSink
    {
        public byte* Y;
        public int Ldy;
        public int* Bias;
        public float* Multipliers;
        public int* Offsets;
        public int* Sums; // column sums from this tile's first column; null when every row offset is zero
        public Vector128<float> Low, High;
        public Vector128<int> ZeroPoint;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private readonly Vector128<int> Correct(int r, Vector128<int> v, int column)
        {
            v = AdvSimd.Add(v, Vector128.Create(Bias[r]));
            return Sums == null ? v : AdvSimd.MultiplySubtract(v, Vector128.Create(Offsets[r]), AdvSimd.LoadVector128(Sums + column));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly void Row16(int r, Vector128<int> v0, Vector128<int> v1, Vector128<int> v2, Vector128<int> v3)
        {
            var multiplier = Vector128.Create(Multipliers[r]);
            var q0 = QGemmRequantization.RequantizeLanes(Correct(r, v0, 0), multiplier, Low, High, ZeroPoint);
            var q1 = QGemmRequantization.RequantizeLanes(Correct(r, v1, 4), multiplier, Low, High, ZeroPoint);
            var q2 = QGemmRequantization.RequantizeLanes(Correct(r, v2, 8), multiplier, Low, High, ZeroPoint);
            var q3 = QGemmRequantization.RequantizeLanes(Correct(r, v3, 12), multiplier, Low, High, ZeroPoint);
            // Values lie in [-128, 255]: the low byte of each lane is the int8 (two's complement) or uint8 output.
            var h01 = AdvSimd.ExtractNarrowingUpper(AdvSimd.ExtractNarrowingLower(q0), q1);
            var h23 = AdvSimd.ExtractNarrowingUpper(AdvSimd.ExtractNarrowingLower(q2), q3);
            AdvSimd.Store(Y + (long)r * Ldy, AdvSimd.ExtractNarrowingUpper(AdvSimd.ExtractNarrowingLower(h01.AsUInt16()), h23.AsUInt16()));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly void Row4(int r, Vector128<int> v, int cols)
        {
            var q = QGemmRequantization.RequantizeLanes(Correct(r, v, 0), Vector128.Create(Multipliers[r]), Low, High, ZeroPoint);
            byte* row = Y + (long)r * Ldy;
            row[0] = (byte)q.GetElement(0);
            if (cols > 1) row[1] = (byte)q.GetElement(1);
            if (cols > 2) row[2] = (byte)q.GetElement(2);
            if (cols > 3) row[3] = (byte)q.GetElement(3);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void SetRows(ref ArmRequantizeRows s, byte* y, int ldy, int* bias, float* multipliers, int* offsets, int* sums, int i, int column)
    {
        s.Y = y + (long)i * ldy + column;
        s.Bias = bias + i;
        s.Multipliers = multipliers + i;
        s.Offsets = offsets + i;
        s.Sums = sums == null ? null : sums + column;
    }

    private static void MultiplyRequantizeArm(IsaPath isa, int m, int n, int k, ReadOnlySpan<sbyte> packedA, ReadOnlySpan<sbyte> b, int ldb,
        ReadOnlySpan<int> bias, ReadOnlySpan<float> multipliers, int yZeroPoint, int yMin, int yMax, Span<byte> y, int ldy, Span<int> scratch)
    {
        if (isa == IsaPath.Neon)
            MultiplyRequantizeArm<NeonMicrokernel>(m, n, k, packedA, PackedALengthNeon(m, k), b, ldb, bias, multipliers, yZeroPoint, yMin, yMax, y, ldy, scratch, ScratchLengthNeon(k));
        else
            MultiplyRequantizeArm<NeonDotMicrokernel>(m, n, k, packedA, PackedALengthNeonDot(m, k), b, ldb, bias, multipliers, yZeroPoint, yMin, yMax, y, ldy, scratch, ScratchLengthNeonDot(k));
    }

    /// <summary>The driver of <see cref="MultiplyArm{TKernel}"/> with the requantizing sink. Arguments are checked by the caller.</summary>
    private static unsafe void MultiplyRequantizeArm<TKernel>(int m, int n, int k, ReadOnlySpan<sbyte> packedA, int packedABase,
        ReadOnlySpan<sbyte> b, int ldb, ReadOnlySpan<int> bias, ReadOnlySpan<float> multipliers, int yZeroPoint, int yMin, int yMax,
        Span<byte> y, int ldy, Span<int> scratch, int panelInts)
        where TKernel : struct, IArmMicrokernel
    {
        int steps = (k + TKernel.Group - 1) / TKernel.Group;
        int blockStride = steps * TKernel.Group;
        var offsets = MemoryMarshal.Cast<sbyte, int>(packedA.Slice(packedABase, RoundUp(m, NeonRowBlock) * sizeof(int)));
        bool anyOffset = offsets[..m].ContainsAnyExcept(0);
        var sums = scratch.Slice(panelInts, n + 3);
        if (anyOffset)
        {
            ColumnSumsNeon(b, k, n, ldb, sums);
            sums[n..].Clear();
        }
        fixed (sbyte* pa = packedA)
        fixed (sbyte* pb = b)
        fixed (byte* py = y)
        fixed (int* pp = scratch)
        fixed (int* pBias = bias)
        fixed (float* pMultipliers = multipliers)
        fixed (int* pOffsets = offsets)
        {
            var panel = (sbyte*)pp;
            int* pSums = pp + panelInts;
            var sink = new ArmRequantizeRows
            {
                Low = Vector128.Create((float)(yMin - yZeroPoint)),
                High = Vector128.Create((float)(yMax - yZeroPoint)),
                ZeroPoint = Vector128.Create(yZeroPoint),
                Ldy = ldy,
            };
            int j = 0;
            for (; j + NeonColumnBlock <= n; j += NeonColumnBlock)
            {
                TKernel.PackPanel16(pb + j, ldb, k, panel);
                for (int i = 0; i < m; i += NeonRowBlock)
                {
                    SetRows(ref sink, py, ldy, pBias, pMultipliers, pOffsets, anyOffset ? pSums : null, i, j);
                    TKernel.Kernel4x16(pa + i * blockStride, panel, steps, sink, Math.Min(NeonRowBlock, m - i));
                }
            }
            for (; j < n; j += NeonNarrowColumnBlock)
            {
                int cols = Math.Min(NeonNarrowColumnBlock, n - j);
                PackBPanelGeneric(pb + j, ldb, k, cols, NeonNarrowColumnBlock, TKernel.Group, panel);
                for (int i = 0; i < m; i += NeonRowBlock)
                {
                    SetRows(ref sink, py, ldy, pBias, pMultipliers, pOffsets, anyOffset ? pSums : null, i, j);
                    TKernel.Kernel4x4(pa + i * blockStride, panel, steps, sink, Math.Min(NeonRowBlock, m - i), cols);
                }
            }
        }
    }
}
