using Xunit;
using EdgeRuntime.Execution.Ops;
using EdgeRuntime.Graph;
using EdgeRuntime.Onnx.Proto;
using EdgeRuntime.Tensors;
using EdgeRuntime.Tests.Infrastructure;

namespace EdgeRuntime.Tests.Ops.Quantized;

/// <summary>One input of a single-op test model: a graph input (runtime) or an initializer (constant); null = omitted.</summary>
internal sealed record OpInput(Tensor? Value, bool Constant);

/// <summary>Builds single-op models, runs them on ORT and on the native op, and compares 8-bit outputs.</summary>
internal static class QuantizedTestSupport
{
    public static Tensor U8(int[] shape, params int[] values) => Tensor.FromArray(TensorElementType.UInt8, shape, values.Select(v => (byte)v).ToArray());
    public static Tensor I8(int[] shape, params int[] values) => Tensor.FromArray(TensorElementType.Int8, shape, values.Select(v => (sbyte)v).ToArray());
    public static Tensor Scalar(float v) => Tensor.FromFloats([], [v]);
    public static Tensor ZeroPoint(bool signed, int v) => signed ? I8([], v) : U8([], v);

    public static Tensor Random8(Random rng, bool signed, int[] shape, int lo = -1000, int hi = 1000)
    {
        int min = signed ? -128 : 0, max = signed ? 127 : 255;
        lo = Math.Max(lo, min); hi = Math.Min(hi, max);
        var values = new int[TensorShape.ElementCount(shape)];
        for (int i = 0; i < values.Length; i++) values[i] = rng.Next(lo, hi + 1);
        return signed ? I8(shape, values) : U8(shape, values);
    }

    public static int[] ToInts(Tensor t) => t.ElementType switch
    {
        TensorElementType.Int8 => t.AsSpan<sbyte>().ToArray().Select(v => (int)v).ToArray(),
        TensorElementType.UInt8 => t.AsSpan<byte>().ToArray().Select(v => (int)v).ToArray(),
        TensorElementType.Int32 => t.AsSpan<int>().ToArray(),
        _ => throw new ArgumentException(t.ElementType.ToString()),
    };

    /// <summary>Attribute values: long, float, string, long[], float[].</summary>
    public static (string Name, object Value)[] Attrs(params (string, object)[] a) => a;

    /// <summary>Runs the op on ORT and natively; returns (ort, native) outputs.</summary>
    public static (Tensor Ort, Tensor Native) RunBoth(string opType, string domain, int opset, OpInput?[] inputs, (string Name, object Value)[] attributes, TensorElementType outputType)
    {
        var b = new OnnxModelBuilder(domain.Length == 0 ? opset : 13, domain.Length == 0 ? 0 : opset);
        var names = new string[inputs.Length];
        var ortInputs = new Dictionary<string, Tensor>();
        for (int i = 0; i < inputs.Length; i++)
        {
            var inp = inputs[i];
            if (inp?.Value == null) { names[i] = ""; continue; }
            names[i] = "in" + i;
            if (inp.Constant) b.Initializer(names[i], inp.Value);
            else { b.Input(names[i], inp.Value.ElementType, inp.Value.Shape); ortInputs[names[i]] = inp.Value; }
        }
        b.Node(opType, names, ["y"], s =>
        {
            foreach (var (n, v) in attributes)
            {
                switch (v)
                {
                    case long l: s.Int(n, l); break;
                    case int i: s.Int(n, i); break;
                    case float f: s.Float(n, f); break;
                    case string str: s.String(n, str); break;
                    case long[] ls: s.Ints(n, ls); break;
                    case float[] fs: s.Floats(n, fs); break;
                    default: throw new ArgumentException(n);
                }
            }
        }, domain);
        b.Output("y", outputType);
        var ort = OrtRunner.Run(b.Build(), ortInputs)["y"];
        var native = RunNative(opType, domain, opset, inputs, attributes);
        return (ort, native);
    }

