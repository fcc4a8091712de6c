namespace EdgeRuntime.Onnx;

/// <summary>
/// A model file that EdgeRuntime cannot load: not ONNX, truncated, inconsistent, over the configured
/// limits, or using ops/opsets EdgeRuntime does not support. The message names the file and, where
/// known, the node, its op type and what is wrong. The CLI maps it to exit code 3.
/// </summary>
public sealed class ModelFormatException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ModelFormatException(string? file, string problem, string? nodeName = null, string? opType = null, Exception? inner = null)
        : base(Compose(file, problem, nodeName, opType), inner)
    {
        File = file;
        Problem = problem;
        NodeName = nodeName;
        OpType = opType;
    }

    /// <summary>Path of the model file, when it came from a file.</summary>
    public string? File { get; }

    /// <summary>What is wrong, without the location prefix.</summary>
    public string Problem { get; }

    /// <summary>Name of the offending node, if the problem is in one.</summary>
    public string? NodeName { get; }

    /// <summary>Op type of the offending node, if the problem is in one.</summary>
    public string? OpType { get; }

    private static string Compose(string? file, string problem, string? nodeName, string? opType)
    {
        var where = file ?? "<model>";
        if (opType != null || nodeName != null)
            where += $": node '{nodeName ?? "?"}' ({opType ?? "?"})";
        return $"{where}: {problem}";
    }
}
