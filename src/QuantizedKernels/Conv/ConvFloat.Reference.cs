namespace EdgeRuntime.Kernels.Conv;

/// <summary>
/// Geometry of a 2-D float convolution over NCHW input <c>X[Batch, InputChannels, InputHeight, InputWidth]</c>
/// with weights <c>W[OutputChannels, InputChannels/Groups, KernelHeight, KernelWidth]</c> producing
/// <c>Y[Batch, OutputChannels, OutputHeight, OutputWidth]</c>. Padding at the bottom/right is implied by
/// the output size (positions past the input read as zero).
/// </summary>
public readonly record struct ConvFloatShape(
    int Batch, int InputChannels, int InputHeight, int InputWidth,
    int OutputChannels, int Groups, int KernelHeight, int KernelWidth,
    int StrideHeight, int StrideWidth, int PadTop, int PadLeft,
    int DilationHeight, int DilationWidth, int OutputHeight, int OutputWidth)
{
    /// <summary>Input channels seen by one group.</summary>
    public int InputChannelsPerGroup => InputChannels / Groups;
    /// <summary>Output channels produced by one group.</summary>
    public int OutputChannelsPerGroup => OutputChannels / Groups;
    /// <summary>Dot-product length per output value: <c>InputChannelsPerGroup * KernelHeight * KernelWidth</c>.</summary>
    public int ReductionLength => InputChannelsPerGroup * KernelHeight * KernelWidth;
    /// <summary>Output positions per channel.</summary>
    public int OutputPlane => OutputHeight * OutputWidth;
    /// <summary>Input positions per channel.</summary>
    public int InputPlane => InputHeight * InputWidth;
}

/// <summary>Scalar reference that defines float32 Conv (ONNX Conv, 2-D, NCHW).</summary>
public static class ConvFloatReference
{
    /// <summary>
    /// <c>Y[n,m,oy,ox] = B[m] + Σ_{c,ky,kx} X[n, g*Cg + c, oy*sH - padTop + ky*dH, ox*sW - padLeft + kx*dW] * W[m,c,ky,kx]</c>
    /// where <c>g = m / (M/Groups)</c>, <c>Cg = C/Groups</c> and input positions outside the image read as 0.
    /// <paramref name="bias"/> may be empty (no bias).
    /// </summary>
    public static void Conv(in ConvFloatShape s, ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, Span<float> output)
    {
        int cg = s.InputChannelsPerGroup, mg = s.OutputChannelsPerGroup;
        for (int n = 0; n < s.Batch; n++)
        for (int m = 0; m < s.OutputChannels; m++)
        {
            int g = m / mg;
            for (int oy = 0; oy < s.OutputHeight; oy++)
            for (int ox = 0; ox < s.OutputWidth; ox++)
            {
                float sum = bias.IsEmpty ? 0f : bias[m];
                for (int c = 0; c < cg; c++)
                for (int ky = 0; ky < s.KernelHeight; ky++)
                {
                    int iy = oy * s.StrideHeight - s.PadTop + ky * s.DilationHeight;
                    if (iy < 0 || iy >= s.InputHeight) continue;
                    for (int kx = 0; kx < s.KernelWidth; kx++)
                    {
                        int ix = ox * s.StrideWidth - s.PadLeft + kx * s.DilationWidth;
                        if (ix < 0 || ix >= s.InputWidth) continue;
                        float x = input[((n * s.InputChannels + g * cg + c) * s.InputHeight + iy) * s.InputWidth + ix];
                        float w = weights[((m * cg + c) * s.KernelHeight + ky) * s.KernelWidth + kx];
                        sum += x * w;
                    }
                }
                output[((n * s.OutputChannels + m) * s.OutputHeight + oy) * s.OutputWidth + ox] = sum;
            }
        }
    }
}
