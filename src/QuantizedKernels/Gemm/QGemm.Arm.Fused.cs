using EdgeRuntime.Kernels.Common;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;

namespace EdgeRuntime.Kernels.Gemm;

// Fused GEMM + requantization on the ARM paths (Neon: SMULL/SADALP, NeonDot: SDOT). The microkernels multiply int8
// weights, so the weight zero points cannot all be folded into them as on AVX2 (w - wz may need 9 bits). Instead each
// row i is packed as a - c[i] with a per-row shift c[i] chosen at pack time so that a - c[i] stays in int8 (Neon:
// in [-127, 127], so two products fit one int16 lane), preferring c[i] = wz[i]; the rest, wz[i] - c[i] (zero for
// almost every row of real models), is the row offset the epilogue subtracts as offset·colsum[column] (only when some
// offset is non-zero: the column sums of B are then taken while packing each panel, from the values the packing
// loads anyway). Exact because
// Σ (a - wz)·b = Σ (a - c)·b - (wz - c)·Σ b in wrapping int32 arithmetic.
// The accumulators start at the bias. Epilogue per accumulator row, in registers: MLS offset·colsum when the row's
// offset is non-zero, SCVTF, FMUL, FCVTNS (round half to even; NaN → 0 and ±∞ → int32 limits, exactly what the
// scalar clamp of NaN to 0 and of ±∞ to the bounds gives after the final clamp), SQXTN to int16, SQADD the zero
// point, SMAX/SMIN against [yMin, yMax], XTN to the stored byte. Clamping after rounding equals the scalar
// clamp-then-round because the bounds are integers and rounding is monotone; the saturations only touch values far
// outside [yMin, yMax] ⊂ [-128, 255].
//
// Packed A with row offsets: [the path's ordinary packed A of the shifted rows][RoundUp(M, 4) int32 row offsets]
// [4 int32: flag 1 when every packed value lies in [-127, 127]; flag 1 when any row offset is not 0; then 2 zeros].
// Both flags are decided once here, at load, so a run does not scan the weights or the offsets.
// Scratch: [16 bytes of slack][the path's B panel][n + 3 int32 column sums (a 4-column tail panel writes 4 sums, zero
// past n, which its tiles read)]. The slack lets the Neon kernel load 8 bytes before the panel (see KernelNeon4x16Paired).
public static partial class QGemm
{
    private const int ArmPanelSlackInts = 4;

    private static int ArmFusedPackedALength(IsaPath isa, int m, int k) =>
        checked((isa == IsaPath.Neon ? PackedALengthNeon(m, k) : PackedALengthNeonDot(m, k)) + RoundUp(m, NeonRowBlock) * sizeof(int) + 4 * sizeof(int));

    private static int ArmFusedScratchLength(IsaPath isa, int n, int k) =>
        checked(ArmPanelSlackInts + (isa == IsaPath.Neon ? ScratchLengthNeon(k) : ScratchLengthNeonDot(k)) + n + 3);

