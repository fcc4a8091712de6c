using System.Text.Json;
using EdgeRuntime.Cli;
using EdgeRuntime.Execution;
using EdgeRuntime.Kernels.Common;
using EdgeRuntime.Onnx;
using EdgeRuntime.Tensors;
using EdgeRuntime.Tests.Infrastructure;
using Xunit;

namespace EdgeRuntime.Tests.Cli;

/// <summary>
/// <c>edgerun bench</c> end to end (the real executable) plus its pure helpers. Only shapes and consistency of the
/// report are checked, never speed: timings on a shared CI machine say nothing.
/// </summary>
public sealed class BenchCommandTests
{
    private static string MobileNet => SharedData.Path("models/converted/mobilenet_v1_0.25_128_quant.onnx");

    /// <summary>Runs <c>edgerun bench --model MobileNet ARGS --json</c>, which must succeed, and parses its one JSON object.</summary>
    private static JsonDocument BenchJson(params string[] args)
    {
        var r = EdgerunProcess.Run(["bench", "--model", MobileNet, .. args, "--json"]);
        Assert.True(r.ExitCode == 0, r.StdErr);
        return JsonDocument.Parse(r.StdOut);
    }

    [Fact]
    public void Json_both_reports_every_key_with_consistent_values()
    {
        var r = EdgerunProcess.Run("bench", "--model", MobileNet, "--backend", "both", "--runs", "3", "--warmup", "1", "--threads", "1", "--json");
        Assert.True(r.ExitCode == 0, r.StdErr);
        using var doc = JsonDocument.Parse(r.StdOut);
        var root = doc.RootElement;

        Assert.Equal(MobileNet, root.GetProperty("model").GetString());
        Assert.Equal(1, root.GetProperty("threads").GetInt32());
        Assert.Equal(3, root.GetProperty("runs").GetInt32());
        // One warm-up run asked for, but a warm-up lasts at least 1 s (tiered JIT): a 0.5 ms model runs it many times.
        Assert.Equal(1, root.GetProperty("warmup").GetInt32());
        Assert.True(root.GetProperty("warmup_runs").GetInt32() > 10, r.StdOut);
        Assert.True(CpuFeatures.TryParse(root.GetProperty("isa").GetString()!, out var isa), r.StdOut);
        Assert.Equal(CpuFeatures.Name(isa), root.GetProperty("isa").GetString());
        Assert.False(string.IsNullOrWhiteSpace(root.GetProperty("cpu").GetString()));
        Assert.Equal("uint8[1,128,128,3]", root.GetProperty("input").GetString());

        foreach (var engine in new[] { "native", "ort" })
        {
            double median = root.GetProperty(engine + "_median_ms").GetDouble();
            double p90 = root.GetProperty(engine + "_p90_ms").GetDouble();
            double min = root.GetProperty(engine + "_min_ms").GetDouble();
            Assert.True(min > 0 && min <= median && median <= p90, $"{engine}: min {min}, median {median}, p90 {p90}");
        }
        double ratio = root.GetProperty("ratio").GetDouble();
        double expected = root.GetProperty("native_median_ms").GetDouble() / root.GetProperty("ort_median_ms").GetDouble();
        Assert.InRange(ratio, expected * 0.99, expected * 1.01);

        long weights = root.GetProperty("packed_weight_bytes").GetInt64();
        long arena = root.GetProperty("arena_bytes").GetInt64();
        long rss = root.GetProperty("peak_rss_bytes").GetInt64();
        Assert.InRange(weights, 100_000, 10_000_000); // MobileNetV1 0.25 has ~470k int8 parameters
        Assert.InRange(arena, 3 * 128 * 128, 10_000_000); // at least the input image
        Assert.True(rss > weights + arena, $"peak RSS {rss} below weights {weights} + arena {arena}");
        // One thread: nothing to place, so no probe.
        Assert.Equal(JsonValueKind.Null, root.GetProperty("cpu_round_trip_ns_before").ValueKind);
        Assert.Equal(JsonValueKind.Null, root.GetProperty("cpu_round_trip_ns_after").ValueKind);
    }

