using EdgeRuntime.Kernels.BatchNorm;
using EdgeRuntime.Kernels.Conv;
using EdgeRuntime.Tensors;

namespace EdgeRuntime.Execution.Ops.Float;

/// <summary>
/// ONNX Conv (opsets 1–22), float32, 2-D (NCHW; 1-D NCW is run as height 1). Weights and bias must be
/// constants: they are packed once at bind. Depthwise convs (group == C == M) use a direct kernel,
/// everything else im2col + packed GEMM.
/// </summary>
internal sealed class ConvOp : OpDefinition
{
    public override string OpType => "Conv";

    public override IOpKernel Bind(OpContext ctx) => Bind(ctx, float.NegativeInfinity, float.PositiveInfinity);

    /// <summary>
    /// Binds the Conv with every output clamped to [<paramref name="outputMin"/>, <paramref name="outputMax"/>]
    /// inside the kernel: a graph optimizer fuses a following Relu (0, +∞) or Clip (min, max) this way.
    /// </summary>
    public IOpKernel Bind(OpContext ctx, float outputMin, float outputMax)
    {
        if (!(outputMin <= outputMax)) throw ctx.Fail($"fused clamp range [{outputMin}, {outputMax}] is empty");
        var x = ctx.InputOfType(0, TensorElementType.Float32);
        int spatialRank = x.Shape.Length - 2;
        if (spatialRank is not (1 or 2))
            throw ctx.Fail($"input X must be 4-D [N,C,H,W] (or 3-D [N,C,W]), got {x}");
        var w = ctx.RequireConstant(1, "W");
        if (w.ElementType != TensorElementType.Float32) throw ctx.Fail($"weights W must be float, got {w.ElementType.OnnxName()}");
        if (w.Shape.Length != x.Shape.Length)
            throw ctx.Fail($"weights W must have rank {x.Shape.Length} [M, C/group, kernel...], got {TensorShape.Format(w.Shape)}");
        long group = ctx.GetInt("group", 1);
        int channels = x.Shape[1], outChannels = w.Shape[0];
        if (group <= 0 || group > channels) throw ctx.Fail($"attribute 'group' must be in [1, {channels}], got {group}");
        if (channels % group != 0) throw ctx.Fail($"input channels {channels} are not divisible by group {group}");
        if (w.Shape[1] * group != channels)
            throw ctx.Fail($"weights W {TensorShape.Format(w.Shape)} expect {w.Shape[1] * group} input channels (W.shape[1] * group), input X has {channels}");
        if (outChannels == 0 || outChannels % group != 0) throw ctx.Fail($"output channels {outChannels} are not a positive multiple of group {group}");
        var kernel = w.Shape[2..];
        var kernelShape = ctx.GetInts("kernel_shape");
        if (kernelShape != null && !kernelShape.SequenceEqual(kernel.Select(k => (long)k)))
            throw ctx.Fail($"attribute 'kernel_shape' [{string.Join(",", kernelShape)}] does not match weights W {TensorShape.Format(w.Shape)}");

        float[] bias = [];
        if (ctx.HasInput(2))
        {
            var b = ctx.RequireConstant(2, "B");
            if (b.ElementType != TensorElementType.Float32 || b.Shape.Length != 1 || b.Shape[0] != outChannels)
                throw ctx.Fail($"bias B must be float [{outChannels}], got {b}");
            bias = b.ToArray<float>();
        }

        var window = SpatialWindow.Resolve(ctx, x.Shape[2..], kernel, ceilMode: false);
        // 1-D convolutions run as 2-D with a height-1 axis.
        int Axis(int[] values, int fill, int i) => spatialRank == 1 ? (i == 0 ? fill : values[0]) : values[i];
        var shape = new ConvFloatShape(
            Batch: x.Shape[0], InputChannels: channels,
            InputHeight: spatialRank == 1 ? 1 : x.Shape[2], InputWidth: x.Shape[^1],
            OutputChannels: outChannels, Groups: (int)group,
            KernelHeight: Axis(kernel, 1, 0), KernelWidth: Axis(kernel, 1, 1),
            StrideHeight: Axis(window.Strides, 1, 0), StrideWidth: Axis(window.Strides, 1, 1),
            PadTop: Axis(window.PadsBegin, 0, 0), PadLeft: Axis(window.PadsBegin, 0, 1),
            DilationHeight: Axis(window.Dilations, 1, 0), DilationWidth: Axis(window.Dilations, 1, 1),
            OutputHeight: Axis(window.Output, 1, 0), OutputWidth: Axis(window.Output, 1, 1));
        ctx.SetOutput(0, TensorElementType.Float32, [x.Shape[0], outChannels, .. window.Output]);

        bool depthwise = group == channels && outChannels == channels && group > 1;
        return depthwise
            ? new DepthwiseKernel(shape, w.ToArray<float>(), bias, outputMin, outputMax)
            : new Im2ColKernel(shape, w.AsSpan<float>(), bias, outputMin, outputMax);
    }

