using System.Globalization;
using EdgeRuntime.Tensors;

namespace EdgeRuntime.Imaging;

/// <summary>
/// Parsing of preprocessing values written as text (command-line flags; the sidecar uses the same
/// spellings), plus the usual resolution of a model's options. Every failure is a
/// <see cref="ConfigurationException"/> whose key is the flag name passed in.
/// </summary>
public static class PreprocessFlags
{
    /// <summary><c>NCHW</c> or <c>NHWC</c>, case-insensitive.</summary>
    public static TensorLayout ParseLayout(string text, string flag, string? file = null) =>
        text.Trim().ToUpperInvariant() switch
        {
            "NCHW" => TensorLayout.Nchw,
            "NHWC" => TensorLayout.Nhwc,
            _ => throw new ConfigurationException(file, $"unknown layout \"{text}\" (expected \"NCHW\" or \"NHWC\")", flag),
        };

    /// <summary><c>RGB</c>, <c>BGR</c> or <c>GRAY</c>, case-insensitive.</summary>
    public static ColorOrder ParseColor(string text, string flag, string? file = null) =>
        text.Trim().ToUpperInvariant() switch
        {
            "RGB" => ColorOrder.Rgb,
            "BGR" => ColorOrder.Bgr,
            "GRAY" => ColorOrder.Gray,
            _ => throw new ConfigurationException(file, $"unknown color \"{text}\" (expected \"RGB\", \"BGR\" or \"GRAY\")", flag),
        };

    /// <summary><c>crop</c> or <c>stretch</c>, case-insensitive.</summary>
    public static ResizeMethod ParseResize(string text, string flag, string? file = null) =>
        text.Trim().ToLowerInvariant() switch
        {
            "crop" => ResizeMethod.Crop,
            "stretch" => ResizeMethod.Stretch,
            _ => throw new ConfigurationException(file, $"unknown resize \"{text}\" (expected \"crop\" or \"stretch\")", flag),
        };

    /// <summary>A positive image size, e.g. <c>224</c>.</summary>
    public static int ParseSize(string text, string flag)
    {
        if (!int.TryParse(text.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out int value))
            throw new ConfigurationException(null, $"expected an integer, got \"{text}\"", flag);
        var problem = PreprocessOptions.FindProblem(value, null, null, null, null, null, out _);
        if (problem != null) throw new ConfigurationException(null, problem, flag);
        return value;
    }

    /// <summary>
    /// Comma-separated numbers, optionally in brackets: <c>0.485,0.456,0.406</c> or <c>[0.5]</c>.
    /// Invariant culture (a dot for decimals). Finite values only.
    /// </summary>
    public static float[] ParseFloats(string text, string flag)
    {
        var body = text.Trim();
        if (body.StartsWith('[') && body.EndsWith(']')) body = body[1..^1];
        var parts = body.Split(',', StringSplitOptions.TrimEntries);
        var values = new float[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!float.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]) || !float.IsFinite(values[i]))
                throw new ConfigurationException(null, $"expected comma-separated numbers, got \"{text}\"", flag);
        }
        return values;
    }

    /// <summary>Two numbers <c>min,max</c> with min &lt; max, e.g. <c>-1,1</c>.</summary>
    public static PixelRange ParseRange(string text, string flag)
    {
        var values = ParseFloats(text, flag);
        if (values.Length != 2) throw new ConfigurationException(null, $"expected two numbers min,max, got \"{text}\"", flag);
        var range = new PixelRange(values[0], values[1]);
        var problem = PreprocessOptions.FindProblem(null, null, range, null, null, null, out _);
        if (problem != null) throw new ConfigurationException(null, problem, flag);
        return range;
    }

    /// <summary>
    /// The options for one model input: <see cref="PreprocessOptions.DefaultsFor"/>, then the model's
    /// sidecar (if <c>model.edge.json</c> exists), then <paramref name="commandLine"/>; validated.
    /// </summary>
    /// <param name="modelPath">The model file (its sidecar is looked up beside it).</param>
    /// <param name="inputType">Element type of the model input.</param>
    /// <param name="inputShape">Shape of the model input.</param>
    /// <param name="commandLine">Overrides from flags, or null.</param>
    /// <exception cref="ConfigurationException">Bad sidecar, bad merged options, or a non-image input.</exception>
    public static PreprocessOptions Resolve(string modelPath, TensorElementType inputType, int[] inputShape, PreprocessOverrides? commandLine)
    {
        var sidecar = Sidecar.TryLoadFor(modelPath);
        var options = PreprocessOptions.DefaultsFor(inputType, inputShape).With(sidecar?.Overrides).With(commandLine);
        options.Validate(sidecar?.Path);
        return options;
    }
}
