namespace EdgeRuntime.Kernels.DataMovement;

/// <summary>
/// Reference ONNX Concat, one input at a time. Viewing every tensor as [outer, axisDim·inner]
/// (outer = product of dims before the axis, inner = product after it), input k's row o is copied
/// to output row o at column offset Σ_{j&lt;k} axisDim_j·inner.
/// </summary>
public static class ConcatReference
{
    /// <summary>
    /// Copies one input into its slot of the output.
    /// </summary>
    /// <param name="input">The input, <paramref name="outerCount"/>·<paramref name="inputRowLength"/> elements.</param>
    /// <param name="output">The whole output, <paramref name="outerCount"/>·<paramref name="outputRowLength"/> elements.</param>
    /// <param name="outerCount">Product of the dims before the axis.</param>
    /// <param name="inputRowLength">This input's axis dim · inner.</param>
    /// <param name="outputRowLength">Output axis dim · inner.</param>
    /// <param name="outputColumnOffset">Σ of the previous inputs' row lengths.</param>
    public static void CopyInput<T>(ReadOnlySpan<T> input, Span<T> output, int outerCount, int inputRowLength, int outputRowLength, int outputColumnOffset)
        where T : unmanaged
    {
        if (inputRowLength == 0) return;
        for (int o = 0; o < outerCount; o++)
            input.Slice(o * inputRowLength, inputRowLength).CopyTo(output.Slice(o * outputRowLength + outputColumnOffset, inputRowLength));
    }
}
