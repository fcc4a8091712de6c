using EdgeRuntime.Graph;
using EdgeRuntime.Tensors;

namespace EdgeRuntime.Execution;

/// <summary>Runs an <see cref="ExecutionPlan"/> on EdgeRuntime's kernels. A warm run allocates nothing.</summary>
internal sealed class NativeBackend : IInferenceBackend
{
    private readonly ExecutionPlan _plan;
    private readonly Tensor[] _publicOutputs;
    private readonly WorkerPool _workers;

    public NativeBackend(ExecutionPlan plan, WorkerPool workers, Kernels.Common.IsaPath isa)
    {
        _plan = plan;
        _workers = workers;
        Isa = isa;
        // Outputs declared float16 are computed in float32 and converted into their own float16 tensors.
        _publicOutputs = new Tensor[plan.OutputTensors.Length];
        for (int i = 0; i < _publicOutputs.Length; i++)
        {
            var declared = plan.Graph.Outputs[i];
            var computed = plan.OutputTensors[i];
            _publicOutputs[i] = declared.ElementType == TensorElementType.Float16
                ? new Tensor(TensorElementType.Float16, computed.Shape)
                : computed;
        }
    }

    public BackendKind Kind => BackendKind.Native;

    public ExecutionPlan Plan => _plan;

    public IReadOnlyList<Tensor> Run(ReadOnlySpan<Tensor> inputs)
    {
        for (int i = 0; i < inputs.Length; i++)
        {
            var target = _plan.InputTensors[i];
            var source = inputs[i];
            if (source.ElementType == TensorElementType.Float16 && target.ElementType == TensorElementType.Float32)
            {
                var src = source.AsSpan<Half>();
                var dst = target.AsSpan<float>();
                for (int k = 0; k < dst.Length; k++) dst[k] = (float)src[k];
            }
            else
            {
                source.Bytes.CopyTo(target.Bytes);
            }
        }

        _plan.Execute();

        for (int i = 0; i < _publicOutputs.Length; i++)
        {
            if (ReferenceEquals(_publicOutputs[i], _plan.OutputTensors[i])) continue;
            var src = _plan.OutputTensors[i].AsSpan<float>();
            var dst = _publicOutputs[i].AsSpan<Half>();
            for (int k = 0; k < dst.Length; k++) dst[k] = (Half)src[k];
        }
        return _publicOutputs;
    }

    /// <summary>Instruction-set path of the int8 kernels.</summary>
    public Kernels.Common.IsaPath Isa { get; }

    /// <summary>Threads the kernels split work across.</summary>
    public int ThreadCount => _workers.ThreadCount;

    public void Dispose() => _workers.Dispose();
}
