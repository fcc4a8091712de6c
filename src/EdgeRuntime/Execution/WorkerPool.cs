namespace EdgeRuntime.Execution;

/// <summary>A unit of parallel work: <see cref="Execute"/> is called once per item, on some worker.</summary>
internal interface IParallelWork
{
    /// <summary>Processes item <paramref name="item"/> on worker <paramref name="worker"/> (0 = the calling thread).</summary>
    void Execute(int item, int worker);
}

/// <summary>
/// A fixed set of threads created once per model, used to split a kernel's independent items (output tiles,
/// channel ranges) across cores. <see cref="Run"/> does not allocate (only a monitor is used for signalling); the
/// calling thread takes items too, and items are claimed one at a time from a shared counter, so the split adapts to
/// a busy core. Which worker runs an item never changes its result, so outputs are identical for any thread count.
/// </summary>
internal sealed class WorkerPool : IDisposable
{
    /// <summary>
    /// Rounds of <see cref="Thread.SpinWait"/> a thread polls before blocking (≈ 50–100 µs): a model's layers follow
    /// each other within microseconds, and waking a blocked thread costs more than a short spin.
    /// </summary>
    private const int DefaultSpinRounds = 2000;

    /// <summary>
    /// Spin rounds with spinning "off" (≈ 5–10 µs): enough to catch the next layer of the same inference, too short
    /// to take a core from another engine between inferences.
    /// </summary>
    private const int MinimalSpinRounds = 100;

    private readonly int _spinRounds;

    private readonly Thread[] _threads;
    private readonly object _gate = new();
    private IParallelWork? _work;
    private int _itemCount;
    /// <summary>
    /// Claims of the current run: the run's sequence number in the high 32 bits, the next unclaimed item in the low 32.
    /// A thread claims an item by a compare-and-swap that also checks the sequence number, so a worker that wakes late
    /// can never take an item of a newer run with the work of an older one.
    /// </summary>
    private long _claims;
    private int _completed;
    private long _generation;
    private bool _disposed;
    private Exception? _failure;

    /// <param name="threadCount">Total threads including the caller; 1 means no extra threads.</param>
    /// <param name="allowSpinning">Poll briefly before blocking (see <see cref="DefaultSpinRounds"/>).</param>
    public WorkerPool(int threadCount, bool allowSpinning = true)
    {
        _spinRounds = allowSpinning ? DefaultSpinRounds : MinimalSpinRounds;
        if (threadCount < 1) throw new ArgumentOutOfRangeException(nameof(threadCount));
        ThreadCount = threadCount;
        _threads = new Thread[threadCount - 1];
        for (int i = 0; i < _threads.Length; i++)
        {
            int worker = i + 1;
            _threads[i] = new Thread(() => WorkerLoop(worker)) { IsBackground = true, Name = $"edgerun-worker-{worker}" };
            _threads[i].Start();
        }
    }

    /// <summary>Threads that take items, including the caller.</summary>
    public int ThreadCount { get; }

    /// <summary>Runs <paramref name="work"/> for items 0..itemCount-1 and returns when all are done. Not reentrant.</summary>
    public void Run(IParallelWork work, int itemCount)
    {
        if (itemCount <= 0) return;
        if (_threads.Length == 0 || itemCount == 1)
        {
            for (int i = 0; i < itemCount; i++) work.Execute(i, 0);
            return;
        }
        int run;
        lock (_gate)
        {
            _work = work;
            _itemCount = itemCount;
            _completed = 0;
            _failure = null;
            run = (int)(Volatile.Read(ref _claims) >> 32) + 1;
            Volatile.Write(ref _claims, (long)run << 32);
            _generation++;
            Monitor.PulseAll(_gate);
        }
        Drain(run, work, itemCount, 0);
        // The run is over when every item is done, whether or not a sleeping worker woke up to help: waiting for the
        // workers themselves would add a thread wake-up (tens of microseconds or more on a busy machine) to every layer.
        for (int i = 0; i < _spinRounds && Volatile.Read(ref _completed) < itemCount; i++) Thread.SpinWait(20);
        lock (_gate)
        {
            while (_completed < itemCount) Monitor.Wait(_gate);
            _work = null;
        }
        if (_failure != null) throw new AggregateException("a parallel kernel failed", _failure);
    }

    private void WorkerLoop(int worker)
    {
        long seen = 0;
        while (true)
        {
            for (int i = 0; i < _spinRounds && Volatile.Read(ref _generation) == seen && !Volatile.Read(ref _disposed); i++) Thread.SpinWait(20);
            IParallelWork? work;
            int itemCount, run;
            lock (_gate)
            {
                while (_generation == seen && !_disposed) Monitor.Wait(_gate);
                if (_disposed) return;
                seen = _generation;
                (work, itemCount, run) = (_work, _itemCount, (int)(Volatile.Read(ref _claims) >> 32));
            }
            if (work != null) Drain(run, work, itemCount, worker);
        }
    }

    /// <summary>Claims and executes items of run <paramref name="run"/> until none is left or a newer run has started.</summary>
    private void Drain(int run, IParallelWork work, int itemCount, int worker)
    {
        while (true)
        {
            long claims = Volatile.Read(ref _claims);
            int item = (int)claims;
            if ((int)(claims >> 32) != run || item >= itemCount) return;
            if (Interlocked.CompareExchange(ref _claims, claims + 1, claims) != claims) continue;
            try
            {
                work.Execute(item, worker);
            }
            catch (Exception ex)
            {
                Interlocked.CompareExchange(ref _failure, ex, null);
            }
            if (Interlocked.Increment(ref _completed) == itemCount)
                lock (_gate) Monitor.PulseAll(_gate);
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            Monitor.PulseAll(_gate);
        }
        foreach (var t in _threads) t.Join();
    }
}