    public static Tensor RunNative(string opType, string domain, int opset, OpInput?[] inputs, (string Name, object Value)[] attributes)
    {
        var node = OpHarness.MakeNode(opType, inputs.Length, 1, domain, attributes.Select(ToNodeAttribute).ToArray());
        var tensors = inputs.Select(i => i?.Value).ToArray();
        var consts = Enumerable.Range(0, inputs.Length).Where(i => inputs[i]?.Constant == true).ToArray();
        for (int i = 0; i < inputs.Length; i++) if (inputs[i]?.Value == null) node.Inputs[i] = "";
        return OpHarness.Run(node, tensors, consts, opset)[0]!;
    }

    public static NodeAttribute ToNodeAttribute((string Name, object Value) a) => a.Value switch
    {
        long l => OpHarness.Int(a.Name, l),
        int i => OpHarness.Int(a.Name, i),
        float f => OpHarness.Float(a.Name, f),
        string s => OpHarness.Str(a.Name, s),
        long[] ls => OpHarness.Ints(a.Name, ls),
        float[] fs => OpHarness.Floats(a.Name, fs),
        _ => throw new ArgumentException(a.Name),
    };

    /// <summary>Asserts same shape/type and every element within <paramref name="tolerance"/> LSB; returns the exact-match count.</summary>
    public static int AssertClose(Tensor ort, Tensor native, string context, int tolerance = 1)
    {
        Assert.True(ort.ElementType == native.ElementType, $"{context}: type {native.ElementType} vs ORT {ort.ElementType}");
        Assert.True(ort.Shape.SequenceEqual(native.Shape), $"{context}: shape {TensorShape.Format(native.Shape)} vs ORT {TensorShape.Format(ort.Shape)}");
        var a = ToInts(ort);
        var b = ToInts(native);
        int exact = 0;
        for (int i = 0; i < a.Length; i++)
        {
            int diff = Math.Abs(a[i] - b[i]);
            if (diff > tolerance) Assert.Fail($"{context}: element {i} native {b[i]} vs ORT {a[i]}");
            if (diff == 0) exact++;
        }
        return exact;
    }

    /// <summary>Minimal ONNX → <see cref="ModelGraph"/> conversion for fusion tests (raw_data initializers, no subgraphs).</summary>
    public static ModelGraph ToGraph(ModelProto model)
    {
        var g = new ModelGraph { IrVersion = model.IrVersion };
        foreach (var o in model.OpsetImport) g.Opsets[o.Domain == "ai.onnx" ? "" : o.Domain] = (int)o.Version;
        foreach (var init in model.Graph.Initializer) g.Initializers[init.Name] = FromProto(init);
        foreach (var i in model.Graph.Input)
            if (!g.Initializers.ContainsKey(i.Name)) g.Inputs.Add(ToValueInfo(i));
        foreach (var o in model.Graph.Output) g.Outputs.Add(ToValueInfo(o));
        int index = 0;
        foreach (var n in model.Graph.Node)
        {
            if (n.OpType == "Constant" && n.Domain.Length == 0)
            {
                g.Initializers[n.Output[0]] = FromProto(n.Attribute.First(a => a.Name == "value").T);
                continue;
            }
            var node = new Node { Name = n.Name.Length > 0 ? n.Name : $"{n.OpType}_{index}", OpType = n.OpType, Domain = n.Domain == "ai.onnx" ? "" : n.Domain, Inputs = n.Input.ToArray(), Outputs = n.Output.ToArray() };
            foreach (var a in n.Attribute)
            {
                node.Attributes[a.Name] = a.Type switch
                {
                    AttributeProto.Types.AttributeType.Int => OpHarness.Int(a.Name, a.I),
                    AttributeProto.Types.AttributeType.Float => OpHarness.Float(a.Name, a.F),
                    AttributeProto.Types.AttributeType.String => OpHarness.Str(a.Name, a.S.ToStringUtf8()),
                    AttributeProto.Types.AttributeType.Ints => OpHarness.Ints(a.Name, a.Ints.ToArray()),
                    AttributeProto.Types.AttributeType.Floats => OpHarness.Floats(a.Name, a.Floats.ToArray()),
                    _ => new NodeAttribute { Name = a.Name, Kind = AttributeKind.Other },
                };
            }
            g.Nodes.Add(node);
            index++;
        }
        return g;
    }

