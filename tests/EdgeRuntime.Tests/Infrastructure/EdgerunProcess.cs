using System.Diagnostics;

namespace EdgeRuntime.Tests.Infrastructure;

/// <summary>Runs the real <c>edgerun</c> executable (copied next to the tests by the project reference).</summary>
internal static class EdgerunProcess
{
    public sealed record Result(int ExitCode, string StdOut, string StdErr);

    public static Result Run(params string[] args) => RunTool("edgerun", args);

    /// <summary>Runs another tool built next to the tests (e.g. <c>modelconv</c>).</summary>
    public static Result RunTool(string tool, params string[] args)
    {
        var exe = Path.Combine(AppContext.BaseDirectory, tool);
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromSeconds(120)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{tool} {string.Join(' ', args)} did not finish in 120 s");
        }
        return new Result(p.ExitCode, stdout.Result, stderr.Result);
    }
}
