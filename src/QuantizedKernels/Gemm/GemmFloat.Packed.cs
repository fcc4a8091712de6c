using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace EdgeRuntime.Kernels.Gemm;

/// <summary>
/// What happens to each accumulated dot product before it is stored:
/// <c>c = clamp(Alpha * dot + RowBias[row] + (Accumulate ? c : 0), Min, Max)</c>.
/// <see cref="RowBias"/> may be empty (no bias); <see cref="Min"/>/<see cref="Max"/> default to ±infinity.
/// </summary>
public readonly ref struct GemmFloatEpilogue
{
    /// <summary>Creates the identity epilogue (<c>c = dot</c>).</summary>
    public GemmFloatEpilogue() { }

    /// <summary>Scale applied to the dot product.</summary>
    public float Alpha { get; init; } = 1f;
    /// <summary>Per-output-row bias (indexed by the row of C, relative to row 0 of this multiply); empty for none.</summary>
    public ReadOnlySpan<float> RowBias { get; init; }
    /// <summary>Adds the product onto the existing contents of C instead of overwriting them.</summary>
    public bool Accumulate { get; init; }
    /// <summary>Lower clamp (e.g. 0 for a fused Relu).</summary>
    public float Min { get; init; } = float.NegativeInfinity;
    /// <summary>Upper clamp.</summary>
    public float Max { get; init; } = float.PositiveInfinity;
}

/// <summary>
/// Vectorized float32 matrix product <c>C[m,n] = A[m,k] · B[k,n]</c> over pre-packed operands.
/// <para>
/// Packed A (<see cref="PackA"/>): row blocks of <see cref="RowBlock"/> rows; block <c>rb</c> holds
/// <c>k</c> groups of <see cref="RowBlock"/> floats: <c>packedA[(rb*k + p)*RowBlock + r] = A[rb*RowBlock + r, p]</c>,
/// zero for rows past <c>m</c>.
/// </para>
/// <para>
/// Packed B (<see cref="PackB"/>): column panels of <see cref="ColumnBlock"/> columns; panel <c>cp</c> holds
/// <c>k</c> rows of <see cref="ColumnBlock"/> floats: <c>packedB[(cp*k + p)*ColumnBlock + j] = B[p, cp*ColumnBlock + j]</c>,
/// zero for columns past <c>n</c>. Conv writes this layout directly from im2col, one panel at a time.
/// </para>
/// The micro-kernel keeps a RowBlock × ColumnBlock tile of C in 8 vector registers and streams
/// one packed row of each operand per step of k, so both operands are read contiguously.
/// </summary>
public static class GemmFloatPacked
{
    /// <summary>Rows of C computed together (MR).</summary>
    public const int RowBlock = 4;

    /// <summary>Columns of C computed together (NR): two hardware vectors.</summary>
    public static int ColumnBlock => 2 * Vector<float>.Count;

    /// <summary>Floats needed for packed A.</summary>
    public static int PackedALength(int m, int k) => RoundUp(m, RowBlock) * k;

    /// <summary>Floats needed for packed B.</summary>
    public static int PackedBLength(int k, int n) => RoundUp(n, ColumnBlock) * k;

    /// <summary>Rounds <paramref name="value"/> up to a multiple of <paramref name="multiple"/>.</summary>
    public static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;

    /// <summary>
    /// Packs A (<c>a[i*lda + p]</c>, or <c>a[p*lda + i]</c> when <paramref name="transposeA"/>) into the
    /// row-block layout described on the class.
    /// </summary>
    public static void PackA(ReadOnlySpan<float> a, int lda, bool transposeA, int m, int k, Span<float> packedA)
    {
        if (packedA.Length < PackedALength(m, k)) throw new ArgumentException("packedA is too small", nameof(packedA));
        int blocks = (m + RowBlock - 1) / RowBlock;
        for (int rb = 0; rb < blocks; rb++)
        {
            var block = packedA.Slice(rb * k * RowBlock, k * RowBlock);
            for (int r = 0; r < RowBlock; r++)
            {
                int row = rb * RowBlock + r;
                if (row >= m)
                {
                    for (int p = 0; p < k; p++) block[p * RowBlock + r] = 0f;
                }
                else if (transposeA)
                {
                    for (int p = 0; p < k; p++) block[p * RowBlock + r] = a[p * lda + row];
                }
                else
                {
                    var source = a.Slice(row * lda, k);
                    for (int p = 0; p < k; p++) block[p * RowBlock + r] = source[p];
                }
            }
        }
    }

