using EdgeRuntime.Execution.Ops.Float;
using EdgeRuntime.Kernels.Elementwise;

namespace EdgeRuntime.Execution.Ops;

internal static partial class FloatOps
{
    static partial void RegisterElementwiseAndShape(OpRegistry registry)
    {
        registry.Add(new BinaryArithmeticOp("Add", BinaryOperation.Add));
        registry.Add(new BinaryArithmeticOp("Sub", BinaryOperation.Sub));
        registry.Add(new BinaryArithmeticOp("Mul", BinaryOperation.Mul));
        registry.Add(new BinaryArithmeticOp("Div", BinaryOperation.Div));

        registry.Add(new ActivationOp("Relu", ActivationKind.Relu));
        registry.Add(new ActivationOp("LeakyRelu", ActivationKind.LeakyRelu));
        registry.Add(new ActivationOp("Sigmoid", ActivationKind.Sigmoid));
        registry.Add(new ActivationOp("Tanh", ActivationKind.Tanh));
        registry.Add(new ActivationOp("HardSigmoid", ActivationKind.HardSigmoid));
        registry.Add(new ActivationOp("HardSwish", ActivationKind.HardSwish));
        registry.Add(new ClipOp());
        registry.Add(new SoftmaxOp());

        registry.Add(new ReshapeOp());
        registry.Add(new FlattenOp());
        registry.Add(new SqueezeOp());
        registry.Add(new UnsqueezeOp());
        registry.Add(new TransposeOp());
        registry.Add(new ConcatOp());
        registry.Add(new CastOp());
        registry.Add(new ConstantOp());
        registry.Add(new ShapeOp());
        registry.Add(new GatherOp());
        registry.Add(new IdentityOp());
        registry.Add(new DropoutOp());
    }
}
