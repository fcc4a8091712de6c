using EdgeRuntime.Fallback;
using EdgeRuntime.Graph;
using EdgeRuntime.Graph.Passes;
using EdgeRuntime.Onnx;
using EdgeRuntime.Tensors;

namespace EdgeRuntime.Execution;

/// <summary>
/// A loaded model ready to run: <c>using var model = EdgeModel.Load(path, options); var outputs = model.Run(input);</c>.
/// Loading parses and validates the ONNX file, fuses QDQ patterns into int8 ops, plans memory and binds
/// native kernels (or, per <see cref="EdgeModelOptions.Backend"/>, opens ONNX Runtime). Not thread-safe:
/// one <see cref="Run(ReadOnlySpan{Tensor})"/> at a time.
/// </summary>
public sealed class EdgeModel : IDisposable
{
    private readonly IInferenceBackend _backend;

    private EdgeModel(ModelGraph graph, IInferenceBackend backend, IReadOnlyList<Node> unsupported)
    {
        Graph = graph;
        _backend = backend;
        UnsupportedNodes = unsupported;
    }

    /// <summary>The parsed model (after QDQ fusion).</summary>
    public ModelGraph Graph { get; }

    /// <summary>Declared graph inputs, in the order <see cref="Run(ReadOnlySpan{Tensor})"/> takes them.</summary>
    public IReadOnlyList<ValueInfo> Inputs => Graph.Inputs;

    /// <summary>Declared graph outputs, in the order <see cref="Run(ReadOnlySpan{Tensor})"/> returns them.</summary>
    public IReadOnlyList<ValueInfo> Outputs => Graph.Outputs;

    /// <summary>The engine actually running the model.</summary>
    public BackendKind Backend => _backend.Kind;

    /// <summary>Nodes without a native kernel (why <see cref="BackendKind.Auto"/> chose ONNX Runtime); empty when none.</summary>
    public IReadOnlyList<Node> UnsupportedNodes { get; }

    /// <summary>Instruction-set path of the native int8 kernels (null on ONNX Runtime).</summary>
    public Kernels.Common.IsaPath? Isa => (_backend as NativeBackend)?.Isa;

    /// <summary>Threads the model runs on (native: the worker pool; ONNX Runtime: intra-op threads).</summary>
    public int Threads { get; private init; }

    /// <summary>The native plan (null on ONNX Runtime).</summary>
    internal ExecutionPlan? Plan => (_backend as NativeBackend)?.Plan;

    /// <summary>Loads a model file.</summary>
    /// <exception cref="ModelFormatException">The file is missing, malformed, over the limits, or (with <see cref="BackendKind.Native"/>) uses unsupported ops.</exception>
    public static EdgeModel Load(string path, EdgeModelOptions? options = null)
    {
        options ??= new EdgeModelOptions();
        var graph = OnnxModelReader.ReadFile(path, options.Limits);
        return Create(graph, () => File.ReadAllBytes(path), options);
    }

    /// <summary>Loads a model from memory; <paramref name="sourceName"/> names it in messages.</summary>
    public static EdgeModel Load(byte[] model, string? sourceName, EdgeModelOptions? options = null)
    {
        options ??= new EdgeModelOptions();
        var graph = OnnxModelReader.ReadBytes(model, sourceName, options.Limits);
        return Create(graph, () => model, options);
    }

