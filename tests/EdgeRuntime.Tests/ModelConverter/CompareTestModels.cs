using EdgeRuntime.Execution;
using EdgeRuntime.Imaging;
using EdgeRuntime.Tensors;
using EdgeRuntime.Tests.Infrastructure;

namespace EdgeRuntime.Tests.ModelConverter;

/// <summary>
/// A small float CNN (Conv 3→8 3x3 stride 2 → Relu → GlobalAveragePool → Flatten, 8 classes, 32x32 RGB input) and
/// two int8 twins written by hand with ONNX Runtime's quantizer naming: a QDQ one (every tensor T followed by
/// QuantizeLinear/DequantizeLinear with output <c>T_DequantizeLinear_Output</c>) and a QOperator one (QuantizeLinear →
/// <c>input_quantized</c>, QLinearConv → <c>conv_out_quantized</c>, scale/zero point in <c>T_scale</c>/<c>T_zero_point</c>,
/// then Relu, pooling and Flatten kept float under their own names). Activation ranges are calibrated on the real photos.
/// </summary>
internal sealed class CompareTestModels : IDisposable
{
    public const int Classes = 8;
    public static readonly string[] FloatTaps = ["conv_out", "relu_out", "gap_out", "logits"];

    public CompareTestModels()
    {
        Folder = Directory.CreateTempSubdirectory("modelconv-compare-").FullName;
        var rng = new Random(1234);
        Weights = new float[Classes * 3 * 3 * 3];
        for (int i = 0; i < Weights.Length; i++) Weights[i] = (float)(rng.NextDouble() * 2 - 1) * 0.4f;
        Bias = new float[Classes];
        for (int i = 0; i < Bias.Length; i++) Bias[i] = (float)(rng.NextDouble() * 2 - 1) * 0.2f;

        FloatModel = Path.Combine(Folder, "float.onnx");
        BuildFloat(extraOutputs: false).Save(FloatModel);
        Photos = SharedData.AllPhotos();

        // Calibration: min/max of every activation over all photos (float model on ONNX Runtime).
        var calibration = BuildFloat(extraOutputs: true).Build();
        var ranges = new Dictionary<string, (float Min, float Max)>();
        foreach (var input in Inputs())
        {
            var outputs = OrtRunner.Run(calibration, new Dictionary<string, Tensor> { ["input"] = input });
            outputs["input"] = input;
            foreach (var (name, t) in outputs)
            {
                var v = t.ToFloatArray();
                var (lo, hi) = ranges.GetValueOrDefault(name, (0f, 0f));
                ranges[name] = (Math.Min(lo, v.Min()), Math.Max(hi, v.Max()));
            }
        }
        Ranges = ranges;
        QdqModel = Path.Combine(Folder, "qdq.onnx");
        BuildQdq().Save(QdqModel);
        QOperatorModel = Path.Combine(Folder, "qop.onnx");
        BuildQOperator().Save(QOperatorModel);
    }

    public string Folder { get; }
    public string FloatModel { get; }
    public string QdqModel { get; }
    public string QOperatorModel { get; }
    public string[] Photos { get; }
    public float[] Weights { get; }
    public float[] Bias { get; }
    public IReadOnlyDictionary<string, (float Min, float Max)> Ranges { get; }

    private Tensor[]? _inputs;

    /// <summary>The photos preprocessed for the float model (its defaults: 32x32, ImageNet mean/std); the twins take the same.</summary>
    public IReadOnlyList<Tensor> Inputs()
    {
        if (_inputs != null) return _inputs;
        using var m = EdgeModel.Load(FloatModel);
        var pipeline = new ModelInputPipeline(FloatModel, m);
        return _inputs = Photos.Select(pipeline.Prepare).ToArray();
    }

    private OnnxModelBuilder BuildFloat(bool extraOutputs)
    {
        var b = new OnnxModelBuilder(13).Input("input", TensorElementType.Float32, 1, 3, 32, 32)
            .Initializer("W", Tensor.FromFloats([Classes, 3, 3, 3], Weights))
            .Initializer("B", Tensor.FromFloats([Classes], Bias));
        Tail(b, "input", "W", "B");
        b.Output("logits", TensorElementType.Float32, [1, Classes]);
        if (extraOutputs)
            foreach (var t in new[] { "conv_out", "relu_out", "gap_out" }) b.Output(t, TensorElementType.Float32);
        return b;
    }

    /// <summary>Conv → Relu → GlobalAveragePool → Flatten with the float tensor names conv_out, relu_out, gap_out, logits.</summary>
    private static void Tail(OnnxModelBuilder b, string input, string w, string bias)
    {
        b.Node("Conv", [input, w, bias], ["conv_out"], a => a.Ints("kernel_shape", 3, 3).Ints("pads", 1, 1, 1, 1).Ints("strides", 2, 2), name: "conv");
        b.Node("Relu", ["conv_out"], ["relu_out"], name: "relu");
        b.Node("GlobalAveragePool", ["relu_out"], ["gap_out"], name: "gap");
        b.Node("Flatten", ["gap_out"], ["logits"], name: "flatten");
    }

    private float WeightScale => Weights.Max(Math.Abs) / 127f;

    private sbyte[] QuantizedWeights => Weights.Select(w => (sbyte)Math.Clamp(MathF.Round(w / WeightScale), -127, 127)).ToArray();

