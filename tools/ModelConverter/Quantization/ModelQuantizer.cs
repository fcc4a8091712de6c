using EdgeRuntime;
using EdgeRuntime.Graph;
using EdgeRuntime.Imaging;
using EdgeRuntime.Onnx;
using EdgeRuntime.Tensors;

namespace ModelConverter.Quantization;

/// <summary>Everything <see cref="ModelQuantizer.Quantize"/> needs.</summary>
internal sealed record QuantizeRequest
{
    public required string ModelPath { get; init; }
    public required IReadOnlyList<string> Images { get; init; }
    public PreprocessOverrides? Preprocessing { get; init; }
    public QuantizeSettings Settings { get; init; } = new();
    public IReadOnlyList<string> KeepFloat { get; init; } = [];
    /// <summary>Keep float every quantized layer whose output SQNR (dB) on the calibration images is below this.</summary>
    public double? AutoKeepFloatDb { get; init; }
    /// <summary>Images used to measure SQNR for <see cref="AutoKeepFloatDb"/> (the first ones).</summary>
    public int SqnrImages { get; init; } = 8;
}

/// <summary>Outcome of a quantization.</summary>
internal sealed class QuantizeResult
{
    public required byte[] Model { get; init; }
    public required int QuantizedNodes { get; init; }
    public required int FloatNodes { get; init; }
    public required IReadOnlyList<string> KeptFloat { get; init; }
    public List<string> Notes { get; } = new();
    public List<string> Warnings { get; } = new();
    public TimeSpan CalibrationTime { get; set; }
    /// <summary>Per quantized tensor SQNR in dB (only with auto keep-float).</summary>
    public Dictionary<string, double> Sqnr { get; } = new();
}

/// <summary>
/// Float ONNX → int8 ONNX: <see cref="GraphPreparation"/>, <see cref="Calibration"/>, <see cref="QuantizationPlan"/>,
/// then <see cref="QdqWriter"/> or <see cref="QOperatorWriter"/>. The result is a pure function of the model bytes,
/// the images (in order) and the settings.
/// </summary>
internal static class ModelQuantizer
{
    public static QuantizeResult Quantize(QuantizeRequest request, Action<string, int, int>? progress = null, Action<string>? log = null)
    {
        byte[] modelBytes = ReadModel(request.ModelPath);
        var prepared = GraphPreparation.Prepare(modelBytes, request.ModelPath, request.KeepFloat);
        var names = OnnxModelReader.ReadBytes(modelBytes, request.ModelPath).Nodes.Select(n => n.Name).ToHashSet(StringComparer.Ordinal);
        var unknown = request.KeepFloat.Where(k => !names.Contains(k)).ToList();
        if (unknown.Count > 0)
            throw new EdgeRuntime.Cli.UsageException($"--keep-float: no node named {string.Join(", ", unknown.Select(u => $"'{u}'"))} in the model ");

        var watch = System.Diagnostics.Stopwatch.StartNew();
        var stats = Calibration.Run(prepared, request.ModelPath, request.Preprocessing, request.Images, (d, t) => progress?.Invoke("calibrating", d, t), log);
        var calibrationTime = watch.Elapsed;
        var plan = QuantizationPlan.Build(prepared, stats, request.Settings);
        var graph = Write(plan);

        var sqnr = new Dictionary<string, double>();
        if (request.AutoKeepFloatDb is { } threshold)
        {
            sqnr = MeasureSqnr(prepared, plan, request, progress, log);
            var producers = prepared.Graph.Nodes.Where(plan.Quantized.Contains).ToDictionary(n => n.Outputs[0], n => n.Name);
            var low = sqnr.Where(kv => kv.Value < threshold && producers.ContainsKey(kv.Key)).Select(kv => producers[kv.Key]).ToList();
            if (low.Count > 0)
            {
                prepared = GraphPreparation.Prepare(modelBytes, request.ModelPath, request.KeepFloat.Concat(low));
                plan = QuantizationPlan.Build(prepared, stats, request.Settings);
                graph = Write(plan);
            }
        }

        var result = new QuantizeResult
        {
            Model = OnnxGraphWriter.ToBytes(graph),
            QuantizedNodes = plan.Quantized.Count,
            FloatNodes = prepared.Graph.Nodes.Count - plan.Quantized.Count,
            KeptFloat = prepared.KeepFloat.Where(k => prepared.Graph.Nodes.Any(n => n.Name == k)).OrderBy(k => k, StringComparer.Ordinal).ToList(),
            CalibrationTime = calibrationTime,
        };
        result.Notes.AddRange(prepared.Notes);
        if (plan.SharedGroups.Count > 0) result.Notes.Add($"{plan.SharedGroups.Count} Concat(s) share one scale with their inputs (an exact copy in int8)");
        if (plan.FloatTail.Count > 0) result.Notes.Add($"after the last weighted layer, {string.Join(", ", plan.FloatTail)} run(s) float: only float ops read the result");
        var unsupported = EdgeRuntime.Execution.GraphPlanner.FindUnsupported(prepared.Graph);
        if (unsupported.Count > 0)
            result.Warnings.Add("EdgeRuntime has no native kernel for " + EdgeRuntime.Execution.GraphPlanner.DescribeUnsupported(unsupported)
                                + ": calibration ran on ONNX Runtime, and the int8 model will need it too");
        result.Warnings.AddRange(plan.Warnings);
        foreach (var (k, v) in sqnr) result.Sqnr[k] = v;
        return result;
    }

