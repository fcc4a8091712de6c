using EdgeRuntime.Tensors;

namespace EdgeRuntime.Execution.Ops.Quantized;

/// <summary>Reads and validates the constant scale / zero-point inputs shared by the quantized ops.</summary>
internal static class QuantizationParameters
{
    /// <summary>True for int8, false for uint8; fails for other types.</summary>
    public static bool IsSigned(OpContext ctx, TensorElementType type, string what) => type switch
    {
        TensorElementType.Int8 => true,
        TensorElementType.UInt8 => false,
        _ => throw ctx.Fail($"{what} has type {type.OnnxName()}, expected uint8 or int8"),
    };

    /// <summary>A constant float32 scale tensor with exactly <paramref name="count"/> elements (or 1 when <paramref name="allowBroadcastScalar"/>).</summary>
    public static float[] Scales(OpContext ctx, int input, string what, int count = 1, bool allowBroadcastScalar = true)
    {
        var t = ctx.RequireConstant(input, what);
        if (t.ElementType != TensorElementType.Float32)
            throw ctx.Fail($"{what} (input {input}) has type {t.ElementType.OnnxName()}, expected float");
        var values = t.ToFloatArray();
        if (values.Length == count) { }
        else if (values.Length == 1 && allowBroadcastScalar) values = Enumerable.Repeat(values[0], count).ToArray();
        else throw ctx.Fail($"{what} (input {input}) has {values.Length} elements {TensorShape.Format(t.Shape)}, expected {(count == 1 ? "1 (per-tensor)" : $"1 or {count}")}");
        foreach (var v in values)
            if (!(v > 0) || float.IsInfinity(v)) throw ctx.Fail($"{what} (input {input}) must be positive and finite, got {v}");
        return values;
    }

    /// <summary>The single float scale of a per-tensor input.</summary>
    public static float Scale(OpContext ctx, int input, string what) => Scales(ctx, input, what)[0];

    /// <summary>
    /// Constant zero points as ints: absent (omitted) → zeros; otherwise the tensor's type must be
    /// <paramref name="expectedType"/> (when given) and its element count 1 or <paramref name="count"/>.
    /// </summary>
    public static int[] ZeroPoints(OpContext ctx, int input, string what, TensorElementType? expectedType, int count = 1)
    {
        if (!ctx.HasInput(input)) return new int[count];
        var t = ctx.RequireConstant(input, what);
        if (expectedType is { } e && t.ElementType != e)
            throw ctx.Fail($"{what} (input {input}) has type {t.ElementType.OnnxName()}, expected {e.OnnxName()} to match the quantized data");
        int[] values = t.ElementType switch
        {
            TensorElementType.UInt8 => t.AsSpan<byte>().ToArray().Select(v => (int)v).ToArray(),
            TensorElementType.Int8 => t.AsSpan<sbyte>().ToArray().Select(v => (int)v).ToArray(),
            TensorElementType.Int32 => t.AsSpan<int>().ToArray(),
            _ => throw ctx.Fail($"{what} (input {input}) has unsupported type {t.ElementType.OnnxName()}"),
        };
        if (values.Length == count) return values;
        if (values.Length == 1) return Enumerable.Repeat(values[0], count).ToArray();
        throw ctx.Fail($"{what} (input {input}) has {values.Length} elements {TensorShape.Format(t.Shape)}, expected {(count == 1 ? "1 (per-tensor)" : $"1 or {count}")}");
    }

    /// <summary>The single zero point of a per-tensor input (0 when omitted).</summary>
    public static int ZeroPoint(OpContext ctx, int input, string what, TensorElementType? expectedType) =>
        ZeroPoints(ctx, input, what, expectedType)[0];

    /// <summary>Resolves an axis attribute against <paramref name="rank"/> (negative counts from the end).</summary>
    public static int NormalizeAxis(OpContext ctx, long axis, int rank)
    {
        if (axis < -rank || axis >= rank) throw ctx.Fail($"axis {axis} is out of range for rank {rank}");
        return (int)(axis < 0 ? axis + rank : axis);
    }
}

