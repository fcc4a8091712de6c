namespace EdgeRuntime.Kernels.Activations;

/// <summary>
/// Float32 SiLU (swish): <c>output[i] = x · sigmoid(x)</c> with x = <c>input[i]</c> and sigmoid evaluated exactly as
/// <see cref="ActivationReference.Sigmoid"/> (1 / (1 + e^-x) for x ≥ 0, e^x / (1 + e^x) otherwise), followed by one
/// float32 multiplication — bit-identical to running Sigmoid and then Mul, in one pass without the intermediate tensor.
/// The spans may be the same memory.
/// </summary>
public static class SiluReference
{
    /// <summary>Applies SiLU element by element.</summary>
    public static void Run(ReadOnlySpan<float> input, Span<float> output)
    {
        for (int i = 0; i < input.Length; i++)
        {
            float x = input[i];
            float sigmoid;
            if (x >= 0f) sigmoid = 1f / (1f + MathF.Exp(-x));
            else { float e = MathF.Exp(x); sigmoid = e / (1f + e); }
            output[i] = x * sigmoid;
        }
    }
}
