using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using EdgeRuntime.Execution;
using EdgeRuntime.Execution.Ops;
using EdgeRuntime.Graph;
using EdgeRuntime.Imaging;
using EdgeRuntime.Kernels.Common;
using EdgeRuntime.Tensors;

namespace EdgeRuntime.Cli;

/// <summary>
/// <c>edgerun bench --model M [--threads N] [--warmup W] [--runs R] [--backend native|ort|both] [--profile] [--json]</c>:
/// latency of one model on a deterministic synthetic input. With <c>both</c>, native and ONNX Runtime run in the same
/// process, alternating run by run (and alternating which goes first), so that both see the same machine state
/// (frequency, cache, other load) and the ratio native/ort is meaningful on a noisy machine.
/// </summary>
internal static class BenchCommand
{
    /// <summary>Seed of the synthetic input, fixed so that every run and every machine measures the same data.</summary>
    internal const int InputSeed = 20240611;

    private enum BenchBackends { Native, Ort, Both }

    /// <summary>Shortest warm-up when any is asked for (see the warm-up loop).</summary>
    private static readonly TimeSpan MinWarmup = TimeSpan.FromSeconds(1);

    private sealed record Settings(string ModelPath, int Threads, int Warmup, int Runs, BenchBackends Backends, bool Profile, bool Json, bool FixedThreads);

    public static Command Create()
    {
        var model = new Option<string>("--model", "-m") { Description = "ONNX model file", Required = true };
        var threads = new Option<int>("--threads") { Description = "Worker threads for both engines (0 = one per core)", DefaultValueFactory = _ => 0 };
        var warmup = new Option<int>("--warmup") { Description = "Unreported runs per engine before measuring (when above 0, for at least 1 s)", DefaultValueFactory = _ => 5 };
        var runs = new Option<int>("--runs") { Description = "Measured runs per engine", DefaultValueFactory = _ => 30 };
        var backend = new Option<string>("--backend") { Description = "native | ort | both (both: interleaved in one process, reports native/ort)", DefaultValueFactory = _ => "both" };
        backend.AcceptOnlyFromAmong("native", "ort", "both");
        var profile = new Option<bool>("--profile") { Description = "Also time every native step and print time per op type" };
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of text" };
        var fixedThreads = new Option<bool>("--fixed-threads")
        {
            Description = "Native: always share each inference with the worker threads, instead of running it on the calling thread alone when timing shows that faster",
        };
        var cmd = new Command("bench", "Measure inference latency (median, p90) natively and/or on ONNX Runtime with a synthetic input")
        {
            model, threads, warmup, runs, backend, profile, json, fixedThreads,
        };
        cmd.SetAction(parse => EdgerunCli.Guard(() => Run(new Settings(
            parse.GetValue(model)!, parse.GetValue(threads), parse.GetValue(warmup), parse.GetValue(runs),
            parse.GetValue(backend) switch { "native" => BenchBackends.Native, "ort" => BenchBackends.Ort, _ => BenchBackends.Both },
            parse.GetValue(profile), parse.GetValue(json), parse.GetValue(fixedThreads)))));
        return cmd;
    }

