namespace EdgeRuntime.Kernels.Quantize;

/// <summary>
/// Reference ONNX DequantizeLinear over a tensor viewed as <c>[outer, channels, inner]</c>:
/// <c>y[o,c,i] = (float)(x[o,c,i] - zeroPoint[c]) * scale[c]</c>; the integer difference is exact
/// and converted to float before the single float32 multiplication.
/// </summary>
public static class DequantizeLinearReference
{
    /// <summary>Dequantizes uint8 (<paramref name="signed"/> false) or int8 data stored as bytes.</summary>
    public static void Run(ReadOnlySpan<byte> x, bool signed, ReadOnlySpan<float> scales, ReadOnlySpan<int> zeroPoints,
        int outer, int channels, int inner, Span<float> y)
    {
        int index = 0;
        for (int o = 0; o < outer; o++)
            for (int c = 0; c < channels; c++)
            {
                float scale = scales[c];
                int zeroPoint = zeroPoints[c];
                for (int i = 0; i < inner; i++, index++)
                {
                    int value = signed ? (sbyte)x[index] : x[index];
                    y[index] = (value - zeroPoint) * scale;
                }
            }
    }

    /// <summary>Dequantizes int32 data (e.g. biases): <c>(float)(x - zeroPoint) * scale</c>, difference computed in 64 bits.</summary>
    public static void Run(ReadOnlySpan<int> x, ReadOnlySpan<float> scales, ReadOnlySpan<int> zeroPoints,
        int outer, int channels, int inner, Span<float> y)
    {
        int index = 0;
        for (int o = 0; o < outer; o++)
            for (int c = 0; c < channels; c++)
            {
                float scale = scales[c];
                long zeroPoint = zeroPoints[c];
                for (int i = 0; i < inner; i++, index++)
                    y[index] = (float)(x[index] - zeroPoint) * scale;
            }
    }
}