    private sealed class Im2ColKernel : IOpKernel, IPacksConstantInputs
    {
        private readonly ConvFloatShape _shape;
        private readonly float[] _packedWeights;
        private readonly float[] _bias;
        private readonly float[] _scratch;
        private readonly float _min, _max;

        public Im2ColKernel(ConvFloatShape shape, ReadOnlySpan<float> weights, float[] bias, float min, float max)
        {
            (_min, _max) = (min, max);
            _shape = shape;
            _bias = bias;
            _packedWeights = new float[ConvFloatIm2Col.PackedWeightsLength(shape)];
            ConvFloatIm2Col.PackWeights(shape, weights, _packedWeights);
            _scratch = new float[ConvFloatIm2Col.ScratchLength(shape)];
        }

        public bool ReadsAtRun(int index) => index == 0; // W packed, B copied at load

        public long PackedBytes => ((long)_packedWeights.Length + _bias.Length) * sizeof(float);

        public void Run(ReadOnlySpan<Tensor?> inputs, ReadOnlySpan<Tensor?> outputs) =>
            ConvFloatIm2Col.Run(_shape, inputs[0]!.AsSpan<float>(), _packedWeights, _bias, outputs[0]!.AsSpan<float>(), _scratch, _min, _max);
    }

    private sealed class DepthwiseKernel(ConvFloatShape shape, float[] weights, float[] bias, float min, float max) : IOpKernel, IPacksConstantInputs
    {
        public bool ReadsAtRun(int index) => index == 0; // W and B copied at load

        public long PackedBytes => ((long)weights.Length + bias.Length) * sizeof(float);

        public void Run(ReadOnlySpan<Tensor?> inputs, ReadOnlySpan<Tensor?> outputs) =>
            ConvFloatDepthwise.Run(shape, inputs[0]!.AsSpan<float>(), weights, bias, outputs[0]!.AsSpan<float>(), min, max);
    }
}

/// <summary>
/// ONNX BatchNormalization in inference mode (opsets 7–15), float32, X of rank ≥ 2 with channels on axis 1.
/// scale, B, mean and var must be constant [C]; they are folded into one multiply-add per channel at bind.
/// Training mode (training_mode=1 or any of the optional outputs 1–4 used) and spatial=0 are rejected.
/// </summary>
internal sealed class BatchNormalizationOp : OpDefinition
{
    public override string OpType => "BatchNormalization";

    public override IOpKernel Bind(OpContext ctx)
    {
        var x = ctx.InputOfType(0, TensorElementType.Float32);
        if (x.Shape.Length < 2) throw ctx.Fail($"input X must have rank >= 2 [N,C,...], got {x}");
        if (ctx.GetInt("training_mode", 0) != 0) throw ctx.Fail("training_mode=1 is not supported (inference only)");
        if (ctx.GetInt("spatial", 1) != 1) throw ctx.Fail("spatial=0 (per-activation statistics) is not supported");
        for (int i = 1; i < ctx.Node.Outputs.Length; i++)
            if (ctx.Node.Outputs[i].Length > 0)
                throw ctx.Fail($"training-mode output {i} ('{ctx.Node.Outputs[i]}') is requested; only inference (output Y) is supported");
        int channels = x.Shape[1];
        string[] names = ["scale", "B", "mean", "var"];
        var parameters = new float[4][];
        for (int i = 0; i < 4; i++)
        {
            var t = ctx.RequireConstant(i + 1, names[i]);
            if (t.ElementType != TensorElementType.Float32 || t.ElementCount != channels || t.Shape.Length != 1)
                throw ctx.Fail($"input {names[i]} must be float [{channels}], got {t}");
            parameters[i] = t.ToArray<float>();
        }
        float epsilon = ctx.GetFloat("epsilon", 1e-5f);
        var scale = new float[channels];
        var shift = new float[channels];
        BatchNormFloatReference.Fold(parameters[0], parameters[1], parameters[2], parameters[3], epsilon, scale, shift);
        ctx.SetOutput(0, TensorElementType.Float32, (int[])x.Shape.Clone());
        int spatial = TensorShape.ElementCount(x.Shape.AsSpan(2));
        return new Kernel(x.Shape[0], channels, spatial, scale, shift);
    }

    private sealed class Kernel(int batch, int channels, int spatial, float[] scale, float[] shift) : IOpKernel
    {
        public void Run(ReadOnlySpan<Tensor?> inputs, ReadOnlySpan<Tensor?> outputs) =>
            BatchNormFloatReference.Apply(batch, channels, spatial, inputs[0]!.AsSpan<float>(), scale, shift, outputs[0]!.AsSpan<float>());
    }
}
