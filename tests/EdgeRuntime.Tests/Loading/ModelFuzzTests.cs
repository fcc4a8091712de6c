using EdgeRuntime.Execution;
using System.Diagnostics;
using EdgeRuntime.Graph;
using EdgeRuntime.Onnx;
using EdgeRuntime.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace EdgeRuntime.Tests.Loading;

/// <summary>
/// Corrupted real models (see <see cref="ModelFuzzing"/>) must load or fail with a ModelFormatException —
/// never another exception, a hang or an allocation out of proportion to the file. Longer runs: see
/// tests/Fuzzing/README.md.
/// </summary>
public class ModelFuzzTests(ITestOutputHelper output)
{
    /// <summary>Mutants per model; <c>EDGE_FUZZ_MUTANTS</c> overrides it for longer runs.</summary>
    private static readonly int MutantsPerModel = EnvInt("EDGE_FUZZ_MUTANTS") ?? 400;

    /// <summary>Added to each model's seed; <c>EDGE_FUZZ_SEED</c> explores other mutants than CI's.</summary>
    private static readonly int SeedOffset = EnvInt("EDGE_FUZZ_SEED") ?? 0;

    private static int? EnvInt(string name) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), out var v) ? v : null;

    // A hang guard, not a performance check: generous so a busy CI machine cannot trip it.
    private static readonly TimeSpan MaxLoadTime = TimeSpan.FromSeconds(20);

    [Theory]
    [InlineData(RealModelLoadingTests.Mnist, 101)]
    [InlineData(RealModelLoadingTests.MobileNetQuant, 202)]
    [InlineData(RealModelLoadingTests.SqueezeNetFp16, 303)]
    public void MutatedModels_LoadOrFailWithModelFormatException(string model, int seed)
    {
        var original = File.ReadAllBytes(SharedData.Path(model));
        var stats = Run(original, Path.GetFileName(model), seed + SeedOffset, MutantsPerModel);
        output.WriteLine($"{model} (seed {seed + SeedOffset}): {stats.Loaded} mutants loaded, {stats.Rejected} rejected; slowest load {stats.Slowest.TotalMilliseconds:F0} ms, " +
                         $"most allocated {stats.MostAllocated / 1024} KiB (file {original.Length / 1024} KiB); total load time {stats.TotalLoadTime.TotalSeconds:F1} s");
        foreach (var (problem, n) in stats.Problems.OrderByDescending(p => p.Value).Take(12))
            output.WriteLine($"  {n,4} x {problem}");
        Assert.Equal(MutantsPerModel, stats.Loaded + stats.Rejected);
    }

    /// <summary>
    /// The same mutants through the whole native load path (<see cref="EdgeModel.Load(byte[], string?, EdgeModelOptions?)"/>:
    /// reading, QDQ fusion, binding every kernel, constant folding, memory planning): still only ModelFormatException.
    /// </summary>
    [Theory]
    [InlineData(RealModelLoadingTests.Mnist, 111)]
    [InlineData(RealModelLoadingTests.MobileNetQuant, 222)]
    [InlineData(RealModelLoadingTests.SqueezeNetFp16, 333)]
    public void MutatedModels_FullNativeLoad_OnlyModelFormatException(string model, int seed)
    {
        var original = File.ReadAllBytes(SharedData.Path(model));
        int count = Math.Max(1, MutantsPerModel / 2);
        var stats = Run(original, Path.GetFileName(model), seed + SeedOffset, count, (bytes, name) =>
        {
            using var m = EdgeModel.Load(bytes, name, new EdgeModelOptions { Backend = BackendKind.Native, Threads = 1 });
        });
        output.WriteLine($"{model} full native load (seed {seed + SeedOffset}): {stats.Loaded} loaded, {stats.Rejected} rejected; slowest {stats.Slowest.TotalMilliseconds:F0} ms, most allocated {stats.MostAllocated / 1024} KiB");
        foreach (var (problem, n) in stats.Problems.OrderByDescending(p => p.Value).Take(12))
            output.WriteLine($"  {n,4} x {problem}");
        Assert.Equal(count, stats.Loaded + stats.Rejected);
    }

    /// <summary>
    /// The same kind of mutants read from files: <see cref="OnnxModelReader.ReadFile"/> parses through one 64 KiB window
    /// (<see cref="FileWindowSequence"/>; it does not read the file into memory first), and must keep the reader's
    /// contract: only ModelFormatException, naming the file, no hang, allocation in proportion to the file. Unmutated,
    /// it reads the same graph as ReadBytes.
    /// </summary>
    [Theory]
    [InlineData(RealModelLoadingTests.Mnist, 121)]
    [InlineData(RealModelLoadingTests.MobileNetQuant, 232)]
    public void MutatedModelFiles_ReadThroughFileWindows_OnlyModelFormatException(string model, int seed)
    {
        var original = File.ReadAllBytes(SharedData.Path(model));
        var path = Path.Combine(Path.GetTempPath(), $"edgeruntime-fuzz-{Guid.NewGuid():N}.onnx");
        try
        {
            File.WriteAllBytes(path, original);
            var fromFile = OnnxModelReader.ReadFile(path);
            var fromBytes = OnnxModelReader.ReadBytes(original, path);
            Assert.Equal(fromBytes.Initializers.Keys.Order(), fromFile.Initializers.Keys.Order());
            foreach (var (name, tensor) in fromBytes.Initializers)
            {
                Assert.Equal(tensor.ElementType, fromFile.Initializers[name].ElementType);
                Assert.Equal(tensor.Shape, fromFile.Initializers[name].Shape);
                Assert.True(tensor.Bytes.SequenceEqual(fromFile.Initializers[name].Bytes), $"initializer {name} differs");
            }
            Assert.Equal(fromBytes.Nodes.Count, fromFile.Nodes.Count);

            int count = Math.Max(1, MutantsPerModel / 4);
            var stats = Run(original, path, seed + SeedOffset, count, (bytes, name) =>
            {
                File.WriteAllBytes(name, bytes);
                GraphTopology.Sort(OnnxModelReader.ReadFile(name));
            });
            output.WriteLine($"{model} as files (seed {seed + SeedOffset}): {stats.Loaded} loaded, {stats.Rejected} rejected; slowest {stats.Slowest.TotalMilliseconds:F0} ms");
            Assert.Equal(count, stats.Loaded + stats.Rejected);
        }
        finally { File.Delete(path); }
    }

    internal sealed record FuzzStats(int Loaded, int Rejected, TimeSpan Slowest, long MostAllocated, Dictionary<string, int> Problems, TimeSpan TotalLoadTime);

    /// <summary>
    /// Loads every mutant through <see cref="OnnxModelReader.ReadBytes"/> and <see cref="GraphTopology.Sort"/>,
    /// failing on any other exception, a load over 2 s, or more than max(64 MiB, 4 x file size) allocated.
    /// </summary>
    internal static FuzzStats Run(byte[] original, string name, int seed, int count, Action<byte[], string>? load = null)
    {
        load ??= (bytes, n) => GraphTopology.Sort(OnnxModelReader.ReadBytes(bytes, n));
        int loaded = 0, rejected = 0;
        var slowest = TimeSpan.Zero;
        long mostAllocated = 0;
        var problems = new Dictionary<string, int>();
        var totalLoad = TimeSpan.Zero;
        foreach (var mutant in ModelFuzzing.Mutants(original, seed, count))
        {
            long allocationLimit = Math.Max(64L << 20, 4L * mutant.Bytes.Length);
            var watch = Stopwatch.StartNew();
            long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                load(mutant.Bytes, name);
                loaded++;
            }
            catch (ModelFormatException e)
            {
                rejected++;
                Assert.False(e.Message.Contains("internal error", StringComparison.Ordinal),
                    $"mutant {mutant.Index} ({mutant.Description}) hit an unvalidated path: {e.Message}\n{e.InnerException}");
                Assert.StartsWith(name + ": ", e.Message);
                var key = ProblemKind(e.Problem);
                problems[key] = problems.GetValueOrDefault(key) + 1;
            }
            catch (Exception e)
            {
                Assert.Fail($"mutant {mutant.Index} ({mutant.Description}) threw {e.GetType().Name} instead of ModelFormatException: {e}");
            }
            long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
            watch.Stop();
            Assert.True(watch.Elapsed < MaxLoadTime, $"mutant {mutant.Index} ({mutant.Description}) took {watch.Elapsed.TotalSeconds:F2} s");
            Assert.True(allocated <= allocationLimit, $"mutant {mutant.Index} ({mutant.Description}) allocated {allocated} bytes (limit {allocationLimit})");
            if (watch.Elapsed > slowest) slowest = watch.Elapsed;
            totalLoad += watch.Elapsed;
            mostAllocated = Math.Max(mostAllocated, allocated);
        }
        return new FuzzStats(loaded, rejected, slowest, mostAllocated, problems, totalLoad);
    }

    /// <summary>The problem text up to the first quote or digit, so messages group by kind.</summary>
    private static string ProblemKind(string problem)
    {
        int cut = problem.IndexOfAny(['\'', '(', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
        return (cut > 0 ? problem[..cut] : problem).Trim();
    }
}