/// <summary>Output size and leading pads of strided windows (convolution and pooling), per spatial dimension.</summary>
internal static class WindowGeometry
{
    /// <summary>Reads kernel_shape/strides/dilations/pads/auto_pad and computes output sizes and leading pads.</summary>
    /// <param name="ctx">Node context.</param>
    /// <param name="inputSpatial">Input spatial sizes.</param>
    /// <param name="kernel">Kernel sizes (from the weights or kernel_shape).</param>
    /// <param name="ceilMode">Pooling ceil_mode.</param>
    /// <param name="allowDilations">False for pools without dilations.</param>
    public static (int[] Output, int[] PadsBegin, int[] Strides, int[] Dilations) Resolve(OpContext ctx, int[] inputSpatial, int[] kernel, bool ceilMode, bool allowDilations)
    {
        int r = inputSpatial.Length;
        int[] strides = ReadPositive(ctx, "strides", r);
        int[] dilations = allowDilations ? ReadPositive(ctx, "dilations", r) : Enumerable.Repeat(1, r).ToArray();
        for (int i = 0; i < r; i++) if (kernel[i] <= 0) throw ctx.Fail($"kernel size {kernel[i]} must be positive");
        string autoPad = ctx.GetString("auto_pad", "NOTSET");
        var output = new int[r];
        var padsBegin = new int[r];
        var pads = ctx.GetInts("pads");
        if (pads != null && pads.Length != 2 * r) throw ctx.Fail($"pads has {pads.Length} values, expected {2 * r}");
        if (pads != null && pads.Any(p => p < 0 || p > 1 << 20)) throw ctx.Fail("pads must be non-negative");
        for (int i = 0; i < r; i++)
        {
            int effectiveKernel = (kernel[i] - 1) * dilations[i] + 1;
            switch (autoPad)
            {
                case "NOTSET":
                {
                    int begin = pads == null ? 0 : (int)pads[i], end = pads == null ? 0 : (int)pads[i + r];
                    int span = inputSpatial[i] + begin + end - effectiveKernel;
                    if (span < 0) throw ctx.Fail($"kernel extent {effectiveKernel} is larger than padded input {inputSpatial[i] + begin + end} in spatial dimension {i}");
                    output[i] = (ceilMode ? (span + strides[i] - 1) / strides[i] : span / strides[i]) + 1;
                    // ceil_mode: the last window must start inside the input or the leading padding.
                    if (ceilMode && (output[i] - 1) * strides[i] >= inputSpatial[i] + begin) output[i]--;
                    padsBegin[i] = begin;
                    break;
                }
                case "VALID":
                {
                    int span = inputSpatial[i] - effectiveKernel;
                    if (span < 0) throw ctx.Fail($"kernel extent {effectiveKernel} is larger than input {inputSpatial[i]} in spatial dimension {i}");
                    output[i] = (ceilMode ? (span + strides[i] - 1) / strides[i] : span / strides[i]) + 1;
                    break;
                }
                case "SAME_UPPER":
                case "SAME_LOWER":
                {
                    output[i] = (inputSpatial[i] + strides[i] - 1) / strides[i];
                    int total = Math.Max(0, (output[i] - 1) * strides[i] + effectiveKernel - inputSpatial[i]);
                    padsBegin[i] = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2;
                    break;
                }
                default:
                    throw ctx.Fail($"auto_pad '{autoPad}' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID");
            }
        }
        return (output, padsBegin, strides, dilations);
    }

    private static int[] ReadPositive(OpContext ctx, string name, int rank)
    {
        var values = ctx.GetInts(name);
        if (values == null) return Enumerable.Repeat(1, rank).ToArray();
        if (values.Length != rank) throw ctx.Fail($"{name} has {values.Length} values, expected {rank}");
        if (values.Any(v => v <= 0 || v > 1 << 16)) throw ctx.Fail($"{name} must be positive, got [{string.Join(",", values)}]");
        return values.Select(v => (int)v).ToArray();
    }
}
