using BenchmarkDotNet.Attributes;
using EdgeRuntime.Kernels.Common;
using EdgeRuntime.Kernels.Gemm;

namespace EdgeRuntime.Benchmarks;

/// <summary>
/// <see cref="QGemm.Multiply"/> on MobileNetV2's pointwise layer shapes, once per <see cref="IsaPath"/> this CPU
/// supports. B has row stride N (an NCHW activation plane), acc row stride N: the layout a 1×1 convolution uses.
/// </summary>
public class QGemmBenchmarks
{
    private GemmProblem _problem = null!;

    /// <summary>Layer shape (M×K×N).</summary>
    [ParamsSource(nameof(Shapes))]
    public GemmShape Shape { get; set; } = GemmShape.MobileNetV2Pointwise[0];

    /// <summary>Kernel path.</summary>
    [ParamsSource(nameof(Paths))]
    public IsaPath Isa { get; set; }

    public static IEnumerable<GemmShape> Shapes => GemmShape.MobileNetV2Pointwise;

    public static IEnumerable<IsaPath> Paths => CpuFeatures.Supported;

    [GlobalSetup]
    public void Setup() => _problem = new GemmProblem(Shape, Isa);

    [Benchmark]
    public void Multiply() => _problem.Run();
}

/// <summary>Random int8 operands of one shape, A packed for one path, and the output and scratch buffers.</summary>
public sealed class GemmProblem
{
    private readonly sbyte[] _packedA;
    private readonly sbyte[] _b;
    private readonly int[] _scratch;

    public GemmProblem(GemmShape shape, IsaPath isa, int seed = 1)
    {
        Shape = shape;
        Isa = isa;
        var random = new Random(seed);
        A = new sbyte[shape.M * shape.K];
        _b = new sbyte[shape.K * shape.N];
        random.NextBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(A.AsSpan()));
        random.NextBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(_b.AsSpan()));
        _packedA = new sbyte[QGemm.PackedALength(isa, shape.M, shape.K)];
        QGemm.PackA(isa, A, shape.M, shape.K, _packedA);
        _scratch = new int[QGemm.ScratchLength(isa, shape.M, shape.N, shape.K)];
        Accumulators = new int[shape.M * shape.N];
    }

    public GemmShape Shape { get; }

    public IsaPath Isa { get; }

    /// <summary>Row-major M×K weights before packing.</summary>
    public sbyte[] A { get; }

    /// <summary>K×N activations, row stride N.</summary>
    public ReadOnlySpan<sbyte> B => _b;

    /// <summary>M×N result of the last <see cref="Run"/>.</summary>
    public int[] Accumulators { get; }

    public void Run() => QGemm.Multiply(Isa, Shape.M, Shape.N, Shape.K, _packedA, _b, Shape.N, Accumulators, Shape.N, _scratch);
}

/// <summary>
/// The same operands through <see cref="QGemm.MultiplyRequantize"/>, the GEMM the convolution kernel runs where
/// <see cref="QGemm.HasFusedRequantization"/> holds: int8 output requantized in the microkernel's epilogue (bias 0,
/// per-row multipliers that keep the outputs spread over the int8 range).
/// </summary>
public sealed class FusedGemmProblem
{
    private readonly sbyte[] _packedA;
    private readonly sbyte[] _b;
    private readonly int[] _scratch;
    private readonly int[] _bias;
    private readonly float[] _multipliers;

    public FusedGemmProblem(GemmShape shape, IsaPath isa, int seed = 1)
    {
        Shape = shape;
        Isa = isa;
        var plain = new GemmProblem(shape, IsaPath.Scalar, seed); // same B as the unfused problem
        _b = plain.B.ToArray();
        // Weights spread like a trained layer's (about normal, σ = 25 int8 steps), not uniformly: the AVX2 packing
        // picks its format from them (see QGemm.Avx2.Quads.cs), and uniform int8 weights are unlike any real model's.
        var random = new Random(seed + 1);
        var weights = new sbyte[shape.M * shape.K];
        for (int i = 0; i < weights.Length; i++)
        {
            double normal = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
            weights[i] = (sbyte)Math.Clamp(Math.Round(25 * normal), -128, 127);
        }
        _packedA = new sbyte[QGemm.PackedAWithRowOffsetsLength(isa, shape.M, shape.K)];
        QGemm.PackAWithRowOffsets(isa, weights, shape.M, shape.K, ReadOnlySpan<int>.Empty, _packedA);
        _scratch = new int[QGemm.FusedScratchLength(isa, shape.M, shape.N, shape.K)];
        _bias = new int[shape.M];
        // Products of random int8 values sum to about ±64·64·sqrt(K); map that onto ±64 output steps.
        _multipliers = Enumerable.Range(0, shape.M).Select(i => (float)(1.0 / (64 * Math.Sqrt(shape.K)) * (1 + i % 3 * 0.25))).ToArray();
        Output = new byte[shape.M * shape.N];
    }

    public GemmShape Shape { get; }

    public IsaPath Isa { get; }

    /// <summary>M×N int8 result of the last <see cref="Run"/>.</summary>
    public byte[] Output { get; }

    public void Run() => QGemm.MultiplyRequantize(Isa, Shape.M, Shape.N, Shape.K, _packedA, _b, Shape.N, _bias, _multipliers,
        yZeroPoint: 0, yMin: -128, yMax: 127, Output, Shape.N, _scratch);
}
