using System.CommandLine;

namespace ModelConverter.Cli;

/// <summary>
/// <c>modelconv</c>: the workstation tool that turns trained float ONNX models into int8 ones. Exit codes follow
/// <c>edgerun</c>: 0 ok, 2 usage, 3 bad model, 4 bad input.
/// </summary>
internal static class ModelconvCli
{
    public static int Run(string[] args)
    {
        var root = new RootCommand("modelconv — quantize and inspect ONNX models for EdgeRuntime")
        {
            InspectQuantizationCommand.Create(),
            QuantizeCommand.Create(),
            CompareCommand.Create(),
        };
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var e in parse.Errors) Console.Error.WriteLine($"modelconv: {e.Message}");
            return 2;
        }
        return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
    }

    /// <summary>Same error handling and exit codes as <c>edgerun</c>.</summary>
    public static int Guard(Func<int> body) => EdgeRuntime.Cli.EdgerunCli.Guard(body, "modelconv");

}
