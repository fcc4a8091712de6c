using EdgeRuntime.Tensors;

namespace EdgeRuntime.Graph;

/// <summary>
/// Where the quantizing ops keep each quantized tensor's scale and zero point, as node input indices — one table for
/// everything that needs to know (output dequantization in <c>classify</c>, input quantization in preprocessing,
/// <c>modelconv inspect</c>).
/// </summary>
public static class QuantizedOperands
{
    /// <summary>A quantized operand of a node: the tensor at input <see cref="Value"/> (-1: the node's output 0),
    /// its scale at input <see cref="Scale"/> and zero point at input <see cref="ZeroPoint"/>.</summary>
    public readonly record struct Operand(int Value, int Scale, int ZeroPoint)
    {
        /// <summary>True when the operand is the node's output.</summary>
        public bool IsOutput => Value < 0;
    }

    private static readonly Operand[] QLinearBinary = [new(0, 1, 2), new(3, 4, 5), new(-1, 6, 7)];
    private static readonly Operand[] QLinearUnary = [new(0, 1, 2), new(-1, 3, 4)];

    private static readonly Dictionary<string, Operand[]> Table = new()
    {
        ["QuantizeLinear"] = [new(-1, 1, 2)],
        ["DequantizeLinear"] = [new(0, 1, 2)],
        ["QLinearConv"] = QLinearBinary,
        ["QLinearMatMul"] = QLinearBinary,
        ["QLinearAdd"] = QLinearBinary,
        ["QLinearMul"] = QLinearBinary,
        ["QLinearGlobalAveragePool"] = QLinearUnary,
        ["QLinearAveragePool"] = QLinearUnary,
        ["QLinearSigmoid"] = QLinearUnary,
        ["QLinearLeakyRelu"] = QLinearUnary,
        ["QLinearTanh"] = QLinearUnary,
        ["QLinearHardSigmoid"] = QLinearUnary,
        ["QLinearHardSwish"] = QLinearUnary,
        ["QLinearRelu"] = QLinearUnary,
        ["QLinearClip"] = QLinearUnary,
    };

    /// <summary>The quantized operands of <paramref name="opType"/>; empty for ops that quantize nothing.</summary>
    public static IReadOnlyList<Operand> Of(string opType) => Table.TryGetValue(opType, out var o) ? o : [];

    /// <summary>Name of the operand's tensor in <paramref name="node"/>, or null when the node lacks it.</summary>
    public static string? TensorName(Node node, Operand operand) =>
        operand.IsOutput ? At(node.Outputs, 0) : At(node.Inputs, operand.Value);

    /// <summary>
    /// Per-tensor scale and zero point of the quantized tensor <paramref name="valueName"/>, read from the node that
    /// produces it or, failing that, the first node that consumes it; null when the tensor is not quantized or its
    /// parameters are not scalar constants.
    /// </summary>
    public static (float Scale, int ZeroPoint)? ScalarParameters(ModelGraph graph, string valueName)
    {
        foreach (var node in graph.Nodes)
            foreach (var operand in Of(node.OpType))
                if (operand.IsOutput && TensorName(node, operand) == valueName)
                    return ReadScalar(graph, node, operand);
        foreach (var node in graph.Nodes)
            foreach (var operand in Of(node.OpType))
                if (!operand.IsOutput && TensorName(node, operand) == valueName)
                    return ReadScalar(graph, node, operand);
        return null;
    }

    private static (float Scale, int ZeroPoint)? ReadScalar(ModelGraph graph, Node node, Operand operand)
    {
        if (At(node.Inputs, operand.Scale) is not { } scaleName || !graph.Initializers.TryGetValue(scaleName, out var scale)
            || scale.ElementCount != 1 || scale.ElementType != TensorElementType.Float32)
            return null;
        int zeroPoint = 0;
        if (At(node.Inputs, operand.ZeroPoint) is { } zpName && graph.Initializers.TryGetValue(zpName, out var z) && z.ElementCount == 1)
            zeroPoint = z.ElementType switch { TensorElementType.UInt8 => z.AsSpan<byte>()[0], TensorElementType.Int8 => z.AsSpan<sbyte>()[0], _ => 0 };
        return (scale.AsSpan<float>()[0], zeroPoint);
    }

    private static string? At(string[] names, int i) => i >= 0 && i < names.Length && names[i].Length > 0 ? names[i] : null;
}
