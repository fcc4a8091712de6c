using EdgeRuntime.Fallback;
using EdgeRuntime.Tensors;
using Microsoft.ML.OnnxRuntime;

namespace EdgeRuntime.Tests.Infrastructure;

/// <summary>Runs a model on ONNX Runtime: the oracle for every op and model test.</summary>
public static class OrtRunner
{
    /// <summary>Runs <paramref name="model"/> (bytes) on the inputs and returns all graph outputs by name.</summary>
    public static Dictionary<string, Tensor> Run(byte[] model, IReadOnlyDictionary<string, Tensor> inputs)
    {
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL, IntraOpNumThreads = 1 };
        using var session = new InferenceSession(model, options);
        return Run(session, inputs);
    }

    /// <summary>Runs a model file.</summary>
    public static Dictionary<string, Tensor> Run(string modelPath, IReadOnlyDictionary<string, Tensor> inputs, bool optimize = false)
    {
        using var options = new SessionOptions
        {
            GraphOptimizationLevel = optimize ? GraphOptimizationLevel.ORT_ENABLE_ALL : GraphOptimizationLevel.ORT_DISABLE_ALL,
            IntraOpNumThreads = 1,
        };
        using var session = new InferenceSession(modelPath, options);
        return Run(session, inputs);
    }

    private static Dictionary<string, Tensor> Run(InferenceSession session, IReadOnlyDictionary<string, Tensor> inputs)
    {
        var ortInputs = new Dictionary<string, OrtValue>();
        try
        {
            foreach (var (name, t) in inputs) ortInputs[name] = OrtTensorConversion.ToOrtValue(t);
            var names = session.OutputNames;
            using var runOptions = new RunOptions();
            using var outputs = session.Run(runOptions, ortInputs, names);
            var result = new Dictionary<string, Tensor>();
            int i = 0;
            foreach (var o in outputs) result[names[i++]] = OrtTensorConversion.FromOrtValue(o);
            return result;
        }
        finally
        {
            foreach (var v in ortInputs.Values) v.Dispose();
        }
    }
}
