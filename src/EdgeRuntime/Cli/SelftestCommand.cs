using System.CommandLine;
using EdgeRuntime.Kernels.Common;
using EdgeRuntime.Kernels.SelfTest;

namespace EdgeRuntime.Cli;

/// <summary>
/// <c>edgerun selftest [--isa NAME]...</c>: runs <see cref="KernelSelfTest"/> on this CPU and prints the supported
/// instruction-set paths, the paths exercised, per-group counts, the first mismatches, and a final
/// <c>N passed, N failed</c> line. Exit code 0 when everything matched, 1 otherwise, 2 for a bad or unsupported --isa.
/// Without --isa it exercises every supported path, or only the one named by <c>EDGE_ISA</c> when that is set.
/// </summary>
internal static class SelftestCommand
{
    public static Command Create()
    {
        var isa = new Option<string[]>("--isa")
        {
            Description = "Path to check (repeatable): " + string.Join(", ", Enum.GetValues<IsaPath>().Select(CpuFeatures.Name)) +
                          ". Default: every path this CPU supports (or only EDGE_ISA's when set)",
        };
        var cmd = new Command("selftest", "Check that the SIMD kernels give bit-identical results to the scalar definition on this CPU") { isa };
        cmd.SetAction(parse => EdgerunCli.Guard(() => Run(parse.GetValue(isa) ?? [])));
        return cmd;
    }

    private static int Run(string[] isaNames)
    {
        var o = Console.Out;
        var supported = CpuFeatures.Supported;
        o.WriteLine($"Supported: {string.Join(" ", supported.Select(CpuFeatures.Name))}");

        var requested = new List<IsaPath>();
        foreach (var name in isaNames.SelectMany(n => n.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
        {
            if (!CpuFeatures.TryParse(name, out var path))
                throw new UsageException($"--isa '{name}' is not a known path (one of: {string.Join(", ", Enum.GetValues<IsaPath>().Select(CpuFeatures.Name))})");
            if (!CpuFeatures.IsSupported(path))
                throw new UsageException($"--isa '{name}' is not supported by this CPU (supported: {string.Join(", ", supported.Select(CpuFeatures.Name))})");
            requested.Add(path);
        }
        if (requested.Count == 0 && !string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(CpuFeatures.EnvironmentVariable)))
        {
            try
            {
                requested.Add(CpuFeatures.Active);
            }
            catch (IsaNotSupportedException ex)
            {
                throw new UsageException(ex.Message);
            }
        }

        var report = KernelSelfTest.Run(requested.Count > 0 ? requested : null);
        o.WriteLine($"Exercised: {string.Join(" ", report.Exercised.Select(CpuFeatures.Name))}");
        foreach (var g in report.Groups)
            o.WriteLine($"  {CpuFeatures.Name(g.Path),-11} {g.Group,-20} {g.Passed,6} passed, {g.Failed,4} failed");
        var failing = report.Groups.Where(g => g.Failed > 0).ToArray();
        if (failing.Length > 0)
        {
            o.WriteLine("Mismatches (first few per group):");
            foreach (var g in failing)
                foreach (var detail in g.Failures)
                    o.WriteLine($"  {CpuFeatures.Name(g.Path)} {g.Group}: {detail}");
        }
        o.WriteLine($"{report.Passed} passed, {report.Failed} failed");
        return report.Failed == 0 ? ExitCodes.Ok : ExitCodes.Failure;
    }
}
