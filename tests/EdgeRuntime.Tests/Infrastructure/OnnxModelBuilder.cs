using EdgeRuntime.Onnx.Proto;
using EdgeRuntime.Tensors;
using Google.Protobuf;

namespace EdgeRuntime.Tests.Infrastructure;

/// <summary>
/// Builds small ONNX models in memory (single-op models for op tests, small graphs for the
/// loader). Writes real ONNX protobuf with the project's generated classes.
/// </summary>
internal sealed class OnnxModelBuilder
{
    private readonly ModelProto _model = new() { IrVersion = 8, ProducerName = "EdgeRuntime.Tests" };
    private readonly GraphProto _graph = new() { Name = "test" };
    private int _nodeCount;

    /// <param name="opset">ai.onnx opset.</param>
    /// <param name="msOpset">com.microsoft opset to import, 0 for none.</param>
    public OnnxModelBuilder(int opset = 13, int msOpset = 0)
    {
        _model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opset });
        if (msOpset > 0) _model.OpsetImport.Add(new OperatorSetIdProto { Domain = "com.microsoft", Version = msOpset });
        if (opset < 9) _model.IrVersion = 3;
        _model.Graph = _graph;
    }

    /// <summary>The underlying proto, for tests that need to corrupt it.</summary>
    public ModelProto Proto => _model;

    /// <summary>Declares a graph input. A negative dim becomes a symbolic dimension "N".</summary>
    public OnnxModelBuilder Input(string name, TensorElementType type, params int[] shape)
    {
        _graph.Input.Add(MakeValueInfo(name, type, shape));
        return this;
    }

    /// <summary>Declares a graph output; with <paramref name="shape"/> null the shape is left unspecified.</summary>
    public OnnxModelBuilder Output(string name, TensorElementType type, int[]? shape = null)
    {
        _graph.Output.Add(MakeValueInfo(name, type, shape));
        return this;
    }

    /// <summary>Adds an initializer (raw_data encoding).</summary>
    public OnnxModelBuilder Initializer(string name, Tensor value)
    {
        _graph.Initializer.Add(ToTensorProto(name, value));
        return this;
    }

    /// <summary>Adds a node; configure attributes with <paramref name="attributes"/>.</summary>
    public OnnxModelBuilder Node(string opType, string[] inputs, string[] outputs, Action<AttributeSetter>? attributes = null, string domain = "", string? name = null)
    {
        var node = new NodeProto { OpType = opType, Domain = domain, Name = name ?? $"{opType}_{_nodeCount++}" };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        attributes?.Invoke(new AttributeSetter(node));
        _graph.Node.Add(node);
        return this;
    }

    /// <summary>Serializes the model.</summary>
    public byte[] Build() => _model.ToByteArray();

    /// <summary>Writes the model to <paramref name="path"/> and returns the path.</summary>
    public string Save(string path)
    {
        File.WriteAllBytes(path, Build());
        return path;
    }

    internal static ValueInfoProto MakeValueInfo(string name, TensorElementType type, int[]? shape)
    {
        var tt = new TypeProto.Types.Tensor { ElemType = (int)type };
        if (shape != null)
        {
            tt.Shape = new TensorShapeProto();
            foreach (var d in shape)
                tt.Shape.Dim.Add(d >= 0 ? new TensorShapeProto.Types.Dimension { DimValue = d } : new TensorShapeProto.Types.Dimension { DimParam = "N" });
        }
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = tt } };
    }

    /// <summary>Encodes a tensor as a TensorProto with raw_data (float16 tensors are written as float16).</summary>
    public static TensorProto ToTensorProto(string name, Tensor value)
    {
        var p = new TensorProto { Name = name, DataType = (int)value.ElementType, RawData = ByteString.CopyFrom(value.Bytes) };
        foreach (var d in value.Shape) p.Dims.Add(d);
        return p;
    }

    /// <summary>Sets attributes on a node.</summary>
    internal sealed class AttributeSetter(NodeProto node)
    {
        public AttributeSetter Int(string name, long v) { node.Attribute.Add(new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = v }); return this; }
        public AttributeSetter Float(string name, float v) { node.Attribute.Add(new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = v }); return this; }
        public AttributeSetter String(string name, string v) { node.Attribute.Add(new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(v) }); return this; }
        public AttributeSetter Ints(string name, params long[] v) { var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints }; a.Ints.AddRange(v); node.Attribute.Add(a); return this; }
        public AttributeSetter Floats(string name, params float[] v) { var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Floats }; a.Floats.AddRange(v); node.Attribute.Add(a); return this; }
        public AttributeSetter Tensor(string name, Tensor v) { node.Attribute.Add(new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Tensor, T = ToTensorProto("", v) }); return this; }
    }
}
