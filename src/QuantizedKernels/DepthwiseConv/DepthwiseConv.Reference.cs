using System.Runtime.CompilerServices;
using EdgeRuntime.Kernels.Common;

namespace EdgeRuntime.Kernels.Depthwise;

/// <summary>
/// Static geometry of one image of a depthwise 2-D convolution in NCHW layout: a QLinearConv with
/// <c>group == InChannels == OutChannels == Channels</c>, one <c>KernelHeight × KernelWidth</c> filter per channel.
/// Pads are the leading (top/left) pads; the trailing pads are implied by the output size (any input position
/// outside <c>[0, InHeight) × [0, InWidth)</c> is padding).
/// </summary>
public readonly record struct DepthwiseConvGeometry(
    int Channels, int InHeight, int InWidth,
    int OutHeight, int OutWidth,
    int KernelHeight, int KernelWidth,
    int StrideHeight, int StrideWidth,
    int PadTop, int PadLeft,
    int DilationHeight = 1, int DilationWidth = 1)
{
    /// <summary>Elements of one input channel plane: <c>InHeight * InWidth</c>.</summary>
    public int InPlane => InHeight * InWidth;
    /// <summary>Elements of one output channel plane: <c>OutHeight * OutWidth</c>.</summary>
    public int OutPlane => OutHeight * OutWidth;
    /// <summary>Taps per channel: <c>KernelHeight * KernelWidth</c>.</summary>
    public int Taps => KernelHeight * KernelWidth;

    /// <summary>
    /// Output size along one axis for input length <paramref name="input"/>, kernel <paramref name="kernel"/>, stride,
    /// total padding (both sides) and dilation: <c>(input + padTotal - dilation*(kernel-1) - 1) / stride + 1</c>.
    /// </summary>
    public static int OutputSize(int input, int kernel, int stride, int padTotal, int dilation = 1) =>
        (input + padTotal - dilation * (kernel - 1) - 1) / stride + 1;

    /// <summary>Throws <see cref="ArgumentException"/> unless every size is positive and pads are non-negative.</summary>
    public void Validate()
    {
        if (Channels < 1 || InHeight < 1 || InWidth < 1 || OutHeight < 1 || OutWidth < 1 || KernelHeight < 1 || KernelWidth < 1
            || StrideHeight < 1 || StrideWidth < 1 || DilationHeight < 1 || DilationWidth < 1 || PadTop < 0 || PadLeft < 0)
            throw new ArgumentException($"invalid depthwise geometry {this}");
    }
}

/// <summary>
/// The definition of the int8 depthwise convolution. For channel <c>c</c> and output pixel <c>(oh, ow)</c>:
/// <code>
/// acc = bias[c] + Σ_{kh, kw} (x[c, ih, iw] - xZeroPoint) * weights[c * KH*KW + kh * KW + kw]
///   with ih = oh*strideH - padTop + kh*dilationH, iw = ow*strideW - padLeft + kw*dilationW;
///   positions outside the image contribute 0 (they hold xZeroPoint before the subtraction)
/// y[c, oh, ow] = (byte)Requantization.Requantize(acc, multipliers[c], yZeroPoint, yMin, yMax)
/// </code>
/// Accumulation is int32 and wraps like C# int arithmetic. <c>x</c> values are <c>(sbyte)b</c> for int8 input, <c>b</c>
/// for uint8; the output byte is the low byte of the requantized value (int8 outputs as two's complement).
/// </summary>
public static class DepthwiseConvReference
{
    /// <summary>Runs channels <c>[cFirst, cFirst + cCount)</c> (see the class summary); other channels of <paramref name="y"/> are untouched.</summary>
    /// <param name="g">Geometry (one image).</param>
    /// <param name="x">Input <c>[Channels, InHeight, InWidth]</c> bytes.</param>
    /// <param name="xSigned">True for int8 input.</param>
    /// <param name="xZeroPoint">Input zero point.</param>
    /// <param name="weights">Per channel <c>[Channels][KH*KW]</c>: weight minus that channel's weight zero point.</param>
    /// <param name="bias">Per-channel int32 bias, or empty for none.</param>
    /// <param name="multipliers">Per-channel requantization multiplier (<see cref="Requantization.Multiplier"/>).</param>
    /// <param name="yZeroPoint">Output zero point.</param>
    /// <param name="yMin">Lowest output value.</param>
    /// <param name="yMax">Highest output value.</param>
    /// <param name="y">Output <c>[Channels, OutHeight, OutWidth]</c> bytes.</param>
    /// <param name="cFirst">First channel to compute.</param>
    /// <param name="cCount">Number of channels to compute.</param>
    public static void Run(in DepthwiseConvGeometry g, ReadOnlySpan<byte> x, bool xSigned, int xZeroPoint,
        ReadOnlySpan<short> weights, ReadOnlySpan<int> bias, ReadOnlySpan<float> multipliers,
        int yZeroPoint, int yMin, int yMax, Span<byte> y, int cFirst, int cCount) =>
        Run(g, x, xSigned, xZeroPoint, weights, bias, multipliers, yZeroPoint, yMin, yMax, y, cFirst, cCount, 0, g.OutHeight);

    /// <summary>
    /// Runs output rows <c>[rowFirst, rowFirst + rowCount)</c> of channels <c>[cFirst, cFirst + cCount)</c> (see the
    /// class summary); every other byte of <paramref name="y"/> is untouched, so threads may run disjoint row or
    /// channel ranges into one output. Parameters as in the channel-range overload.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(in DepthwiseConvGeometry g, ReadOnlySpan<byte> x, bool xSigned, int xZeroPoint,
        ReadOnlySpan<short> weights, ReadOnlySpan<int> bias, ReadOnlySpan<float> multipliers,
        int yZeroPoint, int yMin, int yMax, Span<byte> y, int cFirst, int cCount, int rowFirst, int rowCount)
    {
        int taps = g.Taps;
        for (int c = cFirst; c < cFirst + cCount; c++)
        {
            var plane = x.Slice(c * g.InPlane, g.InPlane);
            var w = weights.Slice(c * taps, taps);
            var yPlane = y.Slice(c * g.OutPlane, g.OutPlane);
            int b = bias.IsEmpty ? 0 : bias[c];
            float multiplier = multipliers[c];
            for (int oh = rowFirst; oh < rowFirst + rowCount; oh++)
                for (int ow = 0; ow < g.OutWidth; ow++)
                {
                    int acc = b;
                    for (int kh = 0; kh < g.KernelHeight; kh++)
                    {
                        int ih = oh * g.StrideHeight - g.PadTop + kh * g.DilationHeight;
                        if ((uint)ih >= (uint)g.InHeight) continue;
                        for (int kw = 0; kw < g.KernelWidth; kw++)
                        {
                            int iw = ow * g.StrideWidth - g.PadLeft + kw * g.DilationWidth;
                            if ((uint)iw >= (uint)g.InWidth) continue;
                            acc += (QuantizedByte.Value(plane[ih * g.InWidth + iw], xSigned) - xZeroPoint) * w[kh * g.KernelWidth + kw];
                        }
                    }
                    yPlane[oh * g.OutWidth + ow] = (byte)Requantization.Requantize(acc, multiplier, yZeroPoint, yMin, yMax);
                }
        }
    }
}
