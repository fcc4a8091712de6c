using EdgeRuntime.Execution;
using EdgeRuntime.Tensors;
using EdgeRuntime.Tests.Infrastructure;
using Xunit;

namespace EdgeRuntime.Tests.GraphPasses;

public sealed class IdentityEliminationTests
{
    [Fact]
    public void Identity_and_Dropout_chains_are_removed_but_graph_outputs_keep_their_names()
    {
        var bytes = new OnnxModelBuilder(13)
            .Input("x", TensorElementType.Float32, 1, 4)
            .Node("Identity", ["x"], ["i1"])
            .Node("Identity", ["i1"], ["i2"])
            .Node("Relu", ["i2"], ["r"])
            .Node("Dropout", ["r"], ["d"])
            .Node("Sigmoid", ["d"], ["s"])
            .Node("Identity", ["s"], ["y"])
            .Output("y", TensorElementType.Float32)
            .Output("r", TensorElementType.Float32)
            .Build();
        using var model = EdgeModel.Load(bytes, "ids.onnx", new EdgeModelOptions { Backend = BackendKind.Native });
        Assert.Equal(["Relu", "Sigmoid", "Identity"], model.Plan!.Steps.Select(s => s.Node.OpType).ToArray());

        var x = Tensor.FromFloats([1, 4], [-2f, -0.5f, 0.5f, 3f]);
        var native = model.Run(x);
        var ort = OrtRunner.Run(bytes, new Dictionary<string, Tensor> { ["x"] = x });
        var expected = ort["y"].ToArray<float>();
        var actual = native[0].ToArray<float>();
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 1e-6f);
        Assert.Equal(ort["r"].ToArray<float>(), native[1].ToArray<float>());
    }
}
