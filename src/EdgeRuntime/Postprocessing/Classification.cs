using EdgeRuntime.Graph;
using EdgeRuntime.Tensors;

namespace EdgeRuntime.Postprocessing;

/// <summary>One ranked class.</summary>
/// <param name="Index">Class index in the model output.</param>
/// <param name="Score">Probability in [0,1].</param>
public readonly record struct ClassScore(int Index, float Score);

/// <summary>Turns a classifier's output tensor into probabilities and the top-K classes.</summary>
public static class Classification
{
    /// <summary>
    /// Converts <paramref name="output"/> (any shape; all elements are class scores) into probabilities:
    /// quantized outputs are dequantized with <paramref name="quantization"/> (or, when unknown, uint8 as
    /// value/256 the TFLite softmax convention and int8 as (value+128)/256); float outputs that already form a
    /// distribution (non-negative, summing to 1 ± 0.02) are kept, anything else (logits) goes through softmax.
    /// </summary>
    public static void ToProbabilities(Tensor output, (float Scale, int ZeroPoint)? quantization, Span<float> probabilities)
    {
        int n = output.ElementCount;
        if (probabilities.Length < n) throw new ArgumentException("probability buffer too small");
        var p = probabilities[..n];
        switch (output.ElementType)
        {
            case TensorElementType.UInt8:
            {
                var q = output.AsSpan<byte>();
                var (s, z) = quantization ?? (1f / 256, 0);
                for (int i = 0; i < n; i++) p[i] = (q[i] - z) * s;
                return;
            }
            case TensorElementType.Int8:
            {
                var q = output.AsSpan<sbyte>();
                var (s, z) = quantization ?? (1f / 256, -128);
                for (int i = 0; i < n; i++) p[i] = (q[i] - z) * s;
                return;
            }
            case TensorElementType.Float32:
                output.AsSpan<float>().CopyTo(p);
                break;
            case TensorElementType.Float16:
            {
                var h = output.AsSpan<Half>();
                for (int i = 0; i < n; i++) p[i] = (float)h[i];
                break;
            }
            default:
                throw new InvalidInputException(null, $"a classifier output of type {output.ElementType.OnnxName()} cannot be ranked");
        }
        double sum = 0;
        bool nonNegative = true;
        foreach (var v in p) { sum += v; nonNegative &= v >= 0; }
        if (nonNegative && Math.Abs(sum - 1) <= 0.02) return;
        float max = float.NegativeInfinity;
        foreach (var v in p) max = Math.Max(max, v);
        double total = 0;
        for (int i = 0; i < n; i++) { p[i] = MathF.Exp(p[i] - max); total += p[i]; }
        for (int i = 0; i < n; i++) p[i] = (float)(p[i] / total);
    }

    /// <summary>The <paramref name="k"/> highest scores, highest first; ties keep the lower index first.</summary>
    public static ClassScore[] TopK(ReadOnlySpan<float> probabilities, int k)
    {
        k = Math.Min(k, probabilities.Length);
        var best = new List<ClassScore>(k + 1);
        for (int i = 0; i < probabilities.Length; i++)
        {
            var v = probabilities[i];
            if (best.Count == k && v <= best[^1].Score) continue;
            int pos = best.Count;
            while (pos > 0 && best[pos - 1].Score < v) pos--;
            best.Insert(pos, new ClassScore(i, v));
            if (best.Count > k) best.RemoveAt(k);
        }
        return best.ToArray();
    }
}
