using EdgeRuntime;
using EdgeRuntime.Execution;
using EdgeRuntime.Graph;
using EdgeRuntime.Imaging;
using EdgeRuntime.Tensors;

namespace ModelConverter.Quantization;

/// <summary>Calibration images and how to turn them into model inputs.</summary>
internal static class CalibrationImages
{
    private static readonly HashSet<string> Extensions = new(StringComparer.OrdinalIgnoreCase) { ".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pbm", ".pgm", ".ppm", ".tga" };

    /// <summary>Image files under <paramref name="folder"/> (recursively), in ordinal path order, at most <paramref name="count"/>.</summary>
    /// <exception cref="InvalidInputException">The folder is missing, unreadable or holds no images.</exception>
    public static string[] List(string folder, int? count)
    {
        if (!Directory.Exists(folder)) throw new InvalidInputException(folder, "calibration folder not found");
        string[] files;
        try
        {
            files = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
                .Where(f => Extensions.Contains(Path.GetExtension(f)))
                .OrderBy(f => f, StringComparer.Ordinal).ToArray();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.SecurityException)
        {
            throw new InvalidInputException(folder, $"cannot read the calibration folder: {e.Message}", e);
        }
        if (files.Length == 0) throw new InvalidInputException(folder, "the calibration folder holds no images (.jpg, .png, .bmp, ...)");
        return count is { } n ? files.Take(n).ToArray() : files;
    }
}

/// <summary>
/// Runs the prepared float model over the calibration images — natively when the runtime has every op, on ONNX Runtime
/// otherwise — with every float intermediate tensor exposed as a graph output, and collects a
/// <see cref="CalibrationHistogram"/> per tensor (the graph input included). Images are processed in the given order,
/// so the statistics are deterministic.
/// </summary>
internal static class Calibration
{
    /// <summary>The prepared graph with every float node output (and the original outputs) as graph outputs.</summary>
    public static byte[] InstrumentedModel(ModelGraph graph, IEnumerable<string>? extraOutputs = null)
    {
        var types = FloatTypes.Infer(graph);
        var outputs = new List<ValueInfo>(graph.Outputs);
        var names = new HashSet<string>(outputs.Select(o => o.Name));
        foreach (var node in graph.Nodes)
            foreach (var o in node.Outputs)
                if (o.Length > 0 && types.Contains(o) && names.Add(o))
                    outputs.Add(new ValueInfo(o, TensorElementType.Float32, [], []) { HasShape = false });
        foreach (var o in extraOutputs ?? [])
            if (names.Add(o)) outputs.Add(new ValueInfo(o, TensorElementType.Float32, [], []) { HasShape = false });
        var proto = OnnxGraphWriter.ToProto(graph);
        proto.Graph.Output.Clear();
        foreach (var o in outputs) proto.Graph.Output.Add(OnnxGraphWriter.ValueInfo(o));
        return Google.Protobuf.MessageExtensions.ToByteArray(proto);
    }

    /// <summary>The float reference graph of <paramref name="prepared"/> (activations still explicit).</summary>
    public static ModelGraph FloatReference(PreparedGraph prepared) => EdgeRuntime.Onnx.OnnxModelReader.ReadBytes(prepared.FloatReference, prepared.Graph.SourcePath);

    public static EdgeModel Load(byte[] model, string name, Action<string>? log) =>
        EdgeModel.Load(model, name, new EdgeModelOptions { Backend = BackendKind.Auto, Log = log });

    /// <param name="prepared">The prepared float graph.</param>
    /// <param name="modelPath">The user's model file (its sidecar supplies preprocessing).</param>
    /// <param name="overrides">Preprocessing flags.</param>
    /// <param name="images">Calibration image files.</param>
    /// <param name="progress">Called after each image with (done, total).</param>
    /// <param name="log">Warnings.</param>
    public static Dictionary<string, CalibrationHistogram> Run(PreparedGraph prepared, string modelPath, PreprocessOverrides? overrides,
        IReadOnlyList<string> images, Action<int, int>? progress, Action<string>? log)
    {
        using var model = Load(InstrumentedModel(FloatReference(prepared)), modelPath, log);
        var pipeline = new ModelInputPipeline(modelPath, model, overrides);
        var stats = new Dictionary<string, CalibrationHistogram>(StringComparer.Ordinal);
        string inputName = model.Inputs[0].Name;
        // The next image is decoded on another thread while the model runs; images are still consumed in order.
        var next = images.Count > 0 ? Task.Run(() => pipeline.Prepare(images[0])) : null;
        for (int i = 0; i < images.Count; i++)
        {
            var input = next!.GetAwaiter().GetResult();
            int following = i + 1;
            next = following < images.Count ? Task.Run(() => pipeline.Prepare(images[following])) : null;
            var outputs = model.Run(input);
            Collect(stats, inputName, input);
            for (int o = 0; o < outputs.Count; o++) Collect(stats, model.Outputs[o].Name, outputs[o]);
            progress?.Invoke(i + 1, images.Count);
        }
        return stats;
    }

    /// <summary>Adds a tensor's values (the float reference computes the activations explicitly, so no clamping is needed here).</summary>
    private static void Collect(Dictionary<string, CalibrationHistogram> stats, string name, Tensor t)
    {
        if (t.ElementType != TensorElementType.Float32) return;
        if (!stats.TryGetValue(name, out var h)) stats[name] = h = new CalibrationHistogram();
        h.Add(t.AsSpan<float>());
        h.AddChannels(t.AsSpan<float>(), t.Shape);
    }
}

/// <summary>Which values of a graph are float (a small forward type inference over the ops seen in CNN exports).</summary>
internal static class FloatTypes
{
    private static readonly HashSet<string> NonFloatOps = ["Shape", "Size", "NonZero", "ArgMax", "ArgMin", "Equal", "Greater", "Less", "Not", "And", "Or", "GreaterOrEqual", "LessOrEqual", "IsNaN", "IsInf"];

    public static HashSet<string> Infer(ModelGraph graph)
    {
        var isFloat = new HashSet<string>(StringComparer.Ordinal);
        foreach (var i in graph.Inputs) if (i.ComputeType == TensorElementType.Float32) isFloat.Add(i.Name);
        foreach (var (n, t) in graph.Initializers) if (t.ElementType == TensorElementType.Float32) isFloat.Add(n);
        foreach (var node in GraphTopology.Sort(graph))
        {
            bool f;
            if (NonFloatOps.Contains(node.OpType) || node.OpType.StartsWith("QLinear", StringComparison.Ordinal) || node.OpType == "QuantizeLinear") f = false;
            else if (node.OpType == "DequantizeLinear") f = true;
            else if (node.OpType == "Cast") f = node.Attributes.TryGetValue("to", out var to) && to.Int == (long)TensorElementType.Float32;
            else if (node.OpType == "ConstantOfShape") f = !node.Attributes.TryGetValue("value", out var v) || v.Tensor?.ElementType == TensorElementType.Float32;
            else f = node.Inputs.Length == 0 || isFloat.Contains(node.Inputs[0]);
            if (f) foreach (var o in node.Outputs.Take(node.OpType is "Dropout" or "MaxPool" ? 1 : node.Outputs.Length)) if (o.Length > 0) isFloat.Add(o);
        }
        return isFloat;
    }
}
