namespace EdgeRuntime.Onnx;

/// <summary>
/// Upper bounds the model reader enforces before it allocates anything a file asks for, so that a
/// corrupt or hostile model fails with a <see cref="ModelFormatException"/> instead of exhausting
/// memory. Every limit is inclusive (a value equal to the limit is accepted).
/// </summary>
public sealed class ModelLoadLimits
{
    /// <summary>Largest accepted model file (or byte array), in bytes. Default 1 GiB.</summary>
    public long MaxFileBytes { get; init; } = 1L << 30;

    /// <summary>Largest element count of a single tensor (initializer or tensor attribute). Default 256 Mi elements.</summary>
    public long MaxTensorElements { get; init; } = 256L << 20;

    /// <summary>
    /// Largest total size of all decoded constant tensors (initializers plus tensor attributes), in bytes
    /// after float16 is widened to float32. Default 1 GiB.
    /// </summary>
    public long MaxTotalInitializerBytes { get; init; } = 1L << 30;

    /// <summary>Largest number of nodes in the main graph. Default 100 000.</summary>
    public int MaxNodes { get; init; } = 100_000;

    /// <summary>Largest rank of any declared value or constant tensor. Default 8.</summary>
    public int MaxRank { get; init; } = 8;

    /// <summary>Largest single dimension of any declared value or constant tensor. Default 2^24.</summary>
    public long MaxDimension { get; init; } = 1 << 24;

    /// <summary>The default limits (the values documented on each property).</summary>
    public static ModelLoadLimits Default { get; } = new();
}
