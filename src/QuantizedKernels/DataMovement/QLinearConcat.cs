using EdgeRuntime.Kernels.Common;

namespace EdgeRuntime.Kernels.DataMovement;

/// <summary>
/// com.microsoft QLinearConcat, following ONNX Runtime: every input k is requantized from its own
/// (scale_k, zero_point_k) to the output's (yScale, yZeroPoint) and copied into its slot of the output (layout as
/// <see cref="ConcatReference"/>). Per stored byte b of input k:
/// <code>
/// y = clamp(RoundHalfToEven((scale_k * (float)(Value(b) - zero_point_k)) / yScale) + yZeroPoint, min, max)   (float32)
/// </code>
/// which depends on b alone, so it is a 256-entry table (the same table ORT builds with its identity
/// <c>QlinearBuildLookupTable</c>); an input whose scale and zero point equal the output's is copied unchanged.
/// The table is exact, so this is both the definition and the fast kernel.
/// </summary>
public static class QLinearConcat
{
    /// <summary>
    /// Fills <paramref name="table"/> (256 bytes) with the requantization of one input; returns false when the
    /// input's parameters equal the output's, so the input is copied and the table is not needed.
    /// </summary>
    public static bool BuildTable(Span<byte> table, bool signed, float xScale, int xZeroPoint, float yScale, int yZeroPoint)
    {
        if (xScale == yScale && xZeroPoint == yZeroPoint) return false;
        int min = Requantization.MinOf(signed), max = Requantization.MaxOf(signed);
        for (int b = 0; b < 256; b++)
        {
            float dequantized = xScale * (QuantizedByte.Value((byte)b, signed) - xZeroPoint);
            table[b] = (byte)Requantization.Quantize(dequantized, yScale, yZeroPoint, min, max);
        }
        return true;
    }

    /// <summary>
    /// Writes one input into its slot of the output: row o of the input (<paramref name="inputRowLength"/> bytes)
    /// goes to output row o at <paramref name="outputColumnOffset"/>, through <paramref name="table"/> when it is not
    /// empty (<c>y = table[x]</c>), else copied.
    /// </summary>
    /// <param name="input">The input, <paramref name="outerCount"/>·<paramref name="inputRowLength"/> bytes.</param>
    /// <param name="table">256 bytes from <see cref="BuildTable"/>, or empty for a plain copy.</param>
    /// <param name="output">The whole output, <paramref name="outerCount"/>·<paramref name="outputRowLength"/> bytes.</param>
    /// <param name="outerCount">Product of the dims before the axis.</param>
    /// <param name="inputRowLength">This input's axis dim · inner.</param>
    /// <param name="outputRowLength">Output axis dim · inner.</param>
    /// <param name="outputColumnOffset">Σ of the previous inputs' row lengths.</param>
    public static void CopyInput(ReadOnlySpan<byte> input, ReadOnlySpan<byte> table, Span<byte> output,
        int outerCount, int inputRowLength, int outputRowLength, int outputColumnOffset)
    {
        if (table.IsEmpty)
        {
            ConcatReference.CopyInput(input, output, outerCount, inputRowLength, outputRowLength, outputColumnOffset);
            return;
        }
        if (table.Length < 256) throw new ArgumentException("the table must have 256 entries", nameof(table));
        for (int o = 0; o < outerCount; o++)
            Lookup(table, input.Slice(o * inputRowLength, inputRowLength), output.Slice(o * outputRowLength + outputColumnOffset, inputRowLength));
    }

    /// <summary><c>y[i] = table[x[i]]</c>, four independent loads per step.</summary>
    public static void Lookup(ReadOnlySpan<byte> table, ReadOnlySpan<byte> x, Span<byte> y)
    {
        table = table[..256];
        y = y[..x.Length];
        int i = 0;
        for (; i <= x.Length - 4; i += 4)
        {
            byte v0 = table[x[i]], v1 = table[x[i + 1]], v2 = table[x[i + 2]], v3 = table[x[i + 3]];
            y[i] = v0;
            y[i + 1] = v1;
            y[i + 2] = v2;
            y[i + 3] = v3;
        }
        for (; i < x.Length; i++) y[i] = table[x[i]];
    }
}