    /// <summary>
    /// Two threads: the CPU placement probe's round trips before and after the runs, in the JSON and the text. A cache
    /// line between two CPUs takes tens to hundreds of nanoseconds; 10 µs or more would mean the probe measured
    /// something else (time slices), which it must not with two CPUs.
    /// </summary>
    [Fact]
    public void Two_threads_report_the_cpu_placement_before_and_after_the_runs()
    {
        using var doc = BenchJson("--backend", "native", "--runs", "3", "--warmup", "1", "--threads", "2");
        var root = doc.RootElement;
        foreach (var key in new[] { "cpu_round_trip_ns_before", "cpu_round_trip_ns_after" })
        {
            if (Environment.ProcessorCount < 2)
            {
                Assert.Equal(JsonValueKind.Null, root.GetProperty(key).ValueKind);
                continue;
            }
            Assert.InRange(root.GetProperty(key).GetDouble(), 1, 10_000);
        }
        var text = EdgerunProcess.Run("bench", "--model", MobileNet, "--backend", "native", "--runs", "2", "--warmup", "0", "--threads", "2");
        Assert.True(text.ExitCode == 0, text.StdErr);
        Assert.Equal(Environment.ProcessorCount >= 2, text.StdOut.Contains("Placement  a cache line between two threads took"));
    }

    /// <summary>
    /// With 2 threads and enough runs (MobileNetV1 0.25: 0.25 ms a run, so the 1 s warm-up alone is thousands), the
    /// adaptive thread use has measured and says what it chose, with medians for both modes; --fixed-threads turns it
    /// off, and 1 thread has nothing to choose.
    /// </summary>
    [Fact]
    public void Two_threads_report_the_adaptive_thread_choice_unless_fixed()
    {
        using var adaptive = BenchJson("--backend", "native", "--runs", "20", "--warmup", "1", "--threads", "2");
        var root = adaptive.RootElement;
        Assert.True(root.GetProperty("native_thread_measurements").GetInt32() >= 1);
        Assert.Contains(root.GetProperty("native_threads_shared").ValueKind, new[] { JsonValueKind.True, JsonValueKind.False });
        Assert.InRange(root.GetProperty("native_shared_median_ms").GetDouble(), 0.001, 1000);
        Assert.InRange(root.GetProperty("native_alone_median_ms").GetDouble(), 0.001, 1000);

        foreach (var args in new[] { new[] { "--threads", "2", "--fixed-threads" }, new[] { "--threads", "1" } })
        {
            using var off = BenchJson(["--backend", "native", "--runs", "3", "--warmup", "1", .. args]);
            Assert.Equal(0, off.RootElement.GetProperty("native_thread_measurements").GetInt32());
            Assert.Equal(JsonValueKind.Null, off.RootElement.GetProperty("native_threads_shared").ValueKind);
        }

        var text = EdgerunProcess.Run("bench", "--model", MobileNet, "--backend", "native", "--runs", "20", "--warmup", "1", "--threads", "2");
        Assert.True(text.ExitCode == 0, text.StdErr);
        Assert.Contains("Threads    native ran each inference ", text.StdOut);
    }

    [Fact]
    public void Json_single_engine_leaves_the_other_null()
    {
        var r = EdgerunProcess.Run("bench", "--model", MobileNet, "--backend", "ort", "--runs", "2", "--warmup", "0", "--json");
        Assert.True(r.ExitCode == 0, r.StdErr);
        using var doc = JsonDocument.Parse(r.StdOut);
        var root = doc.RootElement;
        Assert.True(root.GetProperty("ort_median_ms").GetDouble() > 0);
        Assert.Equal(JsonValueKind.Null, root.GetProperty("native_median_ms").ValueKind);
        Assert.Equal(JsonValueKind.Null, root.GetProperty("ratio").ValueKind);
        Assert.Equal(JsonValueKind.Null, root.GetProperty("arena_bytes").ValueKind);
        Assert.Equal(0, root.GetProperty("warmup_runs").GetInt32()); // --warmup 0 stays none (the ARM instruction counts rely on it)
        Assert.Equal(Environment.ProcessorCount, root.GetProperty("threads").GetInt32()); // --threads 0 = one per core
    }

