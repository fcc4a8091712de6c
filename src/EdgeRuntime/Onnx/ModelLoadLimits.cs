namespace EdgeRuntime.Onnx;
// STUB (replaced by loader branch)
public sealed class ModelLoadLimits
{
    public long MaxFileBytes { get; init; } = 1L << 30;
    public long MaxTensorElements { get; init; } = 256L << 20;
    public static ModelLoadLimits Default { get; } = new();
}
