namespace ModelConverter;

internal static class Program
{
    private static int Main(string[] args) => Cli.ModelconvCli.Run(args);
}
