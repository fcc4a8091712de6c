namespace EdgeRuntime.Execution;

/// <summary>
/// Per-thread scratch shared by every kernel of one plan: one int buffer per thread of a <see cref="WorkerPool"/>,
/// as long as the longest any kernel reserved.
/// </summary>
/// <remarks>
/// A plan runs its steps one at a time, and within a step each thread (worker index) works on its own items, so a
/// kernel's scratch is only ever in use while that kernel runs: kernels need not each hold their own. Before, each
/// GEMM and depthwise kernel kept one buffer per thread (1.4–1.6 MB per thread for MobileNetV2 int8); now the model
/// holds the largest of them once per thread. Kernels reserve their length when built (at load; the buffers grow
/// then, never during a run) and ask for the buffer of a worker on every run, so a buffer replaced by a later, longer
/// reservation is never kept. Kernels must not rely on scratch contents surviving between calls.
/// </remarks>
internal sealed class SharedScratch
{
    private readonly int[][] _buffers;

    /// <param name="threads">Threads that use it, the worker indexes 0 .. threads − 1.</param>
    public SharedScratch(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        _buffers = new int[threads][];
        for (int t = 0; t < threads; t++) _buffers[t] = [];
    }

    /// <summary>Ints each thread's buffer holds: the longest reservation so far.</summary>
    public int Length => _buffers[0].Length;

    /// <summary>Makes every thread's buffer at least <paramref name="ints"/> long (allocates only when it grows).</summary>
    public void Reserve(int ints)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(ints);
        if (ints <= Length) return;
        for (int t = 0; t < _buffers.Length; t++) _buffers[t] = new int[ints];
    }

    /// <summary>The buffer of thread <paramref name="worker"/> (its worker index in the pool); allocates nothing.</summary>
    public int[] For(int worker) => _buffers[worker];
}

/// <summary>A kernel that takes its per-thread scratch from a <see cref="SharedScratch"/> (tests check the sharing).</summary>
internal interface IUsesSharedScratch
{
    /// <summary>The scratch it uses: the plan's, or its own when built without a worker pool.</summary>
    SharedScratch Scratch { get; }

    /// <summary>Ints of each thread's buffer it uses (what it reserved).</summary>
    int ScratchInts { get; }
}
