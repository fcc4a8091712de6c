using EdgeRuntime.Graph;
using EdgeRuntime.Kernels.Common;
using EdgeRuntime.Onnx;
using EdgeRuntime.Tensors;

namespace EdgeRuntime.Execution.Ops;

/// <summary>Static type and shape of a value.</summary>
public readonly record struct TensorInfo(TensorElementType Type, int[] Shape)
{
    /// <summary>Number of elements.</summary>
    public int ElementCount => TensorShape.ElementCount(Shape);
    /// <inheritdoc/>
    public override string ToString() => $"{Type.OnnxName()}{TensorShape.Format(Shape)}";
}

/// <summary>
/// One ONNX operator: validates a node, infers its output types and static shapes, and binds a
/// kernel to its attributes and shapes. Binding happens once at load; <see cref="IOpKernel.Run"/>
/// happens per inference and must not allocate.
/// </summary>
internal abstract class OpDefinition
{
    /// <summary>ONNX op type, e.g. <c>Conv</c>.</summary>
    public abstract string OpType { get; }

    /// <summary>Domain: "" (ai.onnx) or "com.microsoft".</summary>
    public virtual string Domain => "";

    /// <summary>
    /// Validates the node (attributes, input count, types, shapes), sets every output's type and
    /// shape with <see cref="OpContext.SetOutput"/>, and returns the kernel. Problems are reported by
    /// throwing <see cref="OpContext.Fail"/>'s exception.
    /// </summary>
    public abstract IOpKernel Bind(OpContext ctx);
}

/// <summary>
/// A kernel that implements one op in distinct ways (a QLinearConv may run as depthwise, 1x1 or KxK), naming the
/// way it was bound so that <c>edgerun bench --profile</c> can attribute time to it.
/// </summary>
internal interface IKernelVariant
{
    /// <summary>Short name of the implementation, e.g. "depthwise 3x3" or "1x1".</summary>
    string Variant { get; }
}

/// <summary>A bound operator instance.</summary>
internal interface IOpKernel
{
    /// <summary>
    /// Computes the outputs. <paramref name="inputs"/> has one entry per node input (null for an
    /// omitted optional input); <paramref name="outputs"/> are preallocated with the bound shapes
    /// (null for an unused optional output). Outputs never alias inputs.
    /// </summary>
    void Run(ReadOnlySpan<Tensor?> inputs, ReadOnlySpan<Tensor?> outputs);
}

/// <summary>
/// A kernel that packed (or copied) some of its constant inputs at load and does not read them in
/// <see cref="IOpKernel.Run"/>: the plan then releases those constants, which would otherwise stay in memory beside
/// their packed copies for the model's lifetime.
/// </summary>
internal interface IPacksConstantInputs
{
    /// <summary>Whether <see cref="IOpKernel.Run"/> reads input <paramref name="index"/> (false: packed at load).</summary>
    bool ReadsAtRun(int index);

    /// <summary>Bytes of the weights the kernel holds in its own (packed) form, for memory reports.</summary>
    long PackedBytes { get; }
}

/// <summary>What an <see cref="OpDefinition"/> sees of a node while binding.</summary>
internal sealed class OpContext
{
    private readonly TensorInfo?[] _inputs;
    private readonly Tensor?[] _constants;

    public OpContext(Node node, int opset, string? file, TensorInfo?[] inputs, Tensor?[] constants, WorkerPool? workers = null, IsaPath? isa = null)
    {
        Workers = workers;
        Isa = isa ?? CpuFeatures.Active;
        Node = node;
        Opset = opset;
        File = file;
        _inputs = inputs;
        _constants = constants;
        Outputs = new TensorInfo?[node.Outputs.Length];
    }

    /// <summary>Threads a kernel may split its work across (null: run on the calling thread only).</summary>
    public WorkerPool? Workers { get; }

    /// <summary>Instruction-set path the int8 kernels use for this model.</summary>
    public IsaPath Isa { get; }

    /// <summary>The node being bound.</summary>
    public Node Node { get; }

    /// <summary>Opset version of the node's domain.</summary>
    public int Opset { get; }

    /// <summary>Model file (for messages).</summary>
    public string? File { get; }

