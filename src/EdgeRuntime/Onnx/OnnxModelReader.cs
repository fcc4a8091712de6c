using EdgeRuntime.Graph;
namespace EdgeRuntime.Onnx;
// STUB (replaced by loader branch)
public static class OnnxModelReader
{
    public static ModelGraph ReadFile(string path, ModelLoadLimits? limits = null) => throw new NotImplementedException();
    public static ModelGraph ReadBytes(byte[] data, string? sourceName, ModelLoadLimits? limits = null) => throw new NotImplementedException();
}
