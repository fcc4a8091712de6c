namespace EdgeRuntime.Cli;

/// <summary>The <c>edgerun</c> command line.</summary>
internal static class EdgerunCli
{
    public static int Run(string[] args)
    {
        Console.Error.WriteLine("edgerun: not yet wired");
        return 2;
    }
}
