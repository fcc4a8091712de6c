using System.CommandLine;
using System.Globalization;
using EdgeRuntime.Cli;
using ModelConverter.Quantization;
using Spectre.Console;

namespace ModelConverter.Cli;

/// <summary>
/// <c>modelconv quantize --model float.onnx --calibration DIR -o int8.onnx</c>: calibrates on the images in DIR
/// (preprocessed from the model's sidecar or the same flags as <c>edgerun</c>) and writes an int8 model (QDQ or
/// QOperator form). The output appears only when everything succeeded (temporary file, then rename).
/// </summary>
internal static class QuantizeCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Float ONNX model", Required = true };
        var calibration = new Option<string>("--calibration") { Description = "Folder of calibration images (searched recursively, used in name order)", Required = true };
        var output = new Option<string>("--output", "-o") { Description = "Output int8 ONNX model", Required = true };
        var count = new Option<int?>("--count") { Description = "Use at most N calibration images" };
        var method = new Option<string>("--method") { Description = "Range method: minmax, percentile or entropy", DefaultValueFactory = _ => "minmax" };
        var percentile = new Option<double>("--percentile") { Description = "Percentile for --method percentile", DefaultValueFactory = _ => 99.99 };
        var perChannel = new Option<bool>("--per-channel") { Description = "Weights per output channel (default)" };
        var perTensor = new Option<bool>("--per-tensor") { Description = "One weight scale per tensor" };
        var format = new Option<string>("--format") { Description = "qdq (default) or qoperator", DefaultValueFactory = _ => "qdq" };
        var activations = new Option<string>("--activations") { Description = "int8 (default) or uint8", DefaultValueFactory = _ => "int8" };
        var keepFloat = new Option<string[]>("--keep-float") { Description = "Node names that stay float", AllowMultipleArgumentsPerToken = true };
        var autoKeep = new Option<double?>("--auto-keep-float") { Description = "Keep float every layer whose output SQNR (dB) on the calibration images is below this" };
        var noBiasCorrection = new Option<bool>("--no-bias-correction") { Description = "Do not subtract the mean output shift caused by rounding the weights from Conv/Gemm biases (measured on the calibration images)" };
        var prep = new PreprocessingOptions();
        var cmd = new Command("quantize", "Quantize a float ONNX model to int8 with calibration images")
        {
            model, calibration, output, count, method, percentile, perChannel, perTensor, format, activations, keepFloat, autoKeep, noBiasCorrection,
        };
        prep.AddTo(cmd);
        cmd.SetAction(parse => ModelconvCli.Guard(() =>
        {
            if (parse.GetValue(perChannel) && parse.GetValue(perTensor)) throw new UsageException("--per-channel and --per-tensor exclude each other");
            var settings = new QuantizeSettings
            {
                Method = parse.GetValue(method)!.ToLowerInvariant() switch
                {
                    "minmax" => RangeMethod.MinMax,
                    "percentile" => RangeMethod.Percentile,
                    "entropy" => RangeMethod.Entropy,
                    var m => throw new UsageException($"--method must be minmax, percentile or entropy, not '{m}'"),
                },
                Percentile = parse.GetValue(percentile) is var p && p > 50 && p <= 100 ? p : throw new UsageException("--percentile must be in (50, 100]"),
                PerChannel = !parse.GetValue(perTensor),
                BiasCorrection = !parse.GetValue(noBiasCorrection),
                Format = parse.GetValue(format)!.ToLowerInvariant() switch
                {
                    "qdq" => QuantFormat.Qdq,
                    "qoperator" => QuantFormat.QOperator,
                    var f => throw new UsageException($"--format must be qdq or qoperator, not '{f}'"),
                },
                UnsignedActivations = parse.GetValue(activations)!.ToLowerInvariant() switch
                {
                    "int8" => false,
                    "uint8" => true,
                    var a => throw new UsageException($"--activations must be int8 or uint8, not '{a}'"),
                },
            };
            if (parse.GetValue(count) is <= 0) throw new UsageException("--count must be positive");
            return Run(new QuantizeRequest
            {
                ModelPath = parse.GetValue(model)!,
                Images = CalibrationImages.List(parse.GetValue(calibration)!, parse.GetValue(count)),
                Preprocessing = prep.Read(parse),
                Settings = settings,
                KeepFloat = parse.GetValue(keepFloat) ?? [],
                AutoKeepFloatDb = parse.GetValue(autoKeep),
            }, parse.GetValue(output)!);
        }));
        return cmd;
    }

    public static int Run(QuantizeRequest request, string outputPath)
    {
        var inv = CultureInfo.InvariantCulture;
        void Log(string message) => Console.Error.WriteLine($"modelconv: {message}");
        QuantizeResult result;
        if (!Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive)
        {
            result = null!;
            AnsiConsole.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .Start(ctx =>
                {
                    var tasks = new Dictionary<string, ProgressTask>();
                    result = ModelQuantizer.Quantize(request, (stage, done, total) =>
                    {
                        if (!tasks.TryGetValue(stage, out var task)) tasks[stage] = task = ctx.AddTask(stage, maxValue: total);
                        task.Value = done;
                    }, Log);
                });
        }
        else
        {
            int lastTenth = -1;
            result = ModelQuantizer.Quantize(request, (stage, done, total) =>
            {
                int tenth = done * 10 / total;
                if (tenth != lastTenth || done == total) { lastTenth = tenth; Console.WriteLine($"{stage}: {done}/{total} images"); }
                if (done == total) lastTenth = -1;
            }, Log);
        }
        AtomicFile.Write(outputPath, stream => stream.Write(result.Model));
        foreach (var n in result.Notes) Console.WriteLine($"prepared: {n}");
        foreach (var w in result.Warnings) Log($"warning: {w}");
        foreach (var (t, db) in result.Sqnr.OrderBy(kv => kv.Value).Take(10)) Console.WriteLine($"SQNR {db.ToString("F1", inv),7} dB  {t}");
        if (result.KeptFloat.Count > 0) Console.WriteLine($"kept float: {string.Join(", ", result.KeptFloat)}");
        Console.WriteLine($"quantized {result.QuantizedNodes} node(s), {result.FloatNodes} float; calibration on {request.Images.Count} image(s) took {result.CalibrationTime.TotalSeconds.ToString("F1", inv)} s");
        Console.WriteLine($"wrote {outputPath}");
        return 0;
    }
}