    /// <summary>
    /// Builds the model on a graph already read (by <c>inspect</c>, which prints the file's graph first, and by tests
    /// that watch what the load keeps of it). The native engine rewrites <paramref name="graph"/> and releases the
    /// initializers its kernels packed.
    /// </summary>
    internal static EdgeModel Create(ModelGraph graph, Func<byte[]> bytes, EdgeModelOptions options)
    {
        int threads = options.Threads > 0 ? options.Threads : Environment.ProcessorCount;
        var unsupported = GraphPlanner.FindUnsupported(graph);
        bool useOrt = options.Backend == BackendKind.Ort;
        if (options.Backend == BackendKind.Auto && unsupported.Count > 0)
        {
            options.Log?.Invoke($"{graph.SourcePath ?? "model"}: running on ONNX Runtime because these nodes have no native kernel: {GraphPlanner.DescribeUnsupported(unsupported)}");
            useOrt = true;
        }

        if (useOrt)
        {
            // Topology is still validated so that a broken graph gets EdgeRuntime's clear error, not ORT's.
            GraphTopology.Sort(graph);
            var backend = new OrtBackend(graph.SourcePath, bytes(), graph.Inputs.Select(i => i.Name).ToArray(), graph.Outputs.Select(o => o.Name).ToArray(), threads, options.AllowSpinning);
            return new EdgeModel(graph, backend, unsupported) { Threads = threads };
        }

        var order = GraphTopology.Sort(graph); // validates the graph as written, before any rewriting
        IdentityElimination.Run(graph);
        QdqFusion.Fuse(graph);
        SignedActivations.Run(graph);
        order = GraphTopology.Sort(graph);
        if (options.Isa is { } isa) Kernels.Common.CpuFeatures.Require(isa);
        var workers = new WorkerPool(threads, options.AllowSpinning);
        try
        {
            var plan = GraphPlanner.Build(graph, order, workers, options.Isa, options.AdaptiveThreads);
            return new EdgeModel(graph, new NativeBackend(plan, workers, options.Isa ?? Kernels.Common.CpuFeatures.Active), unsupported) { Threads = threads };
        }
        catch
        {
            workers.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Runs one inference. Inputs are given in <see cref="Inputs"/> order with the declared element type
    /// (a float16 input also accepts float32) and shape (a symbolic batch dimension must be 1 on the native engine).
    /// Returns the outputs in <see cref="Outputs"/> order. On the native engine the returned tensors belong to
    /// the model and are overwritten by the next run; clone them to keep them.
    /// </summary>
    /// <exception cref="InvalidInputException">Wrong number, type or shape of inputs.</exception>
    public IReadOnlyList<Tensor> Run(params ReadOnlySpan<Tensor> inputs)
    {
        if (inputs.Length != Inputs.Count)
            throw new InvalidInputException(Graph.SourcePath, $"the model takes {Inputs.Count} input(s) ({string.Join(", ", Inputs.Select(i => i.Name))}), got {inputs.Length}");
        var plan = Plan;
        for (int i = 0; i < inputs.Length; i++)
        {
            var declared = Inputs[i];
            var t = inputs[i];
            bool typeOk = t.ElementType == declared.ElementType
                          || (declared.ElementType == TensorElementType.Float16 && t.ElementType == TensorElementType.Float32);
            if (!typeOk)
                throw new InvalidInputException(Graph.SourcePath, $"input '{declared.Name}' must be {declared.ElementType.OnnxName()}, got {t.ElementType.OnnxName()}");
            var expected = plan?.InputTensors[i].Shape ?? declared.Shape;
            if (!ShapeMatches(t.Shape, expected))
                throw new InvalidInputException(Graph.SourcePath, $"input '{declared.Name}' must have shape {TensorShape.Format(expected)}, got {TensorShape.Format(t.Shape)}");
            if (plan != null && t.ElementType == TensorElementType.Float32 && declared.ElementType == TensorElementType.Float16)
                continue; // native computes float16 models in float32: a float32 input is copied as is
        }
        if (plan == null)
        {
            // ONNX Runtime wants exactly the declared element type.
            Tensor[]? converted = null;
            for (int i = 0; i < inputs.Length; i++)
            {
                if (inputs[i].ElementType == TensorElementType.Float32 && Inputs[i].ElementType == TensorElementType.Float16)
                {
                    converted ??= inputs.ToArray();
                    var f = inputs[i].AsSpan<float>();
                    var h = new Tensor(TensorElementType.Float16, inputs[i].Shape);
                    var hs = h.AsSpan<Half>();
                    for (int k = 0; k < f.Length; k++) hs[k] = (Half)f[k];
                    converted[i] = h;
                }
            }
            if (converted != null) return _backend.Run(converted);
        }
        return _backend.Run(inputs);
    }

    private static bool ShapeMatches(int[] actual, int[] expected)
    {
        if (actual.Length != expected.Length) return false;
        for (int d = 0; d < actual.Length; d++)
            if (expected[d] >= 0 && actual[d] != expected[d]) return false;
        return true;
    }

    /// <inheritdoc/>
    public void Dispose() => _backend.Dispose();
}
