using System.Diagnostics;
using EdgeRuntime.Execution;
using EdgeRuntime.Tensors;
using EdgeRuntime.Tests.Infrastructure;
using EdgeRuntime.Tests.Infrastructure.ModelZoo;
using Microsoft.ML.OnnxRuntime;
using ModelConverter.Quantization;
using Xunit;

namespace EdgeRuntime.Tests.ModelConverter;

/// <summary>What one zoo model measured after quantization (one row of the table the tests print).</summary>
internal sealed record ZooQuantizationRow(
    string Model, string Variant, int Agree, int Total, double LogitsSqnrDb, double FloatNoiseSensitivityDb, OrtMode Oracle, double MaxLsbNativeVsOracle, double MaxLsbNativeVsOtherOrtMode, float LogitsLsb,
    double MaxProbabilityDiff, int NativeIntegerNodes, string NativeFloatOps, TimeSpan Build, TimeSpan Quantize, TimeSpan Evaluate)
{
    public const string Header =
        "| model | variant | top-1 agree | logits SQNR | float logits SNR at 40 dB input noise | ORT oracle | max LSB native vs oracle | vs other ORT mode | logits LSB | max Δp native-ORT | native QLinear nodes | native float ops | build | quantize | evaluate |\n" +
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|";

    public override string ToString() =>
        $"| {Model} | {Variant} | {Agree}/{Total} ({100.0 * Agree / Total:0}%) | {LogitsSqnrDb:0.0} dB | {FloatNoiseSensitivityDb:0.0} dB | {Oracle} | {MaxLsbNativeVsOracle:0.##} | {MaxLsbNativeVsOtherOrtMode:0.##} | {LogitsLsb:0.0000} | {MaxProbabilityDiff:E1} | " +
        $"{NativeIntegerNodes} | {NativeFloatOps} | {Build.TotalSeconds:0.0}s | {Quantize.TotalSeconds:0.0}s | {Evaluate.TotalSeconds:0.0}s |";
}

/// <summary>How <see cref="ZooQuantizationSupport.OrtSession"/> runs a model.</summary>
internal enum OrtMode
{
    Reference,
    Integer,
}

/// <summary>
/// Builds a zoo model whose BatchNormalization statistics come from real photos, quantizes it with modelconv's quantizer
/// calibrated on the same photos, and measures the int8 model against ONNX Runtime and against the float model on
/// held-out photos.
/// </summary>
/// <remarks>
/// Photos: every photo of <c>$EDGE_SHARED/images</c>, sorted by path; even positions calibrate (BN statistics and
/// activation ranges), odd positions evaluate, each also mirrored left-right (a different input with the same content,
/// which doubles the evaluation set without a photo being used on both sides).
/// The zoo model gets its logits (the classifier output before the float Softmax) as a second graph output, so the
/// quantized model exposes them as a dequantized int8 tensor: native and ONNX Runtime are compared on that tensor in
/// units of its scale (1 LSB), and on the probabilities with the tolerance 1 LSB of the logits implies (see
/// <see cref="ProbabilityTolerance"/>).
/// The ONNX Runtime oracle is its integer execution of the int8 model (<see cref="OrtMode.Integer"/>), which native
/// matches bit for bit on every intermediate int8 tensor (uint8 activations: see the oracle choice in
/// <see cref="QuantizeAndMeasure"/>). ONNX Runtime's unfused QDQ reference
/// (<see cref="OrtMode.Reference"/>) computes each layer in float and differs from any integer engine, ONNX Runtime's own
/// included, by 1 LSB on rare near-ties (about one element in 10⁵ in the first layers); deep random-weight networks
/// amplify those into tens of LSB of intermediate tensors and several LSB of logits, so that distance is reported, not
/// asserted.
/// </remarks>
internal static class ZooQuantizationSupport
{
    private static readonly Lazy<(string[] Calibration, string[] Evaluation)> PhotoSplit = new(() =>
    {
        var photos = SharedData.AllPhotos();
        return (photos.Where((_, i) => i % 2 == 0).ToArray(), photos.Where((_, i) => i % 2 == 1).ToArray());
    });

    public static string[] CalibrationPhotos => PhotoSplit.Value.Calibration;

    public static string[] EvaluationPhotos => PhotoSplit.Value.Evaluation;

