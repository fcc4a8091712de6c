namespace EdgeRuntime.Kernels.Softmax;

/// <summary>Reference float32 softmax.</summary>
public static class SoftmaxReference
{
    /// <summary>
    /// Softmax along one axis of a row-major tensor viewed as [outerCount, axisLength, innerCount]:
    /// for every (o, i), y[o,k,i] = exp(x[o,k,i] - m) / Σ_k exp(x[o,k,i] - m) with m = max_k x[o,k,i]
    /// (subtracting the max keeps exp from overflowing and does not change the result).
    /// ONNX opset &lt; 13 (coerce to 2-D at axis) is the case innerCount = 1 with axisLength the product
    /// of the trailing dims; opset ≥ 13 uses the dims before/at/after the axis.
    /// </summary>
    public static void Softmax(ReadOnlySpan<float> input, Span<float> output, int outerCount, int axisLength, int innerCount)
    {
        int block = axisLength * innerCount;
        for (int o = 0; o < outerCount; o++)
        {
            int baseOffset = o * block;
            for (int i = 0; i < innerCount; i++)
            {
                int start = baseOffset + i;
                float max = float.NegativeInfinity;
                for (int k = 0; k < axisLength; k++) max = MathF.Max(max, input[start + k * innerCount]);
                float sum = 0f;
                for (int k = 0; k < axisLength; k++)
                {
                    float e = MathF.Exp(input[start + k * innerCount] - max);
                    output[start + k * innerCount] = e;
                    sum += e;
                }
                for (int k = 0; k < axisLength; k++) output[start + k * innerCount] /= sum;
            }
        }
    }
}
