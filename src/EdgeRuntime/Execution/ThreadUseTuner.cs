namespace EdgeRuntime.Execution;

/// <summary>
/// Decides, run by run, whether a plan's kernels share their work with the worker pool's other threads or run it all
/// on the calling thread, by timing both. A second thread pays for itself only when a layer's share of work outweighs
/// handing its data between the threads' caches: MobileNetV1 0.25 (layers of a few microseconds) took 0.359 ms at 2
/// threads against 0.245 at 1 on the 2-vCPU build machine while the host kept the two vCPUs apart, and 0.235 with this
/// tuner (medians of 13–15 runs, 2026-11-28), where MobileNetV2 gains 1.2–1.9×. The outputs are identical either way (the kernels' results do not depend on which
/// thread runs an item), so only the time changes.
/// <para>Cycle: <see cref="WarmupRuns"/> runs with the threads (caches), then a measurement of <see cref="Blocks"/>
/// blocks of <see cref="BlockRuns"/> runs, shared and alone in turn, each block's first run not counted (the first
/// shared run after runs alone wakes the idle workers, which consecutive shared runs do not; strictly alternated runs
/// made sharing look slower than it runs), then runs in the chosen mode before measuring again:
/// <see cref="FirstExploitRuns"/> after the first measurement, twice as many after each next one, at most
/// <see cref="ExploitRuns"/> (the JIT build's code gets faster for the first second or so, and the placement of the
/// cores, and so the answer, can change while a daemon runs for months); <see cref="ExploitRuns"/> at once when sharing
/// won by <see cref="ClearGap"/> or more (MobileNetV2: 2.3 against 3.9 ms), where measuring again soon would only slow
/// 16 runs down. A choice of the calling thread alone is always checked again soon, so that one made while the JIT
/// build was still warming up does not stick.</para>
/// <para>The calling thread alone is chosen only when its median is at least <see cref="SerialMargin"/> below the
/// shared median, so that noise does not take away threads the user asked for. One plan is run by one thread at a time
/// (as <see cref="WorkerPool"/> requires), so the tuner needs no locking; it allocates nothing. A run that throws is
/// not recorded.</para>
/// </summary>
internal sealed class ThreadUseTuner
{
    /// <summary>Runs with the threads before the first measurement.</summary>
    public const int WarmupRuns = 20;

    /// <summary>Runs per block of one mode in a measurement.</summary>
    public const int BlockRuns = 8;

    /// <summary>Blocks in a measurement, shared first, alternating.</summary>
    public const int Blocks = 4;

    /// <summary>Runs of a measurement.</summary>
    public const int MeasureRuns = Blocks * BlockRuns;

    /// <summary>Counted runs per mode in a measurement (every block's runs but its first).</summary>
    public const int SamplesPerMode = Blocks / 2 * (BlockRuns - 1);

    /// <summary>Runs in the chosen mode after the first measurement.</summary>
    public const int FirstExploitRuns = 50;

    /// <summary>Most runs in the chosen mode between measurements.</summary>
    public const int ExploitRuns = 2000;

    /// <summary>How much faster (as a fraction of the shared median) the calling thread alone must be to be chosen.</summary>
    public const double SerialMargin = 0.05;

    /// <summary>How much slower (as a fraction of the shared median) the calling thread alone must be for the next measurement to wait <see cref="ExploitRuns"/> runs.</summary>
    public const double ClearGap = 0.25;

    private enum Phase { Warmup, Measure, Exploit }

    private readonly long[] _shared = new long[SamplesPerMode], _alone = new long[SamplesPerMode];
    private Phase _phase = Phase.Warmup;
    private int _runsInPhase;
    private bool _pendingShared = true;

    /// <summary>The current choice: true while the kernels share their work (the starting state), false for the calling thread alone.</summary>
    public bool Shared { get; private set; } = true;

    /// <summary>Measurements completed so far.</summary>
    public int Measurements { get; private set; }

    /// <summary>Medians of the last measurement in <see cref="System.Diagnostics.Stopwatch"/> ticks (0 before the first).</summary>
    public (long Shared, long Alone) LastMedians { get; private set; }

    /// <summary>Whether the next run shares its work with the pool's threads; pair each call with <see cref="Record"/>.</summary>
    public bool NextRunShared()
    {
        _pendingShared = _phase switch
        {
            Phase.Measure => _runsInPhase / BlockRuns % 2 == 0, // blocks: shared, alone, shared, alone
            Phase.Exploit => Shared,
            _ => true,
        };
        return _pendingShared;
    }

    /// <summary>Records the duration of the run <see cref="NextRunShared"/> was asked for.</summary>
    public void Record(long ticks)
    {
        switch (_phase)
        {
            case Phase.Warmup:
                if (++_runsInPhase >= WarmupRuns) Enter(Phase.Measure);
                break;
            case Phase.Measure:
                int block = _runsInPhase / BlockRuns, position = _runsInPhase % BlockRuns;
                if (position > 0) (_pendingShared ? _shared : _alone)[block / 2 * (BlockRuns - 1) + position - 1] = ticks;
                if (++_runsInPhase >= MeasureRuns)
                {
                    long shared = Median(_shared), alone = Median(_alone);
                    LastMedians = (shared, alone);
                    Shared = Choose(shared, alone);
                    Measurements++;
                    Enter(Phase.Exploit);
                }
                break;
            case Phase.Exploit:
                if (++_runsInPhase >= ExploitLength(Measurements, LastMedians.Shared, LastMedians.Alone)) Enter(Phase.Measure);
                break;
        }
    }

    /// <summary>
    /// Runs in the chosen mode after measurement number <paramref name="measurements"/> (1 for the first), whose medians
    /// were <paramref name="sharedMedian"/> and <paramref name="aloneMedian"/>.
    /// </summary>
    internal static int ExploitLength(int measurements, long sharedMedian, long aloneMedian)
    {
        if (aloneMedian - sharedMedian >= ClearGap * Math.Max(1, sharedMedian)) return ExploitRuns;
        return (int)Math.Min(ExploitRuns, (long)FirstExploitRuns << Math.Min(30, Math.Max(0, measurements - 1)));
    }

    /// <summary>Shared unless the calling thread alone is at least <see cref="SerialMargin"/> faster by the medians.</summary>
    internal static bool Choose(long sharedMedian, long aloneMedian) => aloneMedian >= sharedMedian * (1 - SerialMargin);

    private void Enter(Phase phase)
    {
        _phase = phase;
        _runsInPhase = 0;
    }

    /// <summary>Median of the samples (sorted in place: insertion sort of a few values, no allocation).</summary>
    private static long Median(long[] samples)
    {
        for (int i = 1; i < samples.Length; i++)
        {
            long value = samples[i];
            int j = i - 1;
            for (; j >= 0 && samples[j] > value; j--) samples[j + 1] = samples[j];
            samples[j + 1] = value;
        }
        return samples[samples.Length / 2];
    }
}
