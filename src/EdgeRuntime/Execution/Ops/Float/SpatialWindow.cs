namespace EdgeRuntime.Execution.Ops.Float;

/// <summary>
/// Resolved sliding-window geometry shared by Conv and the pooling ops, per spatial axis (H, W, ...):
/// kernel extent, stride, dilation, leading/trailing padding and output extent.
/// </summary>
internal sealed record SpatialWindow(int[] Kernel, int[] Strides, int[] Dilations, int[] PadsBegin, int[] PadsEnd, int[] Output)
{
    /// <summary>
    /// Reads <c>strides</c>, <c>dilations</c>, <c>pads</c> and <c>auto_pad</c> for a window of extent
    /// <paramref name="kernel"/> over <paramref name="inputSpatial"/>, and computes the output extents the way
    /// ONNX (and ONNX Runtime) does:
    /// NOTSET/VALID: <c>out = floor_or_ceil((in + padB + padE - ((k-1)*d + 1)) / s) + 1</c>, and with ceil_mode a last
    /// window that would start inside the trailing padding (<c>(out-1)*s ≥ in + padB</c>) is dropped;
    /// SAME_UPPER/SAME_LOWER: <c>out = ceil(in / s)</c>, total padding <c>max(0, (out-1)*s + (k-1)*d + 1 - in)</c> split
    /// evenly with the odd element at the end (UPPER) or the beginning (LOWER).
    /// </summary>
    public static SpatialWindow Resolve(OpContext ctx, int[] inputSpatial, int[] kernel, bool ceilMode)
    {
        int rank = inputSpatial.Length;
        var strides = ReadPositive(ctx, "strides", rank);
        var dilations = ReadPositive(ctx, "dilations", rank);
        var padsBegin = new int[rank];
        var padsEnd = new int[rank];
        var output = new int[rank];
        string autoPad = ctx.GetString("auto_pad", "NOTSET");
        for (int i = 0; i < rank; i++)
            if (kernel[i] <= 0) throw ctx.Fail($"kernel extent must be positive, got {string.Join(",", kernel)}");
        switch (autoPad)
        {
            case "NOTSET":
            case "":
                var pads = ctx.GetInts("pads");
                if (pads != null)
                {
                    if (pads.Length != 2 * rank)
                        throw ctx.Fail($"attribute 'pads' must have {2 * rank} values (begin and end for {rank} spatial axes), got {pads.Length}");
                    for (int i = 0; i < rank; i++)
                    {
                        if (pads[i] < 0 || pads[i + rank] < 0)
                            throw ctx.Fail($"attribute 'pads' must not be negative, got [{string.Join(",", pads)}]");
                        if (pads[i] > int.MaxValue / 4 || pads[i + rank] > int.MaxValue / 4)
                            throw ctx.Fail($"attribute 'pads' value is too large: [{string.Join(",", pads)}]");
                        padsBegin[i] = (int)pads[i];
                        padsEnd[i] = (int)pads[i + rank];
                    }
                }
                break;
            case "VALID":
                break;
            case "SAME_UPPER":
            case "SAME_LOWER":
                for (int i = 0; i < rank; i++)
                {
                    int outExtent = (inputSpatial[i] + strides[i] - 1) / strides[i];
                    long total = Math.Max(0L, (long)(outExtent - 1) * strides[i] + (long)(kernel[i] - 1) * dilations[i] + 1 - inputSpatial[i]);
                    int half = (int)(total / 2);
                    padsBegin[i] = autoPad == "SAME_UPPER" ? half : (int)total - half;
                    padsEnd[i] = (int)total - padsBegin[i];
                    output[i] = outExtent;
                }
                return Validated(ctx, inputSpatial, kernel, strides, dilations, padsBegin, padsEnd, output);
            default:
                throw ctx.Fail($"attribute 'auto_pad' has unsupported value '{autoPad}' (expected NOTSET, SAME_UPPER, SAME_LOWER or VALID)");
        }
        for (int i = 0; i < rank; i++)
        {
            long span = (long)inputSpatial[i] + padsBegin[i] + padsEnd[i] - ((long)(kernel[i] - 1) * dilations[i] + 1);
            if (span < 0)
                throw ctx.Fail($"window of extent {kernel[i]} (dilation {dilations[i]}) does not fit spatial axis {i} of size {inputSpatial[i]} with padding {padsBegin[i]}+{padsEnd[i]}");
            long outExtent = ceilMode ? (span + strides[i] - 1) / strides[i] + 1 : span / strides[i] + 1;
            if (ceilMode && (outExtent - 1) * strides[i] >= (long)inputSpatial[i] + padsBegin[i]) outExtent--;
            output[i] = (int)outExtent;
        }
        return Validated(ctx, inputSpatial, kernel, strides, dilations, padsBegin, padsEnd, output);
    }

    private static SpatialWindow Validated(OpContext ctx, int[] inputSpatial, int[] kernel, int[] strides, int[] dilations, int[] padsBegin, int[] padsEnd, int[] output)
    {
        foreach (var o in output)
            if (o <= 0) throw ctx.Fail($"output spatial size would be {TensorShapeText(output)} for input {TensorShapeText(inputSpatial)}");
        return new SpatialWindow(kernel, strides, dilations, padsBegin, padsEnd, output);
    }

    /// <summary>Reads an ints attribute of <paramref name="rank"/> positive values, defaulting to all ones.</summary>
    public static int[] ReadPositive(OpContext ctx, string name, int rank)
    {
        var values = ctx.GetInts(name);
        var result = new int[rank];
        if (values == null) { Array.Fill(result, 1); return result; }
        if (values.Length != rank) throw ctx.Fail($"attribute '{name}' must have {rank} values, got {values.Length}");
        for (int i = 0; i < rank; i++)
        {
            if (values[i] <= 0 || values[i] > int.MaxValue / 4) throw ctx.Fail($"attribute '{name}' values must be positive, got [{string.Join(",", values)}]");
            result[i] = (int)values[i];
        }
        return result;
    }

    /// <summary>Fails unless every padding is smaller than the kernel extent (ONNX Runtime's rule for pooling).</summary>
    public void RequirePadsSmallerThanKernel(OpContext ctx)
    {
        for (int i = 0; i < Kernel.Length; i++)
            if (PadsBegin[i] >= Kernel[i] || PadsEnd[i] >= Kernel[i])
                throw ctx.Fail($"padding ({PadsBegin[i]}, {PadsEnd[i]}) must be smaller than the kernel extent {Kernel[i]} on spatial axis {i}");
    }

    private static string TensorShapeText(int[] dims) => Tensors.TensorShape.Format(dims);
}
