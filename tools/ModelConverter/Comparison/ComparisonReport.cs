using System.Globalization;
using System.Text;
using System.Text.Json;
using EdgeRuntime.Execution;

namespace ModelConverter.Comparison;

/// <summary>
/// The result of <c>modelconv compare</c>, printable as text and writable as JSON (<see cref="WriteJson"/>).
/// </summary>
/// <remarks>
/// JSON schema (all keys always present; rates are fractions in [0, 1]):
/// <code>
/// {
///   "float_model": "path", "int8_model": "path",
///   "images": 53,                     // images compared
///   "labelled_images": 0,             // images with a ground-truth class (0 without --labels)
///   "backend_float": "native", "backend_int8": "native",   // engine that made the predictions ("native" or "ort")
///   "top1_agreement": 0.98,           // int8 top-1 class == float top-1 class
///   "top5_agreement": 1.0,            // float top-1 class is among the int8 top-5
///   "accuracy_float": null, "accuracy_int8": null,          // top-1 accuracy on labelled images; null without labels
///   "top5_accuracy_float": null, "top5_accuracy_int8": null,
///   "worst_layers": ["conv10", ...],  // names of the lowest-SQNR tensors (a quarter of them, 1 to 5)
///   "layers": [                       // float model node order (its input first)
///     { "name": "conv1", "op": "Conv", "node": "conv1_node", "counterpart": "conv1_DequantizeLinear_Output",
///       "form": "qdq",                // "qdq", "qoperator" or "float" (how the counterpart is stored)
///       "sqnr_db": 31.2,              // 10*log10(sum s^2 / sum (s-q)^2) over all images; null when not finite:
///       "exact": false,               //   exact=true: the tensors were identical (SQNR +infinity)
///       "signal_power": 0.71, "noise_power": 0.00054, "elements": 2408448 }  // means over all elements
///   ]
/// }
/// </code>
/// A null <c>sqnr_db</c> with <c>exact</c> false means the float tensor was all zeros while the quantized one was not
/// (SQNR −∞).
/// </remarks>
internal sealed record ComparisonReport
{
    /// <summary>Float model path.</summary>
    public required string FloatModel { get; init; }
    /// <summary>Quantized model path.</summary>
    public required string QuantModel { get; init; }
    /// <summary>Images compared.</summary>
    public required int Images { get; init; }
    /// <summary>Images with a known class.</summary>
    public required int LabelledImages { get; init; }
    /// <summary>Engine that ran the float model's predictions.</summary>
    public required BackendKind FloatBackend { get; init; }
    /// <summary>Engine that ran the quantized model's predictions.</summary>
    public required BackendKind QuantBackend { get; init; }
    /// <summary>Fraction of images whose top-1 classes agree.</summary>
    public required double Top1Agreement { get; init; }
    /// <summary>Fraction of images whose float top-1 class is in the int8 top-5.</summary>
    public required double Top5Agreement { get; init; }
    /// <summary>Float top-1 accuracy on labelled images, or null.</summary>
    public double? AccuracyFloat { get; init; }
    /// <summary>Int8 top-1 accuracy on labelled images, or null.</summary>
    public double? AccuracyInt8 { get; init; }
    /// <summary>Float top-5 accuracy on labelled images, or null.</summary>
    public double? Top5AccuracyFloat { get; init; }
    /// <summary>Int8 top-5 accuracy on labelled images, or null.</summary>
    public double? Top5AccuracyInt8 { get; init; }
    /// <summary>Per-tensor SQNR, float model node order.</summary>
    public required IReadOnlyList<LayerSqnr> Layers { get; init; }

    /// <summary>
    /// The layers with the lowest SQNR, lowest first (identical tensors never count): <paramref name="count"/> of them,
    /// by default a quarter of the compared tensors, at least 1 and at most 5.
    /// </summary>
    public IReadOnlyList<LayerSqnr> Worst(int? count = null) =>
        Layers.Where(l => !double.IsPositiveInfinity(l.SqnrDb)).OrderBy(l => l.SqnrDb).ThenBy(l => l.Pair.Name, StringComparer.Ordinal)
              .Take(count ?? Math.Clamp(Layers.Count / 4, 1, 5)).ToArray();

