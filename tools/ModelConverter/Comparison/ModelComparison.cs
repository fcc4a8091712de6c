using EdgeRuntime;
using EdgeRuntime.Execution;
using EdgeRuntime.Imaging;
using EdgeRuntime.Onnx;
using EdgeRuntime.Tensors;

namespace ModelConverter.Comparison;

/// <summary>What to compare.</summary>
internal sealed record ComparisonRequest
{
    /// <summary>The float model file.</summary>
    public required string FloatModel { get; init; }
    /// <summary>The quantized model file.</summary>
    public required string QuantModel { get; init; }
    /// <summary>Folder of images (searched recursively).</summary>
    public required string Images { get; init; }
    /// <summary>Ground truth: class-folder tree or IMAGE&lt;TAB&gt;CLASS file (see <see cref="GroundTruth"/>), or null.</summary>
    public string? Labels { get; init; }
    /// <summary>Use only the first N images (ordinal path order), or all when null.</summary>
    public int? Count { get; init; }
    /// <summary>Preprocessing flags (override the sidecars).</summary>
    public PreprocessOverrides? Preprocessing { get; init; }
    /// <summary>Engine for both models (default <see cref="BackendKind.Auto"/>: native, ONNX Runtime when a node has no kernel).</summary>
    public BackendKind Backend { get; init; } = BackendKind.Auto;
    /// <summary>Threads per engine; 0 = one per core.</summary>
    public int Threads { get; init; }
    /// <summary>Receives one line per processed image and warnings; may be null.</summary>
    public Action<string>? Log { get; init; }
}

/// <summary>
/// <c>modelconv compare</c>'s measurement: runs the float and the quantized model on the same images and reports how
/// often they agree (top-1, top-5), their accuracy against ground truth when known, and the SQNR of every float tensor
/// with a quantized counterpart (<see cref="LayerTaps"/>).
/// </summary>
/// <remarks>
/// Both models run once per image on the chosen engine (default <see cref="BackendKind.Auto"/>, as EdgeRuntime deploys
/// them: native kernels, ONNX Runtime when a node has none), with the compared tensors added as graph outputs
/// (<see cref="LayerTaps"/>); predictions come from each model's first output.
/// Preprocessing per model: its own sidecar (<c>model.edge.json</c>), else the other model's sidecar, then the flags.
/// </remarks>
internal static class ModelComparison
{
    /// <summary>Runs the comparison.</summary>
    /// <exception cref="ModelFormatException">A model is unreadable, or the two models' inputs or outputs differ.</exception>
    /// <exception cref="InvalidInputException">No images, or an image cannot be read.</exception>
    /// <exception cref="ConfigurationException">Bad sidecar, flags or ground truth.</exception>
    public static ComparisonReport Run(ComparisonRequest request)
    {
        var images = ImageSet.List(request.Images, request.Count);
        var engine = new EdgeModelOptions { Backend = request.Backend, Threads = request.Threads, AllowSpinning = false };
        using var taps = LayerTaps.Open(request.FloatModel, request.QuantModel, engine);
        var floatModel = taps.FloatModel;
        var quantModel = taps.QuantModel;
        CheckSameInterface(request, floatModel, quantModel);

        var floatPipeline = new ModelInputPipeline(request.FloatModel, floatModel, Preprocessing(request.FloatModel, request.QuantModel, request.Preprocessing));
        var quantPipeline = new ModelInputPipeline(request.QuantModel, quantModel, Preprocessing(request.QuantModel, request.FloatModel, request.Preprocessing));
        var labelsPipeline = floatPipeline.Options.Labels != null ? floatPipeline : quantPipeline;
        GroundTruth? truth = null;
        if (request.Labels != null)
        {
            var modelLabels = labelsPipeline.Options.Labels is { } l ? EdgeRuntime.Imaging.Labels.Load(l) : null;
            truth = GroundTruth.Load(request.Labels, request.Images, images, modelLabels, labelsPipeline.Options.LabelOffset);
        }

        // One decode per image when both models take the same float input the same way (the usual QDQ twin).
        bool sameInput = floatModel.Inputs[0].ElementType == quantModel.Inputs[0].ElementType
                         && floatModel.Inputs[0].ElementType is TensorElementType.Float32 or TensorElementType.Float16
                         && floatPipeline.Options.ToString() == quantPipeline.Options.ToString();
        int top1Agree = 0, top5Agree = 0, labelled = 0, floatTop1 = 0, quantTop1 = 0, floatTop5 = 0, quantTop5 = 0;
        for (int k = 0; k < images.Length; k++)
        {
            var image = images[k];
            var floatInput = floatPipeline.Prepare(image);
            var quantInput = sameInput ? floatInput : quantPipeline.Prepare(image);
            // Native outputs belong to the model until its next run: both are consumed before that.
            var floatOutputs = floatModel.Run(floatInput);
            var quantOutputs = quantModel.Run(quantInput);
            var floatOut = floatOutputs[0];
            var quantOut = quantOutputs[0];
            if (floatOut.ElementCount != quantOut.ElementCount)
                throw new ModelFormatException(request.QuantModel,
                    $"the models have different outputs: the float model gives {floatOut.ElementType.OnnxName()}{TensorShape.Format(floatOut.Shape)}, the int8 model {quantOut.ElementType.OnnxName()}{TensorShape.Format(quantOut.Shape)}");
            var floatTop = TopK(floatOut, 5);
            var quantTop = TopK(quantOut, 5);
            if (floatTop[0] == quantTop[0]) top1Agree++;
            if (quantTop.Contains(floatTop[0])) top5Agree++;
            if (truth?.ClassOf(image) is { } cls)
            {
                labelled++;
                if (floatTop[0] == cls) floatTop1++;
                if (quantTop[0] == cls) quantTop1++;
                if (floatTop.Contains(cls)) floatTop5++;
                if (quantTop.Contains(cls)) quantTop5++;
            }
            taps.Accumulate(floatInput, floatOutputs, quantOutputs);
            request.Log?.Invoke($"[{k + 1}/{images.Length}] {Path.GetRelativePath(request.Images, image)}: float {floatPipeline.Label(floatTop[0])}, int8 {labelsPipeline.Label(quantTop[0])}");
        }
        foreach (var m in taps.Mismatched())
            request.Log?.Invoke($"warning: {m.Name} and {m.Counterpart} have different element counts; left out of the SQNR table");

        double n = images.Length;
        return new ComparisonReport
        {
            FloatModel = request.FloatModel,
            QuantModel = request.QuantModel,
            Images = images.Length,
            LabelledImages = labelled,
            FloatBackend = floatModel.Backend,
            QuantBackend = quantModel.Backend,
            Top1Agreement = top1Agree / n,
            Top5Agreement = top5Agree / n,
            AccuracyFloat = labelled > 0 ? floatTop1 / (double)labelled : null,
            AccuracyInt8 = labelled > 0 ? quantTop1 / (double)labelled : null,
            Top5AccuracyFloat = labelled > 0 ? floatTop5 / (double)labelled : null,
            Top5AccuracyInt8 = labelled > 0 ? quantTop5 / (double)labelled : null,
            Layers = taps.Results(),
        };
    }

