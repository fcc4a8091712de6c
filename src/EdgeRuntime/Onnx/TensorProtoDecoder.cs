using System.Buffers.Binary;
using System.Runtime.InteropServices;
using EdgeRuntime.Onnx.Proto;
using EdgeRuntime.Tensors;

namespace EdgeRuntime.Onnx;

/// <summary>
/// State shared while one model is read: where it came from (for messages), the limits, and the
/// running total of decoded constant bytes.
/// </summary>
internal sealed class ModelLoadContext(string? file, ModelLoadLimits limits)
{
    public string? File { get; } = file;
    public ModelLoadLimits Limits { get; } = limits;

    /// <summary>Bytes of all constant tensors decoded so far (after float16 widening).</summary>
    public long TotalConstantBytes { get; set; }

    /// <summary>Collects the weights the read leaves behind as it goes (see <see cref="LoadCollections"/>).</summary>
    public LoadCollections Collections { get; } = new();

    /// <summary>An exception naming the file (and node, when given) and <paramref name="problem"/>.</summary>
    public ModelFormatException Fail(string problem, string? nodeName = null, string? opType = null, Exception? inner = null) =>
        new(File, problem, nodeName, opType, inner);
}

/// <summary>
/// Turns an ONNX <c>TensorProto</c> into a <see cref="Tensor"/>. Validates everything before it
/// allocates: the element type, the rank and every dimension, the element count against
/// <see cref="ModelLoadLimits.MaxTensorElements"/>, the running total against
/// <see cref="ModelLoadLimits.MaxTotalInitializerBytes"/>, and that the stored data holds exactly
/// one value per element. Data comes either from <c>raw_data</c> (little-endian, packed) or from
/// the typed field ONNX prescribes for the type (<c>float_data</c> for float; <c>int32_data</c>
/// for int32, int8, uint8, bool and float16 — float16 as its bit pattern in the low 16 bits;
/// <c>int64_data</c> for int64). Float16 tensors are widened to float32 here, so the result's
/// element type is never <see cref="TensorElementType.Float16"/>.
/// </summary>
internal static class TensorProtoDecoder
{
    /// <summary>ONNX TensorProto field number of the unsupported <c>segment</c> field.</summary>
    private const int SegmentFieldNumber = 3;

    /// <param name="proto">The tensor as parsed.</param>
    /// <param name="label">How messages refer to it, e.g. <c>initializer 'W'</c>.</param>
    /// <param name="ctx">Load state; its constant-byte total is increased.</param>
    /// <param name="nodeName">Node owning the tensor (tensor attributes), for messages.</param>
    /// <param name="opType">Op type of that node.</param>
    public static Tensor Decode(TensorProto proto, string label, ModelLoadContext ctx, string? nodeName = null, string? opType = null)
    {
        ModelFormatException Fail(string problem) => ctx.Fail(problem, nodeName, opType);

        if (proto.DataLocation == TensorProto.Types.DataLocation.External || proto.ExternalData.Count > 0)
            throw Fail($"external-data tensors are not supported ({label})");
        if (proto.UnknownFieldNumbers().Contains(SegmentFieldNumber))
            throw Fail($"segmented tensors are not supported ({label})");

        int dataType = proto.DataType;
        var fileType = dataType switch
        {
            (int)TensorElementType.Float32 or (int)TensorElementType.UInt8 or (int)TensorElementType.Int8
                or (int)TensorElementType.Int32 or (int)TensorElementType.Int64 or (int)TensorElementType.Bool
                or (int)TensorElementType.Float16 => (TensorElementType)dataType,
            0 => throw Fail($"{label} has no data type"),
            _ => throw Fail($"{TensorElementTypeExtensions.OnnxName(dataType)} tensors are not supported ({label})"),
        };
        var storedType = fileType == TensorElementType.Float16 ? TensorElementType.Float32 : fileType;

        var shape = ValidateDims(proto, label, ctx, Fail, out long count);

        long storedBytes = count * storedType.SizeInBytes();
        if (storedBytes > Array.MaxLength)
            throw Fail($"{label} needs {storedBytes} bytes, more than one buffer can hold");
        if (ctx.TotalConstantBytes + storedBytes > ctx.Limits.MaxTotalInitializerBytes)
            throw Fail($"constant tensors need more than {ctx.Limits.MaxTotalInitializerBytes} bytes in total (limit reached at {label})");

        // Exactly one data source, holding exactly `count` values, before anything is allocated.
        var typedField = TypedFieldFor(fileType);
        foreach (var (fieldName, fieldCount) in TypedFieldCounts(proto))
            if (fieldCount > 0 && fieldName != typedField)
                throw Fail($"{fileType.OnnxName()} {label} stores values in {fieldName}, which ONNX does not use for {fileType.OnnxName()}");
        int typedCount = TypedFieldCounts(proto).First(f => f.Name == typedField).Count;
        int rawLength = proto.RawData.Length;
        if (rawLength > 0 && typedCount > 0)
            throw Fail($"{label} has both raw_data and {typedField}");
        if (rawLength > 0)
        {
            long expected = count * fileType.SizeInBytes();
            if (rawLength != expected)
                throw Fail($"raw_data of {label} has {rawLength} bytes, expected {expected} ({count} {fileType.OnnxName()} elements of shape {TensorShape.Format(shape)})");
        }
        else if (typedCount != count)
        {
            throw Fail(typedCount == 0
                ? $"{label} has no data (expected {count} {fileType.OnnxName()} elements of shape {TensorShape.Format(shape)})"
                : $"{label} has {typedCount} values in {typedField}, expected {count} (shape {TensorShape.Format(shape)})");
        }

        ctx.TotalConstantBytes += storedBytes;
        // raw_data already in the stored form (little-endian, not float16 or bool): the tensor takes over the array the
        // protobuf parser allocated for this field instead of copying it, so a model's weights are not held twice while
        // it loads. That array belongs to this message alone, and constants are never written.
        if (rawLength > 0 && fileType == storedType && fileType != TensorElementType.Bool && BitConverter.IsLittleEndian
            && MemoryMarshal.TryGetArray(proto.RawData.Memory, out var segment) && segment.Offset == 0 && segment.Array!.Length == rawLength)
            return new Tensor(storedType, shape, segment.Array);
        var tensor = new Tensor(storedType, shape);
        if (rawLength > 0) FillFromRaw(tensor, fileType, proto.RawData.Span);
        else FillFromTyped(tensor, fileType, proto, label, Fail);
        return tensor;
    }

