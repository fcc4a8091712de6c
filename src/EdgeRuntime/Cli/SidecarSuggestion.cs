using EdgeRuntime.Graph;
using EdgeRuntime.Imaging;

namespace EdgeRuntime.Cli;

/// <summary>Builds the text of <c>edgerun inspect --suggest-sidecar</c>: the defaults EdgeRuntime infers for the first input.</summary>
internal static class SidecarSuggestion
{
    public static string For(ModelGraph graph)
    {
        if (graph.Inputs.Count == 0) throw new ConfigurationException(graph.SourcePath, "the model has no inputs");
        var input = graph.Inputs[0];
        return PreprocessOptions.DefaultsFor(input.ElementType, input.Shape).ToSidecarJson();
    }
}
