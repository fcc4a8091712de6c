using System.CommandLine;
using EdgeRuntime;
using EdgeRuntime.Onnx;

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
        };
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var e in parse.Errors) Console.Error.WriteLine($"modelconv: {e.Message}");
            return 2;
        }
        return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
    }

    public static int Guard(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (ModelFormatException ex)
        {
            Console.Error.WriteLine($"modelconv: bad model: {ex.Message}");
            return 3;
        }
        catch (InvalidInputException ex)
        {
            Console.Error.WriteLine($"modelconv: bad input: {ex.Message}");
            return 4;
        }
        catch (ConfigurationException ex)
        {
            Console.Error.WriteLine($"modelconv: bad configuration: {ex.Message}");
            return 2;
        }
    }
}