    private static int Run(Settings s)
    {
        if (s.Threads < 0) throw new UsageException("--threads must be 0 (one per core) or more");
        if (s.Warmup < 0) throw new UsageException("--warmup must be 0 or more");
        if (s.Runs < 1) throw new UsageException("--runs must be at least 1");
        if (s.Profile && s.Backends == BenchBackends.Ort) throw new UsageException("--profile times native steps; use --backend native or both");

        string isa;
        try
        {
            isa = CpuFeatures.Name(CpuFeatures.Active);
        }
        catch (IsaNotSupportedException ex)
        {
            throw new UsageException(ex.Message);
        }

        int threads = s.Threads > 0 ? s.Threads : Environment.ProcessorCount;
        bool wantNative = s.Backends != BenchBackends.Ort, wantOrt = s.Backends != BenchBackends.Native;
        // Two engines sharing the cores: both spin within their own runs and neither keeps idle threads spinning into
        // the other's (both block between runs).
        bool spin = !(wantNative && wantOrt);
        using var native = wantNative ? EdgeModel.Load(s.ModelPath, new EdgeModelOptions { Backend = BackendKind.Native, Threads = threads, AllowSpinning = spin, AdaptiveThreads = !s.FixedThreads }) : null;
        using var ort = wantOrt ? EdgeModel.Load(s.ModelPath, new EdgeModelOptions { Backend = BackendKind.Ort, Threads = threads, AllowSpinning = spin }) : null;
        var reference = (native ?? ort)!;
        var inputs = SyntheticInputs(s.ModelPath, reference);

        // Warm-up pays for lazy initialisation, first-touch page faults and ORT's thread pool start, and lasts at least
        // MinWarmup: .NET's tiered JIT replaces a hot method's quick first code only after it has been called for a
        // while (and some 100 ms without new methods), so a small model's runs (MobileNetV1 0.25: 0.5 ms) would
        // otherwise be measured partly on unoptimized code. Then a collection so that garbage from loading is not
        // collected in the middle of a measured run.
        var warmupClock = Stopwatch.StartNew();
        int warmupRuns = 0;
        for (; warmupRuns < s.Warmup || (s.Warmup > 0 && warmupClock.Elapsed < MinWarmup); warmupRuns++)
        {
            native?.Run(inputs);
            ort?.Run(inputs);
        }
        GC.Collect();
        GC.WaitForPendingFinalizers();

        // Where the host put the CPUs, before and after the measured runs (CpuPlacementProbe): it decides how much a
        // second thread can help on a VM. Only with threads to share, and never with one CPU (each turn would wait for a
        // time slice).
        bool probe = threads > 1 && Environment.ProcessorCount > 1;
        double? placementBefore = probe ? CpuPlacementProbe.RoundTripNanoseconds() : null;
        var nativeMs = native != null ? new double[s.Runs] : null;
        var ortMs = ort != null ? new double[s.Runs] : null;
        for (int r = 0; r < s.Runs; r++)
        {
            // Alternate which engine goes first so neither systematically follows the other (cache, frequency).
            if (r % 2 == 0)
            {
                if (native != null) nativeMs![r] = TimeOne(native, inputs);
                if (ort != null) ortMs![r] = TimeOne(ort, inputs);
            }
            else
            {
                if (ort != null) ortMs![r] = TimeOne(ort, inputs);
                if (native != null) nativeMs![r] = TimeOne(native, inputs);
            }
        }

        double? placementAfter = probe ? CpuPlacementProbe.RoundTripNanoseconds() : null;

        var profile = s.Profile ? ProfileNative(native!, inputs, s.Runs) : null;
        var report = new Report(s, warmupRuns, threads, isa, CpuModelName(), inputs[0], native?.Plan,
            nativeMs != null ? LatencyStats.Of(nativeMs) : null, ortMs != null ? LatencyStats.Of(ortMs) : null,
            profile, PeakRssBytes(), placementBefore, placementAfter);
        if (s.Json) WriteJson(report);
        else WriteText(report);
        return ExitCodes.Ok;
    }

    private static double TimeOne(EdgeModel model, Tensor[] inputs)
    {
        long start = Stopwatch.GetTimestamp();
        model.Run(inputs);
        return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }

    // ---- synthetic input ------------------------------------------------------------------------------------------

