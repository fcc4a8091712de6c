using System.Diagnostics;
using System.Globalization;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using EdgeRuntime.Benchmarks;
using EdgeRuntime.Kernels.Common;
using EdgeRuntime.Kernels.Gemm;

// Usage:
//   dotnet run -c Release --project bench/QuantizedKernels.Benchmarks                  BenchmarkDotNet, every shape × path
//   dotnet run -c Release --project bench/QuantizedKernels.Benchmarks -- --filter '*'  (any BenchmarkDotNet argument)
//   dotnet run -c Release --project bench/QuantizedKernels.Benchmarks -- --quick [seconds-per-case [passes]]
// --quick skips BenchmarkDotNet: a Stopwatch loop per case (default 0.3 s) in each of 3 passes, the fastest kept, a check that every path's result equals
// the scalar definition, and the same GOPS table; handy under qemu or for a first look.

var inv = CultureInfo.InvariantCulture;
var paths = CpuFeatures.Supported.ToArray();
var results = new Dictionary<(GemmShape, IsaPath), double>();
var fusedResults = new Dictionary<(GemmShape, IsaPath), double>();

if (args.Length > 0 && args[0] == "--quick")
{
    double seconds = args.Length > 1 ? double.Parse(args[1], inv) : 0.3;
    // Every case is measured once per pass and keeps its fastest: a noisy stretch of a shared machine then slows one
    // pass of a case, not its only loop.
    int passes = args.Length > 2 ? int.Parse(args[2], inv) : 3;
    var depthwiseResults = new Dictionary<(DepthwiseShape, IsaPath), double>();
    for (int pass = 0; pass < passes; pass++)
    {
    foreach (var shape in GemmShape.MobileNetV2Pointwise)
    {
        int[]? expected = null;
        foreach (var isa in paths.Reverse()) // scalar first: the definition the others are checked against
        {
            var problem = new GemmProblem(shape, isa);
            problem.Run();
            if (expected == null) expected = (int[])problem.Accumulators.Clone();
            else if (!problem.Accumulators.AsSpan().SequenceEqual(expected))
            {
                Console.Error.WriteLine($"{shape} on {CpuFeatures.Name(isa)}: result differs from {CpuFeatures.Name(paths[^1])}");
                return 1;
            }
            results[(shape, isa)] = Math.Max(results.GetValueOrDefault((shape, isa)), shape.Operations / FastestRun.Nanoseconds(problem.Run, seconds));
        }
        byte[]? expectedFused = null;
        foreach (var isa in paths.Reverse().Where(QGemm.HasFusedRequantization))
        {
            var fused = new FusedGemmProblem(shape, isa);
            fused.Run();
            if (expectedFused == null) expectedFused = (byte[])fused.Output.Clone();
            else if (!fused.Output.AsSpan().SequenceEqual(expectedFused))
            {
                Console.Error.WriteLine($"{shape} fused on {CpuFeatures.Name(isa)}: result differs from scalar");
                return 1;
            }
            fusedResults[(shape, isa)] = Math.Max(fusedResults.GetValueOrDefault((shape, isa)), shape.Operations / FastestRun.Nanoseconds(fused.Run, seconds));
        }
    }
    foreach (var (shape, _) in DepthwiseShape.MobileNetV2)
    {
        byte[]? expected = null;
        foreach (var isa in paths.Reverse())
        {
            var problem = new DepthwiseProblem(shape, isa);
            problem.Run();
            if (expected == null) expected = (byte[])problem.Output.Clone();
            else if (!problem.Output.AsSpan().SequenceEqual(expected))
            {
                Console.Error.WriteLine($"depthwise {shape} on {CpuFeatures.Name(isa)}: result differs from scalar");
                return 1;
            }
            double ns = FastestRun.Nanoseconds(problem.Run, seconds);
            depthwiseResults[(shape, isa)] = depthwiseResults.TryGetValue((shape, isa), out var best) ? Math.Min(best, ns) : ns;
        }
    }
    }
    var peaks = new Dictionary<IsaPath, double>();
    for (int pass = 0; pass < passes; pass++)
        foreach (var isa in paths)
            if (PeakProbe.Gops(isa, seconds) is { } peak) peaks[isa] = Math.Max(peaks.GetValueOrDefault(isa), peak);
    var timing = $"fastest run of {passes} Stopwatch loops of {seconds.ToString(inv)} s";
    PrintTable("QGemm.Multiply (int32 out)", results, timing, peaks);
    PrintTable("QGemm.MultiplyRequantize (fused requantization, int8 out; what convolutions run where available)", fusedResults, timing, peaks);
    if (peaks.Count > 0)
    {
        Console.WriteLine("% of peak: GOPS / this core's measured int8 multiply-accumulate peak on that path (PeakProbe: independent");
        Console.WriteLine("chains on AVX2, the faster of VPMADDWD+VPADDD and VPMADDUBSW+VPMADDWD+VPADDD; VPDPBUSD on AVX-VNNI, and on avx512vnni in its machine code (EVEX, the faster of 256 and 512 bits); no loads; fastest of the passes, so the % are conservative): "
            + string.Join(", ", peaks.Select(p => $"{CpuFeatures.Name(p.Key)} {p.Value.ToString("0.0", inv)} GOPS")));
    }
    PrintDepthwiseTable(depthwiseResults, timing);
    return 0;
}

