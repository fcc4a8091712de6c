using Xunit;
using System.Text;
using EdgeRuntime.Graph;
using EdgeRuntime.Tensors;
using EdgeRuntime.Tests.Infrastructure;

namespace EdgeRuntime.Tests.Ops.Float;

/// <summary>One node run both on EdgeRuntime (OpHarness) and on ONNX Runtime (the oracle).</summary>
internal sealed class OracleCase
{
    /// <summary>ONNX op type.</summary>
    public required string OpType { get; init; }
    /// <summary>Parameters of the case, printed on failure.</summary>
    public required string Description { get; init; }
    /// <summary>Node inputs; null marks an omitted optional input.</summary>
    public required Tensor?[] Inputs { get; init; }
    /// <summary>Inputs given as initializers (ORT) / constants (EdgeRuntime).</summary>
    public int[] ConstantInputs { get; init; } = [];
    /// <summary>Attributes: long, float, string, long[] or float[] values.</summary>
    public List<(string Name, object Value)> Attributes { get; } = new();
    /// <summary>Element type of output 0.</summary>
    public TensorElementType OutputType { get; init; } = TensorElementType.Float32;

    /// <summary>When set, ORT gets these attributes instead (to check a form ORT lacks against an equivalent one it has).</summary>
    public List<(string Name, object Value)>? OrtAttributes { get; set; }

    public OracleCase With(string name, object value) { Attributes.Add((name, value)); return this; }
}

/// <summary>
/// Compares EdgeRuntime against ONNX Runtime for many single-op cases at once: the cases of a chunk become
/// independent nodes of ONE ONNX model (one ORT session per chunk keeps the suite fast), while EdgeRuntime
/// binds and runs each node separately. Both see exactly the same tensors.
/// Float tolerance: |ours - ort| &lt;= 1e-4 + 1e-4 * |ort|; integer outputs must match exactly.
/// </summary>
internal static class ConvFamilyOracle
{
    public const double AbsoluteTolerance = 1e-4, RelativeTolerance = 1e-4;

    public static Tensor RandomFloats(Random rng, params int[] shape)
    {
        var data = new float[TensorShape.ElementCount(shape)];
        for (int i = 0; i < data.Length; i++) data[i] = (float)(rng.NextDouble() * 2 - 1);
        return Tensor.FromFloats(shape, data);
    }

    public static Tensor RandomBytes(Random rng, TensorElementType type, params int[] shape)
    {
        var t = new Tensor(type, shape);
        rng.NextBytes(t.Bytes);
        return t;
    }

    public static Tensor Int64s(params long[] values) => Tensor.FromArray(TensorElementType.Int64, [values.Length], values);

    /// <summary>Runs every case and fails with the list of mismatching cases.</summary>
    public static void AssertAllMatch(int opset, IReadOnlyList<OracleCase> cases, int chunkSize = 120)
    {
        var failures = new List<string>();
        for (int start = 0; start < cases.Count; start += chunkSize)
        {
            var chunk = cases.Skip(start).Take(chunkSize).ToList();
            var expected = RunOrt(opset, chunk);
            for (int i = 0; i < chunk.Count; i++)
            {
                string? problem;
                try
                {
                    problem = Compare(RunOurs(opset, chunk[i]), expected[i]);
                }
                catch (Exception e)
                {
                    problem = $"threw {e.GetType().Name}: {e.Message}";
                }
                if (problem != null) failures.Add($"{chunk[i].OpType} opset {opset} [{chunk[i].Description}]: {problem}");
            }
        }
        Assert.True(failures.Count == 0, $"{failures.Count} of {cases.Count} cases differ from ONNX Runtime:\n" + string.Join("\n", failures.Take(25)));
    }

    public static Tensor RunOurs(int opset, OracleCase c)
    {
        var node = new Node
        {
            Name = c.OpType + "_test",
            OpType = c.OpType,
            Inputs = c.Inputs.Select((t, i) => t == null ? "" : "in" + i).ToArray(),
            Outputs = ["out0"],
        };
        foreach (var (name, value) in c.Attributes) node.Attributes[name] = ToNodeAttribute(name, value);
        return OpHarness.Run(node, c.Inputs, c.ConstantInputs, opset)[0]!;
    }

    private static NodeAttribute ToNodeAttribute(string name, object value) => value switch
    {
        long v => OpHarness.Int(name, v),
        int v => OpHarness.Int(name, v),
        float v => OpHarness.Float(name, v),
        string v => OpHarness.Str(name, v),
        long[] v => OpHarness.Ints(name, v),
        float[] v => OpHarness.Floats(name, v),
        _ => throw new ArgumentException($"unsupported attribute value {value.GetType()}"),
    };

    private static List<Tensor> RunOrt(int opset, List<OracleCase> cases)
    {
        var builder = new OnnxModelBuilder(opset);
        var feeds = new Dictionary<string, Tensor>();
        for (int ci = 0; ci < cases.Count; ci++)
        {
            var c = cases[ci];
            var inputNames = new string[c.Inputs.Length];
            for (int i = 0; i < c.Inputs.Length; i++)
            {
                if (c.Inputs[i] is not { } t) { inputNames[i] = ""; continue; }
                inputNames[i] = $"c{ci}_in{i}";
                if (c.ConstantInputs.Contains(i)) builder.Initializer(inputNames[i], t);
                else
                {
                    builder.Input(inputNames[i], t.ElementType, t.Shape);
                    feeds[inputNames[i]] = t;
                }
            }
            builder.Node(c.OpType, inputNames, [$"c{ci}_out"], a =>
            {
                foreach (var (name, value) in c.OrtAttributes ?? c.Attributes)
                {
                    switch (value)
                    {
                        case long v: a.Int(name, v); break;
                        case int v: a.Int(name, v); break;
                        case float v: a.Float(name, v); break;
                        case string v: a.String(name, v); break;
                        case long[] v: a.Ints(name, v); break;
                        case float[] v: a.Floats(name, v); break;
                    }
                }
            });
            builder.Output($"c{ci}_out", c.OutputType);
        }
        var results = OrtRunner.Run(builder.Build(), feeds);
        return Enumerable.Range(0, cases.Count).Select(ci => results[$"c{ci}_out"]).ToList();
    }

    /// <summary>Null when equal within tolerance, else a description of the first differences.</summary>
    public static string? Compare(Tensor actual, Tensor expected)
    {
        if (!actual.Shape.SequenceEqual(expected.Shape))
            return $"shape {TensorShape.Format(actual.Shape)}, ORT {TensorShape.Format(expected.Shape)}";
        if (actual.ElementType != expected.ElementType) return $"type {actual.ElementType}, ORT {expected.ElementType}";
        bool exact = actual.ElementType != TensorElementType.Float32;
        var a = actual.ToFloatArray();
        var e = expected.ToFloatArray();
        var sb = new StringBuilder();
        int bad = 0;
        for (int i = 0; i < a.Length; i++)
        {
            bool ok = exact ? a[i] == e[i] : Math.Abs(a[i] - e[i]) <= AbsoluteTolerance + RelativeTolerance * Math.Abs(e[i]) || (float.IsNaN(a[i]) && float.IsNaN(e[i]));
            if (ok) continue;
            if (bad++ < 4) sb.Append($"[{i}] {a[i]:R} vs {e[i]:R}; ");
        }
        return bad == 0 ? null : $"{bad}/{a.Length} elements differ: {sb}";
    }
}
