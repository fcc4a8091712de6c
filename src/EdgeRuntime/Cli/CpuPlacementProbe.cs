using System.Diagnostics;

namespace EdgeRuntime.Cli;

/// <summary>
/// How far apart the host placed this VM's CPUs, seen from inside: the round trip of one cache line between two
/// threads that take turns writing it (thread A writes 2i+1, thread B waits for it and writes 2i+2, …). On the 2-vCPU
/// KVM build machine it gave 50–130 ns when the two vCPUs shared a cache complex and 300–410 ns when the host had
/// put them further apart (2026-11-28), and MobileNetV2 at 2 threads took 2.0–2.1 ms in the first case and 3.0–3.2 ms
/// in the second when run alone (typically 2.2–2.4 and 3.1–3.4 ms interleaved with ONNX Runtime): <c>edgerun bench</c> reports
/// it before and after the measured runs of every multi-threaded benchmark, so that a result can be read for what the
/// host did.
/// </summary>
internal static class CpuPlacementProbe
{
    private const int Exchanges = 100_000;

    // One long on its own 128 bytes, so nothing else the threads touch shares its line (or the adjacent one).
    private static readonly long[] Line = new long[32];

    /// <summary>
    /// The median of <paramref name="samples"/> measurements of the mean round trip over <see cref="Exchanges"/>
    /// exchanges, in nanoseconds. Needs two CPUs to mean anything (with one, each turn waits for a time slice).
    /// </summary>
    public static double RoundTripNanoseconds(int samples = 5)
    {
        var results = new double[samples];
        for (int s = 0; s < samples; s++)
        {
            Volatile.Write(ref Line[16], 0);
            var partner = new Thread(() =>
            {
                for (long i = 0; i < Exchanges; i++)
                {
                    while (Volatile.Read(ref Line[16]) != 2 * i + 1) { }
                    Volatile.Write(ref Line[16], 2 * i + 2);
                }
            }) { IsBackground = true };
            partner.Start();
            var clock = Stopwatch.StartNew();
            for (long i = 0; i < Exchanges; i++)
            {
                Volatile.Write(ref Line[16], 2 * i + 1);
                while (Volatile.Read(ref Line[16]) != 2 * i + 2) { }
            }
            results[s] = clock.Elapsed.TotalNanoseconds / Exchanges;
            partner.Join();
        }
        Array.Sort(results);
        return results[samples / 2];
    }
}
