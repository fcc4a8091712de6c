using EdgeRuntime.Execution;
using EdgeRuntime.Onnx;
using EdgeRuntime.Tensors;
using EdgeRuntime.Tests.Infrastructure;
using Xunit;

namespace EdgeRuntime.Tests.Session;

/// <summary>The session API: backend choice and fallback, input validation, constant folding and the memory plan.</summary>
public sealed class EdgeModelTests
{
    private static Tensor Random(int[] shape, int seed)
    {
        var rng = new Random(seed);
        var data = new float[TensorShape.ElementCount(shape)];
        for (int i = 0; i < data.Length; i++) data[i] = (float)(rng.NextDouble() * 4 - 2);
        return Tensor.FromFloats(shape, data);
    }

    private static byte[] UnsupportedOpsModel() => new OnnxModelBuilder(13)
        .Input("x", TensorElementType.Float32, 1, 8)
        .Node("Relu", ["x"], ["a"])
        .Node("Erf", ["a"], ["b"], name: "erf_node")
        .Node("Sin", ["b"], ["c"], name: "sin_node")
        .Node("Erf", ["c"], ["y"], name: "erf_node2")
        .Output("y", TensorElementType.Float32, [1, 8])
        .Build();

    [Fact]
    public void Native_refuses_unsupported_ops_listing_all_of_them_at_once()
    {
        var ex = Assert.Throws<ModelFormatException>(() => EdgeModel.Load(UnsupportedOpsModel(), "unsupported.onnx", new EdgeModelOptions { Backend = BackendKind.Native }));
        Assert.Contains("unsupported.onnx", ex.Message);
        Assert.Contains("Erf (2 nodes: erf_node, erf_node2)", ex.Message);
        Assert.Contains("Sin (1 node: sin_node)", ex.Message);
    }

    [Fact]
    public void Auto_falls_back_to_OnnxRuntime_and_says_which_nodes_forced_it()
    {
        var log = new List<string>();
        using var model = EdgeModel.Load(UnsupportedOpsModel(), "unsupported.onnx", new EdgeModelOptions { Backend = BackendKind.Auto, Log = log.Add });
        Assert.Equal(BackendKind.Ort, model.Backend);
        Assert.Equal(3, model.UnsupportedNodes.Count);
        Assert.Contains(log, l => l.Contains("Erf") && l.Contains("Sin"));
        var x = Random([1, 8], 1);
        var y = model.Run(x)[0].ToArray<float>();
        var xs = x.ToArray<float>();
        for (int i = 0; i < 8; i++)
        {
            var expected = Erf(MathF.Sin(Erf(Math.Max(0, xs[i]))));
            Assert.InRange(y[i], expected - 1e-4f, expected + 1e-4f);
        }
    }

    private static float Erf(float x)
    {
        // Abramowitz-Stegun 7.1.26 is only 1e-7 accurate; integrate numerically instead (Simpson, 2000 steps).
        double sum = 0, h = x / 2000.0;
        for (int i = 0; i <= 2000; i++)
        {
            double t = i * h, w = i == 0 || i == 2000 ? 1 : i % 2 == 1 ? 4 : 2;
            sum += w * Math.Exp(-t * t);
        }
        return (float)(sum * h / 3 * 2 / Math.Sqrt(Math.PI));
    }

    [Fact]
    public void Auto_runs_natively_when_every_node_is_supported()
    {
        var bytes = new OnnxModelBuilder(13).Input("x", TensorElementType.Float32, 1, 8).Node("Relu", ["x"], ["y"]).Output("y", TensorElementType.Float32).Build();
        using var model = EdgeModel.Load(bytes, "relu.onnx");
        Assert.Equal(BackendKind.Native, model.Backend);
        Assert.Empty(model.UnsupportedNodes);
    }

    [Fact]
    public void Wrong_inputs_are_InvalidInputException_naming_the_input()
    {
        var bytes = new OnnxModelBuilder(13).Input("x", TensorElementType.Float32, 1, 8).Node("Relu", ["x"], ["y"]).Output("y", TensorElementType.Float32).Build();
        using var model = EdgeModel.Load(bytes, "relu.onnx");
        var ex = Assert.Throws<InvalidInputException>(() => model.Run(Random([1, 9], 1)));
        Assert.Contains("'x'", ex.Message);
        Assert.Contains("[1,8]", ex.Message);
        Assert.Throws<InvalidInputException>(() => model.Run(new Tensor(TensorElementType.UInt8, [1, 8])));
        Assert.Throws<InvalidInputException>(() => model.Run());
    }

    [Fact]
    public void Declared_output_shape_that_disagrees_with_inference_is_a_model_error()
    {
        var bytes = new OnnxModelBuilder(13).Input("x", TensorElementType.Float32, 1, 8).Node("Relu", ["x"], ["y"], name: "r").Output("y", TensorElementType.Float32, [1, 9]).Build();
        var ex = Assert.Throws<ModelFormatException>(() => EdgeModel.Load(bytes, "bad.onnx", new EdgeModelOptions { Backend = BackendKind.Native }));
        Assert.Contains("[1,9]", ex.Message);
        Assert.Equal("r", ex.NodeName);
    }

