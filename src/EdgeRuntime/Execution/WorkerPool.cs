namespace EdgeRuntime.Execution;

/// <summary>A unit of parallel work: <see cref="Execute"/> is called once per item, on some worker.</summary>
internal interface IParallelWork
{
    /// <summary>Processes item <paramref name="item"/> on worker <paramref name="worker"/> (0 = the calling thread).</summary>
    void Execute(int item, int worker);
}

/// <summary>
/// A fixed set of threads created once per model, used to split a kernel's independent items (output tiles,
/// channel ranges) across cores. <see cref="Run"/> does not allocate: the calling thread takes items too, and
/// items are claimed one at a time from a shared counter, so the split adapts to a busy core. Which worker runs
/// an item never changes its result, so outputs are identical for any thread count.
/// </summary>
internal sealed class WorkerPool : IDisposable
{
    private readonly Thread[] _threads;
    private readonly SemaphoreSlim _start = new(0);
    private readonly CountdownEvent _done = new(1);
    private IParallelWork? _work;
    private int _itemCount;
    private int _nextItem;
    private volatile bool _disposed;
    private Exception? _failure;

    /// <param name="threadCount">Total threads including the caller; 1 means no extra threads.</param>
    public WorkerPool(int threadCount)
    {
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
        int helpers = Math.Min(_threads.Length, itemCount - 1);
        _work = work;
        _itemCount = itemCount;
        _nextItem = 0;
        _failure = null;
        _done.Reset(helpers + 1);
        _start.Release(helpers);
        Drain(0);
        _done.Wait();
        _work = null;
        if (_failure != null) throw new AggregateException("a parallel kernel failed", _failure);
    }

    private void WorkerLoop(int worker)
    {
        while (true)
        {
            _start.Wait();
            if (_disposed) return;
            Drain(worker);
        }
    }

    private void Drain(int worker)
    {
        try
        {
            var work = _work!;
            int item;
            while ((item = Interlocked.Increment(ref _nextItem) - 1) < _itemCount)
                work.Execute(item, worker);
        }
        catch (Exception ex)
        {
            Interlocked.CompareExchange(ref _failure, ex, null);
        }
        finally
        {
            _done.Signal();
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (_threads.Length > 0) _start.Release(_threads.Length);
        foreach (var t in _threads) t.Join();
        _start.Dispose();
        _done.Dispose();
    }
}
