using EdgeRuntime.Execution;
using EdgeRuntime.Graph;
using EdgeRuntime.Tensors;

namespace EdgeRuntime.Imaging;

/// <summary>
/// Everything between an image file and a model's input tensor for one loaded model: preprocessing
/// options merged as defaults (from the input's type and shape) &lt; sidecar (<c>model.edge.json</c>) &lt;
/// explicit overrides, the image loader, the preprocessor and the labels.
/// </summary>
public sealed class ModelInputPipeline
{
    private readonly ImageLoader _loader;
    private readonly ImagePreprocessor _preprocessor;
    private readonly string[]? _labels;

    /// <summary>Creates the pipeline for <paramref name="model"/>'s first input.</summary>
    /// <exception cref="ConfigurationException">Sidecar, overrides or labels are invalid or do not fit the model.</exception>
    public ModelInputPipeline(string modelPath, EdgeModel model, PreprocessOverrides? overrides = null, ImageLoader? loader = null)
    {
        var input = model.Inputs[0];
        var shape = input.Shape.Select((d, i) => d >= 0 ? d : (i == 0 ? 1 : -1)).ToArray();
        var options = PreprocessFlags.Resolve(modelPath, input.ElementType, shape, overrides);
        for (int d = 0; d < shape.Length; d++)
            if (shape[d] < 0) shape[d] = options.Layout == TensorLayout.Nchw ? (d == 1 ? options.Channels : d == 2 ? options.Height : options.Width)
                                                                             : (d == 3 ? options.Channels : d == 1 ? options.Height : options.Width);
        Options = options;
        _loader = loader ?? ImageLoader.Default;
        _preprocessor = new ImagePreprocessor(options, input.ElementType, shape, QuantizedOperands.ScalarParameters(model.Graph, input.Name) is { } q ? new InputQuantization(q.Scale, q.ZeroPoint) : null);
        _labels = options.Labels != null ? Labels.Load(options.Labels) : null;
    }

    /// <summary>The merged preprocessing options.</summary>
    public PreprocessOptions Options { get; }

    /// <summary>True when a labels file was configured.</summary>
    public bool HasLabels => _labels != null;

    /// <summary>Loads and preprocesses an image file into a new input tensor.</summary>
    /// <exception cref="InvalidInputException">The image cannot be read or is over the pixel limit.</exception>
    public Tensor Prepare(string imagePath)
    {
        using var image = _loader.Load(imagePath);
        return _preprocessor.Preprocess(image);
    }

    /// <summary>Label of class <paramref name="index"/> (label line <c>index - label_offset</c>), or the index as text.</summary>
    public string Label(int index) =>
        Labels.Name(_labels, index, Options.LabelOffset) ?? index.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