    [Fact]
    public void Profile_lists_time_per_op_type_sorted_with_percentages()
    {
        var r = EdgerunProcess.Run("bench", "--model", MobileNet, "--backend", "native", "--runs", "2", "--warmup", "1", "--profile");
        Assert.True(r.ExitCode == 0, r.StdErr);
        Assert.Contains("Native profile", r.StdOut);
        Assert.Contains("QLinearConv", r.StdOut);
        Assert.Contains("Slowest steps", r.StdOut);

        var json = EdgerunProcess.Run("bench", "--model", MobileNet, "--backend", "native", "--runs", "2", "--warmup", "1", "--profile", "--json");
        Assert.True(json.ExitCode == 0, json.StdErr);
        using var doc = JsonDocument.Parse(json.StdOut);
        var ops = doc.RootElement.GetProperty("profile").GetProperty("ops").EnumerateArray().ToList();
        // QLinearConv steps are grouped by how they run: 28 in all, depthwise and 1x1 among them.
        var convs = ops.Where(o => o.GetProperty("op").GetString()!.StartsWith("QLinearConv (", StringComparison.Ordinal)).ToList();
        Assert.Equal(28, convs.Sum(o => o.GetProperty("steps").GetInt32()));
        Assert.Contains(convs, o => o.GetProperty("op").GetString() == "QLinearConv (1x1)");
        Assert.Contains(convs, o => o.GetProperty("op").GetString()!.StartsWith("QLinearConv (depthwise 3x3/s", StringComparison.Ordinal));
        var ms = ops.Select(o => o.GetProperty("ms").GetDouble()).ToList();
        Assert.Equal(ms.OrderByDescending(x => x), ms);
        Assert.InRange(ops.Sum(o => o.GetProperty("percent").GetDouble()), 99.5, 100.5);
        // The slowest steps, by mean time; each step's fastest run is no slower than its mean.
        var steps = doc.RootElement.GetProperty("profile").GetProperty("slowest_steps").EnumerateArray().ToList();
        Assert.Equal(10, steps.Count);
        var stepMs = steps.Select(st => st.GetProperty("ms").GetDouble()).ToList();
        Assert.Equal(stepMs.OrderByDescending(x => x), stepMs);
        Assert.All(steps, st => Assert.InRange(st.GetProperty("fastest_ms").GetDouble(), 1e-6, st.GetProperty("ms").GetDouble() + 1e-4));
        Assert.Contains(steps, st => st.GetProperty("op").GetString()!.StartsWith("QLinearConv", StringComparison.Ordinal) && st.GetProperty("macs").GetInt64() > 0);
        Assert.Contains("fastest", r.StdOut);
    }

    [Theory]
    [InlineData("--runs", "0")]
    [InlineData("--warmup", "-1")]
    [InlineData("--threads", "-2")]
    [InlineData("--backend", "gpu")]
    [InlineData("--runs", "many")]
    [InlineData("--no-such-flag", "1")]
    public void Bad_arguments_exit_2(string flag, string value)
    {
        var r = EdgerunProcess.Run("bench", "--model", MobileNet, flag, value);
        Assert.True(r.ExitCode == 2, $"exit {r.ExitCode}: {r.StdErr}");
        Assert.Contains("edgerun:", r.StdErr);
    }

    [Fact]
    public void Missing_model_flag_or_profile_on_ort_exits_2_and_missing_file_exits_3()
    {
        Assert.Equal(2, EdgerunProcess.Run("bench").ExitCode);
        Assert.Equal(2, EdgerunProcess.Run("bench", "--model", MobileNet, "--backend", "ort", "--profile").ExitCode);
        var missing = EdgerunProcess.Run("bench", "--model", "/nonexistent/model.onnx");
        Assert.Equal(3, missing.ExitCode);
        Assert.Contains("bad model", missing.StdErr);
    }

    [Fact]
    public void Synthetic_input_is_deterministic_and_in_the_preprocessed_range()
    {
        using (var quant = EdgeModel.Load(MobileNet, new EdgeModelOptions { Backend = BackendKind.Native }))
        {
            var a = BenchCommand.SyntheticInputs(MobileNet, quant);
            var b = BenchCommand.SyntheticInputs(MobileNet, quant);
            Assert.Single(a);
            Assert.Equal(new[] { 1, 128, 128, 3 }, a[0].Shape);
            Assert.True(a[0].Bytes.SequenceEqual(b[0].Bytes));
            Assert.True(a[0].AsSpan<byte>().ToArray().Distinct().Count() > 200, "random bytes should cover most of 0..255");
        }

        // MNIST: float gray 1x1x28x28 -> defaults map pixels to [0, 1] with no mean/std.
        var mnistPath = SharedData.Path("models/winml/mnist.onnx");
        using var mnist = EdgeModel.Load(mnistPath, new EdgeModelOptions { Backend = BackendKind.Native });
        var values = BenchCommand.SyntheticInputs(mnistPath, mnist)[0];
        Assert.Equal(TensorElementType.Float32, values.ElementType);
        var f = values.AsSpan<float>().ToArray();
        Assert.All(f, v => Assert.InRange(v, 0f, 1f));
        Assert.True(f.Max() - f.Min() > 0.9f, "values should span the range");
    }

