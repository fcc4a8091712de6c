namespace EdgeRuntime;

internal static class Program
{
    private static int Main(string[] args) => Cli.EdgerunCli.Run(args);
}
