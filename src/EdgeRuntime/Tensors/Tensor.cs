using System.Runtime.InteropServices;

namespace EdgeRuntime.Tensors;

/// <summary>
/// A dense, row-major tensor. The elements live in a byte buffer that may be shared with other
/// tensors (the execution arena reuses buffers by liveness), starting at <see cref="ByteOffset"/>.
/// </summary>
public sealed class Tensor
{
    private readonly byte[] _buffer;

    /// <summary>Creates a tensor over an existing buffer region (no copy).</summary>
    /// <exception cref="ArgumentException">The region is smaller than the shape needs.</exception>
    public Tensor(TensorElementType elementType, int[] shape, byte[] buffer, int byteOffset = 0)
    {
        ElementType = elementType;
        Shape = shape;
        ElementCount = TensorShape.ElementCount(shape);
        _buffer = buffer;
        ByteOffset = byteOffset;
        if ((long)byteOffset + ByteLength > buffer.Length)
            throw new ArgumentException($"buffer of {buffer.Length} bytes cannot hold {ByteLength} bytes at offset {byteOffset}");
    }

    /// <summary>Allocates a zero-filled tensor.</summary>
    public Tensor(TensorElementType elementType, int[] shape)
        : this(elementType, shape, new byte[checked(TensorShape.ElementCount(shape) * elementType.SizeInBytes())])
    {
    }

    /// <summary>Element type.</summary>
    public TensorElementType ElementType { get; }

    /// <summary>Dimensions, outermost first. Empty for a scalar. Treat as read-only.</summary>
    public int[] Shape { get; }

    /// <summary>Product of <see cref="Shape"/> (1 for a scalar).</summary>
    public int ElementCount { get; }

    /// <summary>Offset of the first element in the underlying buffer.</summary>
    public int ByteOffset { get; }

    /// <summary>Size of the elements in bytes.</summary>
    public int ByteLength => ElementCount * ElementType.SizeInBytes();

    /// <summary>The raw bytes of the elements.</summary>
    public Span<byte> Bytes => _buffer.AsSpan(ByteOffset, ByteLength);

    /// <summary>The elements as <typeparamref name="T"/>; <typeparamref name="T"/> must match <see cref="ElementType"/> in size.</summary>
    public Span<T> AsSpan<T>() where T : unmanaged => MemoryMarshal.Cast<byte, T>(Bytes);

    /// <summary>Creates a tensor that owns a copy of <paramref name="data"/>.</summary>
    public static Tensor FromArray<T>(TensorElementType elementType, int[] shape, ReadOnlySpan<T> data) where T : unmanaged
    {
        var t = new Tensor(elementType, shape);
        if (data.Length != t.ElementCount)
            throw new ArgumentException($"shape [{string.Join(",", shape)}] needs {t.ElementCount} elements, got {data.Length}");
        data.CopyTo(t.AsSpan<T>());
        return t;
    }

    /// <summary>A float32 tensor holding a copy of <paramref name="data"/>.</summary>
    public static Tensor FromFloats(int[] shape, ReadOnlySpan<float> data) => FromArray(TensorElementType.Float32, shape, data);

    /// <summary>Copies the elements into a new array.</summary>
    public T[] ToArray<T>() where T : unmanaged => AsSpan<T>().ToArray();

    /// <summary>A deep copy with its own buffer.</summary>
    public Tensor Clone()
    {
        var t = new Tensor(ElementType, (int[])Shape.Clone());
        Bytes.CopyTo(t.Bytes);
        return t;
    }

    /// <summary>The elements converted to float32 (float16, integer types widened; no dequantization).</summary>
    public float[] ToFloatArray()
    {
        var r = new float[ElementCount];
        switch (ElementType)
        {
            case TensorElementType.Float32: AsSpan<float>().CopyTo(r); break;
            case TensorElementType.Float16: { var s = AsSpan<Half>(); for (int i = 0; i < r.Length; i++) r[i] = (float)s[i]; break; }
            case TensorElementType.UInt8: case TensorElementType.Bool: { var s = AsSpan<byte>(); for (int i = 0; i < r.Length; i++) r[i] = s[i]; break; }
            case TensorElementType.Int8: { var s = AsSpan<sbyte>(); for (int i = 0; i < r.Length; i++) r[i] = s[i]; break; }
            case TensorElementType.Int32: { var s = AsSpan<int>(); for (int i = 0; i < r.Length; i++) r[i] = s[i]; break; }
            case TensorElementType.Int64: { var s = AsSpan<long>(); for (int i = 0; i < r.Length; i++) r[i] = s[i]; break; }
        }
        return r;
    }

    /// <inheritdoc/>
    public override string ToString() => $"{ElementType.OnnxName()}[{string.Join(",", Shape)}]";
}

/// <summary>Shape arithmetic shared by the loader, the planner and the ops.</summary>
public static class TensorShape
{
    /// <summary>Product of the dimensions; 1 for a scalar. Throws <see cref="OverflowException"/> past int.MaxValue.</summary>
    public static int ElementCount(ReadOnlySpan<int> shape)
    {
        long n = 1;
        foreach (var d in shape)
        {
            if (d < 0) throw new ArgumentException($"negative dimension {d}");
            n *= d;
            if (n > int.MaxValue) throw new OverflowException("tensor has more than 2^31-1 elements");
        }
        return (int)n;
    }

    /// <summary>Formats a shape as <c>[1,3,224,224]</c>.</summary>
    public static string Format(ReadOnlySpan<int> shape)
    {
        var parts = new string[shape.Length];
        for (int i = 0; i < shape.Length; i++) parts[i] = shape[i].ToString(System.Globalization.CultureInfo.InvariantCulture);
        return "[" + string.Join(",", parts) + "]";
    }

    /// <summary>Row-major strides in elements.</summary>
    public static int[] Strides(ReadOnlySpan<int> shape)
    {
        var s = new int[shape.Length];
        int acc = 1;
        for (int i = shape.Length - 1; i >= 0; i--) { s[i] = acc; acc *= shape[i]; }
        return s;
    }
}
