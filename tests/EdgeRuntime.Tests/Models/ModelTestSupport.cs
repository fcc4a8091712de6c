using Xunit;
using EdgeRuntime.Execution;
using EdgeRuntime.Imaging;
using EdgeRuntime.Tensors;

namespace EdgeRuntime.Tests.Models;

/// <summary>Shared helpers for the real-model tests: preprocessing photos and comparing outputs.</summary>
internal static class ModelTestSupport
{
    public static Tensor Preprocess(string imagePath, PreprocessOptions options, TensorElementType type, int[] shape)
    {
        using var image = ImageLoader.Default.Load(imagePath);
        return new ImagePreprocessor(options, type, shape).Preprocess(image);
    }

    public static EdgeModel Native(string path) => EdgeModel.Load(path, new EdgeModelOptions { Backend = BackendKind.Native, Threads = 1 });

    public static EdgeModel Ort(string path) => EdgeModel.Load(path, new EdgeModelOptions { Backend = BackendKind.Ort, Threads = 1 });

    public static double Cosine(float[] a, float[] b)
    {
        Assert.Equal(a.Length, b.Length);
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++) { dot += (double)a[i] * b[i]; na += (double)a[i] * a[i]; nb += (double)b[i] * b[i]; }
        return dot / Math.Sqrt(na * nb);
    }

    public static int ArgMax(float[] v)
    {
        int best = 0;
        for (int i = 1; i < v.Length; i++) if (v[i] > v[best]) best = i;
        return best;
    }
}
