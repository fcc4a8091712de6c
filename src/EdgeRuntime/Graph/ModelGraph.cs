using EdgeRuntime.Tensors;

namespace EdgeRuntime.Graph;

/// <summary>
/// The in-memory form of an ONNX model after parsing and validation: nodes, initializers and the
/// declared graph inputs/outputs. Float16 initializers are already converted to float32; the
/// declared boundary types (which may be float16) are kept on <see cref="Inputs"/>/<see cref="Outputs"/>.
/// </summary>
public sealed class ModelGraph
{
    /// <summary>File the model was read from, for messages; null for in-memory models.</summary>
    public string? SourcePath { get; set; }

    /// <summary>ONNX IR version.</summary>
    public long IrVersion { get; set; }

    /// <summary>Opset version per domain; the default ONNX domain is the empty string.</summary>
    public Dictionary<string, int> Opsets { get; } = new();

    /// <summary>Producer name from the model file.</summary>
    public string ProducerName { get; set; } = "";

    /// <summary>Producer version from the model file.</summary>
    public string ProducerVersion { get; set; } = "";

    /// <summary>Model <c>metadata_props</c>.</summary>
    public Dictionary<string, string> Metadata { get; } = new();

    /// <summary>Graph inputs that are not initializers, in declaration order.</summary>
    public List<ValueInfo> Inputs { get; } = new();

    /// <summary>Graph outputs in declaration order.</summary>
    public List<ValueInfo> Outputs { get; } = new();

    /// <summary>Declared <c>value_info</c> of intermediate values (may be empty).</summary>
    public Dictionary<string, ValueInfo> ValueInfos { get; } = new();

    /// <summary>Constant tensors by name (float16 already widened to float32).</summary>
    public Dictionary<string, Tensor> Initializers { get; } = new();

    /// <summary>Nodes in file order (not necessarily topological).</summary>
    public List<Node> Nodes { get; } = new();

    /// <summary>Opset of the default domain (ai.onnx).</summary>
    public int DefaultOpset => Opsets.TryGetValue("", out var v) ? v : 0;

    /// <summary>Opset version that applies to <paramref name="domain"/>, or 0 when not imported.</summary>
    public int OpsetFor(string domain) => Opsets.TryGetValue(domain, out var v) ? v : 0;
}

/// <summary>A declared graph input, output or intermediate value.</summary>
/// <param name="Name">Value name.</param>
/// <param name="ElementType">Declared element type (float16 stays float16 here).</param>
/// <param name="Shape">Dimensions; -1 where the dimension is symbolic or unknown. Empty (and <see cref="HasShape"/>
/// false) when the file declares no shape at all.</param>
/// <param name="DimParams">Symbolic names per dimension (null where the dimension is fixed; "" for an unknown
/// dimension without a name).</param>
public sealed record ValueInfo(string Name, TensorElementType ElementType, int[] Shape, string?[] DimParams)
{
    /// <summary>
    /// False when the file declares no shape for this value (not even its rank); <see cref="Shape"/> is then empty
    /// and does not mean "scalar".
    /// </summary>
    public bool HasShape { get; init; } = true;

    /// <summary>The type EdgeRuntime computes this value in (float16 is computed as float32).</summary>
    public TensorElementType ComputeType => ElementType == TensorElementType.Float16 ? TensorElementType.Float32 : ElementType;
}

/// <summary>One operator application.</summary>
public sealed class Node
{
    /// <summary>Node name (may be synthesized as <c>OpType_index</c> when the file has none).</summary>
    public required string Name { get; set; }

    /// <summary>Operator type, e.g. <c>Conv</c>.</summary>
    public required string OpType { get; set; }

    /// <summary>Operator domain; "" for ai.onnx, "com.microsoft" for contrib ops.</summary>
    public string Domain { get; set; } = "";

    /// <summary>Input value names; "" marks an omitted optional input.</summary>
    public required string[] Inputs { get; set; }

    /// <summary>Output value names; "" marks an unused optional output.</summary>
    public required string[] Outputs { get; set; }

    /// <summary>Attributes by name.</summary>
    public Dictionary<string, NodeAttribute> Attributes { get; init; } = new();

    /// <inheritdoc/>
    public override string ToString() => $"{Name} ({(Domain.Length > 0 ? Domain + "." : "")}{OpType})";
}

/// <summary>Kind of a node attribute (the subset of ONNX attribute types EdgeRuntime reads).</summary>
public enum AttributeKind
{
    /// <summary>Single float.</summary>
    Float,
    /// <summary>Single int64.</summary>
    Int,
    /// <summary>UTF-8 string.</summary>
    String,
    /// <summary>Tensor.</summary>
    Tensor,
    /// <summary>List of floats.</summary>
    Floats,
    /// <summary>List of int64.</summary>
    Ints,
    /// <summary>List of strings.</summary>
    Strings,
    /// <summary>A kind EdgeRuntime does not use (graph, sparse tensor, ...).</summary>
    Other,
}

/// <summary>A node attribute; only the member matching <see cref="Kind"/> is meaningful.</summary>
public sealed class NodeAttribute
{
    /// <summary>Attribute name.</summary>
    public required string Name { get; init; }
    /// <summary>Which value member is set.</summary>
    public required AttributeKind Kind { get; init; }
    /// <summary>Value for <see cref="AttributeKind.Float"/>.</summary>
    public float Float { get; init; }
    /// <summary>Value for <see cref="AttributeKind.Int"/>.</summary>
    public long Int { get; init; }
    /// <summary>Value for <see cref="AttributeKind.String"/>.</summary>
    public string String { get; init; } = "";
    /// <summary>Value for <see cref="AttributeKind.Tensor"/>.</summary>
    public Tensor? Tensor { get; init; }
    /// <summary>Value for <see cref="AttributeKind.Floats"/>.</summary>
    public float[] Floats { get; init; } = [];
    /// <summary>Value for <see cref="AttributeKind.Ints"/>.</summary>
    public long[] Ints { get; init; } = [];
    /// <summary>Value for <see cref="AttributeKind.Strings"/>.</summary>
    public string[] Strings { get; init; } = [];
}