var config = DefaultConfig.Instance.AddColumn(new GopsColumn());
if (!args.Contains("--job") && !args.Contains("-j"))
    config = config.AddJob(Job.Default.WithWarmupCount(3).WithIterationCount(10).AsDefault());
if (!args.Contains("--filter") && !args.Contains("-f"))
    args = [.. args, "--filter", "*"];
foreach (var summary in BenchmarkSwitcher.FromTypes([typeof(QGemmBenchmarks)]).Run(args, config))
{
    foreach (var report in summary.Reports)
    {
        var gops = GopsColumn.Gops(summary, report.BenchmarkCase);
        var parameters = report.BenchmarkCase.Parameters.Items.Select(p => p.Value).ToArray();
        if (gops is { } g && parameters.OfType<GemmShape>().FirstOrDefault() is { } shape && parameters.OfType<IsaPath>().Any())
            results[(shape, parameters.OfType<IsaPath>().First())] = g;
    }
}
if (results.Count > 0) PrintTable("QGemm.Multiply", results, "BenchmarkDotNet mean", []);
return 0;

void PrintDepthwiseTable(Dictionary<(DepthwiseShape, IsaPath), double> nanoseconds, string timing)
{
    Console.WriteLine();
    Console.WriteLine($"DepthwiseConv 3x3 on MobileNetV2's layers: GMAC/s (C*OH*OW*9 / time, {timing}), single-threaded");
    Console.Write($"{"CxHsS",-16} {"layer",-24}");
    foreach (var isa in paths) Console.Write($" {CpuFeatures.Name(isa),11}");
    Console.WriteLine();
    var modelMs = new double[paths.Length];
    foreach (var (shape, count) in DepthwiseShape.MobileNetV2)
    {
        Console.Write($"{shape,-16} {shape.Layer,-24}");
        for (int i = 0; i < paths.Length; i++)
        {
            double ns = nanoseconds[(shape, paths[i])];
            modelMs[i] += count * ns / 1e6;
            Console.Write($" {(shape.Macs / ns).ToString("0.00", inv),11}");
        }
        Console.WriteLine();
    }
    Console.Write($"{"all 17 layers, ms",-41}");
    foreach (var ms in modelMs) Console.Write($" {ms.ToString("0.000", inv),11}");
    Console.WriteLine();
}

void PrintTable(string kernel, Dictionary<(GemmShape, IsaPath), double> results, string how, Dictionary<IsaPath, double> peaks)
{
    // Paths with a measured peak also get a "% of peak" column, and every path a row for all shapes together
    // (total operations / total time).
    var peakPaths = paths.Where(p => peaks.ContainsKey(p) && results.Keys.Any(key => key.Item2 == p)).ToArray();
    Console.WriteLine();
    Console.WriteLine($"{kernel} GOPS (2*M*N*K / time, {how}), {Environment.ProcessorCount} cores visible, single-threaded kernel");
    Console.Write($"{"MxKxN",-16} {"layer",-24}");
    foreach (var isa in paths) Console.Write($" {CpuFeatures.Name(isa),11}");
    foreach (var isa in peakPaths) Console.Write($" {CpuFeatures.Name(isa) + " %peak",11}");
    Console.WriteLine();
    var totalSeconds = new Dictionary<IsaPath, double>();
    double totalOperations = 0;
    foreach (var shape in GemmShape.MobileNetV2Pointwise)
    {
        if (!paths.Any(p => results.ContainsKey((shape, p)))) continue;
        totalOperations += shape.Operations;
        Console.Write($"{shape,-16} {shape.Layer,-24}");
        foreach (var isa in paths)
        {
            bool measured = results.TryGetValue((shape, isa), out var g);
            Console.Write(measured ? $" {g.ToString("0.00", inv),11}" : $" {"-",11}");
            if (measured) totalSeconds[isa] = totalSeconds.GetValueOrDefault(isa) + shape.Operations / (g * 1e9);
        }
        foreach (var isa in peakPaths)
            Console.Write($" {(100 * results[(shape, isa)] / peaks[isa]).ToString("0.0", inv),11}");
        Console.WriteLine();
    }
    Console.Write($"{"all shapes together",-41}");
    foreach (var isa in paths)
        Console.Write(totalSeconds.TryGetValue(isa, out var t) ? $" {(totalOperations / t / 1e9).ToString("0.00", inv),11}" : $" {"-",11}");
    foreach (var isa in peakPaths) Console.Write($" {(100 * totalOperations / totalSeconds[isa] / 1e9 / peaks[isa]).ToString("0.0", inv),11}");
    Console.WriteLine();
}
