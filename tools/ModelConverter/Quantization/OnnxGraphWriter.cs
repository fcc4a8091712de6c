using EdgeRuntime.Graph;
using EdgeRuntime.Onnx;
using EdgeRuntime.Onnx.Proto;
using EdgeRuntime.Tensors;
using Google.Protobuf;

namespace ModelConverter.Quantization;

/// <summary>
/// Serializes a <see cref="ModelGraph"/> back to ONNX. Initializers are written in <c>raw_data</c> form in name order
/// (so the bytes depend only on the graph, never on dictionary order); nodes keep their list order; attributes are
/// written in name order. Intermediate <c>value_info</c> is not written (ONNX Runtime re-infers it).
/// </summary>
internal static class OnnxGraphWriter
{
    public static ModelProto ToProto(ModelGraph graph)
    {
        var model = new ModelProto
        {
            IrVersion = graph.IrVersion,
            ProducerName = "modelconv",
            ProducerVersion = "1",
            Graph = new GraphProto { Name = "main" },
        };
        foreach (var (domain, version) in graph.Opsets.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            model.OpsetImport.Add(new OperatorSetIdProto { Domain = domain, Version = version });
        foreach (var (key, value) in graph.Metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        var g = model.Graph;
        foreach (var i in graph.Inputs) g.Input.Add(ValueInfo(i));
        foreach (var o in graph.Outputs) g.Output.Add(ValueInfo(o));
        foreach (var (name, tensor) in graph.Initializers.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            g.Initializer.Add(TensorToProto(name, tensor));
        foreach (var node in graph.Nodes) g.Node.Add(NodeToProto(node));
        return model;
    }

    public static byte[] ToBytes(ModelGraph graph) => ToProto(graph).ToByteArray();

    public static ValueInfoProto ValueInfo(ValueInfo v)
    {
        var tt = new TypeProto.Types.Tensor { ElemType = (int)v.ElementType };
        if (v.HasShape)
        {
            tt.Shape = new TensorShapeProto();
            for (int d = 0; d < v.Shape.Length; d++)
            {
                var param = v.DimParams.Length > d ? v.DimParams[d] : null;
                tt.Shape.Dim.Add(v.Shape[d] >= 0 ? new TensorShapeProto.Types.Dimension { DimValue = v.Shape[d] }
                                                 : new TensorShapeProto.Types.Dimension { DimParam = param ?? "" });
            }
        }
        return new ValueInfoProto { Name = v.Name, Type = new TypeProto { TensorType = tt } };
    }

    public static TensorProto TensorToProto(string name, Tensor value)
    {
        var p = new TensorProto { Name = name, DataType = (int)value.ElementType, RawData = ByteString.CopyFrom(value.Bytes) };
        foreach (var d in value.Shape) p.Dims.Add(d);
        return p;
    }

    public static NodeProto NodeToProto(Node node)
    {
        var p = new NodeProto { Name = node.Name, OpType = node.OpType, Domain = node.Domain };
        p.Input.AddRange(node.Inputs);
        p.Output.AddRange(node.Outputs);
        foreach (var (_, a) in node.Attributes.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            p.Attribute.Add(AttributeToProto(a, node));
        return p;
    }

    private static AttributeProto AttributeToProto(NodeAttribute a, Node node)
    {
        var p = new AttributeProto { Name = a.Name };
        switch (a.Kind)
        {
            case AttributeKind.Float: p.Type = AttributeProto.Types.AttributeType.Float; p.F = a.Float; break;
            case AttributeKind.Int: p.Type = AttributeProto.Types.AttributeType.Int; p.I = a.Int; break;
            case AttributeKind.String: p.Type = AttributeProto.Types.AttributeType.String; p.S = ByteString.CopyFromUtf8(a.String); break;
            case AttributeKind.Tensor: p.Type = AttributeProto.Types.AttributeType.Tensor; p.T = TensorToProto("", a.Tensor!); break;
            case AttributeKind.Floats: p.Type = AttributeProto.Types.AttributeType.Floats; p.Floats.AddRange(a.Floats); break;
            case AttributeKind.Ints: p.Type = AttributeProto.Types.AttributeType.Ints; p.Ints.AddRange(a.Ints); break;
            case AttributeKind.Strings: p.Type = AttributeProto.Types.AttributeType.Strings; foreach (var s in a.Strings) p.Strings.Add(ByteString.CopyFromUtf8(s)); break;
            default: throw new ModelFormatException(null, $"attribute '{a.Name}' has a kind modelconv cannot write (graph or sparse tensor)", node.Name, node.OpType);
        }
        return p;
    }

    public static NodeAttribute Int(string name, long v) => new() { Name = name, Kind = AttributeKind.Int, Int = v };
    public static NodeAttribute Float(string name, float v) => new() { Name = name, Kind = AttributeKind.Float, Float = v };
    public static NodeAttribute Ints(string name, params long[] v) => new() { Name = name, Kind = AttributeKind.Ints, Ints = v };
}