    private static void PackAWithRowOffsetsArm(IsaPath isa, ReadOnlySpan<sbyte> a, int m, int k, ReadOnlySpan<int> rowOffsets, Span<sbyte> packed)
    {
        int baseLength = isa == IsaPath.Neon ? PackedALengthNeon(m, k) : PackedALengthNeonDot(m, k);
        int offsetsLength = RoundUp(m, NeonRowBlock);
        if (packed.Length < ArmFusedPackedALength(isa, m, k)) throw new ArgumentException($"packed holds {packed.Length} values, fewer than {ArmFusedPackedALength(isa, m, k)}", nameof(packed));
        if (a.Length < m * k) throw new ArgumentException($"a holds {a.Length} values, fewer than m*k = {m * k}", nameof(a));
        var offsets = MemoryMarshal.Cast<sbyte, int>(packed.Slice(baseLength, (offsetsLength + 4) * sizeof(int)));
        offsets.Clear();
        // Lowest packed value allowed: the Neon kernel adds two products per int16 lane only without -128.
        int lowest = isa == IsaPath.Neon ? -127 : -128;
        bool noMinus128 = true;
        for (int i = 0; i < m; i++)
        {
            int wz = rowOffsets.IsEmpty ? 0 : rowOffsets[i];
            int min = 0, max = 0;
            if (k > 0)
            {
                var row = a.Slice(i * k, k);
                min = max = row[0];
                foreach (sbyte v in row) { min = Math.Min(min, v); max = Math.Max(max, v); }
                _ = checked((short)(min - wz)); // the documented contract: each a - offset fits in int16
                _ = checked((short)(max - wz));
            }
            // Shifts c with a - c in [lowest, 127]: c in [max - 127, min - lowest]; empty only when a row holds both
            // -128 and 127 on Neon, which then keeps c = 0 and the one-product-per-lane kernel.
            int cLow = max - 127, cHigh = min - lowest;
            int shift = cLow <= cHigh ? Math.Clamp(wz, cLow, cHigh) : 0;
            if (min - shift < -127) noMinus128 = false;
            offsets[i] = shift; // the shifts first; replaced by the remaining offsets after packing
        }
        PackAInterleaved(a, m, k, NeonRowBlock, isa == IsaPath.Neon ? 2 : 4, packed, baseLength, offsets[..m]);
        for (int i = 0; i < m; i++) offsets[i] = (rowOffsets.IsEmpty ? 0 : rowOffsets[i]) - offsets[i];
        offsets[offsetsLength] = noMinus128 ? 1 : 0;
        offsets[offsetsLength + 1] = offsets[..m].ContainsAnyExcept(0) ? 1 : 0;
    }

    /// <summary>The output type and whether a fused activation narrows the clamp, fixed per sink type at compile time.</summary>
    private interface IArmOutputKind
    {
        /// <summary>int8 output (else uint8).</summary>
        static abstract bool Signed { get; }
        /// <summary>[yMin, yMax] is narrower than the output type's range, so bytes are clamped after the saturating narrow.</summary>
        static abstract bool Clamp { get; }
    }

    private readonly struct Int8Output : IArmOutputKind { public static bool Signed => true; public static bool Clamp => false; }
    private readonly struct Int8ClampedOutput : IArmOutputKind { public static bool Signed => true; public static bool Clamp => true; }
    private readonly struct UInt8Output : IArmOutputKind { public static bool Signed => false; public static bool Clamp => false; }
    private readonly struct UInt8ClampedOutput : IArmOutputKind { public static bool Signed => false; public static bool Clamp => true; }

    /// <summary>Whether the sink subtracts row offset · column sum (some row of the layer has a non-zero offset), fixed per sink type.</summary>
    private interface IArmRowOffsets
    {
        static abstract bool Present { get; }
    }

    private readonly struct NoRowOffsets : IArmRowOffsets { public static bool Present => false; }
    private readonly struct WithRowOffsets : IArmRowOffsets { public static bool Present => true; }

