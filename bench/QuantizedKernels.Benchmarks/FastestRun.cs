using System.Diagnostics;

namespace EdgeRuntime.Benchmarks;

/// <summary>
/// The timer of the <c>--quick</c> tables and of <see cref="PeakProbe"/>: the fastest of repeated runs, what the code
/// does when the core is its own. On the shared 2-core build machine (2026-11-27) the fused table's all-shapes median
/// moved between 76 and 102 GOPS over four runs of the script; the fastest runs of the same shapes spread about half
/// as much (2.39–2.77 ms in sum). Using one measure for kernels and peak keeps "% of peak" like with like.
/// </summary>
public static class FastestRun
{
    /// <summary>Runs <paramref name="run"/> for about <paramref name="seconds"/> (at least 3 times); the fastest run in ns.</summary>
    public static double Nanoseconds(Action run, double seconds)
    {
        double fastest = double.MaxValue;
        int runs = 0;
        var total = Stopwatch.StartNew();
        while (total.Elapsed.TotalSeconds < seconds || runs < 3)
        {
            long start = Stopwatch.GetTimestamp();
            run();
            fastest = Math.Min(fastest, Stopwatch.GetElapsedTime(start).TotalNanoseconds);
            runs++;
        }
        return fastest;
    }
}
