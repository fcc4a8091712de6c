using EdgeRuntime.Execution;
using EdgeRuntime.Tensors;
using EdgeRuntime.Tests.Infrastructure;
using Xunit;

namespace EdgeRuntime.Tests.Ops.Quantized;

/// <summary>
/// DQ → activation → Q in a QDQ model is fused into one 256-entry lookup table; every possible input byte must come
/// out within 1 LSB of ONNX Runtime running the unfused float activation.
/// </summary>
public sealed class LookupTableActivationTests
{
    public static TheoryData<string, bool> Cases()
    {
        var data = new TheoryData<string, bool>();
        foreach (var op in new[] { "Tanh", "HardSigmoid", "HardSwish", "Relu", "Clip6", "ClipAttr", "Sigmoid", "LeakyRelu" })
            foreach (var signed in new[] { false, true })
                data.Add(op, signed);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Fused_table_matches_OnnxRuntime_on_every_byte(string op, bool signed)
    {
        var type = signed ? TensorElementType.Int8 : TensorElementType.UInt8;
        Tensor Zp(int v) => signed ? Tensor.FromArray(type, [], new[] { (sbyte)v }) : Tensor.FromArray(type, [], new[] { (byte)v });
        int opset = op == "ClipAttr" ? 10 : 13;
        var b = new OnnxModelBuilder(opset)
            .Input("x", type, 1, 256)
            .Initializer("xs", Tensor.FromFloats([], [0.05f])).Initializer("xz", Zp(signed ? 3 : 131))
            .Initializer("ys", Tensor.FromFloats([], [0.031f])).Initializer("yz", Zp(signed ? -20 : 100))
            .Node("DequantizeLinear", ["x", "xs", "xz"], ["xf"]);
        switch (op)
        {
            case "Clip6":
                b.Initializer("lo", Tensor.FromFloats([], [0f])).Initializer("hi", Tensor.FromFloats([], [6f]));
                b.Node("Clip", ["xf", "lo", "hi"], ["yf"]);
                break;
            case "ClipAttr":
                b.Node("Clip", ["xf"], ["yf"], a => a.Float("min", -1.5f).Float("max", 2.5f));
                break;
            case "HardSigmoid":
                b.Node("HardSigmoid", ["xf"], ["yf"], a => a.Float("alpha", 0.3f).Float("beta", 0.4f));
                break;
            case "HardSwish":
                b = new OnnxModelBuilder(14)
                    .Input("x", type, 1, 256)
                    .Initializer("xs", Tensor.FromFloats([], [0.05f])).Initializer("xz", Zp(signed ? 3 : 131))
                    .Initializer("ys", Tensor.FromFloats([], [0.031f])).Initializer("yz", Zp(signed ? -20 : 100))
                    .Node("DequantizeLinear", ["x", "xs", "xz"], ["xf"])
                    .Node("HardSwish", ["xf"], ["yf"]);
                break;
            default:
                b.Node(op, ["xf"], ["yf"]);
                break;
        }
        var bytes = b.Node("QuantizeLinear", ["yf", "ys", "yz"], ["y"]).Output("y", type).Build();

        var x = new Tensor(type, [1, 256]);
        for (int i = 0; i < 256; i++) x.Bytes[i] = (byte)i;
        using var model = EdgeModel.Load(bytes, op + ".onnx", new EdgeModelOptions { Backend = BackendKind.Native });
        Assert.Single(model.Plan!.Steps);
        Assert.StartsWith("QLinear", model.Plan.Steps[0].Node.OpType);
        var native = model.Run(x)[0].ToArray<byte>();
        var ort = OrtRunner.Run(bytes, new Dictionary<string, Tensor> { ["x"] = x })["y"].ToArray<byte>();
        int worst = 0;
        for (int i = 0; i < 256; i++)
        {
            int a = signed ? (sbyte)native[i] : native[i], e = signed ? (sbyte)ort[i] : ort[i];
            worst = Math.Max(worst, Math.Abs(a - e));
        }
        Assert.True(worst <= 1, $"{op}: worst difference {worst} LSB");
    }
}
