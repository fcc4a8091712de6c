using EdgeRuntime.Kernels.Common;
using EdgeRuntime.Kernels.Depthwise;

namespace EdgeRuntime.Benchmarks;

/// <summary>
/// One depthwise layer of MobileNetV2 1.0 224 (3×3, pad 1, TensorFlow SAME for stride 2 as in the converted model:
/// no top/left pad): <see cref="Macs"/> = C·OH·OW·9 multiply-accumulates.
/// </summary>
public sealed record DepthwiseShape(int Channels, int InSize, int Stride, string Layer)
{
    /// <summary>MobileNetV2's depthwise layers, one per distinct shape, with how often the model runs it.</summary>
    public static IReadOnlyList<(DepthwiseShape Shape, int Count)> MobileNetV2 { get; } =
    [
        (new(32, 112, 1, "block0 112x112"), 1),
        (new(96, 112, 2, "block1 112->56"), 1),
        (new(144, 56, 1, "block2 56x56"), 1),
        (new(144, 56, 2, "block3 56->28"), 1),
        (new(192, 28, 1, "block4 28x28"), 2),
        (new(192, 28, 2, "block6 28->14"), 1),
        (new(384, 14, 1, "block7 14x14"), 3),
        (new(576, 14, 1, "block11 14x14"), 2),
        (new(576, 14, 2, "block13 14->7"), 1),
        (new(960, 7, 1, "block14 7x7"), 3),
    ];

    public int OutSize => (InSize - 1) / Stride + 1;

    public DepthwiseConvGeometry Geometry => new(Channels, InSize, InSize, OutSize, OutSize, 3, 3, Stride, Stride,
        PadTop: Stride == 1 ? 1 : 0, PadLeft: Stride == 1 ? 1 : 0);

    /// <summary>C·OH·OW·9.</summary>
    public double Macs => 9.0 * Channels * OutSize * OutSize;

    public override string ToString() => $"{Channels}x{InSize}s{Stride}";
}

/// <summary>A depthwise layer with seeded int8 input and weights, run single-threaded on one path.</summary>
public sealed class DepthwiseProblem
{
    private readonly byte[] _x;
    private readonly DepthwiseConvWeights _weights;
    private readonly int[] _bias;
    private readonly float[] _multipliers;
    private readonly int[] _scratch;

    public DepthwiseProblem(DepthwiseShape shape, IsaPath isa, int seed = 1)
    {
        Shape = shape;
        Isa = isa;
        var g = shape.Geometry;
        var random = new Random(seed);
        _x = new byte[g.Channels * g.InPlane];
        random.NextBytes(_x);
        // Packed once, as the runtime does at load.
        _weights = new DepthwiseConvWeights(g, Enumerable.Range(0, g.Channels * g.Taps).Select(_ => (short)random.Next(-127, 128)).ToArray());
        _bias = Enumerable.Range(0, g.Channels).Select(_ => random.Next(-5000, 5000)).ToArray();
        _multipliers = Enumerable.Range(0, g.Channels).Select(i => 1f / (64 * 3 * (1 + i % 3))).ToArray();
        _scratch = new int[DepthwiseConv.ScratchLength(g)];
        Output = new byte[g.Channels * g.OutPlane];
    }

    public DepthwiseShape Shape { get; }

    public IsaPath Isa { get; }

    /// <summary>int8 output of the last <see cref="Run"/>.</summary>
    public byte[] Output { get; }

    public void Run() => DepthwiseConv.Run(Isa, Shape.Geometry, _x, xSigned: true, xZeroPoint: 3, _weights, _bias, _multipliers,
        yZeroPoint: -2, yMin: -128, yMax: 127, Output, _scratch);
}
