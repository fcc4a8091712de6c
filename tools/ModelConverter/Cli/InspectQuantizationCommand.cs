using System.CommandLine;
using System.Globalization;
using EdgeRuntime.Graph;
using EdgeRuntime.Onnx;
using EdgeRuntime.Tensors;

namespace ModelConverter.Cli;

/// <summary>
/// <c>modelconv inspect MODEL</c>: the model's inputs, outputs and op histogram, whether it is float or quantized
/// (QDQ or QOperator form), and the quantization parameters (scale, zero point, per-tensor or per-axis) of every
/// quantized tensor.
/// </summary>
internal static class InspectQuantizationCommand
{
    /// <summary>Where each quantizing op keeps (value, scale, zero point) triples, as input indices.</summary>
    private static readonly Dictionary<string, (int Value, int Scale, int ZeroPoint)[]> QuantizedOperands = new()
    {
        ["QuantizeLinear"] = [(2, 1, 2)],
        ["DequantizeLinear"] = [(0, 1, 2)],
        ["QLinearConv"] = [(0, 1, 2), (3, 4, 5), (-1, 6, 7)],
        ["QLinearMatMul"] = [(0, 1, 2), (3, 4, 5), (-1, 6, 7)],
        ["QLinearAdd"] = [(0, 1, 2), (3, 4, 5), (-1, 6, 7)],
        ["QLinearMul"] = [(0, 1, 2), (3, 4, 5), (-1, 6, 7)],
        ["QLinearGlobalAveragePool"] = [(0, 1, 2), (-1, 3, 4)],
        ["QLinearAveragePool"] = [(0, 1, 2), (-1, 3, 4)],
        ["QLinearSigmoid"] = [(0, 1, 2), (-1, 3, 4)],
        ["QLinearLeakyRelu"] = [(0, 1, 2), (-1, 3, 4)],
    };

    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "ONNX model file" };
        var cmd = new Command("inspect", "Show a model's form (float, QDQ, QOperator) and the quantization parameters of every tensor") { model };
        cmd.SetAction(parse => ModelconvCli.Guard(() => Run(parse.GetValue(model)!)));
        return cmd;
    }

    private static int Run(string path)
    {
        var graph = OnnxModelReader.ReadFile(path);
        var ops = graph.Nodes.GroupBy(n => n.OpType).ToDictionary(g => g.Key, g => g.Count());
        bool qoperator = ops.Keys.Any(k => k.StartsWith("QLinear", StringComparison.Ordinal));
        bool qdq = ops.ContainsKey("DequantizeLinear") && ops.Keys.Any(k => k is "Conv" or "MatMul" or "Gemm" or "Add");
        var form = qoperator && qdq ? "mixed (QOperator and QDQ)" : qoperator ? "int8, QOperator form" : qdq ? "int8, QDQ form" : "float";

        Console.WriteLine($"Model   {path}");
        Console.WriteLine($"Form    {form}");
        foreach (var i in graph.Inputs) Console.WriteLine($"Input   {i.Name} {i.ElementType.OnnxName()}{TensorShape.Format(i.Shape)}");
        foreach (var o in graph.Outputs) Console.WriteLine($"Output  {o.Name} {o.ElementType.OnnxName()}{(o.HasShape ? TensorShape.Format(o.Shape) : "")}");
        Console.WriteLine("Ops     " + string.Join(", ", ops.OrderByDescending(kv => kv.Value).Select(kv => $"{kv.Key} {kv.Value}")));

        var seen = new HashSet<string>();
        var rows = new List<string>();
        foreach (var node in graph.Nodes)
        {
            if (!QuantizedOperands.TryGetValue(node.OpType, out var operands)) continue;
            foreach (var (valueIndex, scaleIndex, zpIndex) in operands)
            {
                var tensor = valueIndex >= 0 ? At(node.Inputs, valueIndex) : At(node.Outputs, 0);
                if (tensor == null || !seen.Add(tensor)) continue;
                var scale = At(node.Inputs, scaleIndex) is { } s ? graph.Initializers.GetValueOrDefault(s) : null;
                var zp = At(node.Inputs, zpIndex) is { } z ? graph.Initializers.GetValueOrDefault(z) : null;
                rows.Add($"  {tensor,-40} {Describe(scale, zp)}");
            }
        }
        Console.WriteLine($"Quantized tensors ({rows.Count})");
        foreach (var r in rows) Console.WriteLine(r);
        return 0;
    }

    private static string? At(string[] names, int i) => i >= 0 && i < names.Length && names[i].Length > 0 ? names[i] : null;

    private static string Describe(Tensor? scale, Tensor? zp)
    {
        if (scale == null) return "scale not constant";
        var inv = CultureInfo.InvariantCulture;
        var s = scale.ToFloatArray();
        var z = zp?.ToFloatArray() ?? new float[s.Length];
        var type = zp?.ElementType.OnnxName() ?? "uint8";
        if (s.Length == 1) return $"{type,-6} per-tensor scale {s[0].ToString("G6", inv)} zero point {z[0].ToString(inv)}";
        return $"{type,-6} per-axis ({s.Length} channels) scale {s.Min().ToString("G4", inv)}..{s.Max().ToString("G4", inv)} zero point {z.Min().ToString(inv)}..{z.Max().ToString(inv)}";
    }
}
