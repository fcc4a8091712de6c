using System.Numerics;
using EdgeRuntime.Kernels.Elementwise;
using EdgeRuntime.Tensors;

namespace EdgeRuntime.Execution.Ops.Float;

/// <summary>
/// Cast between float32, uint8, int8, int32, int64 and bool (see <see cref="CastReference"/> for the
/// rounding rules). A float16 target is computed in float32 but rounded through binary16, so values
/// match ONNX Runtime's fp16 results while the output tensor stays Float32.
/// </summary>
internal sealed class CastOp : OpDefinition
{
    public override string OpType => "Cast";

    private delegate void CastFunction(Tensor input, Tensor output);

    public override IOpKernel Bind(OpContext ctx)
    {
        ShapeOpHelpers.RequireInputCount(ctx, 1, 1);
        var data = ctx.InputOfType(0, ShapeOpHelpers.AnyType);
        if (!ctx.HasAttribute("to")) throw ctx.Fail("attribute 'to' is required");
        long to = ctx.GetInt("to", 0);
        if (to is not ((long)TensorElementType.Float32 or (long)TensorElementType.UInt8 or (long)TensorElementType.Int8
            or (long)TensorElementType.Int32 or (long)TensorElementType.Int64 or (long)TensorElementType.Bool or (long)TensorElementType.Float16))
            throw ctx.Fail($"cannot cast to {TensorElementTypeExtensions.OnnxName((int)to)}: supported targets are float, float16, uint8, int8, int32, int64, bool");
        var target = (TensorElementType)to;
        ctx.SetOutput(0, target == TensorElementType.Float16 ? TensorElementType.Float32 : target, data.Shape);
        CastFunction function = data.Type switch
        {
            TensorElementType.Float32 => From<float>(target),
            TensorElementType.UInt8 => From<byte>(target),
            TensorElementType.Int8 => From<sbyte>(target),
            TensorElementType.Int32 => From<int>(target),
            TensorElementType.Int64 => From<long>(target),
            _ => FromBool(target),
        };
        return new Kernel(function);
    }

    private static CastFunction From<TFrom>(TensorElementType target) where TFrom : unmanaged, INumberBase<TFrom> => target switch
    {
        TensorElementType.Float32 => static (x, y) => CastReference.Convert(x.AsSpan<TFrom>(), y.AsSpan<float>()),
        TensorElementType.UInt8 => static (x, y) => CastReference.Convert(x.AsSpan<TFrom>(), y.AsSpan<byte>()),
        TensorElementType.Int8 => static (x, y) => CastReference.Convert(x.AsSpan<TFrom>(), y.AsSpan<sbyte>()),
        TensorElementType.Int32 => static (x, y) => CastReference.Convert(x.AsSpan<TFrom>(), y.AsSpan<int>()),
        TensorElementType.Int64 => static (x, y) => CastReference.Convert(x.AsSpan<TFrom>(), y.AsSpan<long>()),
        TensorElementType.Bool => static (x, y) => CastReference.ToBool(x.AsSpan<TFrom>(), y.AsSpan<byte>()),
        _ => static (x, y) =>
        {
            var result = y.AsSpan<float>();
            CastReference.Convert(x.AsSpan<TFrom>(), result);
            CastReference.RoundThroughHalf(result, result);
        },
    };

    private static CastFunction FromBool(TensorElementType target) => target switch
    {
        TensorElementType.Float32 or TensorElementType.Float16 => static (x, y) => CastReference.FromBool(x.AsSpan<byte>(), y.AsSpan<float>()),
        TensorElementType.UInt8 => static (x, y) => CastReference.FromBool(x.AsSpan<byte>(), y.AsSpan<byte>()),
        TensorElementType.Int8 => static (x, y) => CastReference.FromBool(x.AsSpan<byte>(), y.AsSpan<sbyte>()),
        TensorElementType.Int32 => static (x, y) => CastReference.FromBool(x.AsSpan<byte>(), y.AsSpan<int>()),
        TensorElementType.Int64 => static (x, y) => CastReference.FromBool(x.AsSpan<byte>(), y.AsSpan<long>()),
        _ => static (x, y) => CastReference.ToBool<byte>(x.AsSpan<byte>(), y.AsSpan<byte>()),
    };

    private sealed class Kernel(CastFunction function) : IOpKernel
    {
        public void Run(ReadOnlySpan<Tensor?> inputs, ReadOnlySpan<Tensor?> outputs) => function(inputs[0]!, outputs[0]!);
    }
}
