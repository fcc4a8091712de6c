using System.CommandLine;
using EdgeRuntime.Cli;
using EdgeRuntime.Execution;
using ModelConverter.Comparison;

namespace ModelConverter.Cli;

/// <summary>
/// <c>modelconv compare --float F --quant Q --images DIR [--labels L] [--count N] [--report R.json] [--chart C.png]</c>
/// plus edgerun's preprocessing flags: how far the quantized model's predictions and every layer's activations are
/// from the float model's (see <see cref="ModelComparison"/>).
/// </summary>
/// <remarks>
/// <c>--labels</c> here is the ground truth (a folder with one subfolder per class, or an IMAGE&lt;TAB&gt;CLASS file);
/// the model's own class-names file, which edgerun takes as <c>--labels</c>, is <c>--class-names</c> here (default:
/// the sidecar's <c>labels</c>). Exit codes as edgerun: 0 ok, 2 usage/configuration, 3 bad model, 4 bad input.
/// </remarks>
internal static class CompareCommand
{
    public static Command Create()
    {
        var floatModel = new Option<string>("--float") { Description = "The float ONNX model", Required = true };
        var quantModel = new Option<string>("--quant") { Description = "The quantized ONNX model", Required = true };
        var images = new Option<string>("--images") { Description = "Folder of images (searched recursively)", Required = true };
        var labels = new Option<string?>("--labels") { Description = "Ground truth for accuracy: a folder with one subfolder per class (e.g. the --images folder), or a file of IMAGE<TAB>CLASS lines" };
        var count = new Option<int?>("--count") { Description = "Use only the first N images (sorted by path)" };
        var report = new Option<string?>("--report") { Description = "Write the results as JSON to this file" };
        var chart = new Option<string?>("--chart") { Description = "Write a PNG bar chart of per-layer SQNR to this file" };
        var backend = new Option<string>("--backend") { Description = "Engine for both models: auto (native, ONNX Runtime when a node has no kernel), native or ort", DefaultValueFactory = _ => "auto" };
        backend.AcceptOnlyFromAmong("auto", "native", "ort");
        var threads = new Option<int>("--threads") { Description = "Threads per engine (0 = one per core)" };
        var quiet = new Option<bool>("--quiet") { Description = "Do not print a line per image" };

        var cmd = new Command("compare", "Measure what quantization cost: prediction agreement, accuracy and per-layer SQNR of an int8 model against its float model")
        {
            floatModel, quantModel, images, labels, count, report, chart, backend, threads, quiet,
        };
        // edgerun's --labels (the model's class names) is --class-names here: compare's --labels is the ground truth.
        var preprocessing = new PreprocessingOptions(labelsFlag: "--class-names");
        preprocessing.AddTo(cmd);

        cmd.SetAction(parse => ModelconvCli.Guard(() =>
        {
            int? n = parse.GetValue(count);
            if (n is <= 0) throw new UsageException($"--count must be positive, got {n}");
            if (parse.GetValue(threads) < 0) throw new UsageException("--threads must be 0 or positive");
            var overrides = preprocessing.Read(parse);
            bool verbose = !parse.GetValue(quiet);
            var result = ModelComparison.Run(new ComparisonRequest
            {
                FloatModel = parse.GetValue(floatModel)!,
                QuantModel = parse.GetValue(quantModel)!,
                Images = parse.GetValue(images)!,
                Labels = parse.GetValue(labels),
                Count = n,
                Preprocessing = overrides,
                Backend = parse.GetValue(backend) switch { "native" => BackendKind.Native, "ort" => BackendKind.Ort, _ => BackendKind.Auto },
                Threads = parse.GetValue(threads),
                Log = verbose ? Console.Error.WriteLine : null,
            });
            Console.Write(result.ToText());
            if (parse.GetValue(report) is { } reportPath)
            {
                result.SaveJson(reportPath);
                Console.WriteLine($"Report  {reportPath}");
            }
            if (parse.GetValue(chart) is { } chartPath)
            {
                if (SqnrChart.Save(result, chartPath) is { } warning) Console.Error.WriteLine($"modelconv: {warning}");
                Console.WriteLine($"Chart   {chartPath}");
            }
            return ExitCodes.Ok;
        }));
        return cmd;
    }
}