    /// <summary>The human-readable summary <c>modelconv compare</c> prints.</summary>
    public string ToText()
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine(inv, $"Float   {FloatModel} ({Backend(FloatBackend)})");
        sb.AppendLine(inv, $"Int8    {QuantModel} ({Backend(QuantBackend)})");
        sb.AppendLine(inv, $"Images  {Images}{(LabelledImages > 0 ? $" ({LabelledImages} labelled)" : "")}");
        sb.AppendLine(inv, $"Top-1 agreement  {Percent(Top1Agreement)}");
        sb.AppendLine(inv, $"Top-5 agreement  {Percent(Top5Agreement)}  (float top-1 within int8 top-5)");
        if (AccuracyFloat is { } af && AccuracyInt8 is { } ai)
        {
            sb.AppendLine(inv, $"Accuracy top-1   float {Percent(af)}  int8 {Percent(ai)}");
            sb.AppendLine(inv, $"Accuracy top-5   float {Percent(Top5AccuracyFloat ?? 0)}  int8 {Percent(Top5AccuracyInt8 ?? 0)}");
        }
        sb.AppendLine(inv, $"Per-layer SQNR ({Layers.Count} tensors; 10*log10(sum s^2 / sum (s-q)^2) over all images)");
        int width = Math.Max(12, Layers.Select(l => l.Pair.Name.Length).DefaultIfEmpty(0).Max());
        foreach (var l in Layers)
            sb.AppendLine(inv, $"  {l.Pair.Name.PadRight(width)}  {l.Pair.Op,-20} {Db(l.SqnrDb),9}  {FormName(l.Pair.Form)}");
        var worst = Worst();
        if (worst.Count > 0)
            sb.AppendLine(inv, $"Worst layers: {string.Join(", ", worst.Select(l => $"{l.Pair.Name} ({l.Pair.Op}, {Db(l.SqnrDb)})"))}");
        return sb.ToString();
    }

    /// <summary>Writes the JSON document described in the remarks.</summary>
    public void WriteJson(Stream stream)
    {
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        w.WriteString("float_model", FloatModel);
        w.WriteString("int8_model", QuantModel);
        w.WriteNumber("images", Images);
        w.WriteNumber("labelled_images", LabelledImages);
        w.WriteString("backend_float", Backend(FloatBackend));
        w.WriteString("backend_int8", Backend(QuantBackend));
        w.WriteNumber("top1_agreement", Top1Agreement);
        w.WriteNumber("top5_agreement", Top5Agreement);
        NumberOrNull(w, "accuracy_float", AccuracyFloat);
        NumberOrNull(w, "accuracy_int8", AccuracyInt8);
        NumberOrNull(w, "top5_accuracy_float", Top5AccuracyFloat);
        NumberOrNull(w, "top5_accuracy_int8", Top5AccuracyInt8);
        w.WriteStartArray("worst_layers");
        foreach (var l in Worst()) w.WriteStringValue(l.Pair.Name);
        w.WriteEndArray();
        w.WriteStartArray("layers");
        foreach (var l in Layers)
        {
            w.WriteStartObject();
            w.WriteString("name", l.Pair.Name);
            w.WriteString("op", l.Pair.Op);
            w.WriteString("node", l.Pair.Node);
            w.WriteString("counterpart", l.Pair.Counterpart);
            w.WriteString("form", FormName(l.Pair.Form));
            NumberOrNull(w, "sqnr_db", double.IsFinite(l.SqnrDb) ? l.SqnrDb : null);
            w.WriteBoolean("exact", l.Noise == 0);
            w.WriteNumber("signal_power", l.Elements > 0 ? l.Signal / l.Elements : 0);
            w.WriteNumber("noise_power", l.Elements > 0 ? l.Noise / l.Elements : 0);
            w.WriteNumber("elements", l.Elements);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>Writes the JSON to <paramref name="path"/> through a temporary file renamed into place.</summary>
    public void SaveJson(string path) => AtomicFile.Write(path, WriteJson);

    private static void NumberOrNull(Utf8JsonWriter w, string name, double? value)
    {
        if (value is { } v) w.WriteNumber(name, v);
        else w.WriteNull(name);
    }

    internal static string FormName(CounterpartForm form) => form switch
    {
        CounterpartForm.Qdq => "qdq",
        CounterpartForm.QOperator => "qoperator",
        _ => "float",
    };

    private static string Backend(BackendKind kind) => kind == BackendKind.Ort ? "ort" : "native";

    private static string Percent(double v) => (v * 100).ToString("0.0", CultureInfo.InvariantCulture) + "%";

    internal static string Db(double db) =>
        double.IsPositiveInfinity(db) ? "exact" : double.IsNegativeInfinity(db) ? "-inf dB" : db.ToString("0.0", CultureInfo.InvariantCulture) + " dB";
}
