namespace EdgeRuntime.Execution.Ops;

/// <summary>Registers the float32 (and type-generic data movement) operators; definitions live in <c>Execution/Ops/Float/</c>.</summary>
internal static partial class FloatOps
{
    public static void RegisterAll(OpRegistry registry)
    {
        RegisterConvolutionAndPooling(registry);
        RegisterElementwiseAndShape(registry);
    }

    /// <summary>Conv, Gemm, MatMul, BatchNormalization, MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool, Pad.</summary>
    static partial void RegisterConvolutionAndPooling(OpRegistry registry);

    /// <summary>Activations, broadcasting arithmetic, Softmax and data-movement ops.</summary>
    static partial void RegisterElementwiseAndShape(OpRegistry registry);
}
