namespace EdgeRuntime.Kernels.Activations;

/// <summary>
/// Reference float32 activations, element by element: <c>output[i] = f(input[i])</c>.
/// <c>output</c> must be at least as long as the input; the spans may be the same memory.
/// </summary>
public static class ActivationReference
{
    /// <summary>Relu: max(x, 0).</summary>
    public static void Relu(ReadOnlySpan<float> input, Span<float> output)
    {
        for (int i = 0; i < input.Length; i++) output[i] = input[i] > 0f ? input[i] : 0f;
    }

    /// <summary>LeakyRelu: x when x ≥ 0, else alpha·x (ONNX default alpha 0.01).</summary>
    public static void LeakyRelu(ReadOnlySpan<float> input, Span<float> output, float alpha)
    {
        for (int i = 0; i < input.Length; i++) { float x = input[i]; output[i] = x >= 0f ? x : alpha * x; }
    }

    /// <summary>
    /// Sigmoid: 1 / (1 + e^-x), evaluated as e^x / (1 + e^x) for negative x so that no intermediate
    /// overflows and results for very negative x keep their small magnitude instead of rounding to 0 early.
    /// </summary>
    public static void Sigmoid(ReadOnlySpan<float> input, Span<float> output)
    {
        for (int i = 0; i < input.Length; i++)
        {
            float x = input[i];
            if (x >= 0f) output[i] = 1f / (1f + MathF.Exp(-x));
            else { float e = MathF.Exp(x); output[i] = e / (1f + e); }
        }
    }

    /// <summary>Tanh: hyperbolic tangent (saturates to ±1).</summary>
    public static void Tanh(ReadOnlySpan<float> input, Span<float> output)
    {
        for (int i = 0; i < input.Length; i++) output[i] = MathF.Tanh(input[i]);
    }

    /// <summary>Clip: min(max(x, min), max); with min &gt; max every result is max (as ONNX Runtime does).</summary>
    public static void Clip(ReadOnlySpan<float> input, Span<float> output, float min, float max)
    {
        for (int i = 0; i < input.Length; i++)
        {
            float x = input[i];
            if (x < min) x = min;
            if (x > max) x = max;
            output[i] = x;
        }
    }

    /// <summary>HardSigmoid: max(0, min(1, alpha·x + beta)) (ONNX defaults alpha 0.2, beta 0.5).</summary>
    public static void HardSigmoid(ReadOnlySpan<float> input, Span<float> output, float alpha, float beta)
    {
        for (int i = 0; i < input.Length; i++)
        {
            float y = alpha * input[i] + beta;
            output[i] = y <= 0f ? 0f : y >= 1f ? 1f : y;
        }
    }

    /// <summary>HardSwish: x · max(0, min(1, x/6 + 0.5)).</summary>
    public static void HardSwish(ReadOnlySpan<float> input, Span<float> output)
    {
        for (int i = 0; i < input.Length; i++)
        {
            float x = input[i];
            float gate = x / 6f + 0.5f;
            output[i] = gate <= 0f ? 0f : gate >= 1f ? x : x * gate;
        }
    }
}
