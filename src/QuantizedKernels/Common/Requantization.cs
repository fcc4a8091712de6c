namespace EdgeRuntime.Kernels.Common;

/// <summary>
/// The single definition of how EdgeRuntime turns an int32 accumulator (or a float) back into an 8-bit
/// quantized value. Every quantized kernel — reference or SIMD — must produce bit-identical results to
/// these methods; they follow ONNX Runtime's MLAS (<c>MlasRequantizeOutput</c>, <c>MlasQuantizeLinear</c>).
/// </summary>
public static class Requantization
{
    /// <summary>
    /// The per-output-channel requantization multiplier of QLinearConv / QLinearMatMul:
    /// <c>M = (inputScale * weightScale) / outputScale</c>, evaluated in float32 in exactly that order
    /// (product first, rounded to float, then the quotient rounded to float), as ONNX Runtime does.
    /// </summary>
    public static float Multiplier(float inputScale, float weightScale, float outputScale) =>
        (inputScale * weightScale) / outputScale;

    /// <summary>
    /// Requantizes an int32 accumulator:
    /// <c>y = clamp(RoundHalfToEven((float)accumulator * multiplier) + zeroPoint, min, max)</c>.
    /// The int32 → float conversion rounds to nearest even (exact up to 2^24), the product is a single
    /// float32 multiplication (no fused multiply-add), and the clamp happens in float before the
    /// conversion to int, so huge accumulators saturate instead of overflowing. A NaN product
    /// (only possible with NaN/infinite scales) yields <paramref name="zeroPoint"/> clamped to range.
    /// </summary>
    /// <param name="accumulator">Sum of products (bias included).</param>
    /// <param name="multiplier">See <see cref="Multiplier"/>.</param>
    /// <param name="zeroPoint">Output zero point.</param>
    /// <param name="min">Smallest output value (0 for uint8, -128 for int8, or a tighter fused-activation bound).</param>
    /// <param name="max">Largest output value (255 for uint8, 127 for int8, or a tighter bound).</param>
    public static int Requantize(int accumulator, float multiplier, int zeroPoint, int min, int max) =>
        RoundAndClamp((float)accumulator * multiplier, zeroPoint, min, max);

    /// <summary>
    /// Quantizes a float that is already expressed in output units (value / scale):
    /// <c>clamp(RoundHalfToEven(scaled) + zeroPoint, min, max)</c>, clamping in float first.
    /// </summary>
    public static int RoundAndClamp(float scaled, int zeroPoint, int min, int max)
    {
        float low = min - zeroPoint, high = max - zeroPoint;
        if (float.IsNaN(scaled)) scaled = 0f;
        if (scaled < low) scaled = low;
        if (scaled > high) scaled = high;
        return (int)MathF.Round(scaled, MidpointRounding.ToEven) + zeroPoint;
    }

    /// <summary>
    /// ONNX QuantizeLinear of one value: <c>clamp(RoundHalfToEven(value / scale) + zeroPoint, min, max)</c>
    /// with a true float32 division (not a multiplication by the reciprocal).
    /// </summary>
    public static int Quantize(float value, float scale, int zeroPoint, int min, int max) =>
        RoundAndClamp(value / scale, zeroPoint, min, max);

    /// <summary>Smallest value of the 8-bit type (<paramref name="signed"/>: int8 else uint8).</summary>
    public static int MinOf(bool signed) => signed ? sbyte.MinValue : byte.MinValue;

    /// <summary>Largest value of the 8-bit type (<paramref name="signed"/>: int8 else uint8).</summary>
    public static int MaxOf(bool signed) => signed ? sbyte.MaxValue : byte.MaxValue;
}

/// <summary>
/// Helpers for 8-bit tensors stored as raw bytes. Kernels take uint8 and int8 data as
/// <see cref="byte"/> spans plus a "signed" flag; an int8 value is its two's-complement byte.
/// </summary>
public static class QuantizedByte
{
    /// <summary>The integer value of a stored byte: <c>(sbyte)b</c> when <paramref name="signed"/>, else <c>b</c>.</summary>
    public static int Value(byte b, bool signed) => signed ? (sbyte)b : b;

    /// <summary>
    /// XOR mask that maps the stored byte to an unsigned "offset" form: <c>(b ^ mask) - offset == Value(b)</c>
    /// with mask 0x80 / offset 128 for int8 and 0 / 0 for uint8. Lets hot loops avoid branching on the type.
    /// </summary>
    public static int FlipMask(bool signed) => signed ? 0x80 : 0;

    /// <summary>Offset matching <see cref="FlipMask"/>.</summary>
    public static int Offset(bool signed) => signed ? 128 : 0;
}
