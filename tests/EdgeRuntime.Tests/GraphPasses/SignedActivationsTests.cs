using EdgeRuntime.Execution;
using EdgeRuntime.Graph;
using EdgeRuntime.Graph.Passes;
using EdgeRuntime.Onnx;
using EdgeRuntime.Tensors;
using EdgeRuntime.Tests.Infrastructure;
using Xunit;

namespace EdgeRuntime.Tests.GraphPasses;

/// <summary>
/// <see cref="SignedActivations"/> must not change a single output byte: the real uint8 MobileNets run natively with
/// and without the pass on random inputs must agree exactly, on every ISA path available here; and the declared
/// graph inputs/outputs keep their types.
/// </summary>
public sealed class SignedActivationsTests
{
    public static TheoryData<string> Models => new()
    {
        "models/converted/mobilenet_v1_0.25_128_quant.onnx",
        "models/converted/mobilenet_v2_1.0_224_quant.onnx",
    };

    [Theory]
    [MemberData(nameof(Models))]
    public void Outputs_are_bit_identical_with_and_without_the_pass(string relativePath)
    {
        // The reference: scalar kernels on the graph as converted (uint8 activations). Every other combination —
        // with the pass, on the fastest path (fused GEMM requantization where it exists) — must match it exactly.
        var path = SharedData.Path(relativePath);
        using var workers = new WorkerPool(2);
        var (reference, referenceGraph) = Build(path, signed: false, workers, Kernels.Common.IsaPath.Scalar);
        var input = referenceGraph.Inputs[0];
        var shape = input.Shape.Select(d => Math.Max(d, 1)).ToArray();
        var random = new Random(20261127);
        var inputs = new Tensor[2];
        var expected = new byte[inputs.Length][][];
        for (int trial = 0; trial < inputs.Length; trial++)
        {
            inputs[trial] = new Tensor(input.ElementType, shape);
            random.NextBytes(inputs[trial].Bytes);
            expected[trial] = reference.Run([inputs[trial]]).Select(t => t.Bytes.ToArray()).ToArray();
        }
        foreach (var isa in new[] { Kernels.Common.IsaPath.Scalar, Kernels.Common.CpuFeatures.Active }.Distinct())
            foreach (bool signed in new[] { true, false })
            {
                if (isa == Kernels.Common.IsaPath.Scalar && !signed) continue;
                var (backend, graph) = Build(path, signed, workers, isa);
                if (signed) Assert.True(CountInt8(graph) > CountInt8(referenceGraph), "the pass converted nothing");
                Assert.Equal(referenceGraph.Inputs.Select(i => i.ElementType), graph.Inputs.Select(i => i.ElementType));
                Assert.Equal(referenceGraph.Outputs.Select(i => i.ElementType), graph.Outputs.Select(i => i.ElementType));
                for (int trial = 0; trial < inputs.Length; trial++)
                {
                    var actual = backend.Run([inputs[trial]]).Select(t => t.Bytes.ToArray()).ToArray();
                    for (int o = 0; o < expected[trial].Length; o++)
                        Assert.True(expected[trial][o].AsSpan().SequenceEqual(actual[o]), $"{relativePath} isa {isa} signed {signed} trial {trial}: output {o} differs");
                }
            }
    }

