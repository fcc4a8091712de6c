namespace EdgeRuntime.Execution;

/// <summary>A unit of parallel work: <see cref="Execute"/> is called once per item, on some worker.</summary>
internal interface IParallelWork
{
    /// <summary>Processes item <paramref name="item"/> on worker <paramref name="worker"/> (0 = the calling thread).</summary>
    void Execute(int item, int worker);
}

/// <summary>
/// A fixed set of threads created once per model, used to split a kernel's independent items (output tiles, channel
/// ranges) across cores. <see cref="Run"/> allocates nothing and takes no lock while the threads poll.
/// <para>
/// Items have owners: of <c>I</c> items on <c>T</c> threads, thread <c>t</c> (0 = the calling thread) first runs the
/// contiguous block <c>[t·I/T, (t+1)·I/T)</c> in order, then takes what is left of the other blocks from their ends, so
/// a busy core still gets help. Each thread claims from its own slot, on its own cache line, and adds its count of
/// executed items once per run: a shared claim counter and a per-item completion count moved two cache lines between
/// the cores for every item, and a lock was taken twice per layer. On the 2-vCPU KVM test machine a line written by the
/// other vCPU took 54–89 ns to fetch when the host placed the two vCPUs close together and 320–410 ns when it did not
/// (a two-thread ping-pong, 2026-11-28, 12:50 UTC); MobileNetV2 at 2 threads took 2.28–2.34 ms against 2.30–2.43 with
/// the shared counter in the first case, 3.55–3.80 against 3.74–3.92 in the second (alternated runs, 4 items per
/// thread). Which thread runs an item never changes its result, so outputs are identical for any thread count.
/// </para>
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

    /// <summary>
    /// Items kernels cut a layer into per thread: one. A thread's last item sets when the layer ends, and with several
    /// items per thread the other thread waited for about half an item at the end of every layer: with 4 per thread
    /// the calling thread spent 12–17% of MobileNetV2's parallel time waiting (190–280 ms of 1.6–1.7 s, counted per run in a
    /// timing build, 2026-11-28 before 13:00 UTC), and a run took 2.30–2.36 ms against 2.16–2.17 with one (2 per thread: 2.26–2.27;
    /// alternated runs, 2 threads). A thread that falls behind still has its item taken over if it has not started it.
    /// </summary>
    public const int ItemsPerThread = 1;

    /// <summary>
    /// Most items the threads share in one go: the item fields of a claim slot have 21 bits. <see cref="Run"/> takes
    /// more (a grouped convolution of a large batch, say) as consecutive chunks of this many.
    /// </summary>
    public const int MaxItems = (1 << ItemBits) - 1;

    private const int ItemBits = 21, RunBits = 64 - 2 * ItemBits;
    private const long ItemMask = (1L << ItemBits) - 1;
    private const int RunMask = (1 << RunBits) - 1;

    /// <summary>Longs between two threads' claim slots: 128 bytes, so no two slots share a cache line (or its pair).</summary>
    private const int SlotStride = 16;

    private readonly int _spinRounds;
    private readonly Thread[] _threads;
    private readonly object _gate = new();

    /// <summary>
    /// Claim slot of thread t at index <c>(t + 1) * SlotStride</c>: the run's sequence number in the high
    /// <see cref="RunBits"/> bits, then the next unclaimed item of the thread's block (front) and the end of what is left
    /// of it (back), 21 bits each. The owner takes the front, other threads the back, each by a compare-and-swap that
    /// also checks the run number, so a worker that wakes late can never take an item of a newer run with the work of
    /// an older one. Each thread mostly touches only its own slot's line.
    /// </summary>
    private readonly long[] _slots;

    private IParallelWork? _work;
    /// <summary>Item number of the current chunk's first item (see <see cref="MaxItems"/>); written with <see cref="_work"/>.</summary>
    private int _itemOffset;
    /// <summary>Sequence number of the current run (<see cref="RunBits"/> bits, wrapping); written before <see cref="_generation"/>.</summary>
    private int _run;
    /// <summary>Counts runs; workers poll it and see a new run when it changes (written last when a run starts).</summary>
    private long _generation;
    /// <summary>Items of the current run executed, added by each thread once it finds nothing left to claim.</summary>
    private int _completed;
    /// <summary>Workers blocked (or about to block) on the gate: the caller takes the lock to wake them only if any.</summary>
    private int _sleepingWorkers;
    /// <summary>1 while the calling thread is blocked (or about to block) waiting for the run's items to complete.</summary>
    private int _callerWaiting;
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
        _slots = new long[(threadCount + 1) * SlotStride];
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

    /// <summary>
    /// While true, <see cref="Run"/> executes every item on the calling thread (as worker 0, in order), as for a pool
    /// of one thread; the other threads stay idle. Set between runs only (<see cref="ThreadUseTuner"/>).
    /// </summary>
    internal bool CallerOnly { get; set; }

    /// <summary>Scratch the kernels of the plan this pool runs share, one buffer per thread (see <see cref="SharedScratch"/>).</summary>
    public SharedScratch Scratch { get; }

    /// <summary>
    /// Starts a burst of <see cref="Run"/> calls (one inference): until the matching <see cref="EndBurst"/>, idle
    /// threads poll for work instead of blocking, and blocked ones are woken now. Allocates nothing; bursts nest.
    /// </summary>
    public void BeginBurst()
    {
        if (_threads.Length == 0) return;
        // Interlocked.Increment is a full fence: a worker that registered as sleeping before it is seen below, and one
        // that registers after it sees the burst (it checks under the gate, after registering).
        if (Interlocked.Increment(ref _bursts) == 1 && Volatile.Read(ref _sleepingWorkers) > 0)
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

    /// <summary>
    /// Runs <paramref name="work"/> for items 0..itemCount-1 and returns when all are done (see the class summary for
    /// which thread runs which; beyond <see cref="MaxItems"/> items, chunk by chunk). Not reentrant.
    /// </summary>
    public void Run(IParallelWork work, int itemCount)
    {
        if (itemCount <= 0) return;
        if (_threads.Length == 0 || itemCount == 1 || CallerOnly)
        {
            for (int i = 0; i < itemCount; i++) work.Execute(i, 0);
            return;
        }
        for (int first = 0; first < itemCount; first += MaxItems)
            RunChunk(work, first, Math.Min(MaxItems, itemCount - first));
    }

    /// <summary>Items <c>first .. first + itemCount - 1</c> (at most <see cref="MaxItems"/>) on all threads.</summary>
    private void RunChunk(IParallelWork work, int first, int itemCount)
    {
        // Publish: the work, the slots (each stamped with the new run number), the run number, then the generation
        // the workers poll. The previous run is complete, so its slots are exhausted and a late worker that still
        // holds the old run number can claim nothing, from the old slots or the new.
        int run = (_run + 1) & RunMask;
        _work = work;
        _itemOffset = first;
        _completed = 0;
        _failure = null;
        int threads = ThreadCount;
        for (int t = 0; t < threads; t++)
        {
            long front = (long)t * itemCount / threads, back = (long)(t + 1) * itemCount / threads;
            Volatile.Write(ref _slots[(t + 1) * SlotStride], Pack(run, front, back));
        }
        Volatile.Write(ref _run, run);
        Interlocked.Increment(ref _generation); // a full fence before reading _sleepingWorkers (see BeginBurst)
        if (Volatile.Read(ref _sleepingWorkers) > 0)
            lock (_gate) Monitor.PulseAll(_gate);

        Complete(Drain(run, work, first, 0));
        // The run is over when every item is done, whether or not a sleeping worker woke up to help: waiting for the
        // workers themselves would add a thread wake-up (tens of microseconds or more on a busy machine) to every layer.
        // In a burst the wait is bounded by the items other threads are executing now: poll until they are done.
        for (int round = 0; Volatile.Read(ref _completed) < itemCount && KeepPolling(ref round);) Thread.SpinWait(20);
        if (Volatile.Read(ref _completed) < itemCount)
        {
            lock (_gate)
            {
                Interlocked.Exchange(ref _callerWaiting, 1);
                while (Volatile.Read(ref _completed) < itemCount) Monitor.Wait(_gate);
                Interlocked.Exchange(ref _callerWaiting, 0);
            }
        }
        _work = null;
        if (_failure != null) throw new AggregateException("a parallel kernel failed", _failure);
    }

    private static long Pack(int run, long front, long back) => (long)run << (2 * ItemBits) | front << ItemBits | back;

    private void WorkerLoop(int worker)
    {
        long seen = 0;
        while (true)
        {
            // Poll for a new run: without limit in a burst, else for the spin window; then block until one starts,
            // a burst begins (poll again) or the pool is disposed.
            for (int round = 0; Volatile.Read(ref _generation) == seen && !Volatile.Read(ref _disposed) && KeepPolling(ref round);)
                Thread.SpinWait(20);
            if (Volatile.Read(ref _generation) == seen && !Volatile.Read(ref _disposed))
            {
                lock (_gate)
                {
                    Interlocked.Increment(ref _sleepingWorkers);
                    while (Volatile.Read(ref _generation) == seen && !_disposed && !InBurst)
                    {
                        _blockedWaits++;
                        Monitor.Wait(_gate);
                    }
                    Interlocked.Decrement(ref _sleepingWorkers);
                }
                continue;
            }
            if (Volatile.Read(ref _disposed)) return;
            seen = Volatile.Read(ref _generation);
            // The run number before the work: both are written before the generation, the work first, so a run
            // number read here is never newer than the work read after it (an older one only finds exhausted slots).
            int run = Volatile.Read(ref _run);
            var work = Volatile.Read(ref _work);
            int offset = Volatile.Read(ref _itemOffset);
            if (work != null) Complete(Drain(run, work, offset, worker));
        }
    }

    /// <summary>Adds one thread's executed items to the run's count; the thread that completes the run wakes a blocked caller.</summary>
    private void Complete(int executed)
    {
        if (executed == 0) return;
        Interlocked.Add(ref _completed, executed); // a full fence before reading _callerWaiting
        if (Volatile.Read(ref _callerWaiting) != 0)
            lock (_gate) Monitor.PulseAll(_gate);
    }

    /// <summary>
    /// Executes items of run <paramref name="run"/>: this thread's own block from its front, then the other blocks from
    /// their backs, until none is left or a newer run has started. Returns how many it executed.
    /// </summary>
    private int Drain(int run, IParallelWork work, int offset, int worker)
    {
        int executed = 0, threads = ThreadCount;
        for (int v = 0; v < threads; v++)
        {
            int victim = worker + v < threads ? worker + v : worker + v - threads;
            ref long slot = ref _slots[(victim + 1) * SlotStride];
            while (true)
            {
                long claims = Volatile.Read(ref slot);
                int front = (int)(claims >> ItemBits & ItemMask), back = (int)(claims & ItemMask);
                if ((int)((ulong)claims >> (2 * ItemBits)) != run || front >= back) break;
                int item;
                long claimed;
                if (v == 0) (item, claimed) = (front, claims + (1L << ItemBits));
                else (item, claimed) = (back - 1, claims - 1);
                if (Interlocked.CompareExchange(ref slot, claimed, claims) != claims) continue;
                try
                {
                    work.Execute(offset + item, worker);
                }
                catch (Exception ex)
                {
                    Interlocked.CompareExchange(ref _failure, ex, null);
                }
                executed++;
            }
        }
        return executed;
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
