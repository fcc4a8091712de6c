using EdgeRuntime.Tensors;

namespace EdgeRuntime.Execution;

/// <summary>An engine behind <see cref="EdgeModel"/>.</summary>
internal interface IInferenceBackend : IDisposable
{
    /// <summary>Which engine this is.</summary>
    BackendKind Kind { get; }

    /// <summary>
    /// Runs the model. <paramref name="inputs"/> are validated by the caller against the declared inputs.
    /// Returns the outputs in graph output order, typed as declared; the tensors may be reused by the next run.
    /// </summary>
    IReadOnlyList<Tensor> Run(ReadOnlySpan<Tensor> inputs);
}
