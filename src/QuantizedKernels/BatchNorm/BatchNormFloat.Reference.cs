using System.Numerics;

namespace EdgeRuntime.Kernels.BatchNorm;

/// <summary>Inference-mode BatchNormalization folded into a per-channel affine map.</summary>
public static class BatchNormFloatReference
{
    /// <summary>
    /// Folds the statistics: <c>scaleOut[c] = scale[c] / sqrt(var[c] + epsilon)</c>,
    /// <c>shiftOut[c] = bias[c] - mean[c] * scaleOut[c]</c>, so that
    /// <c>Y = (X - mean) / sqrt(var + eps) * scale + bias = X * scaleOut + shiftOut</c>.
    /// </summary>
    public static void Fold(ReadOnlySpan<float> scale, ReadOnlySpan<float> bias, ReadOnlySpan<float> mean, ReadOnlySpan<float> variance,
        float epsilon, Span<float> scaleOut, Span<float> shiftOut)
    {
        for (int c = 0; c < scaleOut.Length; c++)
        {
            float a = scale[c] / MathF.Sqrt(variance[c] + epsilon);
            scaleOut[c] = a;
            shiftOut[c] = bias[c] - mean[c] * a;
        }
    }

    /// <summary>
    /// <c>Y[n,c,i] = X[n,c,i] * scale[c] + shift[c]</c> over <c>X[batch, channels, spatial]</c>
    /// (<paramref name="spatial"/> = product of the dimensions after the channel axis, 1 for 2-D input).
    /// </summary>
    public static void Apply(int batch, int channels, int spatial, ReadOnlySpan<float> input, ReadOnlySpan<float> scale, ReadOnlySpan<float> shift, Span<float> output)
    {
        int vc = Vector<float>.Count;
        for (int n = 0; n < batch; n++)
        for (int c = 0; c < channels; c++)
        {
            int offset = (n * channels + c) * spatial;
            var src = input.Slice(offset, spatial);
            var dst = output.Slice(offset, spatial);
            float a = scale[c], b = shift[c];
            var va = new Vector<float>(a);
            var vb = new Vector<float>(b);
            int i = 0;
            for (; i <= spatial - vc; i += vc) (new Vector<float>(src.Slice(i)) * va + vb).CopyTo(dst.Slice(i));
            for (; i < spatial; i++) dst[i] = src[i] * a + b;
        }
    }
}
