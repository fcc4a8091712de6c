using EdgeRuntime.Tensors;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Advanced;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace EdgeRuntime.Imaging;

/// <summary>Quantization parameters of a uint8/int8 model input: <c>real = (q - ZeroPoint) * Scale</c>.</summary>
/// <param name="Scale">Positive, finite scale.</param>
/// <param name="ZeroPoint">Zero point, within the element type's range.</param>
public readonly record struct InputQuantization(float Scale, int ZeroPoint);

/// <summary>
/// Turns an <see cref="Image{Rgb24}"/> into the input tensor of a model: resize (+ center crop), channel
/// selection, layout and value mapping, into float32, float16, uint8 or int8.
/// </summary>
/// <remarks>
/// <para>Geometry. <see cref="ResizeMethod.Stretch"/> resamples the whole image to Width x Height.
/// <see cref="ResizeMethod.Crop"/> scales the image, keeping its aspect ratio, to the smallest size
/// (rw, rh) that covers the target (one of rw = Width, rh = Height holds; the other side is
/// <c>round(side * scale)</c>, half up) and takes the window starting at <c>((rw - Width) / 2,
/// (rh - Height) / 2)</c> (integer division). Resampling uses ImageSharp's Triangle (bilinear, widened
/// when downscaling) filter without companding; only the visible window is computed, so extreme aspect
/// ratios cost no extra memory. An image that already has the scaled size is read directly.</para>
/// <para>Channels. RGB and BGR select the channels in that order; GRAY is ITU-R BT.601 luma
/// <c>(299 R + 587 G + 114 B + 500) / 1000</c> in integers (rounded half up). Mean/std values are in the
/// output channel order.</para>
/// <para>Values. For each output channel c and pixel value p: <c>v = Range.Min + p (Range.Max - Range.Min)
/// / 255</c>, then <c>v = (v - Mean[c]) / Std[c]</c> when set (computed in double). float32 stores v;
/// float16 stores <c>(Half)v</c>. uint8 with range [0,255] and no mean/std stores p; int8 with the same
/// stores p - 128. Any other uint8/int8 case quantizes with the input's parameters:
/// <c>q = saturate(round_half_even(v / Scale) + ZeroPoint)</c>. All of this is a per-channel 256-entry
/// table built once, so per-frame work is a table lookup per element.</para>
/// <para>Output shape is [1, C, Height, Width] (NCHW) or [1, Height, Width, C] (NHWC); it must agree with
/// every fixed (positive) dimension of the model input.</para>
/// </remarks>
public sealed class ImagePreprocessor
{
    private readonly int _width, _height, _channels;
    private readonly bool _nhwc;
    private readonly ColorOrder _color;
    private readonly ResizeMethod _resize;

    // Lookup tables indexed [channel * 256 + pixel]; exactly one is non-null, matching ElementType.
    private readonly float[]? _floatTable;
    private readonly Half[]? _halfTable;
    private readonly byte[]? _byteTable; // uint8 values, or int8 values stored as their two's-complement bytes

    /// <summary>Prepares a preprocessor for one model input.</summary>
    /// <param name="options">Merged options (validated here).</param>
    /// <param name="inputType">Element type of the model input: float32, float16, uint8 or int8.</param>
    /// <param name="inputShape">Model input shape (rank 4; non-positive dimensions are symbolic).</param>
    /// <param name="quantization">For uint8/int8 inputs, the input's scale and zero point when known. Needed
    /// only when the value mapping is not the raw-pixel one (see the class remarks).</param>
    /// <exception cref="ConfigurationException">Invalid options, an unsupported input type, or options that
    /// do not fit the input shape.</exception>
    public ImagePreprocessor(PreprocessOptions options, TensorElementType inputType, int[] inputShape, InputQuantization? quantization = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(inputShape);
        options.Validate();
        if (inputType is not (TensorElementType.Float32 or TensorElementType.Float16 or TensorElementType.UInt8 or TensorElementType.Int8))
            throw new ConfigurationException(null, $"an image cannot feed a {inputType.OnnxName()} input (supported: float, float16, uint8, int8)");

        Options = options;
        ElementType = inputType;
        _width = options.Width;
        _height = options.Height;
        _channels = options.Channels;
        _nhwc = options.Layout == TensorLayout.Nhwc;
        _color = options.Color;
        _resize = options.Resize;
        OutputShape = _nhwc ? [1, _height, _width, _channels] : [1, _channels, _height, _width];

        bool shapeFits = inputShape.Length == 4;
        for (int i = 0; shapeFits && i < 4; i++)
            if (inputShape[i] > 0 && inputShape[i] != OutputShape[i]) shapeFits = false;
        if (!shapeFits)
            throw new ConfigurationException(null,
                $"preprocessing produces {TensorShape.Format(OutputShape)} ({options.Layout.ToString().ToUpperInvariant()}, {_width}x{_height}, " +
                $"{_channels} channel{(_channels == 1 ? "" : "s")}) but the model input has shape {TensorShape.Format(inputShape)}");

        double[] values = BuildRealValues(options);
        switch (inputType)
        {
            case TensorElementType.Float32:
                _floatTable = new float[values.Length];
                for (int i = 0; i < values.Length; i++) _floatTable[i] = (float)values[i];
                break;
            case TensorElementType.Float16:
                _halfTable = new Half[values.Length];
                for (int i = 0; i < values.Length; i++) _halfTable[i] = (Half)(float)values[i];
                break;
            default:
                _byteTable = BuildQuantizedTable(options, inputType, quantization, values);
                break;
        }
    }