    [Fact]
    public void Shape_arithmetic_is_folded_at_load_and_the_result_matches_OnnxRuntime()
    {
        // y = Reshape(x, Concat(Unsqueeze(Gather(Shape(x), 0)), [-1])): the exporter idiom for Flatten.
        var bytes = new OnnxModelBuilder(13)
            .Input("x", TensorElementType.Float32, 1, 3, 4, 5)
            .Initializer("zero", Tensor.FromArray(TensorElementType.Int64, [], new long[] { 0 }))
            .Initializer("axes", Tensor.FromArray(TensorElementType.Int64, [1], new long[] { 0 }))
            .Initializer("minus1", Tensor.FromArray(TensorElementType.Int64, [1], new long[] { -1 }))
            .Node("Shape", ["x"], ["s"])
            .Node("Gather", ["s", "zero"], ["n"], a => a.Int("axis", 0))
            .Node("Unsqueeze", ["n", "axes"], ["n1"])
            .Node("Concat", ["n1", "minus1"], ["target"], a => a.Int("axis", 0))
            .Node("Relu", ["x"], ["r"])
            .Node("Reshape", ["r", "target"], ["y"])
            .Output("y", TensorElementType.Float32)
            .Build();
        using var model = EdgeModel.Load(bytes, "fold.onnx", new EdgeModelOptions { Backend = BackendKind.Native });
        var plan = model.Plan!;
        Assert.Equal(4, plan.FoldedNodes);
        Assert.Equal(["Relu", "Reshape"], plan.Steps.Select(s => s.Node.OpType).ToArray());
        var x = Random([1, 3, 4, 5], 7);
        var native = model.Run(x)[0];
        var ort = OrtRunner.Run(bytes, new Dictionary<string, Tensor> { ["x"] = x })["y"];
        Assert.Equal(ort.Shape, native.Shape);
        Assert.Equal(ort.ToArray<float>(), native.ToArray<float>());
    }

    [Fact]
    public void Memory_plan_reuses_buffers_along_a_chain()
    {
        var b = new OnnxModelBuilder(13).Input("x", TensorElementType.Float32, 1, 64, 16, 16);
        var prev = "x";
        for (int i = 0; i < 10; i++) { b.Node(i % 2 == 0 ? "Relu" : "Sigmoid", [prev], ["v" + i]); prev = "v" + i; }
        b.Node("Identity", [prev], ["y"]).Output("y", TensorElementType.Float32);
        using var model = EdgeModel.Load(b.Build(), "chain.onnx", new EdgeModelOptions { Backend = BackendKind.Native });
        var plan = model.Plan!;
        long one = 64 * 16 * 16 * 4;
        Assert.Equal(2, plan.ArenaBufferCount); // ping-pong: each value dies as soon as the next is written
        Assert.Equal(2 * one, plan.ArenaBytes);
        Assert.Equal(10 * one, plan.UnplannedActivationBytes);

        var x = Random([1, 64, 16, 16], 3);
        var native = model.Run(x)[0].ToArray<float>();
        var ort = OrtRunner.Run(b.Build(), new Dictionary<string, Tensor> { ["x"] = x })["y"].ToArray<float>();
        for (int i = 0; i < native.Length; i++) Assert.InRange(native[i], ort[i] - 1e-5f, ort[i] + 1e-5f);
    }

    [Fact]
    public void Graph_output_that_is_an_initializer_or_an_input_is_returned()
    {
        var bytes = new OnnxModelBuilder(13)
            .Input("x", TensorElementType.Float32, 1, 2)
            .Initializer("c", Tensor.FromFloats([2], [3f, 4f]))
            .Node("Relu", ["x"], ["y"])
            .Output("y", TensorElementType.Float32)
            .Output("c", TensorElementType.Float32)
            .Output("x", TensorElementType.Float32)
            .Build();
        using var model = EdgeModel.Load(bytes, "passthrough.onnx", new EdgeModelOptions { Backend = BackendKind.Native });
        var outs = model.Run(Tensor.FromFloats([1, 2], [-1f, 2f]));
        Assert.Equal([0f, 2f], outs[0].ToArray<float>());
        Assert.Equal([3f, 4f], outs[1].ToArray<float>());
        Assert.Equal([-1f, 2f], outs[2].ToArray<float>());
    }

    [Fact]
    public void Symbolic_batch_runs_as_one_and_symbolic_spatial_dims_are_refused()
    {
        var ok = new OnnxModelBuilder(13).Input("x", TensorElementType.Float32, -1, 4).Node("Relu", ["x"], ["y"]).Output("y", TensorElementType.Float32).Build();
        using (var model = EdgeModel.Load(ok, "batch.onnx", new EdgeModelOptions { Backend = BackendKind.Native }))
            Assert.Equal([1, 4], model.Run(Random([1, 4], 1))[0].Shape);

        var bad = new OnnxModelBuilder(13).Input("x", TensorElementType.Float32, 1, -1).Node("Relu", ["x"], ["y"]).Output("y", TensorElementType.Float32).Build();
        var ex = Assert.Throws<ModelFormatException>(() => EdgeModel.Load(bad, "dyn.onnx", new EdgeModelOptions { Backend = BackendKind.Native }));
        Assert.Contains("symbolic", ex.Message);
    }
}
