using EdgeRuntime.Execution;
using EdgeRuntime.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace EdgeRuntime.Tests.Session;

/// <summary>
/// The kernels of one plan share one scratch buffer per thread, as long as the longest any of them needs, instead of
/// each holding its own (results at any thread count are checked by the existing thread tests).
/// </summary>
public sealed class SharedScratchTests(ITestOutputHelper output)
{
    [Fact]
    public void Reserve_grows_every_threads_buffer_to_the_longest_and_For_allocates_nothing()
    {
        var scratch = new SharedScratch(3);
        Assert.Equal(0, scratch.Length);
        scratch.Reserve(100);
        scratch.Reserve(40);
        Assert.Equal(100, scratch.Length);
        var buffers = Enumerable.Range(0, 3).Select(scratch.For).ToArray();
        Assert.All(buffers, b => Assert.Equal(100, b.Length));
        Assert.Equal(3, buffers.Distinct().Count()); // one per thread, never shared between threads
        long allocated = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++) _ = scratch.For(i % 3);
        Assert.Equal(allocated, GC.GetAllocatedBytesForCurrentThread());
        Assert.Throws<ArgumentOutOfRangeException>(() => new SharedScratch(0));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void MobileNetV2s_convolutions_share_the_plans_scratch(int threads)
    {
        using var model = EdgeModel.Load(SharedData.Path("models/converted/mobilenet_v2_1.0_224_quant.onnx"), new EdgeModelOptions { Threads = threads, Backend = BackendKind.Native });
        var plan = model.Plan!;
        var shared = plan.Workers!.Scratch;
        var users = plan.Steps.Select(s => s.Kernel).OfType<IUsesSharedScratch>().ToList();
        Assert.Equal(plan.Steps.Count(s => s.Node.OpType == "QLinearConv"), users.Count); // all 53 convolutions, the classifier too
        Assert.All(users, k => Assert.Same(shared, k.Scratch));
        int longest = users.Max(k => k.ScratchInts);
        long sum = users.Sum(k => (long)k.ScratchInts);
        Assert.Equal(longest, shared.Length);
        output.WriteLine($"{threads} thread(s): {users.Count} kernels reserve {sum * 4 / 1e6:F2} MB per thread in all, share {longest * 4 / 1e6:F3} MB per thread");
        Assert.True(sum > 4 * longest, $"sum {sum} ints, longest {longest}");
    }
}
