using EdgeRuntime.Kernels.Common;

namespace EdgeRuntime.Kernels.Pooling;

/// <summary>Geometry of a 2-D average pool (1-D pools use height 1).</summary>
public readonly record struct QLinearPoolGeometry(
    int Batch, int Channels, int InHeight, int InWidth, int OutHeight, int OutWidth,
    int KernelHeight, int KernelWidth, int StrideHeight, int StrideWidth, int PadTop, int PadLeft,
    bool CountIncludePad, bool ChannelsLast);

/// <summary>
/// Reference com.microsoft QLinearAveragePool, following ONNX Runtime's arithmetic (which works in float):
/// <code>
/// window  = [oh*strideH - padTop, +kernelH) ∩ [0, H)  ×  the same for width
/// sum     = Σ_{window, row-major order} xScale * (float)(x - xZeroPoint)             (float32, sequential)
/// count   = CountIncludePad ? kernelH*kernelW : |window|
/// y       = clamp(RoundHalfToEven(sum / count / yScale + yZeroPoint), min, max)     (each step float32)
/// </code>
/// Padding contributes nothing to the sum (a dequantized 0).
/// </summary>
public static class QLinearAveragePoolReference
{
    /// <summary>Runs the pool; see the class summary.</summary>
    public static void Run(in QLinearPoolGeometry g, ReadOnlySpan<byte> x, bool signed, float xScale, int xZeroPoint,
        float yScale, int yZeroPoint, Span<byte> y)
    {
        int min = Requantization.MinOf(signed), max = Requantization.MaxOf(signed);
        int inPlane = g.InHeight * g.InWidth, outPlane = g.OutHeight * g.OutWidth;
        for (int n = 0; n < g.Batch; n++)
            for (int c = 0; c < g.Channels; c++)
                for (int oh = 0; oh < g.OutHeight; oh++)
                {
                    int hStart = oh * g.StrideHeight - g.PadTop;
                    int hEnd = Math.Min(hStart + g.KernelHeight, g.InHeight);
                    hStart = Math.Max(hStart, 0);
                    for (int ow = 0; ow < g.OutWidth; ow++)
                    {
                        int wStart = ow * g.StrideWidth - g.PadLeft;
                        int wEnd = Math.Min(wStart + g.KernelWidth, g.InWidth);
                        wStart = Math.Max(wStart, 0);
                        float sum = 0f;
                        for (int h = hStart; h < hEnd; h++)
                            for (int w = wStart; w < wEnd; w++)
                            {
                                int index = g.ChannelsLast
                                    ? ((n * g.InHeight + h) * g.InWidth + w) * g.Channels + c
                                    : (n * g.Channels + c) * inPlane + h * g.InWidth + w;
                                sum += xScale * (QuantizedByte.Value(x[index], signed) - xZeroPoint);
                            }
                        int count = g.CountIncludePad ? g.KernelHeight * g.KernelWidth : Math.Max(0, hEnd - hStart) * Math.Max(0, wEnd - wStart);
                        float average = sum / count;
                        int outIndex = g.ChannelsLast
                            ? ((n * g.OutHeight + oh) * g.OutWidth + ow) * g.Channels + c
                            : (n * g.Channels + c) * outPlane + oh * g.OutWidth + ow;
                        y[outIndex] = (byte)Requantization.RoundAndClamp(average / yScale + yZeroPoint, 0, min, max);
                    }
                }
    }
}
