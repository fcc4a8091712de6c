using EdgeRuntime.Execution.Ops.Float;

namespace EdgeRuntime.Execution.Ops;

internal static partial class FloatOps
{
    static partial void RegisterConvolutionAndPooling(OpRegistry registry)
    {
        registry.Add(new ConvOp());
        registry.Add(new GemmOp());
        registry.Add(new MatMulOp());
        registry.Add(new BatchNormalizationOp());
        registry.Add(new MaxPoolOp());
        registry.Add(new AveragePoolOp());
        registry.Add(new GlobalPoolOp(max: false));
        registry.Add(new GlobalPoolOp(max: true));
        registry.Add(new PadOp());
    }
}
