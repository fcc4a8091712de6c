using System.Diagnostics;
using EdgeRuntime.Execution.Ops;
using EdgeRuntime.Graph;
using EdgeRuntime.Onnx.Proto;
using EdgeRuntime.Tensors;
using EdgeRuntime.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;
using static EdgeRuntime.Tests.Ops.Float.ConvFamilyOracle;

namespace EdgeRuntime.Tests.Ops.Float;

/// <summary>
/// The real ResNet-18 backbone (opset 8: Conv, BatchNormalization, MaxPool, AveragePool, plus Relu/Add done
/// inline here) run node by node on this branch's kernels, against ONNX Runtime on the same input.
/// Tolerance: |ours - ort| &lt;= 1e-3 * max|ort| (18 layers of float32 rounding accumulate).
/// </summary>
public sealed class ConvResNet18ChainTests(ITestOutputHelper output)
{
    [Fact]
    public void RealResNet18MatchesOnnxRuntime()
    {
        var path = SharedData.ResNet18Model();
        var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        var graph = model.Graph;
        var values = new Dictionary<string, Tensor>();
        var constants = new HashSet<string>();
        foreach (var init in graph.Initializer)
        {
            values[init.Name] = ToTensor(init);
            constants.Add(init.Name);
        }
        var inputInfo = graph.Input.First(i => !constants.Contains(i.Name));
        var inputShape = inputInfo.Type.TensorType.Shape.Dim.Select(d => d.DimValue > 0 ? (int)d.DimValue : 1).ToArray();
        var input = RandomFloats(new Random(18), inputShape);
        values[inputInfo.Name] = input;
        int opset = (int)model.OpsetImport.First(o => o.Domain == "").Version;

        var sw = Stopwatch.StartNew();
        foreach (var np in graph.Node)
        {
            var inputs = np.Input.Select(n => n.Length == 0 ? null : values[n]).ToArray();
            switch (np.OpType)
            {
                case "Relu":
                {
                    var y = inputs[0]!.Clone();
                    var s = y.AsSpan<float>();
                    for (int i = 0; i < s.Length; i++) s[i] = Math.Max(s[i], 0f);
                    values[np.Output[0]] = y;
                    break;
                }
                case "Add":
                {
                    Assert.Equal(inputs[0]!.Shape, inputs[1]!.Shape);
                    var y = inputs[0]!.Clone();
                    var s = y.AsSpan<float>();
                    var b = inputs[1]!.AsSpan<float>();
                    for (int i = 0; i < s.Length; i++) s[i] += b[i];
                    values[np.Output[0]] = y;
                    break;
                }
                default:
                {
                    var node = new Node { Name = np.Name, OpType = np.OpType, Inputs = np.Input.ToArray(), Outputs = np.Output.ToArray() };
                    foreach (var a in np.Attribute) node.Attributes[a.Name] = ToAttribute(a);
                    var constantIndices = np.Input.Select((n, i) => constants.Contains(n) ? i : -1).Where(i => i >= 0).ToArray();
                    var outputs = OpHarness.Run(node, inputs, constantIndices, opset);
                    values[np.Output[0]] = outputs[0]!;
                    break;
                }
            }
        }
        output.WriteLine($"EdgeRuntime ResNet-18 (node by node, incl. binding): {sw.ElapsedMilliseconds} ms");
        var outputName = graph.Output[0].Name;
        var expected = OrtRunner.Run(path, new Dictionary<string, Tensor> { [inputInfo.Name] = input })[outputName];
        var actual = values[outputName];
        Assert.Equal(expected.Shape, actual.Shape);
        var e = expected.ToArray<float>();
        var a2 = actual.ToArray<float>();
        double scale = e.Max(v => Math.Abs(v));
        double worst = e.Zip(a2, (x, y) => Math.Abs(x - y)).Max();
        output.WriteLine($"max |ours - ort| = {worst:G3}, max |ort| = {scale:G3}");
        Assert.True(worst <= 1e-3 * scale, $"max |ours - ort| = {worst} exceeds 1e-3 * {scale}");
    }

    private static Tensor ToTensor(TensorProto p)
    {
        Assert.Equal(1, p.DataType);
        var shape = p.Dims.Select(d => (int)d).ToArray();
        return p.RawData.Length > 0
            ? Tensor.FromArray(TensorElementType.Float32, shape, System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(p.RawData.Span))
            : Tensor.FromFloats(shape, p.FloatData.ToArray());
    }

    private static NodeAttribute ToAttribute(AttributeProto a) => a.Type switch
    {
        AttributeProto.Types.AttributeType.Int => OpHarness.Int(a.Name, a.I),
        AttributeProto.Types.AttributeType.Float => OpHarness.Float(a.Name, a.F),
        AttributeProto.Types.AttributeType.String => OpHarness.Str(a.Name, a.S.ToStringUtf8()),
        AttributeProto.Types.AttributeType.Ints => OpHarness.Ints(a.Name, a.Ints.ToArray()),
        AttributeProto.Types.AttributeType.Floats => OpHarness.Floats(a.Name, a.Floats.ToArray()),
        _ => new NodeAttribute { Name = a.Name, Kind = AttributeKind.Other },
    };
}
