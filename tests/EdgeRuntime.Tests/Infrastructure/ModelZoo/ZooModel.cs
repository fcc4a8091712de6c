using EdgeRuntime.Onnx.Proto;
using EdgeRuntime.Tensors;
using Google.Protobuf;

namespace EdgeRuntime.Tests.Infrastructure.ModelZoo;

/// <summary>
/// A generated float classification model: ONNX bytes (single input <see cref="InputName"/> float [1, 3, R, R],
/// single output <see cref="OutputName"/> = Softmax probabilities [1, classes]) plus what the builder measured.
/// </summary>
internal sealed class ZooModel
{
    private readonly ModelProto _proto;
    private readonly IReadOnlyDictionary<string, int[]> _shapes;

    internal ZooModel(string name, ModelProto proto, int resolution, int classes, string inputName, string outputName, string logitsName, string lastFeatureName,
        long parameterCount, long macs, long convMacs, IReadOnlyDictionary<string, float> calibrationMaxAbs, IReadOnlyDictionary<string, int[]> shapes,
        Tensor calibrationInput, float[] calibrationLogits)
    {
        Name = name;
        _proto = proto;
        Bytes = proto.ToByteArray();
        Resolution = resolution;
        Classes = classes;
        InputName = inputName;
        OutputName = outputName;
        LogitsName = logitsName;
        LastFeatureName = lastFeatureName;
        ParameterCount = parameterCount;
        Macs = macs;
        ConvMacs = convMacs;
        CalibrationMaxAbs = calibrationMaxAbs;
        _shapes = shapes;
        CalibrationInput = calibrationInput;
        CalibrationLogits = calibrationLogits;
    }

    /// <summary>Zoo name, e.g. <c>mobilenetv2</c>.</summary>
    public string Name { get; }

    /// <summary>The serialized ONNX model.</summary>
    public byte[] Bytes { get; }

    public int Resolution { get; }

    public int Classes { get; }

    public string InputName { get; }

    /// <summary>Softmax output (the graph output).</summary>
    public string OutputName { get; }

    /// <summary>The classifier Gemm's output (input of the Softmax), not a graph output unless added with <see cref="WithExtraOutputs"/>.</summary>
    public string LogitsName { get; }

    /// <summary>The last feature map before global pooling (after its activation).</summary>
    public string LastFeatureName { get; }

    /// <summary>Number of weights (initializer elements, excluding Clip's scalar bounds).</summary>
    public long ParameterCount { get; }

    /// <summary>Multiply-accumulates of Conv and Gemm for one image.</summary>
    public long Macs { get; }

    /// <summary>The part of <see cref="Macs"/> that scales with resolution² (Conv on feature maps; not Gemm, not squeeze-and-excitation).</summary>
    public long ConvMacs { get; }

    /// <summary>Max |value| of every tensor over the builder's synthetic calibration batch.</summary>
    public IReadOnlyDictionary<string, float> CalibrationMaxAbs { get; }

    /// <summary>First synthetic calibration image, [1, 3, R, R], ImageNet-normalised.</summary>
    public Tensor CalibrationInput { get; }

    /// <summary>The builder's own (eager) logits for <see cref="CalibrationInput"/>.</summary>
    public float[] CalibrationLogits { get; }

    /// <summary>Output tensor of every node, in graph (topological) order.</summary>
    public IReadOnlyList<string> NodeOutputs => [.. _proto.Graph.Node.Select(n => n.Output[0])];

    /// <summary>Number of nodes in the graph.</summary>
    public int NodeCount => _proto.Graph.Node.Count;

    /// <summary>Count of nodes per op type.</summary>
    public IReadOnlyDictionary<string, int> OpCounts =>
        _proto.Graph.Node.GroupBy(n => n.OpType).OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count());

    /// <summary>The model bytes with the named intermediate tensors appended as extra graph outputs (after the Softmax output).</summary>
    public byte[] WithExtraOutputs(params string[] tensorNames)
    {
        var copy = _proto.Clone();
        foreach (var name in tensorNames)
        {
            if (!_shapes.TryGetValue(name, out var shape)) throw new ArgumentException($"{Name}: no tensor '{name}'");
            copy.Graph.Output.Add(OnnxModelBuilder.MakeValueInfo(name, TensorElementType.Float32, shape));
        }
        return copy.ToByteArray();
    }

    /// <summary>Writes the model to <paramref name="path"/> and returns the path.</summary>
    public string Save(string path)
    {
        File.WriteAllBytes(path, Bytes);
        return path;
    }

    public override string ToString() => $"{Name}@{Resolution}: {ParameterCount / 1e6:0.00}M params, {Macs / 1e6:0.0}M MACs, {NodeCount} nodes";
}