    [Fact]
    public void Uint8_model_outputs_and_inputs_keep_their_declared_types_and_match_OnnxRuntime()
    {
        // x (uint8 input) → QLinearConv → QLinearConv (clamped) → QLinearAdd(with first) → DequantizeLinear; plus a
        // uint8 graph output from the middle.
        var random = new Random(7);
        var w1 = new byte[4 * 3]; random.NextBytes(w1);
        var w2 = new byte[4 * 4]; random.NextBytes(w2);
        var bytes = new OnnxModelBuilder(13, msOpset: 1)
            .Input("x", TensorElementType.UInt8, 1, 3, 5, 5)
            .Initializer("xs", Tensor.FromFloats([], [0.05f])).Initializer("xz", Tensor.FromArray<byte>(TensorElementType.UInt8, [], [(byte)120]))
            .Initializer("w1", Tensor.FromArray<byte>(TensorElementType.UInt8, [4, 3, 1, 1], w1)).Initializer("w1s", Tensor.FromFloats([], [0.01f])).Initializer("w1z", Tensor.FromArray<byte>(TensorElementType.UInt8, [], [(byte)131]))
            .Initializer("w2", Tensor.FromArray<byte>(TensorElementType.UInt8, [4, 4, 1, 1], w2)).Initializer("w2s", Tensor.FromFloats([], [0.02f])).Initializer("w2z", Tensor.FromArray<byte>(TensorElementType.UInt8, [], [(byte)128]))
            .Initializer("ys", Tensor.FromFloats([], [0.08f])).Initializer("yz", Tensor.FromArray<byte>(TensorElementType.UInt8, [], [(byte)100]))
            .Initializer("zs", Tensor.FromFloats([], [0.1f])).Initializer("zz", Tensor.FromArray<byte>(TensorElementType.UInt8, [], [(byte)0]))
            .Node("QLinearConv", ["x", "xs", "xz", "w1", "w1s", "w1z", "ys", "yz"], ["y1"])
            .Node("QLinearConv", ["y1", "ys", "yz", "w2", "w2s", "w2z", "zs", "zz"], ["y2"])
            .Node("QLinearConv", ["y1", "ys", "yz", "w2", "w2s", "w2z", "ys", "yz"], ["y3"])
            .Node("QLinearAdd", ["y1", "ys", "yz", "y3", "ys", "yz", "zs", "zz"], ["sum"], domain: "com.microsoft")
            .Node("DequantizeLinear", ["sum", "zs", "zz"], ["f"])
            .Output("f", TensorElementType.Float32)
            .Output("y2", TensorElementType.UInt8)
            .Build();
        using var model = EdgeModel.Load(bytes, "signed.onnx", new EdgeModelOptions { Backend = BackendKind.Native, Threads = 1 });
        Assert.Equal(TensorElementType.UInt8, model.Inputs[0].ElementType);
        var x = new Tensor(TensorElementType.UInt8, [1, 3, 5, 5]);
        random.NextBytes(x.Bytes);
        var native = model.Run(x);
        var ort = OrtRunner.Run(bytes, new Dictionary<string, Tensor> { ["x"] = x });
        Assert.Equal(TensorElementType.UInt8, native[1].ElementType);
        var e0 = ort["f"].ToArray<float>(); var a0 = native[0].ToArray<float>();
        for (int i = 0; i < e0.Length; i++) Assert.True(Math.Abs(e0[i] - a0[i]) <= 0.1f + 1e-5f, $"f[{i}]: ORT {e0[i]}, native {a0[i]}");
        var e1 = ort["y2"].ToArray<byte>(); var a1 = native[1].ToArray<byte>();
        for (int i = 0; i < e1.Length; i++) Assert.True(Math.Abs(e1[i] - a1[i]) <= 1, $"y2[{i}]: ORT {e1[i]}, native {a1[i]}");
        // y1 and y3 (and the add) are internal: converted. y2 is a graph output: kept uint8.
        Assert.Contains(model.Graph.Initializers, kv => kv.Key.StartsWith("yz__edge_int8", StringComparison.Ordinal));
    }

    private static int CountInt8(ModelGraph g) => g.Initializers.Values.Count(t => t.ElementType == TensorElementType.Int8);

    private static (NativeBackend Backend, ModelGraph Graph) Build(string path, bool signed, WorkerPool workers, Kernels.Common.IsaPath isa)
    {
        var graph = OnnxModelReader.ReadFile(path);
        GraphTopology.Sort(graph);
        IdentityElimination.Run(graph);
        QdqFusion.Fuse(graph);
        if (signed) SignedActivations.Run(graph);
        var order = GraphTopology.Sort(graph);
        var plan = GraphPlanner.Build(graph, order, workers, isa);
        return (new NativeBackend(plan, workers, isa), graph);
    }
}
