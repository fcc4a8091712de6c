using System.Numerics;

namespace EdgeRuntime.Kernels.Pooling;

/// <summary>
/// Geometry of a 2-D pooling window over NCHW input <c>X[Batch, Channels, InputHeight, InputWidth]</c>
/// producing <c>Y[Batch, Channels, OutputHeight, OutputWidth]</c>. Window <c>(oy, ox)</c> covers the input
/// rows <c>oy*StrideHeight - PadTop + ky*DilationHeight</c> for <c>ky &lt; KernelHeight</c> (columns alike).
/// The padded input spans rows <c>[-PadTop, InputHeight + PadBottom)</c>; with ceil_mode a window may
/// reach past that, and that part counts as neither input nor padding.
/// </summary>
public readonly record struct Pool2DShape(
    int Batch, int Channels, int InputHeight, int InputWidth,
    int KernelHeight, int KernelWidth, int StrideHeight, int StrideWidth,
    int PadTop, int PadLeft, int PadBottom, int PadRight,
    int DilationHeight, int DilationWidth, int OutputHeight, int OutputWidth);

/// <summary>Reference pooling kernels (NCHW). They define ONNX MaxPool/AveragePool/Global*Pool semantics.</summary>
public static class PoolReference
{
    /// <summary>
    /// <c>Y[n,c,oy,ox] = max</c> of the window's taps that lie inside the image (padding never wins);
    /// <c>T.MinValue</c> when no tap is inside. Works for float, byte and sbyte alike.
    /// </summary>
    public static void MaxPool<T>(in Pool2DShape s, ReadOnlySpan<T> input, Span<T> output)
        where T : unmanaged, INumber<T>, IMinMaxValue<T>
    {
        int h = s.InputHeight, w = s.InputWidth;
        for (int nc = 0; nc < s.Batch * s.Channels; nc++)
        {
            var plane = input.Slice(nc * h * w, h * w);
            var dst = output.Slice(nc * s.OutputHeight * s.OutputWidth, s.OutputHeight * s.OutputWidth);
            for (int oy = 0; oy < s.OutputHeight; oy++)
            {
                int iy0 = oy * s.StrideHeight - s.PadTop;
                for (int ox = 0; ox < s.OutputWidth; ox++)
                {
                    int ix0 = ox * s.StrideWidth - s.PadLeft;
                    T best = T.MinValue;
                    for (int ky = 0; ky < s.KernelHeight; ky++)
                    {
                        int iy = iy0 + ky * s.DilationHeight;
                        if ((uint)iy >= (uint)h) continue;
                        for (int kx = 0; kx < s.KernelWidth; kx++)
                        {
                            int ix = ix0 + kx * s.DilationWidth;
                            if ((uint)ix >= (uint)w) continue;
                            T v = plane[iy * w + ix];
                            if (v > best) best = v;
                        }
                    }
                    dst[oy * s.OutputWidth + ox] = best;
                }
            }
        }
    }

    /// <summary>
    /// <c>Y = (Σ taps inside the image) / divisor</c>. With <paramref name="countIncludePad"/> the divisor is the
    /// number of taps inside the PADDED input (<c>[-PadTop, H+PadBottom) × [-PadLeft, W+PadRight)</c>; taps beyond it,
    /// which only ceil_mode produces, are not counted); otherwise the number of taps inside the image.
    /// A window with a zero divisor yields 0.
    /// </summary>
    public static void AveragePool(in Pool2DShape s, bool countIncludePad, ReadOnlySpan<float> input, Span<float> output)
    {
        int h = s.InputHeight, w = s.InputWidth;
        for (int nc = 0; nc < s.Batch * s.Channels; nc++)
        {
            var plane = input.Slice(nc * h * w, h * w);
            var dst = output.Slice(nc * s.OutputHeight * s.OutputWidth, s.OutputHeight * s.OutputWidth);
            for (int oy = 0; oy < s.OutputHeight; oy++)
            {
                int iy0 = oy * s.StrideHeight - s.PadTop;
                for (int ox = 0; ox < s.OutputWidth; ox++)
                {
                    int ix0 = ox * s.StrideWidth - s.PadLeft;
                    float sum = 0;
                    int inside = 0, insidePadded = 0;
                    for (int ky = 0; ky < s.KernelHeight; ky++)
                    {
                        int iy = iy0 + ky * s.DilationHeight;
                        bool rowInPadded = iy >= -s.PadTop && iy < h + s.PadBottom;
                        bool rowInImage = (uint)iy < (uint)h;
                        for (int kx = 0; kx < s.KernelWidth; kx++)
                        {
                            int ix = ix0 + kx * s.DilationWidth;
                            if (rowInPadded && ix >= -s.PadLeft && ix < w + s.PadRight) insidePadded++;
                            if (rowInImage && (uint)ix < (uint)w)
                            {
                                inside++;
                                sum += plane[iy * w + ix];
                            }
                        }
                    }
                    int divisor = countIncludePad ? insidePadded : inside;
                    dst[oy * s.OutputWidth + ox] = divisor == 0 ? 0f : sum / divisor;
                }
            }
        }
    }

    /// <summary><c>Y[i] = mean(X[i*spatial .. (i+1)*spatial))</c> for each of the <paramref name="planes"/> (N*C) planes.</summary>
    public static void GlobalAveragePool(int planes, int spatial, ReadOnlySpan<float> input, Span<float> output)
    {
        for (int i = 0; i < planes; i++)
        {
            var plane = input.Slice(i * spatial, spatial);
            var acc = Vector<float>.Zero;
            int j = 0;
            for (; j <= spatial - Vector<float>.Count; j += Vector<float>.Count) acc += new Vector<float>(plane.Slice(j));
            float sum = Vector.Sum(acc);
            for (; j < spatial; j++) sum += plane[j];
            output[i] = sum / spatial;
        }
    }

    /// <summary><c>Y[i] = max(X[i*spatial .. (i+1)*spatial))</c> for each of the <paramref name="planes"/> planes.</summary>
    public static void GlobalMaxPool<T>(int planes, int spatial, ReadOnlySpan<T> input, Span<T> output)
        where T : unmanaged, INumber<T>, IMinMaxValue<T>
    {
        for (int i = 0; i < planes; i++)
        {
            var plane = input.Slice(i * spatial, spatial);
            T best = T.MinValue;
            foreach (var v in plane) if (v > best) best = v;
            output[i] = best;
        }
    }
}
