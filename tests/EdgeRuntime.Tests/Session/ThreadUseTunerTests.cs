using EdgeRuntime.Execution;
using EdgeRuntime.Tensors;
using EdgeRuntime.Tests.Infrastructure;
using Xunit;

namespace EdgeRuntime.Tests.Session;

/// <summary>
/// The adaptive thread use (<see cref="ThreadUseTuner"/>): its schedule and choice on given durations, that it allocates
/// nothing, and that a model whose tuner chose the calling thread alone runs there with the same bytes and no allocation.
/// </summary>
public sealed class ThreadUseTunerTests
{
    /// <summary>Drives one full measurement with the given durations per mode; returns the modes the tuner asked for.</summary>
    private static List<bool> Measure(ThreadUseTuner tuner, long sharedTicks, long aloneTicks)
    {
        var modes = new List<bool>();
        for (int i = 0; i < ThreadUseTuner.MeasureRuns; i++)
        {
            bool shared = tuner.NextRunShared();
            modes.Add(shared);
            tuner.Record(shared ? sharedTicks : aloneTicks);
        }
        return modes;
    }

    private static void Run(ThreadUseTuner tuner, int runs, long ticks, List<bool>? modes = null)
    {
        for (int i = 0; i < runs; i++)
        {
            bool shared = tuner.NextRunShared();
            modes?.Add(shared);
            tuner.Record(ticks);
        }
    }

    [Fact]
    public void Shares_through_the_warmup_then_measures_in_alternating_blocks()
    {
        var tuner = new ThreadUseTuner();
        var warmup = new List<bool>();
        Run(tuner, ThreadUseTuner.WarmupRuns, 1000, warmup);
        Assert.All(warmup, Assert.True);
        Assert.Equal(0, tuner.Measurements);

        var modes = Measure(tuner, sharedTicks: 1000, aloneTicks: 500);
        Assert.Equal(Enumerable.Range(0, modes.Count).Select(i => i / ThreadUseTuner.BlockRuns % 2 == 0), modes);
        Assert.Equal(1, tuner.Measurements);
        Assert.Equal((1000L, 500L), tuner.LastMedians);
        Assert.False(tuner.Shared);
    }

    [Fact]
    public void The_first_run_of_each_block_is_not_counted()
    {
        // Every block's first run is very slow (waking the workers, the caches after the other mode): counted, they
        // would be the largest samples; not counted, the medians are exactly the steady values.
        var tuner = new ThreadUseTuner();
        Run(tuner, ThreadUseTuner.WarmupRuns, 1000);
        for (int i = 0; i < ThreadUseTuner.MeasureRuns; i++)
        {
            bool shared = tuner.NextRunShared();
            bool first = i % ThreadUseTuner.BlockRuns == 0;
            tuner.Record(first ? 1_000_000 + i : shared ? 800 : 1000);
        }
        Assert.Equal((800L, 1000L), tuner.LastMedians);
        Assert.True(tuner.Shared);
    }

    [Theory]
    [InlineData(1000, 900, false)] // alone 10% faster: alone
    [InlineData(1000, 949, false)] // just past the 5% margin
    [InlineData(1000, 951, true)]  // inside the margin: the threads the user asked for stay
    [InlineData(1000, 1000, true)]
    [InlineData(1000, 3000, true)]
    public void Chooses_the_calling_thread_alone_only_when_clearly_faster(long shared, long alone, bool expectShared)
    {
        Assert.Equal(expectShared, ThreadUseTuner.Choose(shared, alone));
        var tuner = new ThreadUseTuner();
        Run(tuner, ThreadUseTuner.WarmupRuns, shared);
        Measure(tuner, shared, alone);
        Assert.Equal(expectShared, tuner.Shared);
    }

    [Fact]
    public void Medians_ignore_a_few_outliers()
    {
        var tuner = new ThreadUseTuner();
        Run(tuner, ThreadUseTuner.WarmupRuns, 1000);
        // Alone is faster, but three of its runs hit a 100× stall (a page fault, another process): the median holds.
        int aloneRun = 0;
        for (int i = 0; i < ThreadUseTuner.MeasureRuns; i++)
        {
            bool shared = tuner.NextRunShared();
            tuner.Record(shared ? 1000 : aloneRun++ < 3 ? 100_000 : 600);
        }
        Assert.False(tuner.Shared);
        Assert.Equal(600, tuner.LastMedians.Alone);
    }

    [Fact]
    public void Keeps_a_close_choice_for_a_doubling_number_of_runs_then_measures_again()
    {
        var tuner = new ThreadUseTuner();
        Run(tuner, ThreadUseTuner.WarmupRuns, 1000);
        Measure(tuner, 1000, 900); // alone wins by 10%
        Assert.False(tuner.Shared);
        for (int measurement = 1; measurement <= 8; measurement++)
        {
            int length = ThreadUseTuner.ExploitLength(measurement, tuner.LastMedians.Shared, tuner.LastMedians.Alone);
            Assert.Equal(Math.Min(ThreadUseTuner.ExploitRuns, ThreadUseTuner.FirstExploitRuns << (measurement - 1)), length);
            var modes = new List<bool>();
            Run(tuner, length, 950, modes);
            Assert.All(modes, m => Assert.Equal(tuner.Shared, m));
            // The placement changed: now the other mode wins (by 10%), and the next measurement says so.
            bool sharedWins = measurement % 2 == 1;
            Measure(tuner, sharedWins ? 900 : 1000, sharedWins ? 1000 : 900);
            Assert.Equal(sharedWins, tuner.Shared);
            Assert.Equal(measurement + 1, tuner.Measurements);
        }
        Assert.Equal(ThreadUseTuner.ExploitRuns, ThreadUseTuner.ExploitLength(100, 1000, 900));
    }

