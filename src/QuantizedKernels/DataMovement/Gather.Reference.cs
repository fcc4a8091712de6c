namespace EdgeRuntime.Kernels.DataMovement;

/// <summary>
/// Reference ONNX Gather. The data is viewed as [outer, axisLength, inner]; for every outer index o
/// and every index position j (row-major over the indices tensor), output[o, j, :] = data[o, idx, :]
/// where idx = indices[j], plus axisLength when negative.
/// </summary>
public static class GatherReference
{
    /// <summary>Gathers with int32 or int64 indices.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside [-axisLength, axisLength-1].</exception>
    public static void Gather<T, TIndex>(ReadOnlySpan<T> data, ReadOnlySpan<TIndex> indices, Span<T> output, int outerCount, int axisLength, int innerCount)
        where T : unmanaged
        where TIndex : unmanaged, System.Numerics.IBinaryInteger<TIndex>
    {
        int outputOffset = 0;
        for (int o = 0; o < outerCount; o++)
        {
            int dataBase = o * axisLength * innerCount;
            for (int j = 0; j < indices.Length; j++)
            {
                long index = long.CreateTruncating(indices[j]);
                if (index < 0) index += axisLength;
                if ((ulong)index >= (ulong)axisLength)
                    throw new ArgumentOutOfRangeException(nameof(indices), $"Gather index {indices[j]} is outside [-{axisLength}, {axisLength - 1}]");
                data.Slice(dataBase + (int)index * innerCount, innerCount).CopyTo(output.Slice(outputOffset, innerCount));
                outputOffset += innerCount;
            }
        }
    }
}