    private static int[] ValidateDims(TensorProto proto, string label, ModelLoadContext ctx, Func<string, ModelFormatException> fail, out long count)
    {
        var limits = ctx.Limits;
        if (proto.Dims.Count > limits.MaxRank)
            throw fail($"{label} has rank {proto.Dims.Count}, more than the limit of {limits.MaxRank}");
        var shape = new int[proto.Dims.Count];
        count = 1;
        long maxDim = Math.Min(limits.MaxDimension, int.MaxValue);
        for (int i = 0; i < shape.Length; i++)
        {
            long d = proto.Dims[i];
            if (d < 0) throw fail($"{label} has negative dimension {d} at axis {i}");
            if (d > maxDim) throw fail($"{label} has dimension {d} at axis {i}, more than the limit of {maxDim}");
            shape[i] = (int)d;
            // count <= 2^31 before the multiplication and d <= 2^31, so the long product cannot overflow.
            count *= d;
            if (count > Math.Min(limits.MaxTensorElements, int.MaxValue))
                throw fail($"{label} of shape {FormatDims(proto)} has more than {Math.Min(limits.MaxTensorElements, int.MaxValue)} elements");
        }
        return shape;
    }

    private static string FormatDims(TensorProto proto) => "[" + string.Join(",", proto.Dims) + "]";

    private static string TypedFieldFor(TensorElementType type) => type switch
    {
        TensorElementType.Float32 => "float_data",
        TensorElementType.Int64 => "int64_data",
        _ => "int32_data",
    };

    private static IEnumerable<(string Name, int Count)> TypedFieldCounts(TensorProto proto)
    {
        yield return ("float_data", proto.FloatData.Count);
        yield return ("int32_data", proto.Int32Data.Count);
        yield return ("int64_data", proto.Int64Data.Count);
        yield return ("double_data", proto.DoubleData.Count);
        yield return ("uint64_data", proto.Uint64Data.Count);
        yield return ("string_data", proto.StringData.Count);
    }

    private static void FillFromRaw(Tensor tensor, TensorElementType fileType, ReadOnlySpan<byte> raw)
    {
        switch (fileType)
        {
            case TensorElementType.Float16:
            {
                WidenHalfBits(MemoryMarshal.Cast<byte, ushort>(raw), tensor.AsSpan<float>(), littleEndian: true);
                break;
            }
            case TensorElementType.Bool:
            {
                // ONNX bools are one byte; normalize any non-zero byte to 1 so ops can rely on 0/1.
                var dst = tensor.Bytes;
                for (int i = 0; i < dst.Length; i++) dst[i] = raw[i] != 0 ? (byte)1 : (byte)0;
                break;
            }
            default:
            {
                var dst = tensor.Bytes;
                raw.CopyTo(dst);
                if (!BitConverter.IsLittleEndian)
                {
                    int size = fileType.SizeInBytes();
                    for (int i = 0; i < dst.Length; i += size) dst.Slice(i, size).Reverse();
                }
                break;
            }
        }
    }