    private static byte[] ReadModel(string path)
    {
        try
        {
            if (Directory.Exists(path)) throw new ModelFormatException(path, "is a directory, not a model file");
            if (!File.Exists(path)) throw new ModelFormatException(path, "file not found");
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelFormatException(path, $"cannot read file: {e.Message}", inner: e);
        }
    }

    private static ModelGraph Write(QuantizationPlan plan) =>
        plan.Settings.Format == QuantFormat.Qdq ? new QdqWriter(plan).Write() : new QOperatorWriter(plan).Write();

    /// <summary>
    /// SQNR = 10·log10(Σ f² / Σ (f - q)²) of every quantized node output, float model value f against the QDQ model's
    /// dequantized value q, over the first images.
    /// </summary>
    private static Dictionary<string, double> MeasureSqnr(PreparedGraph prepared, QuantizationPlan plan, QuantizeRequest request, Action<string, int, int>? progress, Action<string>? log)
    {
        var qdq = new QdqWriter(plan).Write();
        var tensors = prepared.Graph.Nodes.Where(plan.Quantized.Contains).Select(n => n.Outputs[0]).Where(plan.Activations.ContainsKey).Distinct().ToList();
        var dqNames = tensors.ToDictionary(t => t, t => qdq.Outputs.Any(o => o.Name == t) ? t : t + "_DequantizeLinear_Output");
        using var floatModel = Calibration.Load(Calibration.InstrumentedModel(Calibration.FloatReference(prepared)), request.ModelPath, log);
        using var quantModel = Calibration.Load(Calibration.InstrumentedModel(qdq, dqNames.Values), request.ModelPath, log);
        var pipeline = new ModelInputPipeline(request.ModelPath, floatModel, request.Preprocessing);
        var signal = tensors.ToDictionary(t => t, _ => 0.0);
        var noise = tensors.ToDictionary(t => t, _ => 0.0);
        int count = Math.Min(request.SqnrImages, request.Images.Count);
        var floatIndex = floatModel.Outputs.Select((o, i) => (o.Name, i)).ToDictionary(x => x.Name, x => x.i);
        var quantIndex = quantModel.Outputs.Select((o, i) => (o.Name, i)).ToDictionary(x => x.Name, x => x.i);
        for (int i = 0; i < count; i++)
        {
            var input = pipeline.Prepare(request.Images[i]);
            var f = floatModel.Run(input).Select(t => t.Clone()).ToArray();
            var q = quantModel.Run(input);
            foreach (var t in tensors)
            {
                if (!floatIndex.TryGetValue(t, out var fi) || !quantIndex.TryGetValue(dqNames[t], out var qi)) continue;
                var fv = f[fi].AsSpan<float>();
                var qv = q[qi].AsSpan<float>();
                if (fv.Length != qv.Length) continue;
                var (lo, hi) = prepared.Clamps.TryGetValue(t, out var c) ? c : (float.NegativeInfinity, float.PositiveInfinity);
                double s = 0, n = 0;
                for (int k = 0; k < fv.Length; k++) { double a = Math.Clamp(fv[k], lo, hi); s += a * a; n += (a - qv[k]) * (a - qv[k]); }
                signal[t] += s;
                noise[t] += n;
            }
            progress?.Invoke("measuring SQNR", i + 1, count);
        }
        return tensors.ToDictionary(t => t, t => noise[t] == 0 ? double.PositiveInfinity : 10 * Math.Log10(signal[t] / noise[t]));
    }
}