    /// <summary>
    /// When every logit moves by at most δ, each Softmax probability changes by |Δp_i| ≤ p_i·(e^{2δ} − 1) (numerator and
    /// denominator each change by a factor within e^{±δ}); so 1 LSB of the logits allows
    /// |Δp| ≤ e^{2·LSB} − 1, plus float rounding of the two Softmax implementations.
    /// </summary>
    public static double ProbabilityTolerance(float logitsLsb) => Math.Exp(2.0 * logitsLsb) - 1 + 1e-6;

    /// <summary>
    /// A model on ONNX Runtime, one session for many inputs. <see cref="OrtMode.Reference"/>: graph optimizations off,
    /// so a QDQ model runs as written (DequantizeLinear → float op → QuantizeLinear), the spec's reference semantics.
    /// <see cref="OrtMode.Integer"/>: all optimizations and <c>session.qdqisint8allowed = 1</c>, so ONNX Runtime fuses
    /// the int8 QDQ groups into its integer kernels (QLinearConv, QLinearAdd, …) as it does by default on ARM64 — the
    /// Pi's ONNX Runtime; on x64 it only fuses uint8 unless told to).
    /// </summary>
    public sealed class OrtSession : IDisposable
    {
        private readonly SessionOptions _options;
        private readonly InferenceSession _session;

        public OrtSession(byte[] model, OrtMode mode = OrtMode.Reference)
        {
            _options = new SessionOptions
            {
                GraphOptimizationLevel = mode == OrtMode.Integer ? GraphOptimizationLevel.ORT_ENABLE_ALL : GraphOptimizationLevel.ORT_DISABLE_ALL,
                IntraOpNumThreads = 1,
            };
            if (mode == OrtMode.Integer) _options.AddSessionConfigEntry("session.qdqisint8allowed", "1");
            _session = new InferenceSession(model, _options);
        }

        public Dictionary<string, float[]> Run(string inputName, Tensor input)
        {
            using var value = EdgeRuntime.Fallback.OrtTensorConversion.ToOrtValue(input);
            using var runOptions = new RunOptions();
            var names = _session.OutputNames;
            using var outputs = _session.Run(runOptions, new Dictionary<string, OrtValue> { [inputName] = value }, names);
            var result = new Dictionary<string, float[]>();
            int i = 0;
            foreach (var o in outputs) result[names[i++]] = EdgeRuntime.Fallback.OrtTensorConversion.FromOrtValue(o).ToFloatArray();
            return result;
        }

        public void Dispose()
        {
            _session.Dispose();
            _options.Dispose();
        }
    }

    /// <summary>
    /// Preprocessed float inputs of the evaluation photos for the model's first input, each followed by its mirror image
    /// when <paramref name="mirrored"/> (input i is photo i / 2, mirrored when i is odd; otherwise input i is photo i).
    /// </summary>
    public static Tensor[] EvaluationInputs(string modelPath, byte[] floatModel, bool mirrored = true)
    {
        var inputs = QuantizeTestSupport.Inputs(modelPath, floatModel, EvaluationPhotos, null);
        return mirrored ? inputs.SelectMany(t => new[] { t, Mirror(t) }).ToArray() : inputs;
    }

    /// <summary>Calibration photos preprocessed for the zoo builder's BatchNormalization statistics.</summary>
    public static Tensor[] CalibrationInputs(int resolution)
    {
        int[] shape = [1, 3, resolution, resolution];
        var options = EdgeRuntime.Imaging.PreprocessOptions.DefaultsFor(TensorElementType.Float32, shape);
        return CalibrationPhotos.Select(p => Models.ModelTestSupport.Preprocess(p, options, TensorElementType.Float32, shape)).ToArray();
    }

    /// <summary>
    /// Input SNR of the noise-sensitivity probe: white Gaussian noise at 40 dB below the input's power (int8 quantization of
    /// the input alone measures 43–47 dB here). How much the float model degrades its logits under it says how much any
    /// small perturbation, quantization included, is amplified by the network (random-weight models can be far more
    /// sensitive than trained ones).
    /// </summary>
    public const double SensitivityInputSnrDb = 40;

