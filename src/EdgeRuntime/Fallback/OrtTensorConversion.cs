using EdgeRuntime.Tensors;
using Microsoft.ML.OnnxRuntime;
using Tensor = EdgeRuntime.Tensors.Tensor;
using OrtElementType = Microsoft.ML.OnnxRuntime.Tensors.TensorElementType;
using Float16 = Microsoft.ML.OnnxRuntime.Float16;

namespace EdgeRuntime.Fallback;

/// <summary>Copies between EdgeRuntime <see cref="Tensor"/>s and ONNX Runtime <see cref="OrtValue"/>s.</summary>
internal static class OrtTensorConversion
{
    /// <summary>Creates an ORT tensor holding a copy of <paramref name="t"/>.</summary>
    public static OrtValue ToOrtValue(Tensor t)
    {
        var shape = Array.ConvertAll(t.Shape, d => (long)d);
        return t.ElementType switch
        {
            TensorElementType.Float32 => OrtValue.CreateTensorValueFromMemory(t.ToArray<float>(), shape),
            TensorElementType.UInt8 => OrtValue.CreateTensorValueFromMemory(t.ToArray<byte>(), shape),
            TensorElementType.Int8 => OrtValue.CreateTensorValueFromMemory(t.ToArray<sbyte>(), shape),
            TensorElementType.Int32 => OrtValue.CreateTensorValueFromMemory(t.ToArray<int>(), shape),
            TensorElementType.Int64 => OrtValue.CreateTensorValueFromMemory(t.ToArray<long>(), shape),
            TensorElementType.Bool => OrtValue.CreateTensorValueFromMemory(Array.ConvertAll(t.ToArray<byte>(), b => b != 0), shape),
            TensorElementType.Float16 => OrtValue.CreateTensorValueFromMemory(Array.ConvertAll(t.ToArray<Half>(), h => new Float16(BitConverter.HalfToUInt16Bits(h))), shape),
            _ => throw new NotSupportedException($"element type {t.ElementType}"),
        };
    }

    /// <summary>Copies an ORT tensor into a new EdgeRuntime tensor.</summary>
    /// <exception cref="NotSupportedException">The ORT value is not a tensor of a supported element type.</exception>
    public static Tensor FromOrtValue(OrtValue v)
    {
        var info = v.GetTensorTypeAndShape();
        var shape = Array.ConvertAll(info.Shape, d => checked((int)d));
        switch (info.ElementDataType)
        {
            case OrtElementType.Float: return Tensor.FromArray(TensorElementType.Float32, shape, v.GetTensorDataAsSpan<float>());
            case OrtElementType.UInt8: return Tensor.FromArray(TensorElementType.UInt8, shape, v.GetTensorDataAsSpan<byte>());
            case OrtElementType.Int8: return Tensor.FromArray(TensorElementType.Int8, shape, v.GetTensorDataAsSpan<sbyte>());
            case OrtElementType.Int32: return Tensor.FromArray(TensorElementType.Int32, shape, v.GetTensorDataAsSpan<int>());
            case OrtElementType.Int64: return Tensor.FromArray(TensorElementType.Int64, shape, v.GetTensorDataAsSpan<long>());
            case OrtElementType.Bool:
            {
                var src = v.GetTensorDataAsSpan<bool>();
                var t = new Tensor(TensorElementType.Bool, shape);
                var dst = t.AsSpan<byte>();
                for (int i = 0; i < src.Length; i++) dst[i] = src[i] ? (byte)1 : (byte)0;
                return t;
            }
            case OrtElementType.Float16:
            {
                var src = v.GetTensorDataAsSpan<Float16>();
                var t = new Tensor(TensorElementType.Float16, shape);
                var dst = t.AsSpan<Half>();
                for (int i = 0; i < src.Length; i++) dst[i] = BitConverter.UInt16BitsToHalf(src[i].value);
                return t;
            }
            default: throw new NotSupportedException($"ONNX Runtime output type {info.ElementDataType} is not supported");
        }
    }
}
