using EdgeRuntime.Execution;
using EdgeRuntime.Graph;
using EdgeRuntime.Graph.Passes;
using EdgeRuntime.Onnx;
using EdgeRuntime.Tests.Infrastructure;
using Xunit;

namespace EdgeRuntime.Tests.Session;

/// <summary>
/// Every intermediate tensor of a plan starts on a 64-byte line, so the kernels' line-aligned splits between threads
/// (pixel tiles of 64, ranges of 16 channel planes) never put two threads on one line.
/// </summary>
public sealed class ArenaAlignmentTests
{
    [Fact]
    public unsafe void Arena_tensors_start_on_64_byte_lines()
    {
        var graph = OnnxModelReader.ReadFile(SharedData.Path("models/converted/mobilenet_v2_1.0_224_quant.onnx"));
        GraphTopology.Sort(graph);
        IdentityElimination.Run(graph);
        QdqFusion.Fuse(graph);
        var plan = GraphPlanner.Build(graph, GraphTopology.Sort(graph));
        var graphOutputs = plan.OutputTensors.ToHashSet();
        int checkedTensors = 0;
        foreach (var step in plan.Steps)
            foreach (var tensor in step.Outputs)
            {
                if (tensor == null || graphOutputs.Contains(tensor)) continue;
                fixed (byte* start = tensor.Bytes)
                    Assert.True((nint)start % 64 == 0, $"{step.Node.Name}'s output starts {(nint)start % 64} bytes into a line");
                checkedTensors++;
            }
        Assert.True(checkedTensors > 60, $"only {checkedTensors} arena tensors");
    }
}