    /// <summary>
    /// Requantizes ARM tile rows into bytes (see the file comment); row r goes to <c>Y + r·Ldy</c>. After the
    /// saturating narrow to int16 and the zero point, values are narrowed to the output type with saturation and, when
    /// a fused activation narrows [yMin, yMax], clamped as bytes: the same result as clamping the int16 values, since
    /// saturation is monotone and [yMin, yMax] lies inside the output type. <typeparamref name="TOffsets"/> says whether
    /// <see cref="Sums"/> is set (some row offset is non-zero); without offsets the epilogue has no per-row test.
    /// </summary>
    private unsafe struct ArmRequantizeRows<TOutput, TOffsets> : IArmTileSink
        where TOutput : struct, IArmOutputKind
        where TOffsets : struct, IArmRowOffsets
    {
        public byte* Y;
        public long Ldy;
        public int* Bias;
        public float* Multipliers;
        public int* Offsets;
        public int* Sums; // column sums from this tile's first column; only read when TOffsets.Present
        public Vector128<short> ZeroPoint;
        public Vector128<byte> Min, Max; // the clamp bounds as bytes of the output type

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly Vector128<int> Initial(int r) => Vector128.Create(Bias[r]);

        // Only called for full 4-row blocks, so the 4 biases are all in range.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly Vector128<int> Initial4() => AdvSimd.LoadVector128(Bias);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void NextBlock()
        {
            Y += NeonRowBlock * Ldy;
            Bias += NeonRowBlock;
            Multipliers += NeonRowBlock;
            if (TOffsets.Present) Offsets += NeonRowBlock;
        }

        /// <summary>int32 lanes → saturated int16, + zero point (saturating).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private readonly Vector128<short> Narrow(Vector128<int> low, Vector128<int> high) =>
            AdvSimd.AddSaturate(AdvSimd.ExtractNarrowingSaturateUpper(AdvSimd.ExtractNarrowingSaturateLower(low), high), ZeroPoint);

        /// <summary>int16 lanes → output bytes: saturating narrow to the output type, then the clamp when there is one.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private readonly Vector128<byte> ToBytes(Vector128<short> low, Vector128<short> high)
        {
            if (TOutput.Signed)
            {
                var bytes = AdvSimd.ExtractNarrowingSaturateUpper(AdvSimd.ExtractNarrowingSaturateLower(low), high);
                if (TOutput.Clamp) bytes = AdvSimd.Min(AdvSimd.Max(bytes, Min.AsSByte()), Max.AsSByte());
                return bytes.AsByte();
            }
            var unsignedBytes = AdvSimd.ExtractNarrowingSaturateUnsignedUpper(AdvSimd.ExtractNarrowingSaturateUnsignedLower(low), high);
            return TOutput.Clamp ? AdvSimd.Min(AdvSimd.Max(unsignedBytes, Min), Max) : unsignedBytes;
        }

        /// <summary>SCVTF, FMUL by lane <paramref name="lane"/> of <paramref name="multipliers"/>, FCVTNS.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector128<int> Scale(Vector128<int> v, Vector128<float> multipliers, [ConstantExpected(Max = (byte)3)] byte lane) =>
            AdvSimd.ConvertToInt32RoundToEven(AdvSimd.MultiplyBySelectedScalar(AdvSimd.ConvertToSingle(v), multipliers, lane));

        /// <summary>16 requantized bytes of one row, its multiplier in lane <paramref name="lane"/>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private readonly void Store16(byte* row, Vector128<int> v0, Vector128<int> v1, Vector128<int> v2, Vector128<int> v3,
            Vector128<float> multipliers, [ConstantExpected(Max = (byte)3)] byte lane)
        {
            var h01 = Narrow(Scale(v0, multipliers, lane), Scale(v1, multipliers, lane));
            var h23 = Narrow(Scale(v2, multipliers, lane), Scale(v3, multipliers, lane));
            AdvSimd.Store(row, ToBytes(h01, h23));
        }

