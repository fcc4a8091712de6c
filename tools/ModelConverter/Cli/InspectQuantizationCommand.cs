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
            foreach (var operand in QuantizedOperands.Of(node.OpType))
            {
                var tensor = QuantizedOperands.TensorName(node, operand);
                if (tensor == null || !seen.Add(tensor)) continue;
                var scale = At(node.Inputs, operand.Scale) is { } s ? graph.Initializers.GetValueOrDefault(s) : null;
                var zp = At(node.Inputs, operand.ZeroPoint) is { } z ? graph.Initializers.GetValueOrDefault(z) : null;
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
