using EdgeRuntime.Graph;
using EdgeRuntime.Onnx;
using EdgeRuntime.Onnx.Proto;
using EdgeRuntime.Tensors;
using EdgeRuntime.Tests.Infrastructure;
using Xunit;

namespace EdgeRuntime.Tests.Loading;

/// <summary>The reader on the real models in ../shared/models.</summary>
public class RealModelLoadingTests
{
    internal const string Mnist = "models/winml/mnist.onnx";
    internal const string SqueezeNetFp16 = "models/winml/SqueezeNet_fp16.onnx";
    internal const string MobileNetQuant = "models/converted/mobilenet_v1_0.25_128_quant.onnx";

    [Fact]
    public void Mnist_ReadsOpset7GraphWithDeclaredBoundary()
    {
        var path = SharedData.Path(Mnist);
        var g = OnnxModelReader.ReadFile(path);

        Assert.Equal(path, g.SourcePath);
        Assert.Equal(3, g.IrVersion);
        Assert.Equal(7, g.DefaultOpset);
        Assert.Equal("CNTK", g.ProducerName);
        var input = Assert.Single(g.Inputs); // IR 3: the initializers listed among the inputs are dropped
        Assert.Equal("Input3", input.Name);
        Assert.Equal(TensorElementType.Float32, input.ElementType);
        Assert.Equal([1, 1, 28, 28], input.Shape);
        var output = Assert.Single(g.Outputs);
        Assert.Equal("Plus214_Output_0", output.Name);
        Assert.Equal([1, 10], output.Shape);
        Assert.Equal(12, g.Nodes.Count);
        Assert.Equal(8, g.Initializers.Count);
        Assert.Equal(2, g.Nodes.Count(n => n.OpType == "Conv"));
        Assert.Equal([16, 4, 4, 10], g.Initializers["Parameter193"].Shape);
        Assert.NotEmpty(g.Metadata);

        var order = GraphTopology.Sort(g);
        Assert.Equal(g.Nodes, order); // already topologically ordered in the file: stable sort keeps it
    }

    [Fact]
    public void SqueezeNetFp16_WidensFloat16InitializersButKeepsDeclaredFloat16Boundary()
    {
        var path = SharedData.Path(SqueezeNetFp16);
        var g = OnnxModelReader.ReadFile(path);

        Assert.Equal(7, g.DefaultOpset);
        var input = Assert.Single(g.Inputs);
        Assert.Equal("data_0", input.Name);
        Assert.Equal(TensorElementType.Float16, input.ElementType);
        Assert.Equal(TensorElementType.Float32, input.ComputeType);
        Assert.Equal([1, 3, 224, 224], input.Shape);
        var output = Assert.Single(g.Outputs);
        Assert.Equal("softmaxout_1", output.Name);
        Assert.Equal(TensorElementType.Float16, output.ElementType);
        Assert.Equal([1, 1000, 1, 1], output.Shape);
        Assert.Equal(66, g.Nodes.Count);
        Assert.Equal(26, g.Nodes.Count(n => n.OpType == "Conv"));
        Assert.Equal(52, g.Initializers.Count);
        Assert.All(g.Initializers.Values, t => Assert.Equal(TensorElementType.Float32, t.ElementType));

        // Every widened value equals the file's float16 value exactly.
        var proto = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        foreach (var init in proto.Graph.Initializer)
        {
            Assert.Equal((int)TensorElementType.Float16, init.DataType);
            var raw = init.RawData.Span;
            var widened = g.Initializers[init.Name].AsSpan<float>();
            Assert.Equal(raw.Length / 2, widened.Length);
            for (int i = 0; i < widened.Length; i++)
                Assert.Equal((float)BitConverter.UInt16BitsToHalf((ushort)(raw[2 * i] | raw[2 * i + 1] << 8)), widened[i]);
        }
        Assert.Equal(66, GraphTopology.Sort(g).Count);
    }

    [Fact]
    public void MobileNetQuant_ReadsOpset13QuantizedGraph()
    {
        var g = OnnxModelReader.ReadFile(SharedData.Path(MobileNetQuant));

        Assert.Equal(13, g.DefaultOpset);
        var input = Assert.Single(g.Inputs);
        Assert.Equal("input", input.Name);
        Assert.Equal(TensorElementType.UInt8, input.ElementType);
        Assert.Equal([1, 128, 128, 3], input.Shape);
        var output = Assert.Single(g.Outputs);
        Assert.Equal("t88", output.Name);
        Assert.Equal(TensorElementType.UInt8, output.ElementType);
        Assert.Equal([1, 1001], output.Shape);
        Assert.Equal(64, g.Nodes.Count);
        Assert.Equal(28, g.Nodes.Count(n => n.OpType == "QLinearConv"));
        Assert.Equal(233, g.Initializers.Count);
        Assert.Contains(g.Initializers.Values, t => t.ElementType == TensorElementType.UInt8);
        Assert.Contains(g.Initializers.Values, t => t.ElementType == TensorElementType.Int32);

        var order = GraphTopology.Sort(g);
        Assert.Equal(64, order.Count);
        AssertTopological(g, order);
    }

    /// <summary>Checks that every node input is available before the node (graph input, initializer or earlier output).</summary>
    internal static void AssertTopological(ModelGraph g, List<Node> order)
    {
        var available = new HashSet<string>(g.Initializers.Keys.Concat(g.Inputs.Select(i => i.Name))) { "" };
        foreach (var node in order)
        {
            foreach (var input in node.Inputs)
                Assert.True(available.Contains(input), $"{node} reads '{input}' before it is produced");
            foreach (var o in node.Outputs) available.Add(o);
        }
    }
}
