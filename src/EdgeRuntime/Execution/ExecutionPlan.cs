using EdgeRuntime.Execution.Ops;
using EdgeRuntime.Graph;
using EdgeRuntime.Onnx;
using EdgeRuntime.Tensors;

namespace EdgeRuntime.Execution;

/// <summary>One scheduled node with its bound kernel and its preallocated input/output tensors.</summary>
internal sealed class PlanStep
{
    public required Node Node { get; init; }
    public required IOpKernel Kernel { get; init; }
    public required Tensor?[] Inputs { get; init; }
    public required Tensor?[] Outputs { get; init; }
    /// <summary>Multiply-accumulates per run (0 when not a MAC op), for <c>inspect</c>.</summary>
    public long Macs { get; init; }
}

/// <summary>
/// The result of planning a graph for native execution: nodes in schedule order with bound kernels,
/// constant-folded values, and a memory plan in which every intermediate tensor is a view into one of a
/// few reusable arena buffers (assigned by liveness). Built once at load; running it allocates nothing.
/// </summary>
internal sealed class ExecutionPlan
{
    public required ModelGraph Graph { get; init; }
    public required List<PlanStep> Steps { get; init; }
    /// <summary>Tensors the caller's inputs are copied into, in graph input order.</summary>
    public required Tensor[] InputTensors { get; init; }
    /// <summary>Internal (compute-type) tensors holding each graph output after a run.</summary>
    public required Tensor[] OutputTensors { get; init; }
    /// <summary>Static type and shape of every value (inputs, intermediates, constants, outputs).</summary>
    public required Dictionary<string, TensorInfo> ValueInfos { get; init; }
    /// <summary>Constant tensors still held by name: initializers and folded values that some step reads at run time.</summary>
    public required IReadOnlyDictionary<string, Tensor> Constants { get; init; }
    /// <summary>
    /// Constants released during planning, each once its last reader was bound (their shapes stay in
    /// <see cref="ValueInfos"/>): weights the kernels packed (<see cref="Ops.IPacksConstantInputs"/>), inputs of nodes
    /// folded at load, and constants no node reads. The steps' inputs for them are null.
    /// </summary>
    public IReadOnlySet<string> ReleasedConstants { get; init; } = new HashSet<string>();
    /// <summary>Number of nodes evaluated at load because all their inputs were constant.</summary>
    public int FoldedNodes { get; init; }
    /// <summary>Bytes of the activation arena buffers (the planned peak of intermediate tensors).</summary>
    public long ArenaBytes { get; init; }
    /// <summary>Bytes intermediate tensors would take without buffer reuse.</summary>
    public long UnplannedActivationBytes { get; init; }
    /// <summary>Bytes of weights held for execution: the constants kept plus the kernels' packed forms of the released ones.</summary>
    public long ConstantBytes { get; init; }
    /// <summary>Number of arena buffers.</summary>
    public int ArenaBufferCount { get; init; }
    /// <summary>The threads the kernels share, kept polling for the length of each run (<see cref="WorkerPool.BeginBurst"/>).</summary>
    public WorkerPool? Workers { get; init; }

    /// <summary>
    /// Chooses per run whether the kernels share their work with <see cref="Workers"/> or run it on the calling thread
    /// alone, by timing both (null: always shared).
    /// </summary>
    public ThreadUseTuner? ThreadUse { get; init; }

    /// <summary>
    /// Runs every step in order: with <see cref="Workers"/> in a burst for the whole run, or on the calling thread alone
    /// when <see cref="ThreadUse"/> finds that faster. The outputs are the same either way.
    /// </summary>
    public void Execute()
    {
        var steps = Steps;
        var tuner = ThreadUse;
        bool shared = tuner?.NextRunShared() ?? true;
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        StartRun(shared);
        try
        {
            for (int i = 0; i < steps.Count; i++)
            {
                var s = steps[i];
                s.Kernel.Run(s.Inputs, s.Outputs);
            }
        }
        finally
        {
            EndRun(shared);
        }
        tuner?.Record(System.Diagnostics.Stopwatch.GetTimestamp() - start);
    }

    /// <summary>Sets the pool for one run: shared (its threads polling for the whole run) or on the calling thread alone.</summary>
    private void StartRun(bool shared)
    {
        if (Workers is not { } workers) return;
        workers.CallerOnly = !shared;
        if (shared) workers.BeginBurst();
    }

    private void EndRun(bool shared)
    {
        if (shared) Workers?.EndBurst();
    }

    /// <summary>
    /// Runs every step in order like <see cref="Execute"/> (in <see cref="ThreadUse"/>'s current mode), adding the <see cref="System.Diagnostics.Stopwatch"/>
    /// ticks each step took to <c>ticksPerStep[i]</c> (i = index in <see cref="Steps"/>); the caller zeroes the
    /// array and converts with <see cref="System.Diagnostics.Stopwatch.Frequency"/>. Allocates nothing.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="ticksPerStep"/> is shorter than <see cref="Steps"/>.</exception>
    public void ExecuteProfiled(long[] ticksPerStep)
    {
        var steps = Steps;
        if (ticksPerStep.Length < steps.Count)
            throw new ArgumentException($"needs one counter per step ({steps.Count}), got {ticksPerStep.Length}", nameof(ticksPerStep));
        // The tuner's current choice, without counting this run as one of its samples.
        bool shared = ThreadUse?.Shared ?? true;
        StartRun(shared);
        try
        {
            long previous = System.Diagnostics.Stopwatch.GetTimestamp();
            for (int i = 0; i < steps.Count; i++)
            {
                var s = steps[i];
                s.Kernel.Run(s.Inputs, s.Outputs);
                // One timestamp per step: the end of step i is the start of step i + 1.
                long now = System.Diagnostics.Stopwatch.GetTimestamp();
                ticksPerStep[i] += now - previous;
                previous = now;
            }
        }
        finally
        {
            EndRun(shared);
        }
    }
}
