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
/// <para>
/// Between <see cref="BeginBurst"/> and <see cref="EndBurst"/> (one inference) idle threads poll instead of blocking,
/// so the short single-threaded steps between parallel layers never put a worker to sleep; outside a burst they poll
/// for the configured spin window, then block. A blocked thread is slow to wake: on this project's 2-vCPU KVM test
/// machine a condition-variable wake-up took a median 40–48 µs (2026-11-28, 03:00 UTC) to 82–89 µs with p99 2.5–3.3
/// ms and at worst 5.9 ms (06:27 UTC, a busier hour): at worst longer than many layers, so a worker that fell
/// asleep inside an inference missed the following ones. <see cref="BeginBurst"/> also wakes blocked workers at once, so they are
/// on their way while the first, single-threaded steps (an input transpose, say) run. <see cref="ExecutionPlan"/> brackets each
/// run with a burst.
/// </para>
/// </summary>
internal sealed class WorkerPool : IDisposable
{
    /// <summary>
    /// Rounds of <c>Thread.SpinWait(20)</c> a thread polls outside a burst before blocking (about 1 ms on the 2-vCPU
    /// EPYC test machine, where one round measured 0.57 µs): inferences that follow each other closely keep their
    /// workers awake.
    /// </summary>
    private const int DefaultSpinRounds = 2000;

    /// <summary>
    /// Spin rounds outside a burst with spinning "off" (about 60 µs there): too short to take a core from another
    /// engine between inferences. Within a burst threads poll regardless.
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
    /// <summary>Nesting depth of <see cref="BeginBurst"/>; idle threads poll while it is above zero.</summary>
    private int _bursts;
    private long _blockedWaits;
    private Exception? _failure;

    /// <param name="threadCount">Total threads including the caller; 1 means no extra threads.</param>
    /// <param name="allowSpinning">Poll briefly before blocking (see <see cref="DefaultSpinRounds"/>).</param>
    public WorkerPool(int threadCount, bool allowSpinning = true)
    {
        _spinRounds = allowSpinning ? DefaultSpinRounds : MinimalSpinRounds;
        if (threadCount < 1) throw new ArgumentOutOfRangeException(nameof(threadCount));
        ThreadCount = threadCount;
        Scratch = new SharedScratch(threadCount);
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

    /// <summary>Scratch the kernels of the plan this pool runs share, one buffer per thread (see <see cref="SharedScratch"/>).</summary>
    public SharedScratch Scratch { get; }

    /// <summary>
    /// Starts a burst of <see cref="Run"/> calls (one inference): until the matching <see cref="EndBurst"/>, idle
    /// threads poll for work instead of blocking, and blocked ones are woken now. Allocates nothing; bursts nest.
    /// </summary>
    public void BeginBurst()
    {
        if (_threads.Length == 0) return;
        if (Interlocked.Increment(ref _bursts) == 1)
            lock (_gate) Monitor.PulseAll(_gate);
    }

    /// <summary>Ends the burst started by the matching <see cref="BeginBurst"/>: idle threads go back to the spin window, then block.</summary>
    public void EndBurst()
    {
        if (_threads.Length == 0) return;
        if (Interlocked.Decrement(ref _bursts) < 0)
        {
            Interlocked.Increment(ref _bursts);
            throw new InvalidOperationException("EndBurst without BeginBurst");
        }
    }

    private bool InBurst => Volatile.Read(ref _bursts) > 0;

    /// <summary>Whether a polling thread takes another round: always in a burst, else for the spin window (rounds counted outside bursts).</summary>
    private bool KeepPolling(ref int round) => InBurst || round++ < _spinRounds;

    /// <summary>How many times an idle worker has blocked waiting for work (for tests of the burst behaviour).</summary>
    internal long BlockedWaits
    {
        get { lock (_gate) return _blockedWaits; }
    }

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
        // In a burst the wait is bounded by one item, which a worker is executing now: poll until it is done.
        for (int round = 0; Volatile.Read(ref _completed) < itemCount && KeepPolling(ref round);) Thread.SpinWait(20);
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
            // Poll for a new run: without limit in a burst, else for the spin window.
            for (int round = 0; Volatile.Read(ref _generation) == seen && !Volatile.Read(ref _disposed) && KeepPolling(ref round);)
                Thread.SpinWait(20);
            IParallelWork? work;
            int itemCount, run;
            lock (_gate)
            {
                while (_generation == seen && !_disposed && !InBurst)
                {
                    _blockedWaits++;
                    Monitor.Wait(_gate);
                }
                if (_disposed) return;
                if (_generation == seen) continue; // woken by BeginBurst: poll for the burst's first run
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
