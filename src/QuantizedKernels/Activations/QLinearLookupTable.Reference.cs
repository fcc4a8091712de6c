using EdgeRuntime.Kernels.Common;

namespace EdgeRuntime.Kernels.Activations;

/// <summary>
/// Quantized unary functions as a 256-entry table indexed by the stored byte, built like ONNX Runtime's
/// <c>QlinearBuildLookupTable</c>:
/// <code>
/// table[b] = Requantization.Quantize(f(xScale * (float)(Value(b) - xZeroPoint)), yScale, yZeroPoint, min, max)
/// </code>
/// (a float32 division by yScale, round half to even, saturate); running is <c>y[i] = table[x[i]]</c>.
/// </summary>
public static class QLinearLookupTableReference
{
    /// <summary>Fills <paramref name="table"/> (256 bytes) for <paramref name="function"/>.</summary>
    public static void Build(Span<byte> table, bool signed, float xScale, int xZeroPoint, float yScale, int yZeroPoint, Func<float, float> function)
    {
        int min = Requantization.MinOf(signed), max = Requantization.MaxOf(signed);
        for (int b = 0; b < 256; b++)
        {
            float dequantized = xScale * (QuantizedByte.Value((byte)b, signed) - xZeroPoint);
            table[b] = (byte)Requantization.Quantize(function(dequantized), yScale, yZeroPoint, min, max);
        }
    }

    /// <summary>Applies the table: <c>y[i] = table[x[i]]</c>.</summary>
    public static void Run(ReadOnlySpan<byte> table, ReadOnlySpan<byte> x, Span<byte> y)
    {
        for (int i = 0; i < x.Length; i++) y[i] = table[x[i]];
    }

    /// <summary>Logistic sigmoid <c>1 / (1 + e^-x)</c> in float32.</summary>
    public static float Sigmoid(float x) => 1f / (1f + MathF.Exp(-x));

    /// <summary>LeakyRelu with slope <paramref name="alpha"/> for negative inputs.</summary>
    public static Func<float, float> LeakyRelu(float alpha) => v => v >= 0 ? v : v * alpha;
}
