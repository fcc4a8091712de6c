namespace EdgeRuntime;

/// <summary>
/// An input image or tensor that EdgeRuntime cannot use: missing, unreadable, of an unsupported format,
/// truncated or corrupt, empty, or larger than the configured limit. The message names the source
/// (file path or stream name) and the problem. The CLI maps it to exit code 4.
/// </summary>
public sealed class InvalidInputException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="source">File path or a descriptive name of the in-memory source (e.g. <c>camera frame 17</c>).</param>
    /// <param name="problem">What is wrong, without the location prefix.</param>
    /// <param name="inner">The underlying exception, if any.</param>
    public InvalidInputException(string? source, string problem, Exception? inner = null)
        : base($"{source ?? "<input>"}: {problem}", inner)
    {
        InputName = source;
        Problem = problem;
    }

    /// <summary>File path or name of the input, when known.</summary>
    public string? InputName { get; }

    /// <summary>What is wrong, without the location prefix.</summary>
    public string Problem { get; }
}