    /// <summary>
    /// One tensor per model input, the same on every call: uint8/int8 get seeded random bytes; float32/float16 rank-4
    /// image inputs get random pixels 0..255 mapped as the model's preprocessing would (its sidecar or the defaults of
    /// <see cref="PreprocessOptions.DefaultsFor"/>: range, then mean/std per channel); other float inputs get uniform
    /// [0, 1); any other type is zero. A symbolic batch dimension becomes 1 and symbolic image height/width the
    /// preprocessing size.
    /// </summary>
    internal static Tensor[] SyntheticInputs(string modelPath, EdgeModel model)
    {
        var result = new Tensor[model.Inputs.Count];
        var random = new Random(InputSeed);
        for (int i = 0; i < result.Length; i++)
        {
            var info = model.Inputs[i];
            var shape = model.Plan?.InputTensors[i].Shape.ToArray() ?? info.Shape.ToArray();
            bool isFloat = info.ElementType is TensorElementType.Float32 or TensorElementType.Float16;
            PreprocessOptions? image = null;
            if (shape.Length == 4 && isFloat || shape.Length == 4 && shape.Skip(1).Any(d => d < 0))
            {
                var known = shape.Select((d, k) => d >= 0 ? d : k == 0 ? 1 : -1).ToArray();
                try
                {
                    image = PreprocessFlags.Resolve(modelPath, info.ElementType, known, null);
                }
                catch (ConfigurationException) when (Sidecar.TryLoadFor(modelPath) == null)
                {
                    image = null; // not an image input (e.g. int64 or a rank-4 feature map): plain values below
                }
            }
            for (int d = 0; d < shape.Length; d++)
            {
                if (shape[d] >= 0) continue;
                if (d == 0) shape[d] = 1;
                else if (image != null && shape.Length == 4)
                    shape[d] = image.Layout == TensorLayout.Nchw ? (d == 1 ? image.Channels : d == 2 ? image.Height : image.Width)
                                                                 : (d == 3 ? image.Channels : d == 1 ? image.Height : image.Width);
                else throw new UsageException($"input '{info.Name}' has symbolic dimension {d} ({info.DimParams[d] ?? "?"}); bench needs a static shape");
            }

            var tensor = new Tensor(info.ElementType, shape);
            switch (info.ElementType)
            {
                case TensorElementType.UInt8:
                case TensorElementType.Int8:
                    random.NextBytes(tensor.Bytes);
                    break;
                case TensorElementType.Float32:
                    FillFloats(tensor.AsSpan<float>(), shape, image, random);
                    break;
                case TensorElementType.Float16:
                    var values = new float[tensor.ElementCount];
                    FillFloats(values, shape, image, random);
                    var halves = tensor.AsSpan<Half>();
                    for (int k = 0; k < values.Length; k++) halves[k] = (Half)values[k];
                    break;
                default:
                    break; // zeros
            }
            result[i] = tensor;
        }
        return result;
    }

    private static void FillFloats(Span<float> values, int[] shape, PreprocessOptions? image, Random random)
    {
        if (image == null)
        {
            for (int k = 0; k < values.Length; k++) values[k] = random.NextSingle();
            return;
        }
        // Element k of an NCHW tensor is in channel (k / (H·W)) % C; of an NHWC tensor in channel k % C.
        bool nchw = image.Layout == TensorLayout.Nchw;
        int channels = nchw ? shape[1] : shape[3];
        int plane = shape[2] * shape[3];
        float min = image.Range.Min, step = (image.Range.Max - image.Range.Min) / 255f;
        for (int k = 0; k < values.Length; k++)
        {
            int c = nchw ? k / plane % channels : k % channels;
            float v = min + random.Next(256) * step;
            if (image.Mean is { } mean) v -= mean[mean.Length == 1 ? 0 : Math.Min(c, mean.Length - 1)];
            if (image.Std is { } std) v /= std[std.Length == 1 ? 0 : Math.Min(c, std.Length - 1)];
            values[k] = v;
        }
    }

    // ---- profile -------------------------------------------------------------------------------------------------

    /// <summary>Steps listed under "Slowest steps" (EDGE_PROFILE_STEPS overrides, for a whole-model listing).</summary>
    private static int SlowestSteps => int.TryParse(Environment.GetEnvironmentVariable("EDGE_PROFILE_STEPS"), out int n) && n > 0 ? n : 10;

    private sealed record OpTime(string OpType, int Steps, double MsPerRun, double Percent);

    /// <summary>One step's mean and fastest time over the profiled runs (the fastest is steadier on a shared machine).</summary>
    private sealed record StepTime(int Index, string Name, string OpType, string Output, double MsPerRun, double FastestMs, long Macs);

    private sealed record Profile(int Runs, double TotalMsPerRun, List<OpTime> ByOp, List<StepTime> Slowest);

