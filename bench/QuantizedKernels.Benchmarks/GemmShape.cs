namespace EdgeRuntime.Benchmarks;

/// <summary>
/// One int8 GEMM problem: A is M×K (weights: M output channels, K input channels), B is K×N (activations: N pixels),
/// so a run is <see cref="Operations"/> = 2·M·N·K integer operations (a multiply and an add per MAC).
/// </summary>
public sealed record GemmShape(int M, int K, int N, string Layer)
{
    /// <summary>
    /// MobileNetV2 1.0 224's pointwise (1×1) convolutions, the bulk of its MACs: expansion (K → 6K) and projection
    /// (6K → C) layers at every resolution from 112×112 (N = 12544) down to 7×7 (N = 49), plus the final 1×1 to 1280.
    /// </summary>
    public static IReadOnlyList<GemmShape> MobileNetV2Pointwise { get; } =
    [
        new(16, 32, 12544, "block0 project 112x112"),
        new(96, 16, 12544, "block1 expand 112x112"),
        new(24, 144, 3136, "block2 project 56x56"),
        new(144, 24, 3136, "block2 expand 56x56"),
        new(32, 192, 784, "block4 project 28x28"),
        new(64, 384, 196, "block7 project 14x14"),
        new(96, 576, 196, "block11 project 14x14"),
        new(160, 960, 49, "block14 project 7x7"),
        new(320, 960, 49, "block16 project 7x7"),
        new(1280, 320, 49, "final 1x1 7x7"),
    ];

    /// <summary>2·M·N·K.</summary>
    public double Operations => 2.0 * M * N * K;

    /// <summary>"MxKxN", the name BenchmarkDotNet shows for the parameter.</summary>
    public override string ToString() => $"{M}x{K}x{N}";
}