    [Theory]
    [InlineData(2300, 3900)] // MobileNetV2 at 2 threads against 1
    [InlineData(1000, 1250)]
    public void A_clear_win_of_sharing_waits_the_longest_before_measuring_again(long shared, long alone)
    {
        Assert.Equal(ThreadUseTuner.ExploitRuns, ThreadUseTuner.ExploitLength(1, shared, alone));
        // Alone winning, however clearly, or sharing by less, is checked again soon.
        Assert.Equal(ThreadUseTuner.FirstExploitRuns, ThreadUseTuner.ExploitLength(1, alone, shared));
        Assert.Equal(ThreadUseTuner.FirstExploitRuns, ThreadUseTuner.ExploitLength(1, shared, shared * 6 / 5));
        var tuner = new ThreadUseTuner();
        Run(tuner, ThreadUseTuner.WarmupRuns, 1000);
        Measure(tuner, shared, alone);
        var modes = new List<bool>();
        Run(tuner, ThreadUseTuner.ExploitRuns, 1000, modes);
        Assert.All(modes, Assert.True);
        Assert.Equal(1, tuner.Measurements);
        Assert.Equal(ThreadUseTuner.MeasureRuns, Measure(tuner, shared, alone).Count);
        Assert.Equal(2, tuner.Measurements);
    }

    [Fact]
    public void Allocates_nothing()
    {
        var tuner = new ThreadUseTuner();
        Run(tuner, 500, 1000); // warm up the code paths, including a measurement
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 5000; i++)
        {
            bool shared = tuner.NextRunShared();
            tuner.Record(shared ? 1000 + i % 7 : 900 + i % 5);
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.True(tuner.Measurements >= 3);
    }

    private sealed class RecordingWork(List<(int Item, int Worker, int ThreadId)> log) : IParallelWork
    {
        public void Execute(int item, int worker)
        {
            lock (log) log.Add((item, worker, Environment.CurrentManagedThreadId));
        }
    }

    [Fact]
    public void A_caller_only_pool_runs_every_item_on_the_calling_thread_in_order()
    {
        using var pool = new WorkerPool(3);
        var log = new List<(int Item, int Worker, int ThreadId)>();
        pool.CallerOnly = true;
        pool.BeginBurst();
        pool.Run(new RecordingWork(log), 7);
        pool.EndBurst();
        Assert.Equal(Enumerable.Range(0, 7), log.Select(e => e.Item));
        Assert.All(log, e => Assert.Equal((0, Environment.CurrentManagedThreadId), (e.Worker, e.ThreadId)));

        pool.CallerOnly = false;
        log.Clear();
        pool.Run(new RecordingWork(log), 300);
        Assert.Equal(Enumerable.Range(0, 300), log.Select(e => e.Item).Order());
    }

    [Fact]
    public void A_model_whose_tuner_chose_the_calling_thread_runs_alone_with_the_same_bytes_and_no_allocation()
    {
        var path = SharedData.Path("models/converted/mobilenet_v2_1.0_224_quant.onnx");
        using var shared = EdgeModel.Load(path, new EdgeModelOptions { Backend = BackendKind.Native, Threads = 2, AdaptiveThreads = false });
        using var adaptive = EdgeModel.Load(path, new EdgeModelOptions { Backend = BackendKind.Native, Threads = 2 });
        Assert.Null(shared.Plan!.ThreadUse);
        var tuner = adaptive.Plan!.ThreadUse!;
        Assert.NotNull(tuner);
        // Bring the tuner to a choice of the calling thread alone, as if it had timed that faster.
        Run(tuner, ThreadUseTuner.WarmupRuns, 1000);
        Measure(tuner, sharedTicks: 1000, aloneTicks: 500);
        Assert.False(tuner.Shared);

        var input = new Tensor(shared.Inputs[0].ElementType, shared.Inputs[0].Shape.Select(d => Math.Max(d, 1)).ToArray());
        new Random(7).NextBytes(input.Bytes);
        var expected = shared.Run(input)[0].Bytes.ToArray();
        long allocated = long.MaxValue;
        for (int run = 0; run < 6; run++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            var actual = adaptive.Run(input)[0].Bytes;
            if (run >= 2) allocated = Math.Min(allocated, GC.GetAllocatedBytesForCurrentThread() - before);
            Assert.True(expected.AsSpan().SequenceEqual(actual), $"run {run} alone differs from the shared run");
            Assert.True(adaptive.Plan.Workers!.CallerOnly, "the pool should run every item on the calling thread");
        }
        Assert.Equal(0, allocated);
        Assert.False(tuner.Shared);
        Assert.Equal(1, tuner.Measurements);
    }
}
