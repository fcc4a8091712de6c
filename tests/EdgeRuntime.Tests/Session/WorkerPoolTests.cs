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
}