    /// <summary>
    /// Packs B (<c>b[p*ldb + j]</c>, or <c>b[j*ldb + p]</c> when <paramref name="transposeB"/>) into the
    /// column-panel layout described on the class.
    /// </summary>
    public static void PackB(ReadOnlySpan<float> b, int ldb, bool transposeB, int k, int n, Span<float> packedB)
    {
        int nr = ColumnBlock;
        if (packedB.Length < PackedBLength(k, n)) throw new ArgumentException("packedB is too small", nameof(packedB));
        int panels = (n + nr - 1) / nr;
        for (int cp = 0; cp < panels; cp++)
        {
            int col0 = cp * nr;
            int cols = Math.Min(nr, n - col0);
            var panel = packedB.Slice(cp * k * nr, k * nr);
            for (int p = 0; p < k; p++)
            {
                var dst = panel.Slice(p * nr, nr);
                if (transposeB)
                {
                    for (int j = 0; j < cols; j++) dst[j] = b[(col0 + j) * ldb + p];
                }
                else
                {
                    b.Slice(p * ldb + col0, cols).CopyTo(dst);
                }
                dst.Slice(cols).Clear();
            }
        }
    }

    /// <summary>
    /// Computes C (row-major, row stride <paramref name="ldc"/>) from packed A and packed B, applying
    /// <paramref name="epilogue"/>. Only the <paramref name="m"/> × <paramref name="n"/> region is written.
    /// </summary>
    public static void Multiply(int m, int n, int k, ReadOnlySpan<float> packedA, ReadOnlySpan<float> packedB, Span<float> c, int ldc, in GemmFloatEpilogue epilogue)
    {
        int nr = ColumnBlock;
        if (packedA.Length < PackedALength(m, k) || packedB.Length < PackedBLength(k, n)) throw new ArgumentException("packed operand too small");
        int panels = (n + nr - 1) / nr;
        for (int cp = 0; cp < panels; cp++)
        {
            int col0 = cp * nr;
            MultiplyPanel(m, k, packedA, packedB.Slice(cp * k * nr, k * nr), c, ldc, col0, Math.Min(nr, n - col0), epilogue);
        }
    }

    /// <summary>
    /// Computes the columns <c>[column, column + columns)</c> of C from packed A and ONE packed B panel
    /// (<c>k × ColumnBlock</c> floats, see the class remarks). <paramref name="columns"/> ≤ <see cref="ColumnBlock"/>.
    /// </summary>
    public static void MultiplyPanel(int m, int k, ReadOnlySpan<float> packedA, ReadOnlySpan<float> panel, Span<float> c, int ldc, int column, int columns, in GemmFloatEpilogue epilogue)
    {
        int nr = ColumnBlock;
        if (panel.Length < k * nr || packedA.Length < PackedALength(m, k) || columns > nr) throw new ArgumentException("operand too small");
        if (m > 0 && c.Length < (m - 1) * ldc + column + columns) throw new ArgumentException("C is too small", nameof(c));
        ref float b = ref MemoryMarshal.GetReference(panel);
        for (int row0 = 0; row0 < m; row0 += RowBlock)
        {
            ref float a = ref Unsafe.Add(ref MemoryMarshal.GetReference(packedA), row0 * k);
            MicroKernel(k, ref a, ref b, c, row0, Math.Min(RowBlock, m - row0), ldc, column, columns, epilogue);
        }
    }

