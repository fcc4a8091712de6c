using System.Globalization;
using EdgeRuntime.Tensors;

namespace EdgeRuntime.Imaging;

/// <summary>Order of the dimensions of a rank-4 image tensor.</summary>
public enum TensorLayout
{
    /// <summary>[batch, channel, height, width] (PyTorch, Caffe, most ONNX exports).</summary>
    Nchw,
    /// <summary>[batch, height, width, channel] (TensorFlow / TFLite exports).</summary>
    Nhwc,
}

/// <summary>Channels fed to the model.</summary>
public enum ColorOrder
{
    /// <summary>Three channels: red, green, blue.</summary>
    Rgb,
    /// <summary>Three channels: blue, green, red (Caffe / OpenCV models).</summary>
    Bgr,
    /// <summary>One channel: ITU-R BT.601 luma, <c>round(0.299 R + 0.587 G + 0.114 B)</c>.</summary>
    Gray,
}

/// <summary>How the image is brought to the model's width and height.</summary>
public enum ResizeMethod
{
    /// <summary>
    /// Scale (keeping the aspect ratio) to the smallest size that covers the target — for a square target
    /// this resizes the shorter side to the target — then cut the centered target-sized window.
    /// </summary>
    Crop,
    /// <summary>Scale width and height independently to the target (aspect ratio not kept).</summary>
    Stretch,
}

/// <summary>
/// The closed interval that pixel values 0..255 map to linearly: <c>v = Min + p * (Max - Min) / 255</c>.
/// </summary>
/// <param name="Min">Value of pixel 0.</param>
/// <param name="Max">Value of pixel 255.</param>
public readonly record struct PixelRange(float Min, float Max)
{
    /// <summary>[0, 255]: the raw pixel values.</summary>
    public static PixelRange Raw => new(0, 255);

    /// <summary>[0, 1].</summary>
    public static PixelRange Unit => new(0, 1);

    /// <inheritdoc/>
    public override string ToString() => $"[{Fmt(Min)},{Fmt(Max)}]";

    internal static string Fmt(float v) => v.ToString("R", CultureInfo.InvariantCulture);
}

/// <summary>
/// Optional values that override a <see cref="PreprocessOptions"/> (from the sidecar file or the command
/// line). Null means "not set here". See <see cref="PreprocessOptions.With(PreprocessOverrides?)"/> for the
/// merge rule.
/// </summary>
public sealed record PreprocessOverrides
{
    /// <summary>Tensor layout.</summary>
    public TensorLayout? Layout { get; init; }
    /// <summary>Target width in pixels.</summary>
    public int? Width { get; init; }
    /// <summary>Target height in pixels.</summary>
    public int? Height { get; init; }
    /// <summary>Channel order / gray.</summary>
    public ColorOrder? Color { get; init; }
    /// <summary>Interval pixel values 0..255 map to.</summary>
    public PixelRange? Range { get; init; }
    /// <summary>Per-channel mean (1 value = all channels), subtracted after <see cref="Range"/>.</summary>
    public float[]? Mean { get; init; }
    /// <summary>Per-channel standard deviation (1 value = all channels), divided by after the mean.</summary>
    public float[]? Std { get; init; }
    /// <summary>Resize method.</summary>
    public ResizeMethod? Resize { get; init; }
    /// <summary>Absolute path of the labels file (the sidecar resolves its relative path).</summary>
    public string? Labels { get; init; }
    /// <summary>Label of class i is labels line i - LabelOffset (e.g. 1 when the model has a background class 0 the labels lack).</summary>
    public int? LabelOffset { get; init; }
}

/// <summary>
/// How an image becomes the model's input tensor. Per output element, for a pixel (or luma) value p in
/// 0..255 of channel c: <c>v = Range.Min + p * (Range.Max - Range.Min) / 255</c>, then, when
/// <see cref="Mean"/>/<see cref="Std"/> are set, <c>v = (v - Mean[c]) / Std[c]</c>. Integer inputs then
/// quantize <c>v</c> (see <see cref="ImagePreprocessor"/>).
/// </summary>
/// <remarks>
/// Precedence: <see cref="DefaultsFor"/> &lt; sidecar &lt; command line, combined with
/// <see cref="With(PreprocessOverrides?)"/>. Channel count is 1 for <see cref="ColorOrder.Gray"/>, else 3.
/// </remarks>
public sealed record PreprocessOptions
{
    /// <summary>ImageNet per-channel mean for RGB in [0,1] (torchvision convention).</summary>
    public static IReadOnlyList<float> ImageNetMean { get; } = [0.485f, 0.456f, 0.406f];

