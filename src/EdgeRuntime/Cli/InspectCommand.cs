using System.CommandLine;
using System.Globalization;
using System.Text;
using EdgeRuntime.Execution;
using EdgeRuntime.Graph;
using EdgeRuntime.Onnx;
using EdgeRuntime.Tensors;

namespace EdgeRuntime.Cli;

/// <summary><c>edgerun inspect MODEL</c>: inputs/outputs, op histogram, per-node shapes, parameters, MACs, backend, memory.</summary>
internal static class InspectCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "ONNX model file" };
        var suggest = new Option<bool>("--suggest-sidecar") { Description = "Print a starting model.edge.json for this model's input and exit" };
        var nodes = new Option<bool>("--nodes") { Description = "List every node (default: on for models with at most 400 nodes)" };
        var cmd = new Command("inspect", "Describe a model: inputs, outputs, ops, shapes, parameters, MACs, backend and memory plan") { model, suggest, nodes };
        cmd.SetAction(parse => EdgerunCli.Guard(() => Run(parse.GetValue(model)!, parse.GetValue(suggest), parse.GetValue(nodes))));
        return cmd;
    }

    private static int Run(string path, bool suggestSidecar, bool listNodes)
    {
        var graph = OnnxModelReader.ReadFile(path);
        if (suggestSidecar)
        {
            Console.WriteLine(SidecarSuggestion.For(graph));
            return ExitCodes.Ok;
        }

        var o = Console.Out;
        var inv = CultureInfo.InvariantCulture;
        o.WriteLine($"Model      {path}");
        o.WriteLine($"Producer   {(graph.ProducerName.Length > 0 ? graph.ProducerName + " " + graph.ProducerVersion : "(unknown)")}, IR version {graph.IrVersion}");
        o.WriteLine($"Opsets     {string.Join(", ", graph.Opsets.Select(kv => $"{(kv.Key.Length == 0 ? "ai.onnx" : kv.Key)} {kv.Value}"))}");
        foreach (var (k, v) in graph.Metadata) o.WriteLine($"Metadata   {k} = {v}");
        o.WriteLine("Inputs");
        foreach (var i in graph.Inputs) o.WriteLine($"  {i.Name,-24} {Describe(i)}");
        o.WriteLine("Outputs");
        foreach (var i in graph.Outputs) o.WriteLine($"  {i.Name,-24} {Describe(i)}");

        o.WriteLine($"Ops ({graph.Nodes.Count} nodes in the file)");
        foreach (var g in graph.Nodes.GroupBy(n => (n.Domain.Length > 0 ? n.Domain + "." : "") + n.OpType).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal))
            o.WriteLine($"  {g.Key,-28} {g.Count(),5}");

        var unsupported = GraphPlanner.FindUnsupported(graph);
        if (unsupported.Count > 0)
        {
            o.WriteLine($"Backend    ort (auto): no native kernel for {GraphPlanner.DescribeUnsupported(unsupported)}");
            return ExitCodes.Ok;
        }

        // The graph read above, not a second copy: a model's weights are held once (the load rewrites this graph).
        using var model = EdgeModel.Create(graph, () => File.ReadAllBytes(path), new EdgeModelOptions { Backend = BackendKind.Native });
        var plan = model.Plan!;
        o.WriteLine($"Backend    native (every node has a native kernel; {plan.Steps.Count} steps after fusion and folding, {plan.FoldedNodes} nodes folded at load)");
        long totalParams = 0, totalMacs = 0;
        bool showNodes = listNodes || plan.Steps.Count <= 400;
        if (showNodes)
        {
            o.WriteLine("Nodes");
            o.WriteLine($"  {"#",4}  {"name",-36} {"op",-26} {"output",-24} {"params",10} {"MACs",14}");
        }
        for (int s = 0; s < plan.Steps.Count; s++)
        {
            var step = plan.Steps[s];
            long parameters = 0;
            foreach (var name in step.Node.Inputs)
                if (name.Length > 0 && (plan.Constants.ContainsKey(name) || plan.ReleasedConstants.Contains(name)))
                    parameters += plan.ValueInfos[name].ElementCount; // released weights keep their shape here
            totalParams += parameters;
            totalMacs += step.Macs;
            if (!showNodes) continue;
            var outName = step.Node.Outputs.FirstOrDefault(n => n.Length > 0);
            var outInfo = outName != null && plan.ValueInfos.TryGetValue(outName, out var oi) ? oi.ToString() : "";
            var op = (step.Node.Domain.Length > 0 ? step.Node.Domain + "." : "") + step.Node.OpType;
            o.WriteLine($"  {s,4}  {Trim(step.Node.Name, 36),-36} {Trim(op, 26),-26} {outInfo,-24} {parameters.ToString("N0", inv),10} {step.Macs.ToString("N0", inv),14}");
        }
        o.WriteLine($"Totals     {totalParams.ToString("N0", inv)} parameters, {totalMacs.ToString("N0", inv)} MACs per inference");
        o.WriteLine($"Memory     weights {Bytes(plan.ConstantBytes)}; activation arena {Bytes(plan.ArenaBytes)} in {plan.ArenaBufferCount} buffers (planned peak; {Bytes(plan.UnplannedActivationBytes)} without reuse)");
        return ExitCodes.Ok;
    }

    private static string Describe(ValueInfo v)
    {
        var dims = new StringBuilder("[");
        for (int d = 0; d < v.Shape.Length; d++)
        {
            if (d > 0) dims.Append(',');
            dims.Append(v.Shape[d] >= 0 ? v.Shape[d].ToString(CultureInfo.InvariantCulture) : v.DimParams[d] ?? "?");
        }
        return v.ElementType.OnnxName() + dims + "]";
    }

    private static string Trim(string s, int max) => s.Length <= max ? s : s[..(max - 1)] + "…";

    internal static string Bytes(long b) => b switch
    {
        >= 1 << 20 => (b / 1048576.0).ToString("0.0", CultureInfo.InvariantCulture) + " MiB",
        >= 1 << 10 => (b / 1024.0).ToString("0.0", CultureInfo.InvariantCulture) + " KiB",
        _ => b.ToString(CultureInfo.InvariantCulture) + " B",
    };
}
