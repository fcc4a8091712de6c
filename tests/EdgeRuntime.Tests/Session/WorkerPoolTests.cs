using EdgeRuntime.Execution;
using Xunit;

namespace EdgeRuntime.Tests.Session;

/// <summary>
/// The worker pool under many short runs back to back, where a worker regularly wakes after the calling thread has
/// finished a run alone and started the next: every item of every run must execute exactly once, with that run's work.
/// </summary>
public sealed class WorkerPoolTests
{
    private sealed class CountingWork(int run, int[] counts, int[] owners) : IParallelWork
    {
        public void Execute(int item, int worker)
        {
            Interlocked.Increment(ref counts[item]);
            owners[item] = run; // a stale worker running an old run's work on this run's items would write its run here
            if (item % 3 == 0) Thread.SpinWait(50 * (run % 7));
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    public void Every_item_of_every_run_executes_exactly_once(int threads)
    {
        using var pool = new WorkerPool(threads, allowSpinning: false);
        var random = new Random(threads);
        for (int run = 0; run < 5000; run++)
        {
            int items = random.Next(2, 9);
            var counts = new int[items];
            var owners = new int[items];
            pool.Run(new CountingWork(run, counts, owners), items);
            for (int i = 0; i < items; i++)
            {
                Assert.True(counts[i] == 1, $"run {run}: item {i} executed {counts[i]} times");
                Assert.Equal(run, owners[i]);
            }
            if (run % 500 == 0) Thread.Sleep(2); // let the workers fall asleep now and then
        }
    }

    /// <summary>
    /// Six items on two threads: worker 1 owns items 3..5. Item 0 waits until worker 1 has started its first item, and
    /// that item waits until the calling thread has run everything else, so the calling thread must run its own block
    /// in order and then take worker 1's remaining items from the back (5, then 4), while worker 1 runs only item 3.
    /// </summary>
    private sealed class OwnershipWork : IParallelWork
    {
        private readonly ManualResetEventSlim _ownerStarted = new(), _restDone = new();
        public readonly List<int>[] Order = [[], []];

        public void Execute(int item, int worker)
        {
            lock (Order) Order[worker].Add(item);
            if (item == 0 && !_ownerStarted.Wait(TimeSpan.FromSeconds(10))) throw new TimeoutException("worker 1 never started item 3");
            if (item == 3)
            {
                _ownerStarted.Set();
                if (!_restDone.Wait(TimeSpan.FromSeconds(10))) throw new TimeoutException("the calling thread never took items 4 and 5");
            }
            if (item == 4) _restDone.Set();
        }
    }

    [Fact]
    public void Each_thread_runs_its_own_block_first_and_a_stalled_threads_rest_is_taken_from_the_back()
    {
        using var pool = new WorkerPool(2, allowSpinning: false);
        pool.BeginBurst();
        try
        {
            var work = new OwnershipWork();
            pool.Run(work, 6);
            Assert.Equal([0, 1, 2, 5, 4], work.Order[0]);
            Assert.Equal([3], work.Order[1]);
        }
        finally
        {
            pool.EndBurst();
        }
    }

    /// <summary>More items than a claim slot can count (2²¹ − 1) run in chunks: every item once, with its own number.</summary>
    [Fact]
    public void More_items_than_a_claim_slot_holds_run_in_chunks()
    {
        using var pool = new WorkerPool(2);
        int items = 2 * WorkerPool.MaxItems + 5;
        var counts = new int[items];
        pool.Run(new CountingWork(7, counts, new int[items]), items);
        for (int i = 0; i < items; i++) Assert.True(counts[i] == 1, $"item {i} executed {counts[i]} times");
    }

    private sealed class FailingWork : IParallelWork
    {
        public void Execute(int item, int worker)
        {
            if (item == 3) throw new InvalidOperationException("item 3");
        }
    }

    [Fact]
    public void A_failing_item_is_reported_and_the_pool_keeps_working()
    {
        using var pool = new WorkerPool(2);
        var error = Assert.Throws<AggregateException>(() => pool.Run(new FailingWork(), 8));
        Assert.Contains("item 3", error.InnerException!.Message);
        var counts = new int[6];
        pool.Run(new CountingWork(1, counts, new int[6]), 6);
        Assert.All(counts, c => Assert.Equal(1, c));
    }

    private sealed class NoWork : IParallelWork
    {
        public void Execute(int item, int worker) { }
    }

    /// <summary>
    /// Single-threaded gaps of 2 ms between runs, far beyond the ~60 µs spin window of a pool without spinning:
    /// outside a burst the worker blocks in them (the control, so the assertion below can fail), inside a burst it
    /// never does.
    /// </summary>
    [Fact]
    public void In_a_burst_idle_workers_poll_through_gaps_instead_of_blocking()
    {
        using var pool = new WorkerPool(2, allowSpinning: false);
        for (int i = 0; i < 20; i++)
        {
            pool.Run(new NoWork(), 4);
            Thread.Sleep(2);
        }
        Assert.True(pool.BlockedWaits > 0, "control: without a burst the worker should have blocked in a 2 ms gap");

        pool.BeginBurst();
        pool.BeginBurst(); // bursts nest: an inference inside a session run
        Thread.Sleep(20);  // the worker, blocked before the burst, is woken and must not block again
        long before = pool.BlockedWaits;
        var counts = new int[4];
        for (int run = 0; run < 20; run++)
        {
            pool.Run(new CountingWork(run, counts, new int[4]), 4);
            Thread.Sleep(2);
        }
        pool.EndBurst();
        Thread.Sleep(5);
        Assert.Equal(before, pool.BlockedWaits); // still in the outer burst
        pool.EndBurst();
        Assert.All(counts, c => Assert.Equal(20, c));

        Thread.Sleep(20); // after the burst the spin window applies again
        Assert.True(pool.BlockedWaits > before, "after the burst the worker should block again");
        Assert.Throws<InvalidOperationException>(() => pool.EndBurst());
        pool.Run(new NoWork(), 4); // an unmatched EndBurst leaves the pool usable
    }
}