    private static ValueInfo ToValueInfo(ValueInfoProto v)
    {
        var tt = v.Type.TensorType;
        var dims = tt.Shape?.Dim.Select(d => d.HasDimValue ? (int)d.DimValue : -1).ToArray() ?? [];
        return new ValueInfo(v.Name, (TensorElementType)tt.ElemType, dims, new string?[dims.Length]);
    }

    private static Tensor FromProto(TensorProto p)
    {
        var type = (TensorElementType)p.DataType;
        var shape = p.Dims.Select(d => (int)d).ToArray();
        var t = new Tensor(type, shape);
        if (p.RawData.Length > 0) p.RawData.Span.CopyTo(t.Bytes);
        else if (type == TensorElementType.Float32) p.FloatData.ToArray().CopyTo(t.AsSpan<float>());
        else if (type == TensorElementType.Int64) p.Int64Data.ToArray().CopyTo(t.AsSpan<long>());
        else if (type is TensorElementType.Int32) p.Int32Data.ToArray().CopyTo(t.AsSpan<int>());
        else if (type is TensorElementType.UInt8) { var s = t.AsSpan<byte>(); for (int i = 0; i < s.Length; i++) s[i] = (byte)p.Int32Data[i]; }
        else if (type is TensorElementType.Int8) { var s = t.AsSpan<sbyte>(); for (int i = 0; i < s.Length; i++) s[i] = (sbyte)p.Int32Data[i]; }
        return t;
    }

    /// <summary>Runs one node on ORT (for ops other helpers implement natively, e.g. MaxPool on uint8).</summary>
    private static Tensor?[] RunNodeOnOrt(Node node, Tensor?[] inputs, ModelGraph g)
    {
        var b = new OnnxModelBuilder(g.DefaultOpset, g.OpsetFor("com.microsoft"));
        var feeds = new Dictionary<string, Tensor>();
        for (int i = 0; i < inputs.Length; i++)
            if (inputs[i] is { } t) { b.Input(node.Inputs[i], t.ElementType, t.Shape); feeds[node.Inputs[i]] = t; }
        b.Node(node.OpType, node.Inputs, node.Outputs, s =>
        {
            foreach (var a in node.Attributes.Values)
            {
                switch (a.Kind)
                {
                    case AttributeKind.Int: s.Int(a.Name, a.Int); break;
                    case AttributeKind.Float: s.Float(a.Name, a.Float); break;
                    case AttributeKind.String: s.String(a.Name, a.String); break;
                    case AttributeKind.Ints: s.Ints(a.Name, a.Ints); break;
                    case AttributeKind.Floats: s.Floats(a.Name, a.Floats); break;
                }
            }
        }, node.Domain);
        foreach (var o in node.Outputs) b.Output(o, inputs[0]!.ElementType);
        var result = OrtRunner.Run(b.Build(), feeds);
        return node.Outputs.Select(o => (Tensor?)result[o]).ToArray();
    }

    /// <summary>Runs a graph node by node (file order) with the native ops; initializers are constants.</summary>
    public static Dictionary<string, Tensor> RunGraph(ModelGraph g, Dictionary<string, Tensor> inputs)
    {
        var values = new Dictionary<string, Tensor>(inputs);
        foreach (var (k, v) in g.Initializers) values[k] = v;
        foreach (var node in g.Nodes)
        {
            var tensors = node.Inputs.Select(n => n.Length == 0 ? null : values[n]).ToArray();
            var consts = Enumerable.Range(0, node.Inputs.Length).Where(i => node.Inputs[i].Length > 0 && g.Initializers.ContainsKey(node.Inputs[i])).ToArray();
            var outs = OpRegistry.Instance.Find(node.Domain, node.OpType) != null
                ? OpHarness.Run(node, tensors, consts, g.OpsetFor(node.Domain))
                : RunNodeOnOrt(node, tensors, g);
            for (int i = 0; i < outs.Length; i++) if (outs[i] != null) values[node.Outputs[i]] = outs[i]!;
        }
        return values;
    }
}