    /// <summary>Output infos set by the definition.</summary>
    public TensorInfo?[] Outputs { get; }

    /// <summary>Number of input slots (including omitted optional ones).</summary>
    public int InputCount => _inputs.Length;

    /// <summary>True when input <paramref name="i"/> exists and is not omitted.</summary>
    public bool HasInput(int i) => i < _inputs.Length && _inputs[i].HasValue;

    /// <summary>Type and shape of a required input; fails when it is missing.</summary>
    public TensorInfo Input(int i) =>
        HasInput(i) ? _inputs[i]!.Value : throw Fail($"required input {i} is missing");

    /// <summary>The input's value when it is a constant (initializer or folded), else null.</summary>
    public Tensor? Constant(int i) => i < _constants.Length ? _constants[i] : null;

    /// <summary>The constant value of input <paramref name="i"/>; fails when the input is not constant.</summary>
    public Tensor RequireConstant(int i, string what) =>
        Constant(i) ?? throw Fail($"input {i} ({what}) must be a constant (initializer), EdgeRuntime needs static shapes");

    /// <summary>Sets output <paramref name="i"/>'s type and shape.</summary>
    public void SetOutput(int i, TensorElementType type, int[] shape)
    {
        foreach (var d in shape)
            if (d < 0) throw Fail($"output {i} would have negative dimension in {TensorShape.Format(shape)}");
        Outputs[i] = new TensorInfo(type, shape);
    }

    /// <summary>Builds the exception for a problem with this node; use as <c>throw ctx.Fail(...)</c>.</summary>
    public ModelFormatException Fail(string problem) => new(File, problem, Node.Name, Node.OpType);

    /// <summary>True when the attribute is present.</summary>
    public bool HasAttribute(string name) => Node.Attributes.ContainsKey(name);

    /// <summary>An int attribute or <paramref name="defaultValue"/>.</summary>
    public long GetInt(string name, long defaultValue) =>
        Node.Attributes.TryGetValue(name, out var a) ? (a.Kind == AttributeKind.Int ? a.Int : throw Fail($"attribute '{name}' must be an int")) : defaultValue;

    /// <summary>A float attribute or <paramref name="defaultValue"/>.</summary>
    public float GetFloat(string name, float defaultValue) =>
        Node.Attributes.TryGetValue(name, out var a) ? (a.Kind == AttributeKind.Float ? a.Float : throw Fail($"attribute '{name}' must be a float")) : defaultValue;

    /// <summary>A string attribute or <paramref name="defaultValue"/>.</summary>
    public string GetString(string name, string defaultValue) =>
        Node.Attributes.TryGetValue(name, out var a) ? (a.Kind == AttributeKind.String ? a.String : throw Fail($"attribute '{name}' must be a string")) : defaultValue;

    /// <summary>An ints attribute, or null when absent.</summary>
    public long[]? GetInts(string name) =>
        Node.Attributes.TryGetValue(name, out var a) ? (a.Kind == AttributeKind.Ints ? a.Ints : throw Fail($"attribute '{name}' must be a list of ints")) : null;

    /// <summary>A floats attribute, or null when absent.</summary>
    public float[]? GetFloats(string name) =>
        Node.Attributes.TryGetValue(name, out var a) ? (a.Kind == AttributeKind.Floats ? a.Floats : throw Fail($"attribute '{name}' must be a list of floats")) : null;

    /// <summary>A tensor attribute, or null when absent.</summary>
    public Tensor? GetTensor(string name) =>
        Node.Attributes.TryGetValue(name, out var a) ? (a.Kind == AttributeKind.Tensor ? a.Tensor : throw Fail($"attribute '{name}' must be a tensor")) : null;

    /// <summary>Fails unless input <paramref name="i"/> has one of <paramref name="allowed"/> types; returns its info.</summary>
    public TensorInfo InputOfType(int i, params TensorElementType[] allowed)
    {
        var info = Input(i);
        if (Array.IndexOf(allowed, info.Type) < 0)
            throw Fail($"input {i} has type {info.Type.OnnxName()}, expected {string.Join(" or ", allowed.Select(a => a.OnnxName()))}");
        return info;
    }
}