    /// <summary>Runs the native plan <paramref name="runs"/> times with per-step timestamps and aggregates by op type.</summary>
    private static Profile ProfileNative(EdgeModel native, Tensor[] inputs, int runs)
    {
        var plan = native.Plan!;
        native.Run(inputs); // copies the inputs into the plan's input tensors, which no step overwrites
        var ticks = new long[plan.Steps.Count];
        var runTicks = new long[plan.Steps.Count];
        var fastestTicks = new long[plan.Steps.Count];
        Array.Fill(fastestTicks, long.MaxValue);
        plan.ExecuteProfiled(ticks); // one unrecorded pass so the profile does not include a cold first step
        Array.Clear(ticks);
        for (int r = 0; r < runs; r++)
        {
            Array.Clear(runTicks);
            plan.ExecuteProfiled(runTicks);
            for (int i = 0; i < runTicks.Length; i++)
            {
                ticks[i] += runTicks[i];
                fastestTicks[i] = Math.Min(fastestTicks[i], runTicks[i]);
            }
        }

        double msPerTick = 1000.0 / Stopwatch.Frequency / runs;
        double msPerRunTick = 1000.0 / Stopwatch.Frequency;
        double total = ticks.Sum() * msPerTick;
        var byOp = plan.Steps
            .Select((step, i) => (Op: OpName(step), Ms: ticks[i] * msPerTick))
            .GroupBy(x => x.Op, StringComparer.Ordinal)
            .Select(g => new OpTime(g.Key, g.Count(), g.Sum(x => x.Ms), total > 0 ? 100 * g.Sum(x => x.Ms) / total : 0))
            .OrderByDescending(o => o.MsPerRun).ThenBy(o => o.OpType, StringComparer.Ordinal)
            .ToList();
        var slowest = plan.Steps
            .Select((step, i) => new StepTime(i, step.Node.Name, OpName(step), OutputDescription(plan, step.Node), ticks[i] * msPerTick,
                fastestTicks[i] * msPerRunTick, step.Macs))
            .OrderByDescending(x => x.MsPerRun).Take(SlowestSteps).ToList();
        return new Profile(runs, total, byOp, slowest);
    }

    private static string OpName(PlanStep step)
    {
        var node = step.Node;
        var name = (node.Domain.Length > 0 ? node.Domain + "." : "") + node.OpType;
        return step.Kernel is IKernelVariant v ? $"{name} ({v.Variant})" : name;
    }

    private static string OutputDescription(ExecutionPlan plan, Node node)
    {
        var name = node.Outputs.FirstOrDefault(n => n.Length > 0);
        return name != null && plan.ValueInfos.TryGetValue(name, out var info) ? info.ToString() ?? "" : "";
    }

    // ---- statistics and machine facts ----------------------------------------------------------------------------

    /// <summary>Latency summary of one engine. Percentiles are nearest-rank: p-th = sorted[ceil(p/100·n) - 1].</summary>
    internal readonly record struct LatencyStats(int Runs, double MedianMs, double P90Ms, double MinMs, double MeanMs)
    {
        public static LatencyStats Of(double[] samples)
        {
            var sorted = samples.OrderBy(x => x).ToArray();
            int n = sorted.Length;
            double median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
            double p90 = sorted[Math.Max(0, (int)Math.Ceiling(0.9 * n) - 1)];
            return new LatencyStats(n, median, p90, sorted[0], sorted.Average());
        }
    }