        /// <summary>
        /// One row of 16 accumulators: with row offsets, a row whose offset is non-zero takes its own copy of the
        /// epilogue (MLS first) rather than reassigning the accumulators, which would make the register allocator copy
        /// all four accumulators of every row to join the two paths.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private readonly void Row16(byte* row, int r, Vector128<int> v0, Vector128<int> v1, Vector128<int> v2, Vector128<int> v3,
            Vector128<float> multipliers, [ConstantExpected(Max = (byte)3)] byte lane)
        {
            if (TOffsets.Present)
            {
                int offset = Offsets[r];
                if (offset != 0)
                {
                    var o = Vector128.Create(offset);
                    Store16(row, AdvSimd.MultiplySubtract(v0, o, AdvSimd.LoadVector128(Sums)), AdvSimd.MultiplySubtract(v1, o, AdvSimd.LoadVector128(Sums + 4)),
                        AdvSimd.MultiplySubtract(v2, o, AdvSimd.LoadVector128(Sums + 8)), AdvSimd.MultiplySubtract(v3, o, AdvSimd.LoadVector128(Sums + 12)),
                        multipliers, lane);
                    return;
                }
            }
            Store16(row, v0, v1, v2, v3, multipliers, lane);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly void Row16(int r, Vector128<int> v0, Vector128<int> v1, Vector128<int> v2, Vector128<int> v3) =>
            Row16(Y + r * Ldy, r, v0, v1, v2, v3, AdvSimd.LoadAndReplicateToVector128(Multipliers + r), 0);

        // Full block: one load of the 4 multipliers (FMUL by lane) and a row pointer stepped by Ldy.
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly void Tile16(Vector128<int> c00, Vector128<int> c01, Vector128<int> c02, Vector128<int> c03,
            Vector128<int> c10, Vector128<int> c11, Vector128<int> c12, Vector128<int> c13,
            Vector128<int> c20, Vector128<int> c21, Vector128<int> c22, Vector128<int> c23,
            Vector128<int> c30, Vector128<int> c31, Vector128<int> c32, Vector128<int> c33)
        {
            var multipliers = AdvSimd.LoadVector128(Multipliers);
            byte* row = Y;
            // Row offsets are rare even in layers that have some: one test of the block's 4 offsets (two 64-bit words)
            // sends blocks without any to the plain epilogue instead of testing each row.
            if (TOffsets.Present && (((long*)Offsets)[0] | ((long*)Offsets)[1]) != 0)
            {
                Row16(row, 0, c00, c01, c02, c03, multipliers, 0);
                row += Ldy;
                Row16(row, 1, c10, c11, c12, c13, multipliers, 1);
                row += Ldy;
                Row16(row, 2, c20, c21, c22, c23, multipliers, 2);
                row += Ldy;
                Row16(row, 3, c30, c31, c32, c33, multipliers, 3);
                return;
            }
            Store16(row, c00, c01, c02, c03, multipliers, 0);
            row += Ldy;
            Store16(row, c10, c11, c12, c13, multipliers, 1);
            row += Ldy;
            Store16(row, c20, c21, c22, c23, multipliers, 2);
            row += Ldy;
            Store16(row, c30, c31, c32, c33, multipliers, 3);
        }

        /// <summary>
        /// One output column of a full 4-row block: lane r of <paramref name="v"/> (bias and row offset already applied)
        /// is row r's value, scaled by row r's multiplier and stored at <c>Y + r·Ldy</c>.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly void Column4(Vector128<int> v)
        {
            var q = AdvSimd.ConvertToInt32RoundToEven(AdvSimd.Multiply(AdvSimd.ConvertToSingle(v), AdvSimd.LoadVector128(Multipliers)));
            var h = Narrow(q, q);
            var bytes = ToBytes(h, h);
            byte* row = Y;
            AdvSimd.StoreSelectedScalar(row, bytes, 0);
            row += Ldy;
            AdvSimd.StoreSelectedScalar(row, bytes, 1);
            row += Ldy;
            AdvSimd.StoreSelectedScalar(row, bytes, 2);
            row += Ldy;
            AdvSimd.StoreSelectedScalar(row, bytes, 3);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly void Row4(int r, Vector128<int> v, int cols)
        {
            if (TOffsets.Present)
            {
                int offset = Offsets[r];
                if (offset != 0) v = AdvSimd.MultiplySubtract(v, Vector128.Create(offset), AdvSimd.LoadVector128(Sums));
            }
            var q = Scale(v, Vector128.Create(Multipliers[r]), 0);
            var h = Narrow(q, q);
            var bytes = ToBytes(h, h);
            byte* row = Y + r * Ldy;
            if (cols == 4)
            {
                AdvSimd.StoreSelectedScalar((uint*)row, bytes.AsUInt32(), 0); // the 4 bytes at once (ST1 of one lane)
                return;
            }
            row[0] = bytes.GetElement(0);
            if (cols > 1) row[1] = bytes.GetElement(1);
            if (cols > 2) row[2] = bytes.GetElement(2);
            if (cols > 3) row[3] = bytes.GetElement(3);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void SetRows<TOutput, TOffsets>(ref ArmRequantizeRows<TOutput, TOffsets> s, byte* y, long ldy, int* bias, float* multipliers, int* offsets, int* sums, int i, int column)
        where TOutput : struct, IArmOutputKind
        where TOffsets : struct, IArmRowOffsets
    {
        s.Y = y + i * ldy + column;
        s.Bias = bias + i;
        s.Multipliers = multipliers + i;
        s.Offsets = offsets + i;
        s.Sums = sums + column;
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
    private static void MultiplyRequantizeArm<TKernel>(int m, int n, int k, ReadOnlySpan<sbyte> packedA, int packedABase,
        ReadOnlySpan<sbyte> b, int ldb, ReadOnlySpan<int> bias, ReadOnlySpan<float> multipliers, int yZeroPoint, int yMin, int yMax,
        Span<byte> y, int ldy, Span<int> scratch, int panelInts)
        where TKernel : struct, IArmMicrokernel
    {
        // [yMin, yMax] lies in int8 or in uint8; a range inside [0, 127] is the same bytes either way.
        bool signed = yMin < 0;
        bool clamp = signed ? yMin > sbyte.MinValue || yMax < sbyte.MaxValue : yMin > byte.MinValue || yMax < byte.MaxValue;
        if (signed && clamp) MultiplyRequantizeArm<TKernel, Int8ClampedOutput>(m, n, k, packedA, packedABase, b, ldb, bias, multipliers, yZeroPoint, yMin, yMax, y, ldy, scratch, panelInts);
        else if (signed) MultiplyRequantizeArm<TKernel, Int8Output>(m, n, k, packedA, packedABase, b, ldb, bias, multipliers, yZeroPoint, yMin, yMax, y, ldy, scratch, panelInts);
        else if (clamp) MultiplyRequantizeArm<TKernel, UInt8ClampedOutput>(m, n, k, packedA, packedABase, b, ldb, bias, multipliers, yZeroPoint, yMin, yMax, y, ldy, scratch, panelInts);
        else MultiplyRequantizeArm<TKernel, UInt8Output>(m, n, k, packedA, packedABase, b, ldb, bias, multipliers, yZeroPoint, yMin, yMax, y, ldy, scratch, panelInts);
    }

    private static void MultiplyRequantizeArm<TKernel, TOutput>(int m, int n, int k, ReadOnlySpan<sbyte> packedA, int packedABase,
        ReadOnlySpan<sbyte> b, int ldb, ReadOnlySpan<int> bias, ReadOnlySpan<float> multipliers, int yZeroPoint, int yMin, int yMax,
        Span<byte> y, int ldy, Span<int> scratch, int panelInts)
        where TKernel : struct, IArmMicrokernel
        where TOutput : struct, IArmOutputKind
    {
        var offsets = MemoryMarshal.Cast<sbyte, int>(packedA.Slice(packedABase, (RoundUp(m, NeonRowBlock) + 4) * sizeof(int)));
        if (offsets[RoundUp(m, NeonRowBlock) + 1] != 0) // any row offset (flag set by PackAWithRowOffsetsArm)
            MultiplyRequantizeArm<TKernel, TOutput, WithRowOffsets>(m, n, k, packedA, offsets, b, ldb, bias, multipliers, yZeroPoint, yMin, yMax, y, ldy, scratch, panelInts);
        else
            MultiplyRequantizeArm<TKernel, TOutput, NoRowOffsets>(m, n, k, packedA, offsets, b, ldb, bias, multipliers, yZeroPoint, yMin, yMax, y, ldy, scratch, panelInts);
    }

    private static unsafe void MultiplyRequantizeArm<TKernel, TOutput, TOffsets>(int m, int n, int k, ReadOnlySpan<sbyte> packedA, ReadOnlySpan<int> offsets,
        ReadOnlySpan<sbyte> b, int ldb, ReadOnlySpan<int> bias, ReadOnlySpan<float> multipliers, int yZeroPoint, int yMin, int yMax,
        Span<byte> y, int ldy, Span<int> scratch, int panelInts)
        where TKernel : struct, IArmMicrokernel
        where TOutput : struct, IArmOutputKind
        where TOffsets : struct, IArmRowOffsets
    {
        int steps = (k + TKernel.Group - 1) / TKernel.Group;
        int blockStride = steps * TKernel.Group;
        bool noMinus128 = offsets[RoundUp(m, NeonRowBlock)] != 0;
        fixed (sbyte* pa = packedA)
        fixed (sbyte* pb = b)
        fixed (byte* py = y)
        fixed (int* pp = scratch)
        fixed (int* pBias = bias)
        fixed (float* pMultipliers = multipliers)
        fixed (int* pOffsets = offsets)
        {
            var panel = (sbyte*)(pp + ArmPanelSlackInts);
            int* pSums = pp + ArmPanelSlackInts + panelInts;
            var sink = new ArmRequantizeRows<TOutput, TOffsets>
            {
                ZeroPoint = Vector128.Create((short)yZeroPoint),
                Min = TOutput.Signed ? Vector128.Create((sbyte)yMin).AsByte() : Vector128.Create((byte)yMin),
                Max = TOutput.Signed ? Vector128.Create((sbyte)yMax).AsByte() : Vector128.Create((byte)yMax),
                Ldy = ldy,
            };
            int j = 0;
            for (; j + NeonColumnBlock <= n; j += NeonColumnBlock)
            {
                // With row offsets the panel's 16 column sums are taken while packing (B is read once).
                if (TOffsets.Present) TKernel.PackPanel16WithSums(pb + j, ldb, k, panel, pSums + j);
                else TKernel.PackPanel16(pb + j, ldb, k, panel);
                SetRows(ref sink, py, ldy, pBias, pMultipliers, pOffsets, pSums, 0, j);
                TKernel.Kernel4x16(pa, panel, steps, sink, m, NeonRowBlock * blockStride, noMinus128);
            }
            for (; j < n; j += NeonNarrowColumnBlock)
            {
                int cols = Math.Min(NeonNarrowColumnBlock, n - j);
                if (cols == 1)
                {
                    // A single last column (N = 49, or a dense layer's N = 1) as a matrix-vector product instead of a
                    // 4-column tile of which three columns are padding.
                    int columnSum = PackColumn(pb + j, ldb, k, TKernel.Group, panel);
                    // Full 4-row blocks requantize the 4 row sums as one vector (the sink's arithmetic); the last
                    // rows use the scalar definition.
                    SetRows(ref sink, py, ldy, pBias, pMultipliers, pOffsets, pSums, 0, j);
                    int fullRows = m & ~(NeonRowBlock - 1);
                    for (int i = 0; i < fullRows; i += NeonRowBlock, sink.NextBlock())
                    {
                        var v = AdvSimd.Add(TKernel.Column(pa + i * blockStride, panel, steps, noMinus128), sink.Initial4());
                        if (TOffsets.Present) v = AdvSimd.MultiplySubtract(v, AdvSimd.LoadVector128(pOffsets + i), Vector128.Create(columnSum));
                        sink.Column4(v);
                    }
                    for (int i = fullRows; i < m; i += NeonRowBlock)
                    {
                        var rowSums = TKernel.Column(pa + i * blockStride, panel, steps, noMinus128);
                        for (int r = 0; r < Math.Min(NeonRowBlock, m - i); r++)
                        {
                            int acc = unchecked(rowSums.GetElement(r) + pBias[i + r] - pOffsets[i + r] * columnSum);
                            py[(long)(i + r) * ldy + j] = (byte)Requantization.Requantize(acc, pMultipliers[i + r], yZeroPoint, yMin, yMax);
                        }
                    }
                    break;
                }
                PackBPanel4(pb + j, ldb, k, cols, TKernel.Group, panel, TOffsets.Present ? pSums + j : null);
                for (int i = 0; i < m; i += NeonRowBlock)
                {
                    SetRows(ref sink, py, ldy, pBias, pMultipliers, pOffsets, pSums, i, j);
                    TKernel.Kernel4x4(pa + i * blockStride, panel, steps, sink, Math.Min(NeonRowBlock, m - i), cols, noMinus128);
                }
            }
        }
    }
}