    /// <summary>ImageNet per-channel standard deviation for RGB in [0,1] (torchvision convention).</summary>
    public static IReadOnlyList<float> ImageNetStd { get; } = [0.229f, 0.224f, 0.225f];

    /// <summary>Width and height used when the model input leaves them symbolic.</summary>
    public const int DefaultSymbolicSize = 224;

    /// <summary>Tensor layout. Default NCHW.</summary>
    public TensorLayout Layout { get; init; } = TensorLayout.Nchw;
    /// <summary>Target width in pixels. Default 224.</summary>
    public int Width { get; init; } = DefaultSymbolicSize;
    /// <summary>Target height in pixels. Default 224.</summary>
    public int Height { get; init; } = DefaultSymbolicSize;
    /// <summary>Channel order. Default RGB.</summary>
    public ColorOrder Color { get; init; } = ColorOrder.Rgb;
    /// <summary>Interval pixel values 0..255 map to. Default [0,255].</summary>
    public PixelRange Range { get; init; } = PixelRange.Raw;
    /// <summary>Per-channel mean (length 1 or the channel count), or null for none (0).</summary>
    public float[]? Mean { get; init; }
    /// <summary>Per-channel standard deviation (length 1 or the channel count), or null for none (1).</summary>
    public float[]? Std { get; init; }
    /// <summary>Resize method. Default <see cref="ResizeMethod.Crop"/>.</summary>
    public ResizeMethod Resize { get; init; } = ResizeMethod.Crop;
    /// <summary>Absolute path of the labels file, or null.</summary>
    public string? Labels { get; init; }
    /// <summary>Label of class i is labels line i - LabelOffset. Default 0.</summary>
    public int LabelOffset { get; init; }

    /// <summary>1 for gray, else 3.</summary>
    public int Channels => Color == ColorOrder.Gray ? 1 : 3;

    /// <summary>
    /// Options inferred from a model input. The input must be rank 4. Layout: NHWC when the last dimension
    /// is 1 or 3 and dimension 1 is not, else NCHW. Width/height come from the shape (a symbolic or
    /// non-positive size becomes 224). A channel dimension of 1 gives GRAY, anything else RGB.
    /// Value mapping: uint8/int8 inputs get range [0,255] with no mean/std (the quantized model's own input
    /// scale expects raw pixels); float32/float16 inputs get range [0,1] and, for RGB, the ImageNet
    /// mean/std (the torchvision convention most float ONNX classifiers were exported with); gray float
    /// inputs get [0,1] with no mean/std. Models trained otherwise (Caffe BGR 0..255, TF [-1,1], ...)
    /// need a sidecar.
    /// </summary>
    /// <exception cref="ConfigurationException">The input is not rank 4 or its type cannot take an image.</exception>
    public static PreprocessOptions DefaultsFor(TensorElementType inputType, int[] inputShape)
    {
        ArgumentNullException.ThrowIfNull(inputShape);
        if (inputShape.Length != 4)
            throw new ConfigurationException(null, $"an image input must be rank 4 (NCHW or NHWC); the model input has shape {TensorShape.Format(inputShape)}");
        bool isFloat = inputType is TensorElementType.Float32 or TensorElementType.Float16;
        if (!isFloat && inputType is not (TensorElementType.UInt8 or TensorElementType.Int8))
            throw new ConfigurationException(null, $"an image cannot feed a {inputType.OnnxName()} input (supported: float, float16, uint8, int8)");

        bool nhwc = inputShape[3] is 1 or 3 && inputShape[1] is not (1 or 3);
        var layout = nhwc ? TensorLayout.Nhwc : TensorLayout.Nchw;
        int channels = nhwc ? inputShape[3] : inputShape[1];
        int height = nhwc ? inputShape[1] : inputShape[2];
        int width = nhwc ? inputShape[2] : inputShape[3];
        var color = channels == 1 ? ColorOrder.Gray : ColorOrder.Rgb;
        var options = new PreprocessOptions
        {
            Layout = layout,
            Width = width > 0 ? width : DefaultSymbolicSize,
            Height = height > 0 ? height : DefaultSymbolicSize,
            Color = color,
            Range = isFloat ? PixelRange.Unit : PixelRange.Raw,
        };
        if (isFloat && color != ColorOrder.Gray)
            options = options with { Mean = [.. ImageNetMean], Std = [.. ImageNetStd] };
        return options;
    }

