using EdgeRuntime.Execution.Ops.Quantized;

namespace EdgeRuntime.Execution.Ops;

internal static partial class QuantizedOps
{
    static partial void RegisterQuantized(OpRegistry registry)
    {
        registry.Add(new QuantizeLinearDefinition());
        registry.Add(new DequantizeLinearDefinition());
        registry.Add(new QLinearConvDefinition());
        registry.Add(new QLinearMatMulDefinition());
        registry.Add(new QLinearBinaryDefinition("QLinearAdd", multiply: false));
        registry.Add(new QLinearBinaryDefinition("QLinearMul", multiply: true));
        registry.Add(new QLinearGlobalAveragePoolDefinition());
        registry.Add(new QLinearAveragePoolDefinition());
        registry.Add(new QLinearConcatDefinition());
        registry.Add(new Float.SiluOp());
        registry.Add(new QLinearLookupTableDefinition("QLinearSigmoid"));
        registry.Add(new QLinearLookupTableDefinition("QLinearLeakyRelu"));
        foreach (var op in new[] { "QLinearTanh", "QLinearHardSigmoid", "QLinearHardSwish", "QLinearRelu", "QLinearClip", "QLinearSilu" })
            registry.Add(new QLinearLookupTableDefinition(op, Graph.Passes.QdqFusion.EdgeDomain));
    }
}