    /// <summary>Asymmetric int8 (or uint8) parameters covering the calibrated range and 0.</summary>
    public (float Scale, int ZeroPoint) Params(string tensor, bool unsigned)
    {
        var (lo, hi) = Ranges[tensor];
        lo = Math.Min(lo, 0); hi = Math.Max(hi, 0);
        float scale = (hi - lo) / 255f;
        int qmin = unsigned ? 0 : -128;
        int zp = Math.Clamp((int)MathF.Round(qmin - lo / scale), qmin, qmin + 255);
        return (scale, zp);
    }

    private OnnxModelBuilder BuildQdq()
    {
        var b = new OnnxModelBuilder(13).Input("input", TensorElementType.Float32, 1, 3, 32, 32)
            .Initializer("W_quantized", Tensor.FromArray(TensorElementType.Int8, [Classes, 3, 3, 3], QuantizedWeights.AsSpan()))
            .Initializer("W_scale", Tensor.FromFloats([], [WeightScale]))
            .Initializer("W_zero_point", Tensor.FromArray(TensorElementType.Int8, [], new sbyte[] { 0 }.AsSpan()))
            .Initializer("B", Tensor.FromFloats([Classes], Bias));
        b.Node("DequantizeLinear", ["W_quantized", "W_scale", "W_zero_point"], ["W_DequantizeLinear_Output"]);
        QuantDequant(b, "input");
        b.Node("Conv", ["input_DequantizeLinear_Output", "W_DequantizeLinear_Output", "B"], ["conv_out"], a => a.Ints("kernel_shape", 3, 3).Ints("pads", 1, 1, 1, 1).Ints("strides", 2, 2), name: "conv");
        QuantDequant(b, "conv_out");
        b.Node("Relu", ["conv_out_DequantizeLinear_Output"], ["relu_out"], name: "relu");
        QuantDequant(b, "relu_out");
        b.Node("GlobalAveragePool", ["relu_out_DequantizeLinear_Output"], ["gap_out"], name: "gap");
        QuantDequant(b, "gap_out");
        b.Node("Flatten", ["gap_out_DequantizeLinear_Output"], ["logits"], name: "flatten");
        b.Output("logits", TensorElementType.Float32, [1, Classes]);
        return b;
    }

    private void QuantDequant(OnnxModelBuilder b, string t)
    {
        var (scale, zp) = Params(t, unsigned: false);
        b.Initializer(t + "_scale", Tensor.FromFloats([], [scale]))
         .Initializer(t + "_zero_point", Tensor.FromArray(TensorElementType.Int8, [], new[] { (sbyte)zp }.AsSpan()));
        b.Node("QuantizeLinear", [t, t + "_scale", t + "_zero_point"], [t + "_QuantizeLinear_Output"]);
        b.Node("DequantizeLinear", [t + "_QuantizeLinear_Output", t + "_scale", t + "_zero_point"], [t + "_DequantizeLinear_Output"]);
    }

    private OnnxModelBuilder BuildQOperator()
    {
        var (inScale, inZp) = Params("input", unsigned: true);
        var (outScale, outZp) = Params("conv_out", unsigned: true);
        float ws = WeightScale;
        var biasQ = Bias.Select(v => (int)MathF.Round(v / (inScale * ws))).ToArray();
        var b = new OnnxModelBuilder(13).Input("input", TensorElementType.Float32, 1, 3, 32, 32)
            .Initializer("input_scale", Tensor.FromFloats([], [inScale]))
            .Initializer("input_zero_point", Tensor.FromArray(TensorElementType.UInt8, [], new[] { (byte)inZp }.AsSpan()))
            .Initializer("W_quantized", Tensor.FromArray(TensorElementType.Int8, [Classes, 3, 3, 3], QuantizedWeights.AsSpan()))
            .Initializer("W_scale", Tensor.FromFloats([], [ws]))
            .Initializer("W_zero_point", Tensor.FromArray(TensorElementType.Int8, [], new sbyte[] { 0 }.AsSpan()))
            .Initializer("B_quantized", Tensor.FromArray(TensorElementType.Int32, [Classes], biasQ.AsSpan()))
            .Initializer("conv_out_scale", Tensor.FromFloats([], [outScale]))
            .Initializer("conv_out_zero_point", Tensor.FromArray(TensorElementType.UInt8, [], new[] { (byte)outZp }.AsSpan()));
        b.Node("QuantizeLinear", ["input", "input_scale", "input_zero_point"], ["input_quantized"]);
        b.Node("QLinearConv", ["input_quantized", "input_scale", "input_zero_point", "W_quantized", "W_scale", "W_zero_point", "conv_out_scale", "conv_out_zero_point", "B_quantized"],
               ["conv_out_quantized"], a => a.Ints("kernel_shape", 3, 3).Ints("pads", 1, 1, 1, 1).Ints("strides", 2, 2), name: "conv_quant");
        b.Node("DequantizeLinear", ["conv_out_quantized", "conv_out_scale", "conv_out_zero_point"], ["conv_out_dequantized"]);
        b.Node("Relu", ["conv_out_dequantized"], ["relu_out"], name: "relu");
        b.Node("GlobalAveragePool", ["relu_out"], ["gap_out"], name: "gap");
        b.Node("Flatten", ["gap_out"], ["logits"], name: "flatten");
        b.Output("logits", TensorElementType.Float32, [1, Classes]);
        return b;
    }

    public void Dispose()
    {
        try { Directory.Delete(Folder, recursive: true); } catch (IOException) { }
    }
}
