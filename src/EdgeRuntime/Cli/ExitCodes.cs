namespace EdgeRuntime.Cli;

/// <summary>Process exit codes of <c>edgerun</c> (documented in README.md).</summary>
internal static class ExitCodes
{
    /// <summary>Success.</summary>
    public const int Ok = 0;
    /// <summary>A failure that is none of the below (e.g. selftest found a mismatch).</summary>
    public const int Failure = 1;
    /// <summary>Bad command line or configuration (flags, sidecar JSON, labels file).</summary>
    public const int Usage = 2;
    /// <summary>Bad model: unreadable, malformed, over limits, or unsupported where native was required.</summary>
    public const int BadModel = 3;
    /// <summary>Bad input: an image or tensor that cannot be read or does not fit the model.</summary>
    public const int BadInput = 4;
}
