namespace EdgeRuntime;

/// <summary>
/// A bad configuration: an invalid sidecar file (<c>model.edge.json</c>), labels file or command-line
/// preprocessing flag, or options that do not fit the model input. The message names the file (when
/// the problem is in one), the key and the problem. The CLI maps it to exit code 2.
/// </summary>
public sealed class ConfigurationException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="file">The configuration file, or null for command-line flags / merged options.</param>
    /// <param name="problem">What is wrong, without the location prefix.</param>
    /// <param name="key">The offending key or flag, when the problem is in one.</param>
    /// <param name="inner">The underlying exception, if any.</param>
    public ConfigurationException(string? file, string problem, string? key = null, Exception? inner = null)
        : base(Compose(file, problem, key), inner)
    {
        File = file;
        Problem = problem;
        Key = key;
    }

    /// <summary>Path of the configuration file, when the problem is in one.</summary>
    public string? File { get; }

    /// <summary>The offending key (sidecar) or option name, when known.</summary>
    public string? Key { get; }

    /// <summary>What is wrong, without the location prefix.</summary>
    public string Problem { get; }

    private static string Compose(string? file, string problem, string? key)
    {
        var where = file ?? "<configuration>";
        if (key != null) where += $": '{key}'";
        return $"{where}: {problem}";
    }
}
