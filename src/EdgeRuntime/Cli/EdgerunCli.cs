using System.CommandLine;
using EdgeRuntime.Onnx;

namespace EdgeRuntime.Cli;

/// <summary>The <c>edgerun</c> command line: parses arguments, runs a command, maps errors to exit codes.</summary>
internal static class EdgerunCli
{
    public static int Run(string[] args)
    {
        var root = new RootCommand("edgerun — run image-classification CNNs (ONNX, float and int8) on the edge")
        {
            ClassifyCommand.Create(),
            InspectCommand.Create(),
            BenchCommand.Create(),
            SelftestCommand.Create(),
        };
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var e in parse.Errors) Console.Error.WriteLine($"edgerun: {e.Message}");
            Console.Error.WriteLine("Run 'edgerun --help' for usage.");
            return ExitCodes.Usage;
        }
        return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
    }

    /// <summary>Runs a command body, turning EdgeRuntime's typed errors into a one-line message and an exit code.</summary>
    public static int Guard(Func<int> body, string tool = "edgerun")
    {
        try
        {
            return body();
        }
        catch (ModelFormatException ex)
        {
            Console.Error.WriteLine($"{tool}: bad model: {ex.Message}");
            return ExitCodes.BadModel;
        }
        catch (InvalidInputException ex)
        {
            Console.Error.WriteLine($"{tool}: bad input: {ex.Message}");
            return ExitCodes.BadInput;
        }
        catch (ConfigurationException ex)
        {
            Console.Error.WriteLine($"{tool}: bad configuration: {ex.Message}");
            return ExitCodes.Usage;
        }
        catch (EdgeRuntime.Kernels.Common.IsaNotSupportedException ex)
        {
            Console.Error.WriteLine($"{tool}: {ex.Message}");
            return ExitCodes.Usage;
        }
        catch (UsageException ex)
        {
            Console.Error.WriteLine($"{tool}: {ex.Message}");
            return ExitCodes.Usage;
        }
    }
}

/// <summary>A command-line mistake found after parsing (e.g. an option value out of range).</summary>
internal sealed class UsageException(string message) : Exception(message);