    [Fact]
    public void Latency_stats_use_nearest_rank_percentiles()
    {
        var stats = BenchCommand.LatencyStats.Of([5, 1, 4, 2, 3, 10, 9, 8, 7, 6]);
        Assert.Equal(5.5, stats.MedianMs);
        Assert.Equal(9, stats.P90Ms);
        Assert.Equal(1, stats.MinMs);
        Assert.Equal(5.5, stats.MeanMs);
        var one = BenchCommand.LatencyStats.Of([2.5]);
        Assert.Equal(2.5, one.MedianMs);
        Assert.Equal(2.5, one.P90Ms);
    }

    [Fact]
    public void Machine_facts_are_readable()
    {
        Assert.False(string.IsNullOrWhiteSpace(BenchCommand.CpuModelName()));
        if (OperatingSystem.IsLinux()) Assert.True(BenchCommand.PeakRssBytes() > 1_000_000);
    }
}

/// <summary>
/// Peak memory of a load, as the issue asks: close to the packed weights plus the activation arena. Loading float
/// ResNet18 (64 MB of weights, stored as typed float_data, decoded and then packed) must peak within the runtime's
/// own footprint (edgerun on MNIST, 30 KB of weights) plus packed weights, arena and two collection thresholds of
/// garbage (<see cref="LoadCollections.ThresholdBytes"/>: the read's, then the packing's), with 10 MB to spare.
/// </summary>
public sealed class LoadFootprintTests
{
    private static (long PeakRss, long Packed, long Arena) Bench(string model)
    {
        var r = EdgerunProcess.Run("bench", "--model", model, "--backend", "native", "--threads", "1", "--warmup", "0", "--runs", "1", "--json");
        Assert.True(r.ExitCode == 0, r.StdErr);
        using var doc = JsonDocument.Parse(r.StdOut);
        var root = doc.RootElement;
        return (root.GetProperty("peak_rss_bytes").GetInt64(), root.GetProperty("packed_weight_bytes").GetInt64(), root.GetProperty("arena_bytes").GetInt64());
    }

    [Fact]
    public void Loading_a_large_float_model_peaks_near_its_packed_weights_and_arena()
    {
        var runtime = Bench(SharedData.Path("models/winml/mnist.onnx"));
        var resnet = Bench(SharedData.ResNet18Model());
        long bound = runtime.PeakRss + resnet.Packed + resnet.Arena + 2 * LoadCollections.ThresholdBytes + 10_000_000;
        // Measured: 133 MB against a bound of 151 (38 + 63.6 + 7.2 + 32 + 10). Before the windowed read and the load's
        // collections it was 190-290 MB, depending on when the GC ran.
        Assert.True(resnet.PeakRss <= bound,
            $"ResNet18 peaked at {resnet.PeakRss / 1e6:F1} MB; runtime alone {runtime.PeakRss / 1e6:F1} MB, packed weights {resnet.Packed / 1e6:F1} MB, arena {resnet.Arena / 1e6:F1} MB: bound {bound / 1e6:F1} MB");
    }

    /// <summary>edgerun ships with the GC compacting a fragmented heap (EdgeRuntime.csproj): MobileNetV2 peaks at 56 MB
    /// with it and 65 MB without (measured, not asserted: the gap is the GC's heuristics).</summary>
    [Fact]
    public void Edgerun_ships_with_memory_conservation_configured()
    {
        var config = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "edgerun.runtimeconfig.json"));
        using var doc = JsonDocument.Parse(config);
        Assert.Equal(7, doc.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties").GetProperty("System.GC.ConserveMemory").GetInt32());
    }
}
