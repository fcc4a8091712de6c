using System.Numerics;

namespace EdgeRuntime.Kernels.Elementwise;

/// <summary>
/// Reference element type conversions for ONNX Cast (as ONNX Runtime performs them on CPU):
/// integer → narrower integer wraps (keeps the low bits); float → integer truncates toward zero
/// (out-of-range values saturate and NaN gives 0 — ONNX leaves those undefined); integer → float rounds
/// to nearest; anything → bool is (x != 0) stored as one byte 0/1; bool → number is 0 or 1.
/// </summary>
public static class CastReference
{
    /// <summary>output[i] = (TTo)input[i] with the truncating/wrapping semantics described on the class.</summary>
    public static void Convert<TFrom, TTo>(ReadOnlySpan<TFrom> input, Span<TTo> output)
        where TFrom : unmanaged, INumberBase<TFrom>
        where TTo : unmanaged, INumberBase<TTo>
    {
        for (int i = 0; i < input.Length; i++) output[i] = TTo.CreateTruncating(input[i]);
    }

    /// <summary>output[i] = input[i] != 0 ? 1 : 0 (ONNX bool, one byte per element).</summary>
    public static void ToBool<TFrom>(ReadOnlySpan<TFrom> input, Span<byte> output)
        where TFrom : unmanaged, INumberBase<TFrom>
    {
        for (int i = 0; i < input.Length; i++) output[i] = TFrom.IsZero(input[i]) ? (byte)0 : (byte)1;
    }

    /// <summary>Bool (one byte, any non-zero is true) to number: 1 or 0.</summary>
    public static void FromBool<TTo>(ReadOnlySpan<byte> input, Span<TTo> output)
        where TTo : unmanaged, INumberBase<TTo>
    {
        for (int i = 0; i < input.Length; i++) output[i] = input[i] != 0 ? TTo.One : TTo.Zero;
    }

    /// <summary>
    /// Rounds float32 values to the nearest IEEE binary16 value (ties to even; overflow to ±inf) and
    /// widens them back, i.e. a Cast to float16 computed in float32.
    /// </summary>
    public static void RoundThroughHalf(ReadOnlySpan<float> input, Span<float> output)
    {
        for (int i = 0; i < input.Length; i++) output[i] = (float)(Half)input[i];
    }
}
