namespace EdgeRuntime.Tensors;

/// <summary>Element types EdgeRuntime tensors can hold. Values equal ONNX <c>TensorProto.DataType</c>.</summary>
public enum TensorElementType
{
    /// <summary>IEEE 754 binary32.</summary>
    Float32 = 1,
    /// <summary>Unsigned 8-bit integer (quantized activations and weights).</summary>
    UInt8 = 2,
    /// <summary>Signed 8-bit integer (quantized activations and weights).</summary>
    Int8 = 3,
    /// <summary>Signed 32-bit integer (quantized biases).</summary>
    Int32 = 6,
    /// <summary>Signed 64-bit integer (shapes, axes, indices).</summary>
    Int64 = 7,
    /// <summary>Boolean stored as one byte, 0 or 1.</summary>
    Bool = 9,
    /// <summary>IEEE 754 binary16 (<see cref="Half"/>). Used only at model boundaries; computed in float32.</summary>
    Float16 = 10,
}

/// <summary>Helpers for <see cref="TensorElementType"/>.</summary>
public static class TensorElementTypeExtensions
{
    /// <summary>Size in bytes of one element.</summary>
    public static int SizeInBytes(this TensorElementType type) => type switch
    {
        TensorElementType.Float32 => 4,
        TensorElementType.UInt8 => 1,
        TensorElementType.Int8 => 1,
        TensorElementType.Int32 => 4,
        TensorElementType.Int64 => 8,
        TensorElementType.Bool => 1,
        TensorElementType.Float16 => 2,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "unknown element type"),
    };

    /// <summary>True when <paramref name="onnxDataType"/> is a value of this enum.</summary>
    public static bool IsSupported(int onnxDataType) =>
        Enum.IsDefined(typeof(TensorElementType), onnxDataType);

    /// <summary>ONNX spelling, e.g. <c>float</c>, <c>uint8</c>, for messages.</summary>
    public static string OnnxName(this TensorElementType type) => type switch
    {
        TensorElementType.Float32 => "float",
        TensorElementType.UInt8 => "uint8",
        TensorElementType.Int8 => "int8",
        TensorElementType.Int32 => "int32",
        TensorElementType.Int64 => "int64",
        TensorElementType.Bool => "bool",
        TensorElementType.Float16 => "float16",
        _ => type.ToString(),
    };

    /// <summary>ONNX spelling of any ONNX data type number, including ones EdgeRuntime does not support.</summary>
    public static string OnnxName(int onnxDataType) => onnxDataType switch
    {
        0 => "undefined", 1 => "float", 2 => "uint8", 3 => "int8", 4 => "uint16", 5 => "int16", 6 => "int32",
        7 => "int64", 8 => "string", 9 => "bool", 10 => "float16", 11 => "double", 12 => "uint32",
        13 => "uint64", 14 => "complex64", 15 => "complex128", 16 => "bfloat16",
        _ => $"data type {onnxDataType}",
    };
}
