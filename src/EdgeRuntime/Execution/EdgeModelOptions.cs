using EdgeRuntime.Onnx;

namespace EdgeRuntime.Execution;

/// <summary>Which engine runs a model.</summary>
public enum BackendKind
{
    /// <summary>Native when every node has a native kernel, otherwise the whole model on ONNX Runtime.</summary>
    Auto,
    /// <summary>EdgeRuntime's own kernels; loading fails if any node is unsupported.</summary>
    Native,
    /// <summary>ONNX Runtime (Microsoft.ML.OnnxRuntime) with full graph optimizations.</summary>
    Ort,
}

/// <summary>Options for <see cref="EdgeModel.Load(string, EdgeModelOptions?)"/>.</summary>
public sealed class EdgeModelOptions
{
    /// <summary>Engine selection; default <see cref="BackendKind.Auto"/>.</summary>
    public BackendKind Backend { get; init; } = BackendKind.Auto;

    /// <summary>Limits that protect against hostile or corrupt model files.</summary>
    public ModelLoadLimits Limits { get; init; } = ModelLoadLimits.Default;

    /// <summary>Worker threads; 0 means one per core.</summary>
    public int Threads { get; init; }

    /// <summary>
    /// Instruction-set path for the native int8 kernels; null uses the process's choice
    /// (<see cref="Kernels.Common.CpuFeatures.Active"/>: <c>EDGE_ISA</c> or the fastest supported).
    /// Loading fails with <see cref="Kernels.Common.IsaNotSupportedException"/> when the CPU lacks the path.
    /// </summary>
    public Kernels.Common.IsaPath? Isa { get; init; }

    /// <summary>
    /// Whether idle worker threads keep spinning for a while after a run (default true: lower latency when runs follow
    /// each other closely). Within a run threads always spin, in EdgeRuntime's worker pool and in ONNX Runtime's intra-op
    /// pool alike; with false both stop when the run returns (ONNX Runtime: <c>session.force_spinning_stop</c>). Turn it
    /// off when two engines share the cores, as in <c>edgerun bench --backend both</c>, so one engine's idle threads do
    /// not take cores from the other's runs.
    /// </summary>
    public bool AllowSpinning { get; init; } = true;

    /// <summary>
    /// With more than one thread on the native engine: whether the model measures, now and then, if running each
    /// inference on the calling thread alone is faster than sharing it with the worker threads, and does so when it is
    /// (<see cref="ThreadUseTuner"/>; default true). Outputs are identical either way. False always shares.
    /// </summary>
    public bool AdaptiveThreads { get; init; } = true;

    /// <summary>Receives diagnostic messages (e.g. why auto fell back to ONNX Runtime); may be null.</summary>
    public Action<string>? Log { get; init; }
}