    /// <summary><paramref name="t"/> plus white Gaussian noise at <paramref name="snrDb"/> below its mean power.</summary>
    public static Tensor WithNoise(Tensor t, double snrDb, Random rng)
    {
        var v = t.ToFloatArray();
        double power = v.Average(x => (double)x * x);
        double std = Math.Sqrt(power / Math.Pow(10, snrDb / 10));
        for (int i = 0; i < v.Length; i++)
            v[i] += (float)(std * Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()));
        return Tensor.FromFloats(t.Shape, v);
    }

    /// <summary>Left-right mirror of an NCHW tensor.</summary>
    public static Tensor Mirror(Tensor t)
    {
        var src = t.ToFloatArray();
        var dst = new float[src.Length];
        int w = t.Shape[^1];
        for (int row = 0; row < src.Length / w; row++)
            for (int x = 0; x < w; x++) dst[row * w + x] = src[row * w + w - 1 - x];
        return Tensor.FromFloats(t.Shape, dst);
    }

    /// <summary>
    /// The zoo model <paramref name="name"/> (with BN statistics from the calibration photos) quantized with
    /// <paramref name="settings"/>, checked: it loads on ONNX Runtime and natively with every node native, native logits
    /// within 1 LSB of ONNX Runtime's (and probabilities within <see cref="ProbabilityTolerance"/>), and its top-1
    /// agreement with the float model and logits SQNR measured. Fails with the op names when a node is not native.
    /// </summary>
    public static ZooQuantizationRow QuantizeAndMeasure(string name, ZooOptions options, QuantizeSettings settings, string variant, Action<string> log)
    {
        var watch = Stopwatch.StartNew();
        var zoo = ModelZoo.Build(name, options with { CalibrationInputs = CalibrationInputs(options.Resolution) });
        var floatBytes = zoo.WithExtraOutputs(zoo.LogitsName);
        var build = watch.Elapsed;

        var dir = QuantizeTestSupport.TempDir();
        try
        {
            var floatPath = QuantizeTestSupport.Save(dir, $"{name}.onnx", floatBytes);
            watch.Restart();
            var result = QuantizeTestSupport.Quantize(floatPath, CalibrationPhotos, settings);
            var quantize = watch.Elapsed;
            var q = result.Model;
            foreach (var w in result.Warnings) log($"quantizer warning: {w}");
            if (result.KeptFloat.Count > 0) log("kept float: " + string.Join(", ", result.KeptFloat));
            log($"{zoo}; quantized nodes {result.QuantizedNodes}, float nodes {result.FloatNodes}, calibration {result.CalibrationTime.TotalSeconds:0.0}s");

            watch.Restart();
            var graph = QuantizeTestSupport.Read(q);
            float lsb = graph.Initializers.TryGetValue(zoo.LogitsName + "_scale", out var scale)
                ? scale.AsSpan<float>()[0]
                : throw new Xunit.Sdk.XunitException($"{name} ({variant}): the quantized model has no '{zoo.LogitsName}_scale': the logits are not quantized");

            // (a) every node has a native kernel (Auto would silently fall back to ONNX Runtime), then load natively.
            using (var auto = EdgeModel.Load(q, name + " int8", new EdgeModelOptions { Backend = BackendKind.Auto, Threads = 1 }))
                Assert.True(auto.UnsupportedNodes.Count == 0,
                    $"{name} ({variant}): no native kernel for {GraphPlanner.DescribeUnsupported(auto.UnsupportedNodes)}");
            using var native = EdgeModel.Load(q, name + " int8", new EdgeModelOptions { Backend = BackendKind.Native, Threads = 1 });
            Assert.Equal(BackendKind.Native, native.Backend);
            var fusedOps = native.Graph.Nodes.GroupBy(n => n.OpType).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key}×{g.Count()}");
            log("native graph after QDQ fusion: " + string.Join(", ", fusedOps));
            int integerNodes = native.Graph.Nodes.Count(n => n.OpType.StartsWith("QLinear", StringComparison.Ordinal));
            string floatOps = string.Join(" ", native.Graph.Nodes.Where(IsFloatCompute).GroupBy(n => n.OpType).Select(g => $"{g.Key}×{g.Count()}"));
            int logitsIndex = native.Outputs.Select(o => o.Name).ToList().IndexOf(zoo.LogitsName);
            int probsIndex = native.Outputs.Select(o => o.Name).ToList().IndexOf(zoo.OutputName);
            Assert.True(logitsIndex >= 0 && probsIndex >= 0, $"{name} ({variant}): quantized outputs {string.Join(", ", native.Outputs.Select(o => o.Name))}");

            using var ortFloat = new OrtSession(floatBytes);
            // The oracle: ONNX Runtime's integer kernels for int8 activations; its QDQ reference for uint8, because on x64
            // without VNNI its uint8×int8 kernels sum pairs of products in saturating int16 (VPMADDUBSW) and drift from its own
            // reference (measured on MobileNetV2 0.5 at 64 px: 38 LSB at the first conv, up to 255 LSB deeper) while native matches
            // the reference on every tensor but rare near-ties (see the remarks: hence the uint8 case uses a shallow network).
            var oracleMode = settings.UnsignedActivations ? OrtMode.Reference : OrtMode.Integer;
            using var oracle = new OrtSession(q, oracleMode);
            using var other = new OrtSession(q, oracleMode == OrtMode.Integer ? OrtMode.Reference : OrtMode.Integer);
            var inputs = EvaluationInputs(floatPath, floatBytes);
            int agree = 0;
            var noiseRng = new Random(12345);
            double sensitivityNoise = 0, signal = 0, noise = 0, maxLsb = 0, maxLsbOther = 0, maxProbabilityDiff = 0;
            for (int i = 0; i < inputs.Length; i++)
            {
                string what = $"{name} ({variant}), {Path.GetFileName(EvaluationPhotos[i / 2])}{(i % 2 == 1 ? " mirrored" : "")}";
                var outputs = native.Run(inputs[i]);
                float[] nativeLogits = outputs[logitsIndex].ToFloatArray(), nativeProbs = outputs[probsIndex].ToFloatArray();
                var ort = oracle.Run(zoo.InputName, inputs[i]);
                var otherLogits = other.Run(zoo.InputName, inputs[i])[zoo.LogitsName];
                for (int k = 0; k < otherLogits.Length; k++) maxLsbOther = Math.Max(maxLsbOther, Math.Abs(nativeLogits[k] - otherLogits[k]) / lsb);
                float[] ortLogits = ort[zoo.LogitsName], ortProbs = ort[zoo.OutputName];
                float[] floatLogits = ortFloat.Run(zoo.InputName, inputs[i])[zoo.LogitsName];
                float[] noisyLogits = ortFloat.Run(zoo.InputName, WithNoise(inputs[i], SensitivityInputSnrDb, noiseRng))[zoo.LogitsName];

                // (b) native vs ONNX Runtime: logits within 1 LSB, probabilities within what 1 LSB of logits allows.
                for (int k = 0; k < nativeLogits.Length; k++)
                {
                    double d = Math.Abs(nativeLogits[k] - ortLogits[k]) / lsb;
                    maxLsb = Math.Max(maxLsb, d);
                    Assert.True(d <= 1.0001, $"{what}: logit {k} native {nativeLogits[k]} ORT {ortLogits[k]} = {d:0.00} LSB (LSB {lsb})");
                    double dp = Math.Abs(nativeProbs[k] - ortProbs[k]);
                    maxProbabilityDiff = Math.Max(maxProbabilityDiff, dp);
                    Assert.True(dp <= ProbabilityTolerance(lsb), $"{what}: probability {k} native {nativeProbs[k]} ORT {ortProbs[k]} (tolerance {ProbabilityTolerance(lsb):E2})");
                }

                // (c) against the float model: top-1 agreement, and SQNR of the logits over all evaluation inputs.
                if (QuantizeTestSupport.ArgMax(nativeLogits) == QuantizeTestSupport.ArgMax(floatLogits)) agree++;
                for (int k = 0; k < floatLogits.Length; k++)
                {
                    signal += (double)floatLogits[k] * floatLogits[k];
                    noise += (double)(floatLogits[k] - nativeLogits[k]) * (floatLogits[k] - nativeLogits[k]);
                    sensitivityNoise += (double)(floatLogits[k] - noisyLogits[k]) * (floatLogits[k] - noisyLogits[k]);
                }
            }
            double sqnr = noise == 0 ? double.PositiveInfinity : 10 * Math.Log10(signal / noise);
            double sensitivity = 10 * Math.Log10(signal / sensitivityNoise);
            return new ZooQuantizationRow(name, variant, agree, inputs.Length, sqnr, sensitivity, oracleMode, maxLsb, maxLsbOther, lsb, maxProbabilityDiff, integerNodes, floatOps, build, quantize, watch.Elapsed);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>
    /// Native node that still computes in float after QDQ fusion: not an integer QLinear* op, not a Quantize/DequantizeLinear
    /// boundary, and not a data-movement op (those run on whatever type they receive).
    /// </summary>
    private static bool IsFloatCompute(EdgeRuntime.Graph.Node n) =>
        !n.OpType.StartsWith("QLinear", StringComparison.Ordinal)
        && n.OpType is not ("QuantizeLinear" or "DequantizeLinear" or "MaxPool" or "Reshape" or "Flatten" or "Transpose" or "Squeeze" or "Unsqueeze" or "Identity");
}