    /// <summary>
    /// Class indices of the <paramref name="k"/> largest values of <paramref name="output"/> (flattened), largest first;
    /// ties keep the lower index first. Integer outputs are ranked by their raw values (same order as dequantized ones).
    /// </summary>
    internal static int[] TopK(Tensor output, int k)
    {
        var values = output.ToFloatArray();
        k = Math.Min(k, values.Length);
        var top = new int[k];
        int count = 0;
        for (int i = 0; i < values.Length; i++)
        {
            // insertion into the sorted top list; strictly greater keeps earlier indices ahead on ties
            int at = count;
            while (at > 0 && values[i] > values[top[at - 1]]) at--;
            if (at >= k) continue;
            for (int j = Math.Min(count, k - 1); j > at; j--) top[j] = top[j - 1];
            top[at] = i;
            if (count < k) count++;
        }
        return top;
    }

    /// <summary>Flags over this model's sidecar, or — when it has none — over the other model's sidecar.</summary>
    private static PreprocessOverrides? Preprocessing(string model, string other, PreprocessOverrides? flags)
    {
        if (Sidecar.TryLoadFor(model) != null || Sidecar.TryLoadFor(other) is not { } borrowed) return flags;
        var s = borrowed.Overrides;
        if (flags == null) return s;
        return new PreprocessOverrides
        {
            Layout = flags.Layout ?? s.Layout,
            Width = flags.Width ?? s.Width,
            Height = flags.Height ?? s.Height,
            Color = flags.Color ?? s.Color,
            Range = flags.Range ?? s.Range,
            Mean = flags.Mean ?? (flags.Range != null && flags.Std == null ? null : s.Mean),
            Std = flags.Std ?? (flags.Range != null && flags.Mean == null ? null : s.Std),
            Resize = flags.Resize ?? s.Resize,
            Labels = flags.Labels ?? s.Labels,
            LabelOffset = flags.LabelOffset ?? s.LabelOffset,
        };
    }

    private static void CheckSameInterface(ComparisonRequest request, EdgeModel f, EdgeModel q)
    {
        if (f.Inputs.Count != 1)
            throw new ModelFormatException(request.FloatModel, $"compare takes single-input image models; this model has {f.Inputs.Count} inputs");
        if (q.Inputs.Count != 1)
            throw new ModelFormatException(request.QuantModel, $"compare takes single-input image models; this model has {q.Inputs.Count} inputs");
        var fi = f.Inputs[0];
        var qi = q.Inputs[0];
        if (!SameShape(fi.Shape, qi.Shape))
            throw new ModelFormatException(request.QuantModel,
                $"the models take different inputs: float model input '{fi.Name}' is {fi.ElementType.OnnxName()}{TensorShape.Format(fi.Shape)}, " +
                $"int8 model input '{qi.Name}' is {qi.ElementType.OnnxName()}{TensorShape.Format(qi.Shape)}");
        var fo = f.Outputs[0];
        var qo = q.Outputs[0];
        if (fo.HasShape && qo.HasShape && TensorShape.ElementCount(fo.Shape.Select(d => Math.Max(d, 1)).ToArray()) != TensorShape.ElementCount(qo.Shape.Select(d => Math.Max(d, 1)).ToArray()))
            throw new ModelFormatException(request.QuantModel,
                $"the models have different outputs: float model output '{fo.Name}' is {TensorShape.Format(fo.Shape)}, int8 model output '{qo.Name}' is {TensorShape.Format(qo.Shape)}");
    }

    /// <summary>Same rank and equal dimensions where both are fixed (a symbolic dimension matches anything).</summary>
    private static bool SameShape(int[] a, int[] b)
    {
        if (a.Length != b.Length) return false;
        for (int d = 0; d < a.Length; d++)
            if (a[d] >= 0 && b[d] >= 0 && a[d] != b[d]) return false;
        return true;
    }
}