    /// <summary>The options this preprocessor applies.</summary>
    public PreprocessOptions Options { get; }

    /// <summary>Element type of the produced tensor.</summary>
    public TensorElementType ElementType { get; }

    /// <summary>Shape of the produced tensor (batch 1). Treat as read-only.</summary>
    public int[] OutputShape { get; }

    /// <summary>Allocates a tensor and fills it from <paramref name="image"/>.</summary>
    public Tensor Preprocess(Image<Rgb24> image)
    {
        var tensor = new Tensor(ElementType, (int[])OutputShape.Clone());
        Preprocess(image, tensor);
        return tensor;
    }

    /// <summary>
    /// Fills <paramref name="destination"/> (element type <see cref="ElementType"/>, shape
    /// <see cref="OutputShape"/>) from <paramref name="image"/>. Allocates only the resized image, and
    /// nothing when the image already has the scaled size.
    /// </summary>
    /// <exception cref="ArgumentException">The destination has another type or shape.</exception>
    public void Preprocess(Image<Rgb24> image, Tensor destination)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(destination);
        if (destination.ElementType != ElementType || !destination.Shape.AsSpan().SequenceEqual(OutputShape))
            throw new ArgumentException($"destination must be {ElementType.OnnxName()}{TensorShape.Format(OutputShape)}, got {destination}", nameof(destination));

