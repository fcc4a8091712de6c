using EdgeRuntime.Kernels.Common;

namespace EdgeRuntime.Kernels.Quantize;

/// <summary>
/// Reference ONNX QuantizeLinear. The tensor is viewed as <c>[outer, channels, inner]</c> where
/// <c>channels</c> is the quantization axis (1 for per-tensor):
/// <c>y[o,c,i] = clamp(RoundHalfToEven(x[o,c,i] / scale[c]) + zeroPoint[c], min, max)</c>
/// (see <see cref="Requantization.Quantize"/>).
/// </summary>
public static class QuantizeLinearReference
{
    /// <param name="x">Float input, <c>outer*channels*inner</c> elements.</param>
    /// <param name="scales">One scale per channel.</param>
    /// <param name="zeroPoints">One zero point per channel (already as integers).</param>
    /// <param name="outputSigned">True for int8 output, false for uint8.</param>
    /// <param name="outer">Product of dimensions before the axis.</param>
    /// <param name="channels">Size of the axis (1 for per-tensor).</param>
    /// <param name="inner">Product of dimensions after the axis.</param>
    /// <param name="y">Output bytes.</param>
    public static void Run(ReadOnlySpan<float> x, ReadOnlySpan<float> scales, ReadOnlySpan<int> zeroPoints, bool outputSigned,
        int outer, int channels, int inner, Span<byte> y)
    {
        int min = Requantization.MinOf(outputSigned), max = Requantization.MaxOf(outputSigned);
        int index = 0;
        for (int o = 0; o < outer; o++)
            for (int c = 0; c < channels; c++)
            {
                float scale = scales[c];
                int zeroPoint = zeroPoints[c];
                for (int i = 0; i < inner; i++, index++)
                    y[index] = (byte)Requantization.Quantize(x[index], scale, zeroPoint, min, max);
            }
    }
}