    /// <summary>float32 bit pattern of every binary16 bit pattern (256 KiB, built on first use).</summary>
    private static readonly Lazy<uint[]> HalfToSingleBits = new(() =>
    {
        var table = new uint[65536];
        for (int h = 0; h < table.Length; h++) table[h] = HalfBitsToSingleBits((uint)h);
        return table;
    });

    /// <summary>Exact binary16 -> binary32 conversion on bit patterns (every half value is a float value).</summary>
    private static uint HalfBitsToSingleBits(uint h)
    {
        uint sign = (h & 0x8000u) << 16;
        uint exponent = (h >> 10) & 0x1Fu;
        uint mantissa = h & 0x3FFu;
        if (exponent == 0x1F) return sign | 0x7F80_0000u | (mantissa << 13); // infinity or NaN (payload kept)
        if (exponent != 0) return sign | ((exponent + 112) << 23) | (mantissa << 13); // normal: rebias 15 -> 127
        if (mantissa == 0) return sign; // signed zero
        // Subnormal half: shift the mantissa up until its leading 1 reaches the implicit-bit position.
        int shift = System.Numerics.BitOperations.LeadingZeroCount(mantissa) - 21;
        mantissa = (mantissa << shift) & 0x3FFu;
        return sign | ((uint)(113 - shift) << 23) | (mantissa << 13);
    }

    /// <summary>
    /// Widens binary16 bit patterns to float32 through <see cref="HalfToSingleBits"/>. <paramref name="littleEndian"/>
    /// tells whether <paramref name="bits"/> holds the patterns in little-endian byte order (as read from raw_data).
    /// A table and raw pointers because large float16 models must load fast even in Debug builds, where every
    /// span indexer and helper call is a real call.
    /// </summary>
    private static unsafe void WidenHalfBits(ReadOnlySpan<ushort> bits, Span<float> dst, bool littleEndian)
    {
        bool swap = littleEndian != BitConverter.IsLittleEndian;
        int count = dst.Length;
        fixed (uint* table = HalfToSingleBits.Value)
        fixed (ushort* source = bits)
        fixed (float* destination = dst)
        {
            uint* target = (uint*)destination;
            if (swap)
                for (int i = 0; i < count; i++) target[i] = table[(ushort)(source[i] >> 8 | source[i] << 8)];
            else
                for (int i = 0; i < count; i++) target[i] = table[source[i]];
        }
    }

    private static void FillFromTyped(Tensor tensor, TensorElementType fileType, TensorProto proto, string label, Func<string, ModelFormatException> fail)
    {
        switch (fileType)
        {
            case TensorElementType.Float32:
            {
                var dst = tensor.AsSpan<float>();
                for (int i = 0; i < dst.Length; i++) dst[i] = proto.FloatData[i];
                break;
            }
            case TensorElementType.Int64:
            {
                var dst = tensor.AsSpan<long>();
                for (int i = 0; i < dst.Length; i++) dst[i] = proto.Int64Data[i];
                break;
            }
            case TensorElementType.Int32:
            {
                var dst = tensor.AsSpan<int>();
                for (int i = 0; i < dst.Length; i++) dst[i] = proto.Int32Data[i];
                break;
            }
            case TensorElementType.Float16:
            {
                // One element per int32 value, the binary16 bit pattern in the low 16 bits.
                var bits = new ushort[proto.Int32Data.Count];
                for (int i = 0; i < bits.Length; i++) bits[i] = (ushort)(proto.Int32Data[i] & 0xFFFF);
                WidenHalfBits(bits, tensor.AsSpan<float>(), littleEndian: BitConverter.IsLittleEndian);
                break;
            }
            case TensorElementType.Int8:
            {
                var dst = tensor.AsSpan<sbyte>();
                for (int i = 0; i < dst.Length; i++)
                {
                    int v = proto.Int32Data[i];
                    if (v < sbyte.MinValue || v > sbyte.MaxValue) throw fail($"{label}: int32_data value {v} at index {i} is out of range for int8");
                    dst[i] = (sbyte)v;
                }
                break;
            }
            case TensorElementType.UInt8:
            {
                var dst = tensor.Bytes;
                for (int i = 0; i < dst.Length; i++)
                {
                    int v = proto.Int32Data[i];
                    if (v < byte.MinValue || v > byte.MaxValue) throw fail($"{label}: int32_data value {v} at index {i} is out of range for uint8");
                    dst[i] = (byte)v;
                }
                break;
            }
            case TensorElementType.Bool:
            {
                var dst = tensor.Bytes;
                for (int i = 0; i < dst.Length; i++) dst[i] = proto.Int32Data[i] != 0 ? (byte)1 : (byte)0;
                break;
            }
        }
    }
}
