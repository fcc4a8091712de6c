using EdgeRuntime.Execution;
using EdgeRuntime.Onnx;
using Microsoft.ML.OnnxRuntime;
using Tensor = EdgeRuntime.Tensors.Tensor;

namespace EdgeRuntime.Fallback;

/// <summary>
/// Runs a whole model on ONNX Runtime (Microsoft.ML.OnnxRuntime) with full graph optimizations and the
/// same number of intra-op threads as the native engine. Used for models with ops EdgeRuntime cannot
/// run natively, and as the reference in benchmarks.
/// </summary>
internal sealed class OrtBackend : IInferenceBackend
{
    private readonly InferenceSession _session;
    private readonly SessionOptions _options;
    private readonly string[] _inputNames;
    private readonly string[] _outputNames;
    private readonly RunOptions _runOptions = new();

    public OrtBackend(string? path, byte[] model, string[] inputNames, string[] outputNames, int threads, bool allowSpinning = true)
    {
        _options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            IntraOpNumThreads = threads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        };
        foreach (var (key, value) in SpinningConfig(allowSpinning)) _options.AddSessionConfigEntry(key, value);
        try
        {
            _session = new InferenceSession(model, _options);
        }
        catch (OnnxRuntimeException ex)
        {
            _options.Dispose();
            throw new ModelFormatException(path, "ONNX Runtime cannot load the model: " + ex.Message, inner: ex);
        }
        _inputNames = inputNames;
        _outputNames = outputNames;
    }

    /// <summary>
    /// The session config entries for <paramref name="allowSpinning"/>. Intra-op threads always spin within a run, as
    /// EdgeRuntime's workers poll within an inference; without spinning they stop when the run returns
    /// (<c>session.force_spinning_stop</c>) instead of blocking between ops, which
    /// <c>session.intra_op.allow_spinning=0</c> would make them do: that costs every op a thread wake-up and took
    /// MobileNetV2 at 2 threads from 7.3 to 9.4–9.7 ms, an unfair reference for <c>edgerun bench --backend both</c>.
    /// </summary>
    internal static IEnumerable<(string Key, string Value)> SpinningConfig(bool allowSpinning)
    {
        yield return ("session.intra_op.allow_spinning", "1");
        if (!allowSpinning) yield return ("session.force_spinning_stop", "1");
    }

    public BackendKind Kind => BackendKind.Ort;

    public IReadOnlyList<Tensor> Run(ReadOnlySpan<Tensor> inputs)
    {
        var values = new OrtValue[inputs.Length];
        try
        {
            for (int i = 0; i < inputs.Length; i++) values[i] = OrtTensorConversion.ToOrtValue(inputs[i]);
            using var outputs = _session.Run(_runOptions, _inputNames, values, _outputNames);
            var result = new Tensor[outputs.Count];
            for (int i = 0; i < result.Length; i++) result[i] = OrtTensorConversion.FromOrtValue(outputs[i]);
            return result;
        }
        finally
        {
            foreach (var v in values) v?.Dispose();
        }
    }

    public void Dispose()
    {
        _session.Dispose();
        _options.Dispose();
        _runOptions.Dispose();
    }
}
