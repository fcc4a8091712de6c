namespace EdgeRuntime.Execution.Ops;

/// <summary>Registers the int8 operators; definitions live in <c>Execution/Ops/Quantized/</c>.</summary>
internal static partial class QuantizedOps
{
    public static void RegisterAll(OpRegistry registry) => RegisterQuantized(registry);

    /// <summary>QuantizeLinear, DequantizeLinear, QLinearConv, QLinearMatMul and the com.microsoft QLinear* ops.</summary>
    static partial void RegisterQuantized(OpRegistry registry);
}
