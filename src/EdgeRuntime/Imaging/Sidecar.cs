using System.Text.Json;
using System.Text.Json.Serialization;

namespace EdgeRuntime.Imaging;

/// <summary>
/// The per-model preprocessing file: for <c>dir/model.onnx</c> it is <c>dir/model.edge.json</c>.
/// </summary>
/// <remarks>
/// A JSON object; every key optional; comments and trailing commas allowed; a null value means "not set".
/// <code>
/// {
///   "layout": "NCHW",            // or "NHWC" (case-insensitive)
///   "width": 224, "height": 224, // positive integers
///   "color": "RGB",              // "RGB", "BGR" or "GRAY"
///   "range": [0, 1],             // [min, max], min &lt; max: what pixel values 0..255 map to
///   "mean": [0.485, 0.456, 0.406], // 1 value or one per channel, subtracted after range
///   "std": [0.229, 0.224, 0.225],  // 1 value or one per channel, nonzero, divided by after mean
///   "resize": "crop",            // "crop" (default) or "stretch"
///   "labels": "labels.txt",      // relative to the sidecar's folder; must exist
///   "label_offset": 0            // label of class i is line i - label_offset (1: class 0 is a "background" the labels lack)
/// }
/// </code>
/// Unknown or repeated keys, wrong JSON types and bad values are <see cref="ConfigurationException"/>s naming
/// the file and the key.
/// </remarks>
public sealed class Sidecar
{
    private Sidecar(string path, PreprocessOverrides overrides)
    {
        Path = path;
        Overrides = overrides;
    }

    /// <summary>The sidecar file.</summary>
    public string Path { get; }

    /// <summary>The keys the file sets; <see cref="PreprocessOverrides.Labels"/> is an absolute path.</summary>
    public PreprocessOverrides Overrides { get; }

    /// <summary>Known keys, in documentation order.</summary>
    public static IReadOnlyList<string> Keys { get; } =
        ["layout", "width", "height", "color", "range", "mean", "std", "resize", "labels", "label_offset"];

    /// <summary>The sidecar path for a model: the model path with its extension replaced by <c>.edge.json</c>.</summary>
    public static string PathFor(string modelPath) => System.IO.Path.ChangeExtension(modelPath, ".edge.json");

    /// <summary>Loads the sidecar of <paramref name="modelPath"/>, or returns null when there is none.</summary>
    /// <exception cref="ConfigurationException">The sidecar exists but is invalid.</exception>
    public static Sidecar? TryLoadFor(string modelPath)
    {
        var path = PathFor(modelPath);
        return File.Exists(path) ? Load(path) : null;
    }

    /// <summary>Loads and validates a sidecar file.</summary>
    /// <exception cref="ConfigurationException">Missing, unreadable or invalid.</exception>
    public static Sidecar Load(string path)
    {
        string json;
        try
        {
            json = File.ReadAllText(path);
        }
        catch (Exception ex)
        {
            throw new ConfigurationException(path, ex is FileNotFoundException or DirectoryNotFoundException ? "file not found" : $"cannot read: {ex.Message}", inner: ex);
        }
        return Parse(json, path);
    }

    /// <summary>
    /// Parses and validates sidecar text. <paramref name="path"/> names the file in errors and anchors a
    /// relative <c>labels</c> path (which must exist).
    /// </summary>
    /// <exception cref="ConfigurationException">Invalid content.</exception>
    public static Sidecar Parse(string json, string path)
    {
        CheckKeys(json, path);
        SidecarDocument doc;
        try
        {
            doc = JsonSerializer.Deserialize(json, SidecarJsonContext.Default.SidecarDocument)
                  ?? throw new ConfigurationException(path, "must be a JSON object, got null");
        }
        catch (JsonException ex)
        {
            var key = KeyOf(ex.Path);
            var expected = key != null && ExpectedTypes.TryGetValue(key, out var t) ? t : "a different JSON type";
            throw new ConfigurationException(path, $"wrong type: expected {expected}", key, ex);
        }
        return new Sidecar(path, ToOverrides(doc, path));
    }

    private static readonly Dictionary<string, string> ExpectedTypes = new(StringComparer.Ordinal)
    {
        ["layout"] = "a string (\"NCHW\" or \"NHWC\")",
        ["width"] = "an integer",
        ["height"] = "an integer",
        ["color"] = "a string (\"RGB\", \"BGR\" or \"GRAY\")",
        ["range"] = "an array of two numbers",
        ["mean"] = "an array of numbers",
        ["std"] = "an array of numbers",
        ["resize"] = "a string (\"crop\" or \"stretch\")",
        ["labels"] = "a string (path relative to the sidecar)",
        ["label_offset"] = "an integer",
    };

