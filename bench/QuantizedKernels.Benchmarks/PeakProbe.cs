using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using EdgeRuntime.Kernels.Common;

namespace EdgeRuntime.Benchmarks;

/// <summary>
/// This core's int8 multiply-accumulate peak on an x86 path, measured rather than taken from a data sheet (the clock
/// of a cloud VM is unknown): a loop of independent multiply-accumulate chains with no loads, so only the multiply
/// units limit it. The unit is the GEMM tables' operation (2 per multiply-accumulate).
/// <list type="bullet">
/// <item>AVX2: the faster of two chains, as the AVX2 GEMM runs both: VPMADDWD + VPADDD on int16 pairs (16 MACs per
/// multiply instruction, 2 vector operations per 16 MACs), and VPMADDUBSW + VPMADDWD(1) + VPADDD on int8 quads (the
/// same 16 MACs per multiply instruction, 3 operations per 32 MACs; on Zen 3 the faster one, as fewer operations share
/// the vector pipes).</item>
/// <item>AVX-VNNI: VPDPBUSD, 32 MACs per instruction.</item>
/// <item>avx512vnni: the same twelve VPDPBUSD chains (EVEX) in the path's own machine code, as .NET cannot emit that
/// form, on 256-bit (edge_dpbusd_chains) and on 512-bit vectors (edge_dpbusd_chains_zmm, what its fused GEMM runs);
/// the faster is the peak (on Zen 5 the 512-bit one, twice the other).</item>
/// </list>
/// Other paths have no probe (<see cref="Gops"/> returns null).
/// </summary>
public static class PeakProbe
{
    private const int Iterations = 1 << 16;

    /// <summary>The chains' final sums, stored so that the JIT cannot drop the loops as dead code.</summary>
    private static Vector256<int> Observed;

    /// <summary>
    /// Operations per second / 1e9 on <paramref name="isa"/>, or null: the fastest of repeated runs for about
    /// <paramref name="seconds"/> (<see cref="FastestRun"/>: a peak is the best the core does).
    /// </summary>
    public static double? Gops(IsaPath isa, double seconds)
    {
        // Every chain the path's kernels run; the peak is the fastest of them.
        Func<int, long>[] probes = isa switch
        {
            IsaPath.Avx2 when Avx2.IsSupported => [MaddwdChains, MaddubswChains],
            IsaPath.AvxVnni when AvxVnni.IsSupported => [DpbusdChains],
            IsaPath.Avx512Vnni when EdgeRuntime.Kernels.Gemm.Avx512VnniCode.IsAvailable => [MachineCodeDpbusdChains, MachineCodeDpbusdChainsZmm],
            _ => [],
        };
        if (probes.Length == 0) return null;
        return probes.Max(probe => Fastest(probe, seconds / probes.Length));
    }

    private static double Fastest(Func<int, long> probe, double seconds)
    {
        probe(16); // JIT and warm up
        long macs = 0;
        double best = FastestRun.Nanoseconds(() => macs = probe(Iterations), seconds);
        return 2.0 * macs / best;
    }

    /// <summary>
    /// Twelve independent VPMADDWD + VPADDD chains (as many accumulators as the 6×16 kernel), each multiplying its own
    /// accumulator so that no two multiplies are the same expression; returns the MACs done.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static long MaddwdChains(int iterations)
    {
        var x = Vector256.Create(3);
        var y = Vector256.Create((short)-2);
        Vector256<int> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default;
        Vector256<int> a6 = default, a7 = default, a8 = default, a9 = default, a10 = default, a11 = default;
        for (int i = 0; i < iterations; i++)
        {
            a0 = Avx2.Add(Avx2.MultiplyAddAdjacent(a0.AsInt16(), y), x);
            a1 = Avx2.Add(Avx2.MultiplyAddAdjacent(a1.AsInt16(), y), x);
            a2 = Avx2.Add(Avx2.MultiplyAddAdjacent(a2.AsInt16(), y), x);
            a3 = Avx2.Add(Avx2.MultiplyAddAdjacent(a3.AsInt16(), y), x);
            a4 = Avx2.Add(Avx2.MultiplyAddAdjacent(a4.AsInt16(), y), x);
            a5 = Avx2.Add(Avx2.MultiplyAddAdjacent(a5.AsInt16(), y), x);
            a6 = Avx2.Add(Avx2.MultiplyAddAdjacent(a6.AsInt16(), y), x);
            a7 = Avx2.Add(Avx2.MultiplyAddAdjacent(a7.AsInt16(), y), x);
            a8 = Avx2.Add(Avx2.MultiplyAddAdjacent(a8.AsInt16(), y), x);
            a9 = Avx2.Add(Avx2.MultiplyAddAdjacent(a9.AsInt16(), y), x);
            a10 = Avx2.Add(Avx2.MultiplyAddAdjacent(a10.AsInt16(), y), x);
            a11 = Avx2.Add(Avx2.MultiplyAddAdjacent(a11.AsInt16(), y), x);
        }
        var total = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11;
        Observed = total; // keeps the chains alive
        return 12L * 16 * iterations; // 12 chains × 16 MACs per iteration
    }