    /// <summary>The CPU's marketing name from /proc/cpuinfo ("model name", or on ARM boards "Model"/the device tree), else the architecture.</summary>
    internal static string CpuModelName()
    {
        try
        {
            if (File.Exists("/proc/cpuinfo"))
            {
                string? model = null, part = null;
                foreach (var line in File.ReadLines("/proc/cpuinfo"))
                {
                    int colon = line.IndexOf(':');
                    if (colon < 0) continue;
                    var key = line[..colon].Trim();
                    var value = line[(colon + 1)..].Trim();
                    if (key == "model name" && value.Length > 0) return value;
                    if (key == "Model" && value.Length > 0) model ??= value;
                    if (key == "CPU part" && value.Length > 0) part ??= value;
                }
                if (model != null) return model;
                const string deviceTree = "/sys/firmware/devicetree/base/model";
                if (File.Exists(deviceTree)) return File.ReadAllText(deviceTree).TrimEnd('\0', '\n');
                if (part != null) return $"{System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture} CPU part {part}";
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture.ToString();
    }

    /// <summary>Peak resident set size of this process (VmHWM in /proc/self/status), or null where unavailable.</summary>
    internal static long? PeakRssBytes()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
            {
                if (!line.StartsWith("VmHWM:", StringComparison.Ordinal)) continue;
                var parts = line["VmHWM:".Length..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length >= 1 && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var kib))
                    return kib * 1024;
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return null;
    }

    // ---- output --------------------------------------------------------------------------------------------------

    private sealed record Report(Settings Settings, int WarmupRuns, int Threads, string Isa, string Cpu, Tensor Input, ExecutionPlan? Plan,
        LatencyStats? Native, LatencyStats? Ort, Profile? Profile, long? PeakRss, double? PlacementBefore, double? PlacementAfter)
    {
        public double? Ratio => Native is { } n && Ort is { } o && o.MedianMs > 0 ? n.MedianMs / o.MedianMs : null;
    }

    private static void WriteText(Report r)
    {
        var inv = CultureInfo.InvariantCulture;
        var o = Console.Out;
        o.WriteLine($"Model      {r.Settings.ModelPath}");
        o.WriteLine($"CPU        {r.Cpu}; isa {r.Isa}; {r.Threads} thread{(r.Threads == 1 ? "" : "s")}");
        o.WriteLine($"Input      {r.Input} synthetic (seed {InputSeed})");
        var memory = new List<string>();
        if (r.Plan != null) memory.Add($"native weights {InspectCommand.Bytes(r.Plan.ConstantBytes)}, activation arena {InspectCommand.Bytes(r.Plan.ArenaBytes)}");
        if (r.PeakRss is { } rss) memory.Add($"peak RSS {InspectCommand.Bytes(rss)}");
        if (memory.Count > 0) o.WriteLine($"Memory     {string.Join("; ", memory)}");
        o.WriteLine($"Runs       {r.Settings.Runs} measured after {r.WarmupRuns} warm-up{(r.Native != null && r.Ort != null ? ", native and onnxruntime interleaved (threads of both spin within a run and block between runs)" : "")}");
        o.WriteLine($"  {"engine",-12} {"median ms",10} {"p90 ms",10} {"min ms",10} {"mean ms",10}");
        void Row(string name, LatencyStats st) =>
            o.WriteLine($"  {name,-12} {st.MedianMs.ToString("0.000", inv),10} {st.P90Ms.ToString("0.000", inv),10} {st.MinMs.ToString("0.000", inv),10} {st.MeanMs.ToString("0.000", inv),10}");
        if (r.Native is { } n) Row("native", n);
        if (r.Ort is { } t) Row("onnxruntime", t);
        if (r.Ratio is { } ratio) o.WriteLine($"Ratio      native/onnxruntime = {ratio.ToString("0.000", inv)} (medians; below 1 means native is faster)");
        if (r.PlacementBefore is { } before && r.PlacementAfter is { } after)
            o.WriteLine($"Placement  a cache line between two threads took {before.ToString("0", inv)} ns before the runs, {after.ToString("0", inv)} ns after " +
                "(on a VM: about 50–130 ns when the host keeps the CPUs close, 300–700 ns when apart (Zen 4: 300–400, Zen 5: 430–700), and then a second thread helps less)");
        if (r.Plan?.ThreadUse is { Measurements: > 0 } tuner)
        {
            var (shared, alone) = tuner.LastMedians;
            o.WriteLine($"Threads    native ran each inference {(tuner.Shared ? $"on all {r.Threads} threads" : "on the calling thread alone")} after the last of " +
                $"{tuner.Measurements} measurement(s): median {TicksToMs(shared).ToString("0.000", inv)} ms shared, {TicksToMs(alone).ToString("0.000", inv)} ms alone " +
                "(EdgeModelOptions.AdaptiveThreads)");
        }

        if (r.Profile is { } p)
        {
            o.WriteLine();
            o.WriteLine($"Native profile (mean of {p.Runs} runs, {p.TotalMsPerRun.ToString("0.000", inv)} ms per run in steps)");
            o.WriteLine($"  {"op",-34} {"steps",5} {"ms/run",10} {"%",6}");
            foreach (var op in p.ByOp)
                o.WriteLine($"  {op.OpType,-34} {op.Steps,5} {op.MsPerRun.ToString("0.000", inv),10} {op.Percent.ToString("0.0", inv),6}");
            o.WriteLine("Slowest steps");
            o.WriteLine($"  {"#",4}  {"name",-36} {"op",-22} {"output",-24} {"ms/run",9} {"fastest",8} {"GMAC/s",8}");
            foreach (var st in p.Slowest)
            {
                // GMAC/s of the fastest run: what the kernel does when the core is its own (the mean carries the noise).
                var gmacs = st.Macs > 0 && st.FastestMs > 0 ? (st.Macs / (st.FastestMs * 1e6)).ToString("0.00", inv) : "";
                o.WriteLine($"  {st.Index,4}  {Trim(st.Name, 36),-36} {Trim(st.OpType, 22),-22} {Trim(st.Output, 24),-24} " +
                    $"{st.MsPerRun.ToString("0.000", inv),9} {st.FastestMs.ToString("0.000", inv),8} {gmacs,8}");
            }
        }
    }

    private static double TicksToMs(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;

    private static string Trim(string s, int max) => s.Length <= max ? s : s[..(max - 1)] + "…";

    private static void WriteJson(Report r)
    {
        using var stdout = Console.OpenStandardOutput();
        using var w = new Utf8JsonWriter(stdout, new JsonWriterOptions { Indented = false });
        w.WriteStartObject();
        w.WriteString("model", r.Settings.ModelPath);
        w.WriteString("backend", r.Settings.Backends.ToString().ToLowerInvariant());
        w.WriteNumber("threads", r.Threads);
        w.WriteString("isa", r.Isa);
        w.WriteString("cpu", r.Cpu);
        w.WriteNumber("runs", r.Settings.Runs);
        w.WriteNumber("warmup", r.Settings.Warmup);
        w.WriteNumber("warmup_runs", r.WarmupRuns);
        w.WriteString("input", r.Input.ToString());
        w.WriteNumber("input_seed", InputSeed);
        WriteStats(w, "native", r.Native);
        WriteStats(w, "ort", r.Ort);
        WriteNumberOrNull(w, "ratio", r.Ratio, 4);
        if (r.Plan != null)
        {
            w.WriteNumber("packed_weight_bytes", r.Plan.ConstantBytes);
            w.WriteNumber("arena_bytes", r.Plan.ArenaBytes);
        }
        else
        {
            w.WriteNull("packed_weight_bytes");
            w.WriteNull("arena_bytes");
        }
        if (r.PeakRss is { } rss) w.WriteNumber("peak_rss_bytes", rss);
        else w.WriteNull("peak_rss_bytes");
        WriteNumberOrNull(w, "cpu_round_trip_ns_before", r.PlacementBefore, 0);
        WriteNumberOrNull(w, "cpu_round_trip_ns_after", r.PlacementAfter, 0);
        // The adaptive thread use (ThreadUseTuner): whether the last measurement kept the threads, and its medians.
        if (r.Plan?.ThreadUse is { Measurements: > 0 } tuner)
        {
            w.WriteBoolean("native_threads_shared", tuner.Shared);
            w.WriteNumber("native_thread_measurements", tuner.Measurements);
            w.WriteNumber("native_shared_median_ms", Math.Round(TicksToMs(tuner.LastMedians.Shared), 4));
            w.WriteNumber("native_alone_median_ms", Math.Round(TicksToMs(tuner.LastMedians.Alone), 4));
        }
        else
        {
            w.WriteNull("native_threads_shared");
            w.WriteNumber("native_thread_measurements", 0);
            w.WriteNull("native_shared_median_ms");
            w.WriteNull("native_alone_median_ms");
        }
        if (r.Profile is { } p)
        {
            w.WriteStartObject("profile");
            w.WriteNumber("runs", p.Runs);
            w.WriteNumber("total_ms", Math.Round(p.TotalMsPerRun, 4));
            w.WriteStartArray("ops");
            foreach (var op in p.ByOp)
            {
                w.WriteStartObject();
                w.WriteString("op", op.OpType);
                w.WriteNumber("steps", op.Steps);
                w.WriteNumber("ms", Math.Round(op.MsPerRun, 4));
                w.WriteNumber("percent", Math.Round(op.Percent, 2));
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("slowest_steps");
            foreach (var st in p.Slowest)
            {
                w.WriteStartObject();
                w.WriteNumber("index", st.Index);
                w.WriteString("name", st.Name);
                w.WriteString("op", st.OpType);
                w.WriteNumber("ms", Math.Round(st.MsPerRun, 4));
                w.WriteNumber("fastest_ms", Math.Round(st.FastestMs, 4));
                w.WriteNumber("macs", st.Macs);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndObject();
        w.Flush();
        stdout.WriteByte((byte)'\n');
    }

    private static void WriteStats(Utf8JsonWriter w, string prefix, LatencyStats? stats)
    {
        WriteNumberOrNull(w, prefix + "_median_ms", stats?.MedianMs, 4);
        WriteNumberOrNull(w, prefix + "_p90_ms", stats?.P90Ms, 4);
        WriteNumberOrNull(w, prefix + "_min_ms", stats?.MinMs, 4);
        WriteNumberOrNull(w, prefix + "_mean_ms", stats?.MeanMs, 4);
    }

    private static void WriteNumberOrNull(Utf8JsonWriter w, string name, double? value, int decimals)
    {
        if (value is { } v) w.WriteNumber(name, Math.Round(v, decimals));
        else w.WriteNull(name);
    }
}