    private static readonly JsonDocumentOptions DocumentOptions = new()
    {
        CommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    /// <summary>Syntax, root-object, unknown-key and duplicate-key checks (the serializer would accept duplicates).</summary>
    private static void CheckKeys(string json, string path)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, DocumentOptions);
        }
        catch (JsonException ex)
        {
            throw new ConfigurationException(path, $"not valid JSON (line {ex.LineNumber + 1}, byte {ex.BytePositionInLine + 1}): {FirstSentence(ex.Message)}", inner: ex);
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new ConfigurationException(path, $"must be a JSON object, got {document.RootElement.ValueKind.ToString().ToLowerInvariant()}");
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (!Keys.Contains(property.Name))
                    throw new ConfigurationException(path, $"unknown key (known keys: {string.Join(", ", Keys)})", property.Name);
                if (!seen.Add(property.Name))
                    throw new ConfigurationException(path, "key appears more than once", property.Name);
            }
        }
    }

    private static string FirstSentence(string message)
    {
        foreach (var marker in new[] { " LineNumber:", " Path:" })
        {
            int cut = message.IndexOf(marker, StringComparison.Ordinal);
            if (cut > 0) message = message[..cut];
        }
        return message;
    }

    /// <summary>The top-level key of a JsonException path such as <c>$.range[1]</c> or <c>$['label_offset']</c>.</summary>
    private static string? KeyOf(string? jsonPath)
    {
        if (string.IsNullOrEmpty(jsonPath) || jsonPath == "$") return null;
        foreach (var key in Keys)
        {
            if (jsonPath.StartsWith("$." + key, StringComparison.Ordinal) &&
                (jsonPath.Length == key.Length + 2 || jsonPath[key.Length + 2] is '[' or '.'))
                return key;
            if (jsonPath.StartsWith($"$['{key}']", StringComparison.Ordinal)) return key;
        }
        return null;
    }

    private static PreprocessOverrides ToOverrides(SidecarDocument doc, string path)
    {
        TensorLayout? layout = doc.Layout == null ? null : PreprocessFlags.ParseLayout(doc.Layout, "layout", path);
        ColorOrder? color = doc.Color == null ? null : PreprocessFlags.ParseColor(doc.Color, "color", path);
        ResizeMethod? resize = doc.Resize == null ? null : PreprocessFlags.ParseResize(doc.Resize, "resize", path);
        PixelRange? range = null;
        if (doc.Range != null)
        {
            if (doc.Range.Length != 2)
                throw new ConfigurationException(path, $"must be an array of two numbers [min, max], got {doc.Range.Length} values", "range");
            range = new PixelRange(doc.Range[0], doc.Range[1]);
        }
        int? channels = color is { } c ? (c == ColorOrder.Gray ? 1 : 3) : null;
        var problem = PreprocessOptions.FindProblem(doc.Width, doc.Height, range, doc.Mean, doc.Std, channels, out var key);
        if (problem != null) throw new ConfigurationException(path, problem, key);

        string? labels = null;
        if (doc.Labels != null)
        {
            if (doc.Labels.Trim().Length == 0)
                throw new ConfigurationException(path, "must be a non-empty path", "labels");
            var folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path)) ?? ".";
            labels = System.IO.Path.GetFullPath(System.IO.Path.Combine(folder, doc.Labels));
            if (!File.Exists(labels))
                throw new ConfigurationException(path, $"labels file not found: {labels}", "labels");
        }

        return new PreprocessOverrides
        {
            Layout = layout,
            Width = doc.Width,
            Height = doc.Height,
            Color = color,
            Range = range,
            Mean = doc.Mean,
            Std = doc.Std,
            Resize = resize,
            Labels = labels,
            LabelOffset = doc.LabelOffset,
        };
    }

    internal static string Serialize(PreprocessOptions options)
    {
        var doc = new SidecarDocument
        {
            Layout = options.Layout.ToString().ToUpperInvariant(),
            Width = options.Width,
            Height = options.Height,
            Color = options.Color.ToString().ToUpperInvariant(),
            Range = [options.Range.Min, options.Range.Max],
            Mean = options.Mean,
            Std = options.Std,
            Resize = options.Resize.ToString().ToLowerInvariant(),
            Labels = options.Labels,
            LabelOffset = options.LabelOffset,
        };
        return JsonSerializer.Serialize(doc, SidecarJsonContext.Default.SidecarDocument);
    }
}

/// <summary>The sidecar JSON as written; values are validated and converted by <see cref="Sidecar"/>.</summary>
internal sealed class SidecarDocument
{
    public string? Layout { get; set; }
    public int? Width { get; set; }
    public int? Height { get; set; }
    public string? Color { get; set; }
    public float[]? Range { get; set; }
    public float[]? Mean { get; set; }
    public float[]? Std { get; set; }
    public string? Resize { get; set; }
    public string? Labels { get; set; }
    public int? LabelOffset { get; set; }
}

/// <summary>Source-generated (reflection-free, AOT/trim-safe) serializer for <see cref="SidecarDocument"/>.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    ReadCommentHandling = JsonCommentHandling.Skip,
    AllowTrailingCommas = true,
    WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow)]
[JsonSerializable(typeof(SidecarDocument))]
internal sealed partial class SidecarJsonContext : JsonSerializerContext
{
}
