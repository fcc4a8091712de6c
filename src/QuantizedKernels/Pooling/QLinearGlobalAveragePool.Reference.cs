using EdgeRuntime.Kernels.Common;

namespace EdgeRuntime.Kernels.Pooling;

/// <summary>
/// Reference com.microsoft QLinearGlobalAveragePool, matching ONNX Runtime's MLAS arithmetic:
/// <code>
/// acc        = Σ_{pixels} x  -  xZeroPoint * imageSize                    (exact int32)
/// multiplier = xScale / (yScale * (float)imageSize)                       (float32)
/// y          = Requantization.Requantize(acc, multiplier, yZeroPoint, min, max)
/// </code>
/// Layout NCHW (<c>[N, C, imageSize]</c>) or channels-last (<c>[N, imageSize, C]</c>).
/// </summary>
public static class QLinearGlobalAveragePoolReference
{
    /// <summary>The multiplier applied to the zero-point-corrected sum.</summary>
    public static float Multiplier(float xScale, float yScale, int imageSize) => xScale / (yScale * (float)imageSize);

    /// <summary>Runs the pool; see the class summary.</summary>
    public static void Run(ReadOnlySpan<byte> x, bool signed, float xScale, int xZeroPoint, float yScale, int yZeroPoint,
        int batch, int channels, int imageSize, bool channelsLast, Span<byte> y)
    {
        float multiplier = Multiplier(xScale, yScale, imageSize);
        int min = Requantization.MinOf(signed), max = Requantization.MaxOf(signed);
        int correction = xZeroPoint * imageSize;
        for (int n = 0; n < batch; n++)
            for (int c = 0; c < channels; c++)
            {
                int sum = 0;
                if (channelsLast)
                {
                    int baseIndex = n * imageSize * channels + c;
                    for (int i = 0; i < imageSize; i++) sum += QuantizedByte.Value(x[baseIndex + i * channels], signed);
                }
                else
                {
                    var plane = x.Slice((n * channels + c) * imageSize, imageSize);
                    for (int i = 0; i < plane.Length; i++) sum += QuantizedByte.Value(plane[i], signed);
                }
                y[n * channels + c] = (byte)Requantization.Requantize(sum - correction, multiplier, yZeroPoint, min, max);
            }
    }
}