        var (scaledWidth, scaledHeight, left, top) = ScaledGeometry(image.Width, image.Height);
        Image<Rgb24>? resized = null;
        try
        {
            var source = image;
            if (scaledWidth != image.Width || scaledHeight != image.Height)
            {
                // Resample straight into a target-sized canvas: the scaled image is placed at (-left, -top),
                // so only the visible window is computed.
                var resizeOptions = new ResizeOptions
                {
                    Mode = ResizeMode.Manual,
                    Size = new Size(_width, _height),
                    TargetRectangle = new Rectangle(-left, -top, scaledWidth, scaledHeight),
                    Sampler = KnownResamplers.Triangle,
                    Compand = false,
                };
                resized = image.Clone(ctx => ctx.Resize(resizeOptions));
                source = resized;
                left = 0;
                top = 0;
            }
            if (_floatTable != null) Fill(source, left, top, destination.AsSpan<float>(), _floatTable);
            else if (_halfTable != null) Fill(source, left, top, destination.AsSpan<Half>(), _halfTable);
            else Fill(source, left, top, destination.Bytes, _byteTable!);
        }
        finally
        {
            resized?.Dispose();
        }
    }

    /// <summary>
    /// The scaled image size and the top-left corner of the target window in it, for a source of
    /// <paramref name="width"/> x <paramref name="height"/> (see the class remarks).
    /// </summary>
    public (int ScaledWidth, int ScaledHeight, int Left, int Top) ScaledGeometry(int width, int height)
    {
        if (width <= 0 || height <= 0) throw new ArgumentException($"image has zero size ({width}x{height})");
        if (_resize == ResizeMethod.Stretch) return (_width, _height, 0, 0);
        long w = width, h = height, tw = _width, th = _height;
        long scaledWidth, scaledHeight;
        if (w * th >= h * tw)
        {
            // Relatively wider than the target: the height governs.
            scaledHeight = th;
            scaledWidth = Math.Max(tw, (2 * w * th + h) / (2 * h));
        }
        else
        {
            scaledWidth = tw;
            scaledHeight = Math.Max(th, (2 * h * tw + w) / (2 * w));
        }
        // Bounded by the 40 MP input limit times the target size ratio; clamp so Rectangle stays valid.
        scaledWidth = Math.Min(scaledWidth, int.MaxValue / 4);
        scaledHeight = Math.Min(scaledHeight, int.MaxValue / 4);
        return ((int)scaledWidth, (int)scaledHeight, (int)((scaledWidth - tw) / 2), (int)((scaledHeight - th) / 2));
    }

    /// <summary>Copies the window at (left, top) through the table into the destination layout.</summary>
    private void Fill<T>(Image<Rgb24> source, int left, int top, Span<T> destination, T[] table) where T : unmanaged
    {
        int width = _width, height = _height;
        int plane = width * height;
        ReadOnlySpan<T> t0 = table.AsSpan(0, 256);
        ReadOnlySpan<T> t1 = _channels == 3 ? table.AsSpan(256, 256) : default;
        ReadOnlySpan<T> t2 = _channels == 3 ? table.AsSpan(512, 256) : default;
        for (int y = 0; y < height; y++)
        {
            ReadOnlySpan<Rgb24> row = source.DangerousGetPixelRowMemory(top + y).Span.Slice(left, width);
            if (_color == ColorOrder.Gray)
            {
                // One channel: NCHW and NHWC coincide.
                var outRow = destination.Slice(y * width, width);
                for (int x = 0; x < width; x++)
                {
                    var px = row[x];
                    outRow[x] = t0[(299 * px.R + 587 * px.G + 114 * px.B + 500) / 1000];
                }
                continue;
            }
            bool bgr = _color == ColorOrder.Bgr;
            if (_nhwc)
            {
                var outRow = destination.Slice(y * width * 3, width * 3);
                for (int x = 0, o = 0; x < width; x++, o += 3)
                {
                    var px = row[x];
                    outRow[o] = t0[bgr ? px.B : px.R];
                    outRow[o + 1] = t1[px.G];
                    outRow[o + 2] = t2[bgr ? px.R : px.B];
                }
            }
            else
            {
                var c0 = destination.Slice(y * width, width);
                var c1 = destination.Slice(plane + y * width, width);
                var c2 = destination.Slice(2 * plane + y * width, width);
                for (int x = 0; x < width; x++)
                {
                    var px = row[x];
                    c0[x] = t0[bgr ? px.B : px.R];
                    c1[x] = t1[px.G];
                    c2[x] = t2[bgr ? px.R : px.B];
                }
            }
        }
    }

    /// <summary>The real value of every (channel, pixel) pair, [channel * 256 + pixel].</summary>
    private static double[] BuildRealValues(PreprocessOptions options)
    {
        int channels = options.Channels;
        var values = new double[channels * 256];
        double min = options.Range.Min, step = ((double)options.Range.Max - options.Range.Min) / 255.0;
        for (int c = 0; c < channels; c++)
        {
            double mean = options.Mean == null ? 0 : options.Mean[options.Mean.Length == 1 ? 0 : c];
            double std = options.Std == null ? 1 : options.Std[options.Std.Length == 1 ? 0 : c];
            for (int p = 0; p < 256; p++)
            {
                double v = min + p * step;
                if (options.Mean != null || options.Std != null) v = (v - mean) / std;
                values[c * 256 + p] = v;
            }
        }
        return values;
    }

    private static byte[] BuildQuantizedTable(PreprocessOptions options, TensorElementType inputType, InputQuantization? quantization, double[] values)
    {
        var table = new byte[values.Length];
        bool rawPixels = options.Range == PixelRange.Raw && options.Mean == null && options.Std == null;
        bool signed = inputType == TensorElementType.Int8;
        if (rawPixels)
        {
            for (int i = 0; i < table.Length; i++) table[i] = (byte)(signed ? (sbyte)((i & 255) - 128) : (i & 255));
            return table;
        }
        if (quantization is not { } q)
            throw new ConfigurationException(null,
                $"the {inputType.OnnxName()} input takes raw pixels (range [0,255], no mean/std) unless its quantization scale and zero point are known; got range {options.Range}" +
                (options.Mean != null || options.Std != null ? " with mean/std" : ""));
        int lo = signed ? sbyte.MinValue : byte.MinValue, hi = signed ? sbyte.MaxValue : byte.MaxValue;
        if (!float.IsFinite(q.Scale) || q.Scale <= 0)
            throw new ConfigurationException(null, $"the {inputType.OnnxName()} input's quantization scale must be positive and finite, got {q.Scale}");
        if (q.ZeroPoint < lo || q.ZeroPoint > hi)
            throw new ConfigurationException(null, $"the {inputType.OnnxName()} input's zero point {q.ZeroPoint} is outside [{lo},{hi}]");
        for (int i = 0; i < table.Length; i++)
        {
            // As ONNX QuantizeLinear: the division happens on the float32 value.
            float quotient = (float)values[i] / q.Scale;
            double scaled = Math.Round((double)quotient, MidpointRounding.ToEven) + q.ZeroPoint;
            int clamped = (int)Math.Clamp(scaled, lo, hi);
            table[i] = (byte)(signed ? (sbyte)clamped : clamped);
        }
        return table;
    }
}