    /// <summary>
    /// Twelve independent VPMADDUBSW + VPMADDWD(1) + VPADDD chains, each multiplying its own accumulator's bytes;
    /// returns the MACs done (32 per chain and iteration).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static long MaddubswChains(int iterations)
    {
        var x = Vector256.Create(3);
        var y = Vector256.Create((sbyte)-2);
        var ones = Vector256.Create((short)1);
        Vector256<int> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default;
        Vector256<int> a6 = default, a7 = default, a8 = default, a9 = default, a10 = default, a11 = default;
        for (int i = 0; i < iterations; i++)
        {
            a0 = Avx2.Add(Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(a0.AsByte(), y), ones), x);
            a1 = Avx2.Add(Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(a1.AsByte(), y), ones), x);
            a2 = Avx2.Add(Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(a2.AsByte(), y), ones), x);
            a3 = Avx2.Add(Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(a3.AsByte(), y), ones), x);
            a4 = Avx2.Add(Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(a4.AsByte(), y), ones), x);
            a5 = Avx2.Add(Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(a5.AsByte(), y), ones), x);
            a6 = Avx2.Add(Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(a6.AsByte(), y), ones), x);
            a7 = Avx2.Add(Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(a7.AsByte(), y), ones), x);
            a8 = Avx2.Add(Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(a8.AsByte(), y), ones), x);
            a9 = Avx2.Add(Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(a9.AsByte(), y), ones), x);
            a10 = Avx2.Add(Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(a10.AsByte(), y), ones), x);
            a11 = Avx2.Add(Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(a11.AsByte(), y), ones), x);
        }
        var total = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11;
        Observed = total;
        return 12L * 32 * iterations;
    }

    /// <summary>Twelve independent EVEX VPDPBUSD chains, in machine code; returns the MACs done.</summary>
    private static unsafe long MachineCodeDpbusdChains(int iterations)
    {
        Observed = Vector256.Create(EdgeRuntime.Kernels.Gemm.Avx512VnniCode.DpbusdChains(iterations));
        return 12L * 32 * iterations;
    }

    private static unsafe long MachineCodeDpbusdChainsZmm(int iterations)
    {
        Observed = Vector256.Create(EdgeRuntime.Kernels.Gemm.Avx512VnniCode.DpbusdChainsZmm(iterations));
        return 12L * 64 * iterations;
    }

    /// <summary>Twelve independent VPDPBUSD chains; returns the MACs done.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static long DpbusdChains(int iterations)
    {
        var x = Vector256.Create((byte)3);
        var y = Vector256.Create((sbyte)-2);
        Vector256<int> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default;
        Vector256<int> a6 = default, a7 = default, a8 = default, a9 = default, a10 = default, a11 = default;
        for (int i = 0; i < iterations; i++)
        {
            a0 = AvxVnni.MultiplyWideningAndAdd(a0, x, y);
            a1 = AvxVnni.MultiplyWideningAndAdd(a1, x, y);
            a2 = AvxVnni.MultiplyWideningAndAdd(a2, x, y);
            a3 = AvxVnni.MultiplyWideningAndAdd(a3, x, y);
            a4 = AvxVnni.MultiplyWideningAndAdd(a4, x, y);
            a5 = AvxVnni.MultiplyWideningAndAdd(a5, x, y);
            a6 = AvxVnni.MultiplyWideningAndAdd(a6, x, y);
            a7 = AvxVnni.MultiplyWideningAndAdd(a7, x, y);
            a8 = AvxVnni.MultiplyWideningAndAdd(a8, x, y);
            a9 = AvxVnni.MultiplyWideningAndAdd(a9, x, y);
            a10 = AvxVnni.MultiplyWideningAndAdd(a10, x, y);
            a11 = AvxVnni.MultiplyWideningAndAdd(a11, x, y);
        }
        var total = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11;
        Observed = total;
        return 12L * 32 * iterations;
    }
}