    /// <summary>
    /// These options with every non-null value of <paramref name="overrides"/> replacing the current one
    /// (null <paramref name="overrides"/> = unchanged). Range, mean and std form one value mapping: an
    /// override that sets <see cref="PreprocessOverrides.Range"/> but neither mean nor std clears the mean and
    /// std (so <c>"range": [-1, 1]</c> is not combined with default ImageNet statistics).
    /// </summary>
    public PreprocessOptions With(PreprocessOverrides? overrides)
    {
        if (overrides == null) return this;
        bool clearStats = overrides.Range != null && overrides.Mean == null && overrides.Std == null;
        return this with
        {
            Layout = overrides.Layout ?? Layout,
            Width = overrides.Width ?? Width,
            Height = overrides.Height ?? Height,
            Color = overrides.Color ?? Color,
            Range = overrides.Range ?? Range,
            Mean = overrides.Mean ?? (clearStats ? null : Mean),
            Std = overrides.Std ?? (clearStats ? null : Std),
            Resize = overrides.Resize ?? Resize,
            Labels = overrides.Labels ?? Labels,
            LabelOffset = overrides.LabelOffset ?? LabelOffset,
        };
    }

    /// <summary>
    /// Checks the merged options: positive width/height (at most 8192), a finite range with min &lt; max,
    /// mean/std of length 1 or <see cref="Channels"/>, finite values, std nonzero.
    /// </summary>
    /// <param name="file">File to name in the error, when the options came from one.</param>
    /// <exception cref="ConfigurationException">The first problem found.</exception>
    public void Validate(string? file = null)
    {
        var problem = FindProblem(Width, Height, Range, Mean, Std, Channels, out var key);
        if (problem != null) throw new ConfigurationException(file, problem, key);
    }

    internal static string? FindProblem(int? width, int? height, PixelRange? range, float[]? mean, float[]? std, int? channels, out string? key)
    {
        key = "width";
        if (width is { } w && (w <= 0 || w > MaxSize)) return $"must be between 1 and {MaxSize}, got {w}";
        key = "height";
        if (height is { } h && (h <= 0 || h > MaxSize)) return $"must be between 1 and {MaxSize}, got {h}";
        key = "range";
        if (range is { } r)
        {
            if (!float.IsFinite(r.Min) || !float.IsFinite(r.Max)) return $"must be two finite numbers, got {r}";
            if (r.Min >= r.Max) return $"min must be less than max, got {r}";
        }
        key = "mean";
        var meanProblem = StatsProblem(mean, channels, zeroAllowed: true);
        if (meanProblem != null) return meanProblem;
        key = "std";
        var stdProblem = StatsProblem(std, channels, zeroAllowed: false);
        if (stdProblem != null) return stdProblem;
        key = null;
        return null;
    }

    private const int MaxSize = 8192;

    private static string? StatsProblem(float[]? values, int? channels, bool zeroAllowed)
    {
        if (values == null) return null;
        bool lengthOk = channels is { } c ? values.Length == 1 || values.Length == c : values.Length is 1 or 3;
        if (!lengthOk)
            return channels == 1
                ? $"must have 1 value (GRAY has one channel), got {values.Length}"
                : $"must have 1 or 3 values (one per channel), got {values.Length}";
        foreach (var v in values)
        {
            if (!float.IsFinite(v)) return $"values must be finite, got {PixelRange.Fmt(v)}";
            if (!zeroAllowed && v == 0) return "values must not be 0 (division by zero)";
        }
        return null;
    }

    /// <summary>
    /// A sidecar JSON document (<c>model.edge.json</c>) holding every option except <c>labels</c> (written
    /// only when set, as given). Meant as a starting point for <c>edgerun inspect --suggest-sidecar</c>.
    /// </summary>
    public string ToSidecarJson() => Sidecar.Serialize(this);

    /// <inheritdoc/>
    public override string ToString() =>
        $"{Layout.ToString().ToUpperInvariant()} {Width}x{Height} {Color.ToString().ToUpperInvariant()} range {Range}"
        + (Mean != null ? $" mean [{string.Join(",", Mean.Select(PixelRange.Fmt))}]" : "")
        + (Std != null ? $" std [{string.Join(",", Std.Select(PixelRange.Fmt))}]" : "")
        + $" resize {Resize.ToString().ToLowerInvariant()}";
}
