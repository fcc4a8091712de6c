using System.Runtime.InteropServices;
using EdgeRuntime.Execution;
using EdgeRuntime.Fallback;
using EdgeRuntime.Tensors;
using EdgeRuntime.Tests.Infrastructure;
using Xunit;

namespace EdgeRuntime.Tests.Session;

/// <summary>Runs alone, so that no other test's engine threads start while one is being measured.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class EngineThreadCpuCollection
{
    public const string Name = "engine threads' CPU time";
}

/// <summary>
/// <see cref="EdgeModelOptions.AllowSpinning"/> means the same for both engines: threads spin within a run, and with
/// false they stop when it returns. <c>edgerun bench --backend both</c> relies on it for a fair comparison: an engine
/// whose threads block between ops (ONNX Runtime's <c>allow_spinning=0</c>) loses most of its second thread.
/// </summary>
[Collection(EngineThreadCpuCollection.Name)]
public sealed class SpinningTests
{
    private const string MobileNetV2 = "models/converted/mobilenet_v2_1.0_224_quant.onnx";

    [Fact]
    public void OnnxRuntime_spins_within_runs_and_stops_after_them_when_spinning_is_off()
    {
        var off = OrtBackend.SpinningConfig(allowSpinning: false).ToDictionary(e => e.Key, e => e.Value);
        Assert.Equal("1", off["session.intra_op.allow_spinning"]);
        Assert.Equal("1", off["session.force_spinning_stop"]);
        var on = OrtBackend.SpinningConfig(allowSpinning: true).ToDictionary(e => e.Key, e => e.Value);
        Assert.Equal("1", on["session.intra_op.allow_spinning"]);
        Assert.False(on.ContainsKey("session.force_spinning_stop"));
    }

    /// <summary>
    /// CPU time the engine's own threads (those that appeared while loading the model, less the runtime's GC and JIT
    /// threads) use in a 150 ms sleep right after a 2-thread run, the least or the most of three windows: idle threads
    /// that keep spinning after the run use most of it (ONNX Runtime's measured 40–50 ms), blocked ones next to none.
    /// The process's other threads (the runtime's, other tests') are not counted.
    /// </summary>
    private static double EngineIdleCpuMsAfterRun(BackendKind backend, bool allowSpinning, bool least)
    {
        var before = ThreadIds();
        using var model = EdgeModel.Load(SharedData.Path(MobileNetV2), new EdgeModelOptions { Backend = backend, Threads = 2, AllowSpinning = allowSpinning });
        var input = new Tensor(model.Inputs[0].ElementType, model.Inputs[0].Shape.Select(d => (int)d).ToArray());
        for (int i = 0; i < 5; i++) model.Run(input);
        // New threads but the runtime's own (a background GC thread starts with the first collection, for one).
        var engineThreads = ThreadIds().Except(before).Where(tid => !IsRuntimeThread(tid)).ToArray();
        Assert.NotEmpty(engineThreads); // a 2-thread engine has a thread of its own
        var windows = new List<double>();
        for (int w = 0; w < 3; w++)
        {
            model.Run(input);
            long start = engineThreads.Sum(ThreadCpuNanoseconds);
            Thread.Sleep(150);
            windows.Add((engineThreads.Sum(ThreadCpuNanoseconds) - start) / 1e6);
        }
        return least ? windows.Min() : windows.Max();
    }

    private static bool IsRuntimeThread(int tid)
    {
        string name;
        try { name = File.ReadAllText($"/proc/self/task/{tid}/comm").Trim(); }
        catch (IOException) { return true; } // exited
        return name.StartsWith(".NET", StringComparison.Ordinal) && (name.Contains("GC") || name.Contains("Tiered") || name.Contains("Finalizer"));
    }

    private static HashSet<int> ThreadIds() =>
        Directory.GetDirectories("/proc/self/task").Select(d => int.Parse(System.IO.Path.GetFileName(d))).ToHashSet();

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec { public long Seconds; public long Nanoseconds; }

    [DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, out Timespec time);

    /// <summary>CPU time of thread <paramref name="tid"/> of this process (Linux's per-thread CPU clock), 0 once it has exited.</summary>
    private static long ThreadCpuNanoseconds(int tid)
    {
        int clock = (~tid << 3) | 6; // MAKE_THREAD_CPUCLOCK(tid, CPUCLOCK_SCHED)
        return ClockGetTime(clock, out var t) == 0 ? t.Seconds * 1_000_000_000 + t.Nanoseconds : 0;
    }

    [Theory]
    [InlineData(BackendKind.Native)]
    [InlineData(BackendKind.Ort)]
    public void Without_spinning_no_thread_stays_busy_after_a_run(BackendKind backend)
    {
        double idle = EngineIdleCpuMsAfterRun(backend, allowSpinning: false, least: true);
        Assert.True(idle < 15, $"{backend}: {idle:F1} ms of CPU in 150 ms after a run with spinning off");
    }

    [Fact]
    public void The_idle_measurement_sees_OnnxRuntime_spinning_after_a_run_when_allowed()
    {
        // The control for the test above: the same measurement with ONNX Runtime's threads left spinning.
        double idle = EngineIdleCpuMsAfterRun(BackendKind.Ort, allowSpinning: true, least: false);
        Assert.True(idle >= 15, $"only {idle:F1} ms of CPU in 150 ms after a run with spinning on");
    }
}
