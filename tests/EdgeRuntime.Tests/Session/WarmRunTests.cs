using EdgeRuntime.Execution;
using EdgeRuntime.Kernels.Common;
using EdgeRuntime.Tensors;
using EdgeRuntime.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace EdgeRuntime.Tests.Session;

/// <summary>
/// Per-inference guarantees of the native engine on real models, for every instruction-set path this CPU has:
/// a warm <c>Run</c> allocates nothing, and results are identical for any thread count and any path.
/// </summary>
public sealed class WarmRunTests(ITestOutputHelper output)
{
    public static TheoryData<string> Models => new()
    {
        "models/converted/mobilenet_v1_0.25_128_quant.onnx",
        "models/converted/mobilenet_v2_1.0_224_quant.onnx",
        "models/winml/mnist.onnx",
        "models/winml/SqueezeNet_fp16.onnx",
    };

    private static Tensor SyntheticInput(EdgeModel model)
    {
        var input = model.Inputs[0];
        var shape = input.Shape.Select(d => Math.Max(d, 1)).ToArray();
        var rng = new Random(12345);
        var t = new Tensor(input.ElementType, shape);
        switch (input.ElementType)
        {
            case TensorElementType.UInt8 or TensorElementType.Int8: rng.NextBytes(t.Bytes); break;
            case TensorElementType.Float16: { var s = t.AsSpan<Half>(); for (int i = 0; i < s.Length; i++) s[i] = (Half)(rng.NextDouble() * 255); break; }
            default: { var s = t.AsSpan<float>(); for (int i = 0; i < s.Length; i++) s[i] = (float)(rng.NextDouble() * 255); break; }
        }
        return t;
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Warm_run_allocates_nothing_on_every_isa_path(string relative)
    {
        var path = SharedData.Path(relative);
        foreach (var isa in CpuFeatures.Supported)
        {
            // 4 threads: depthwise layers of 32 or 48 channels then run in row bands (fewer 16-channel ranges than threads).
            foreach (var threads in new[] { 1, 2, 4 })
            {
                using var model = EdgeModel.Load(path, new EdgeModelOptions { Backend = BackendKind.Native, Threads = threads, Isa = isa });
                var input = SyntheticInput(model);
                for (int i = 0; i < 3; i++) model.Run(input);
                // The runtime itself may allocate on this thread once in a while (tiered JIT installing optimized
                // code); a per-inference allocation would show in every run, so a run with zero bytes proves there is none.
                long allocated = long.MaxValue;
                for (int attempt = 0; attempt < 5 && allocated != 0; attempt++)
                {
                    long before = GC.GetAllocatedBytesForCurrentThread();
                    model.Run(input);
                    allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                }
                output.WriteLine($"{Path.GetFileName(path)} {CpuFeatures.Name(isa)} threads={threads}: {allocated} bytes allocated by a warm run");
                Assert.True(allocated == 0, $"{CpuFeatures.Name(isa)}, {threads} threads: a warm run allocated {allocated} bytes");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Results_are_identical_for_any_thread_count_and_isa_path(string relative)
    {
        var path = SharedData.Path(relative);
        byte[]? expected = null;
        string? expectedFrom = null;
        foreach (var isa in CpuFeatures.Supported)
        {
            foreach (var threads in new[] { 1, 2, 3 })
            {
                using var model = EdgeModel.Load(path, new EdgeModelOptions { Backend = BackendKind.Native, Threads = threads, Isa = isa });
                var actual = model.Run(SyntheticInput(model))[0].Bytes.ToArray();
                var from = $"{CpuFeatures.Name(isa)}/{threads} threads";
                if (expected == null) { expected = actual; expectedFrom = from; continue; }
                // Float models may differ in the last bits between float kernels only if those change with threads; int8 must be exact.
                Assert.True(expected.AsSpan().SequenceEqual(actual), $"{from} differs from {expectedFrom}");
            }
        }
    }

    /// <summary>
    /// More threads than cores, and counts that divide no layer's tiles evenly, on the process's own path: every layer
    /// is split into a different set of tiles and channel ranges, and the bytes must not change.
    /// </summary>
    [Theory]
    [InlineData("models/converted/mobilenet_v2_1.0_224_quant.onnx")]
    [InlineData("models/converted/mobilenet_v1_0.5_160_quant.onnx")]
    public void Results_are_identical_for_thread_counts_beyond_the_cores(string relative)
    {
        var path = SharedData.Path(relative);
        byte[]? expected = null;
        foreach (var threads in new[] { 1, 4, 5, 7 })
        {
            using var model = EdgeModel.Load(path, new EdgeModelOptions { Backend = BackendKind.Native, Threads = threads });
            var actual = model.Run(SyntheticInput(model))[0].Bytes.ToArray();
            expected ??= actual;
            Assert.True(expected.AsSpan().SequenceEqual(actual), $"{threads} threads differ from 1");
        }
    }

    /// <summary>
    /// The raw weights are not kept beside their packed copies: after a native load every initializer the kernels
    /// packed (or no step reads) is unreachable, so only the small constants read at run time (depthwise and Add
    /// biases, say) stay. Checked with weak references to the tensors the reader produced, after a full collection.
    /// </summary>
    [Theory]
    [MemberData(nameof(Models))]
    public void Packed_weights_are_not_kept_twice(string relative)
    {
        var path = SharedData.Path(relative);
        var (weights, model) = LoadWatchingInitializers(path);
        using (model)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            long total = weights.Sum(w => w.Bytes), alive = weights.Where(w => w.Tensor.IsAlive).Sum(w => w.Bytes);
            output.WriteLine($"{Path.GetFileName(path)}: {alive} of {total} initializer bytes still reachable; plan reports {model.Plan!.ConstantBytes} weight bytes held");
            Assert.True(alive < total / 20, $"{alive} of {total} initializer bytes are still reachable after the load");
            Assert.NotEmpty(model.Plan.ReleasedConstants);
            foreach (var name in model.Plan.ReleasedConstants)
            {
                Assert.False(model.Plan.Constants.ContainsKey(name));
                Assert.False(model.Graph.Initializers.ContainsKey(name));
                Assert.True(model.Plan.ValueInfos.ContainsKey(name)); // inspect still counts its parameters
            }
            var input = SyntheticInput(model);
            model.Run(input); // runs without them
        }
    }

    private static (List<(WeakReference Tensor, long Bytes)> Weights, EdgeModel Model) LoadWatchingInitializers(string path)
    {
        var graph = EdgeRuntime.Onnx.OnnxModelReader.ReadFile(path, new EdgeRuntime.Onnx.ModelLoadLimits());
        var weights = graph.Initializers.Values.Select(t => (new WeakReference(t), (long)t.ByteLength)).ToList();
        var model = EdgeModel.Create(graph, () => File.ReadAllBytes(path), new EdgeModelOptions { Backend = BackendKind.Native, Threads = 2 });
        return (weights, model);
    }
}
