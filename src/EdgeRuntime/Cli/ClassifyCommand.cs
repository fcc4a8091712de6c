using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using EdgeRuntime.Execution;
using EdgeRuntime.Graph;
using EdgeRuntime.Imaging;
using EdgeRuntime.Postprocessing;
using EdgeRuntime.Tensors;

namespace EdgeRuntime.Cli;

/// <summary><c>edgerun classify --model M [--labels L] [--top K] [--backend B] [--json] IMAGE...</c>.</summary>
internal static class ClassifyCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model", "-m") { Description = "ONNX model file", Required = true };
        var top = new Option<int>("--top", "-k") { Description = "How many classes to print per image", DefaultValueFactory = _ => 5 };
        var backend = new Option<string>("--backend") { Description = "native | ort | auto (auto: native when every node is supported)", DefaultValueFactory = _ => "auto" };
        backend.AcceptOnlyFromAmong("native", "ort", "auto");
        var threads = new Option<int>("--threads") { Description = "Worker threads (0 = one per core)", DefaultValueFactory = _ => 0 };
        var json = new Option<bool>("--json") { Description = "Print one JSON object instead of text" };
        var images = new Argument<string[]>("images") { Description = "JPEG, PNG or BMP files", Arity = ArgumentArity.OneOrMore };
        var pre = new PreprocessingOptions();
        var cmd = new Command("classify", "Classify images and print the top-K labels with scores and latency") { model, top, backend, threads, json, images };
        pre.AddTo(cmd);
        cmd.SetAction(parse => EdgerunCli.Guard(() => Run(
            parse.GetValue(model)!, parse.GetValue(top), ParseBackend(parse.GetValue(backend)!), parse.GetValue(threads),
            parse.GetValue(json), parse.GetValue(images)!, pre.Read(parse))));
        return cmd;
    }

    internal static BackendKind ParseBackend(string s) => s switch
    {
        "native" => BackendKind.Native,
        "ort" => BackendKind.Ort,
        _ => BackendKind.Auto,
    };

    private static int Run(string modelPath, int top, BackendKind backend, int threads, bool json, string[] images, PreprocessOverrides overrides)
    {
        if (top < 1) throw new UsageException("--top must be at least 1");
        if (threads < 0) throw new UsageException("--threads must be 0 (one per core) or more");
        using var model = EdgeModel.Load(modelPath, new EdgeModelOptions
        {
            Backend = backend,
            Threads = threads,
            Log = msg => Console.Error.WriteLine("edgerun: " + msg),
        });
        if (model.Inputs.Count != 1)
            throw new InvalidInputException(modelPath, $"classify needs a model with one image input; this one has {model.Inputs.Count}");
        var input = new ModelInputPipeline(modelPath, model, overrides);
        var output = model.Outputs[0];
        var quant = QuantizedOperands.ScalarParameters(model.Graph, output.Name);

        var results = new List<(string Image, double LatencyMs, ClassScore[] Top)>();
        float[]? probabilities = null;
        bool warmedUp = false;
        foreach (var image in images)
        {
            var tensor = input.Prepare(image);
            if (!warmedUp)
            {
                model.Run(tensor); // first run pays for JIT and lazy initialisation; not reported
                warmedUp = true;
            }
            var sw = Stopwatch.StartNew();
            var outputs = model.Run(tensor);
            sw.Stop();
            probabilities ??= new float[outputs[0].ElementCount];
            Classification.ToProbabilities(outputs[0], quant, probabilities);
            results.Add((image, sw.Elapsed.TotalMilliseconds, Classification.TopK(probabilities, top)));
        }

        if (json) WriteJson(results, input, model.Backend);
        else WriteText(results, input, model.Backend);
        return ExitCodes.Ok;
    }

    private static void WriteText(List<(string Image, double LatencyMs, ClassScore[] Top)> results, ModelInputPipeline input, BackendKind backend)
    {
        var inv = CultureInfo.InvariantCulture;
        foreach (var (image, latency, top) in results)
        {
            Console.WriteLine($"{image}  ({latency.ToString("0.00", inv)} ms, {BackendName(backend)})");
            foreach (var c in top)
                Console.WriteLine($"  {c.Score.ToString("0.0000", inv)}  {input.Label(c.Index)}");
        }
        if (results.Count > 1)
        {
            var sorted = results.Select(r => r.LatencyMs).OrderBy(x => x).ToArray();
            Console.WriteLine($"median latency {sorted[sorted.Length / 2].ToString("0.00", inv)} ms over {sorted.Length} images ({BackendName(backend)})");
        }
    }

    private static void WriteJson(List<(string Image, double LatencyMs, ClassScore[] Top)> results, ModelInputPipeline input, BackendKind backend)
    {
        using var stdout = Console.OpenStandardOutput();
        using var w = new Utf8JsonWriter(stdout, new JsonWriterOptions { Indented = false });
        w.WriteStartObject();
        w.WriteString("backend", BackendName(backend));
        w.WriteStartArray("results");
        foreach (var (image, latency, top) in results)
        {
            w.WriteStartObject();
            w.WriteString("image", image);
            w.WriteNumber("latency_ms", Math.Round(latency, 3));
            w.WriteStartArray("top");
            foreach (var c in top)
            {
                w.WriteStartObject();
                w.WriteNumber("index", c.Index);
                w.WriteString("label", input.Label(c.Index));
                w.WriteNumber("score", Math.Round(c.Score, 6));
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
        w.Flush();
        stdout.WriteByte((byte)'\n');
    }

    internal static string BackendName(BackendKind b) => b == BackendKind.Ort ? "onnxruntime" : "native";
}
