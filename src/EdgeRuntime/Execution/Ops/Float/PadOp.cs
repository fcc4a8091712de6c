using System.Runtime.InteropServices;
using EdgeRuntime.Kernels.Pad;
using EdgeRuntime.Tensors;

namespace EdgeRuntime.Execution.Ops.Float;

/// <summary>
/// ONNX Pad (opsets 2–21) for every element type: modes constant, reflect, edge and wrap. Before opset 11 the
/// pads and the constant come from attributes; from 11 from inputs (pads must be constant), with optional
/// axes (opset 18). Negative pads crop. The result is a pure gather, so elements are copied bit-exactly.
/// </summary>
internal sealed class PadOp : OpDefinition
{
    public override string OpType => "Pad";

    public override IOpKernel Bind(OpContext ctx)
    {
        var x = ctx.Input(0);
        int rank = x.Shape.Length;
        var mode = ctx.GetString("mode", "constant") switch
        {
            "constant" => PadMode.Constant,
            "reflect" => PadMode.Reflect,
            "edge" => PadMode.Edge,
            "wrap" => PadMode.Wrap,
            var other => throw ctx.Fail($"attribute 'mode' has unsupported value '{other}' (expected constant, reflect, edge or wrap)"),
        };

        long[] pads;
        var constantBytes = new byte[x.Type.SizeInBytes()];
        if (ctx.Opset < 11)
        {
            pads = ctx.GetInts("pads") ?? ctx.GetInts("paddings") ?? throw ctx.Fail("attribute 'pads' is required");
            WriteConstant(ctx, x.Type, ctx.GetFloat("value", 0f), constantBytes);
        }
        else
        {
            var padsTensor = ctx.RequireConstant(1, "pads");
            if (padsTensor.ElementType != TensorElementType.Int64 || padsTensor.Shape.Length != 1)
                throw ctx.Fail($"input pads must be a 1-D int64 tensor, got {padsTensor}");
            pads = padsTensor.ToArray<long>();
            if (ctx.HasInput(2))
            {
                var value = ctx.RequireConstant(2, "constant_value");
                if (value.ElementType != x.Type || value.ElementCount != 1)
                    throw ctx.Fail($"input constant_value must be one {x.Type.OnnxName()} value, got {value}");
                value.Bytes.CopyTo(constantBytes);
            }
        }

        // Pads per axis (begin, end), possibly restricted to the listed axes.
        var axes = Enumerable.Range(0, rank).ToArray();
        if (ctx.HasInput(3))
        {
            var axesTensor = ctx.RequireConstant(3, "axes");
            if (axesTensor.ElementType is not (TensorElementType.Int64 or TensorElementType.Int32) || axesTensor.Shape.Length != 1)
                throw ctx.Fail($"input axes must be a 1-D int32/int64 tensor, got {axesTensor}");
            axes = axesTensor.ToFloatArray().Select(a => (int)a).ToArray();
            for (int i = 0; i < axes.Length; i++)
            {
                if (axes[i] < -rank || axes[i] >= rank) throw ctx.Fail($"axis {axes[i]} is out of range for rank {rank}");
                if (axes[i] < 0) axes[i] += rank;
            }
            if (axes.Distinct().Count() != axes.Length) throw ctx.Fail($"input axes has repeated axes [{string.Join(",", axes)}]");
        }
        if (pads.Length != 2 * axes.Length)
            throw ctx.Fail($"pads must have {2 * axes.Length} values (begin and end for each of {axes.Length} axes), got {pads.Length}");
        var begin = new int[rank];
        var end = new int[rank];
        for (int i = 0; i < axes.Length; i++)
        {
            if (Math.Abs(pads[i]) > int.MaxValue / 4 || Math.Abs(pads[i + axes.Length]) > int.MaxValue / 4)
                throw ctx.Fail($"pads value is too large: [{string.Join(",", pads)}]");
            begin[axes[i]] = (int)pads[i];
            end[axes[i]] = (int)pads[i + axes.Length];
        }

        var outShape = new int[rank];
        for (int d = 0; d < rank; d++)
        {
            long extent = (long)x.Shape[d] + begin[d] + end[d];
            if (extent < 0) throw ctx.Fail($"pads ({begin[d]}, {end[d]}) would make axis {d} of size {x.Shape[d]} negative");
            if (mode != PadMode.Constant && x.Shape[d] == 0 && extent > 0)
                throw ctx.Fail($"mode '{mode.ToString().ToLowerInvariant()}' cannot pad the empty axis {d}");
            outShape[d] = (int)extent;
        }
        ctx.SetOutput(0, x.Type, outShape);

        var maps = new int[outShape.Sum()];
        int offset = 0;
        for (int d = 0; d < rank; d++)
        {
            PadReference.BuildAxisMap(mode, x.Shape[d], begin[d], maps.AsSpan(offset, outShape[d]));
            offset += outShape[d];
        }
        return x.Type.SizeInBytes() switch
        {
            1 => new Kernel<byte>(x.Shape, outShape, maps, constantBytes),
            2 => new Kernel<short>(x.Shape, outShape, maps, constantBytes),
            4 => new Kernel<int>(x.Shape, outShape, maps, constantBytes),
            _ => new Kernel<long>(x.Shape, outShape, maps, constantBytes),
        };
    }

    /// <summary>Converts the pre-opset-11 float 'value' attribute to the element type's bytes.</summary>
    private static void WriteConstant(OpContext ctx, TensorElementType type, float value, byte[] destination)
    {
        switch (type)
        {
            case TensorElementType.Float32: MemoryMarshal.Write(destination, value); break;
            case TensorElementType.Float16: MemoryMarshal.Write(destination, (Half)value); break;
            case TensorElementType.UInt8: case TensorElementType.Bool: destination[0] = (byte)value; break;
            case TensorElementType.Int8: destination[0] = unchecked((byte)(sbyte)value); break;
            case TensorElementType.Int32: MemoryMarshal.Write(destination, (int)value); break;
            case TensorElementType.Int64: MemoryMarshal.Write(destination, (long)value); break;
            default: throw ctx.Fail($"element type {type.OnnxName()} is not supported");
        }
    }

    /// <summary>Gathers elements of <typeparamref name="T"/>'s size (the bits are copied, never interpreted).</summary>
    private sealed class Kernel<T>(int[] inputShape, int[] outputShape, int[] maps, byte[] constantBytes) : IOpKernel where T : unmanaged
    {
        private readonly T _constant = MemoryMarshal.Read<T>(constantBytes);

        public void Run(ReadOnlySpan<Tensor?> inputs, ReadOnlySpan<Tensor?> outputs) =>
            PadReference.Pad(inputShape, outputShape, maps, _constant, inputs[0]!.AsSpan<T>(), outputs[0]!.AsSpan<T>());
    }
}
