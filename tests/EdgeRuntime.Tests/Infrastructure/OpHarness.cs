using EdgeRuntime.Execution.Ops;
using EdgeRuntime.Graph;
using EdgeRuntime.Tensors;

namespace EdgeRuntime.Tests.Infrastructure;

/// <summary>
/// Binds and runs one native op directly (no executor), the same way the executor does:
/// constant inputs are visible at bind time, outputs are preallocated with the bound shapes.
/// </summary>
internal static class OpHarness
{
    /// <param name="node">Node to run.</param>
    /// <param name="inputs">One per node input; null for an omitted optional input.</param>
    /// <param name="constantInputs">Indices of inputs visible as constants at bind time (weights, shapes).</param>
    /// <param name="opset">Opset of the node's domain.</param>
    public static Tensor?[] Run(Node node, Tensor?[] inputs, int[] constantInputs, int opset = 13)
    {
        var def = OpRegistry.Instance.Find(node.Domain, node.OpType)
                  ?? throw new InvalidOperationException($"no native op {node.Domain}:{node.OpType}");
        var infos = new TensorInfo?[inputs.Length];
        var consts = new Tensor?[inputs.Length];
        for (int i = 0; i < inputs.Length; i++)
        {
            if (inputs[i] is { } t)
            {
                infos[i] = new TensorInfo(t.ElementType, t.Shape);
                if (Array.IndexOf(constantInputs, i) >= 0) consts[i] = t;
            }
        }
        var ctx = new OpContext(node, opset, "test.onnx", infos, consts);
        var kernel = def.Bind(ctx);
        var outputs = new Tensor?[node.Outputs.Length];
        for (int i = 0; i < outputs.Length; i++)
            if (node.Outputs[i].Length > 0 && ctx.Outputs[i] is { } info)
                outputs[i] = new Tensor(info.Type, info.Shape);
        kernel.Run(inputs, outputs);
        return outputs;
    }

    /// <summary>A node with the given attributes.</summary>
    public static Node MakeNode(string opType, int inputCount, int outputCount = 1, string domain = "", params NodeAttribute[] attributes)
    {
        var node = new Node
        {
            Name = opType + "_0",
            OpType = opType,
            Domain = domain,
            Inputs = Enumerable.Range(0, inputCount).Select(i => "in" + i).ToArray(),
            Outputs = Enumerable.Range(0, outputCount).Select(i => "out" + i).ToArray(),
        };
        foreach (var a in attributes) node.Attributes[a.Name] = a;
        return node;
    }

    public static NodeAttribute Int(string name, long v) => new() { Name = name, Kind = AttributeKind.Int, Int = v };
    public static NodeAttribute Float(string name, float v) => new() { Name = name, Kind = AttributeKind.Float, Float = v };
    public static NodeAttribute Str(string name, string v) => new() { Name = name, Kind = AttributeKind.String, String = v };
    public static NodeAttribute Ints(string name, params long[] v) => new() { Name = name, Kind = AttributeKind.Ints, Ints = v };
    public static NodeAttribute Floats(string name, params float[] v) => new() { Name = name, Kind = AttributeKind.Floats, Floats = v };
}