    /// <summary>One RowBlock × ColumnBlock tile of C.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MicroKernel(int k, ref float a, ref float b, Span<float> c, int row0, int rows, int ldc, int column, int columns, in GemmFloatEpilogue epilogue)
    {
        int vc = Vector<float>.Count;
        Vector<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector<float> c20 = default, c21 = default, c30 = default, c31 = default;
        for (int p = 0; p < k; p++)
        {
            var b0 = Vector.LoadUnsafe(ref b);
            var b1 = Vector.LoadUnsafe(ref b, (nuint)vc);
            var a0 = new Vector<float>(a);
            c00 = Vector.MultiplyAddEstimate(a0, b0, c00);
            c01 = Vector.MultiplyAddEstimate(a0, b1, c01);
            var a1 = new Vector<float>(Unsafe.Add(ref a, 1));
            c10 = Vector.MultiplyAddEstimate(a1, b0, c10);
            c11 = Vector.MultiplyAddEstimate(a1, b1, c11);
            var a2 = new Vector<float>(Unsafe.Add(ref a, 2));
            c20 = Vector.MultiplyAddEstimate(a2, b0, c20);
            c21 = Vector.MultiplyAddEstimate(a2, b1, c21);
            var a3 = new Vector<float>(Unsafe.Add(ref a, 3));
            c30 = Vector.MultiplyAddEstimate(a3, b0, c30);
            c31 = Vector.MultiplyAddEstimate(a3, b1, c31);
            a = ref Unsafe.Add(ref a, RowBlock);
            b = ref Unsafe.Add(ref b, 2 * vc);
        }
        StoreRow(c, row0, ldc, column, columns, c00, c01, epilogue);
        if (rows > 1) StoreRow(c, row0 + 1, ldc, column, columns, c10, c11, epilogue);
        if (rows > 2) StoreRow(c, row0 + 2, ldc, column, columns, c20, c21, epilogue);
        if (rows > 3) StoreRow(c, row0 + 3, ldc, column, columns, c30, c31, epilogue);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow(Span<float> c, int row, int ldc, int column, int columns, Vector<float> lo, Vector<float> hi, in GemmFloatEpilogue epilogue)
    {
        int vc = Vector<float>.Count;
        var alpha = new Vector<float>(epilogue.Alpha);
        var offset = epilogue.RowBias.IsEmpty ? Vector<float>.Zero : new Vector<float>(epilogue.RowBias[row]);
        lo = lo * alpha + offset;
        hi = hi * alpha + offset;
        var destination = c.Slice(row * ldc + column, columns);
        if (columns == 2 * vc)
        {
            ref float d = ref MemoryMarshal.GetReference(destination);
            if (epilogue.Accumulate)
            {
                lo += Vector.LoadUnsafe(ref d);
                hi += Vector.LoadUnsafe(ref d, (nuint)vc);
            }
            lo = Clamp(lo, epilogue);
            hi = Clamp(hi, epilogue);
            lo.StoreUnsafe(ref d);
            hi.StoreUnsafe(ref d, (nuint)vc);
        }
        else
        {
            Span<float> tile = stackalloc float[2 * vc];
            lo.CopyTo(tile);
            hi.CopyTo(tile.Slice(vc));
            for (int j = 0; j < columns; j++)
            {
                float v = tile[j] + (epilogue.Accumulate ? destination[j] : 0f);
                destination[j] = Math.Clamp(v, epilogue.Min, epilogue.Max);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<float> Clamp(Vector<float> v, in GemmFloatEpilogue epilogue)
    {
        if (epilogue.Min != float.NegativeInfinity) v = Vector.Max(v, new Vector<float>(epilogue.Min));
        if (epilogue.Max != float.PositiveInfinity) v = Vector.Min(v, new Vector<float>(epilogue.Max));
        return v;
    }
}
