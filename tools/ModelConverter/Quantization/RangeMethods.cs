namespace ModelConverter.Quantization;

/// <summary>How an activation's quantization range is chosen from its calibration statistics.</summary>
internal enum RangeMethod
{
    /// <summary>The smallest and largest value seen.</summary>
    MinMax,
    /// <summary>The P-th percentile of the values (and the (100-P)-th for the lower end).</summary>
    Percentile,
    /// <summary>The clipping threshold minimising the KL divergence between the value distribution and its quantized form (TensorRT style).</summary>
    Entropy,
}

/// <summary>Range selection from a <see cref="CalibrationHistogram"/>. Every result contains 0 and lies within [Min, Max].</summary>
internal static class RangeMethods
{
    public static (float Min, float Max) Compute(CalibrationHistogram h, RangeMethod method, double percentile, bool unsigned)
    {
        if (h.Count == 0) return (0, 0);
        (double lo, double hi) = method switch
        {
            RangeMethod.MinMax => (h.Min, h.Max),
            RangeMethod.Percentile => Percentile(h, percentile),
            RangeMethod.Entropy => Entropy(h),
            _ => throw new ArgumentOutOfRangeException(nameof(method)),
        };
        lo = Math.Max(lo, h.Min);
        hi = Math.Min(hi, h.Max);
        return ((float)Math.Min(lo, 0), (float)Math.Max(hi, 0));
    }

    /// <summary>Upper end: upper edge of the bin where the cumulative count first reaches P%; lower end likewise at (100-P)%.</summary>
    private static (double, double) Percentile(CalibrationHistogram h, double p)
    {
        var bins = h.Bins;
        double upperCount = h.Count * p / 100.0, lowerCount = h.Count * (100 - p) / 100.0;
        long cumulative = 0;
        double lo = h.Min, hi = h.Max;
        bool loSet = false;
        for (int i = 0; i < bins.Length; i++)
        {
            cumulative += bins[i];
            if (!loSet && cumulative > lowerCount) { lo = h.Edge(i); loSet = true; }
            if (cumulative >= upperCount) { hi = h.Edge(i + 1); break; }
        }
        return (lo, hi);
    }

    /// <summary>Histogram resolution of the KL search: |x| is binned into at most this many bins (TensorRT's 2048).</summary>
    public const int EntropyBins = 2048;

    /// <summary>
    /// KL-divergence threshold (TensorRT's method, with MXNet/ONNX Runtime's smoothing) on the histogram H of |x|:
    /// the signed calibration grid folded at 0 and merged (pairwise, exactly) down to at most <see cref="EntropyBins"/>
    /// bins of width w. Values exactly 0 are left out of H: 0 is exactly representable for every threshold (it is the
    /// zero point), so they carry no quantization error, while keeping their spike in bin 0 would make every threshold
    /// that merges bin 0 with its neighbours look bad and push the search to clip (post-ReLU tensors are often half zeros).
    /// For every candidate i = L .. n (n = the last non-empty bin + 1): P = H[0, i) with the mass above added to bin i-1;
    /// Q = H[0, i) (without that mass) merged into L equal groups of bins, each group's total spread evenly over the bins
    /// where P is non-zero; both are smoothed (zeros get ε = 1e-4, taken proportionally from the non-zero bins) and
    /// normalised, and KL(P‖Q) = Σ P·ln(P/Q). L is the number of quantization levels the range [0, t] gets: 128 for
    /// signed data (the range becomes [-t, t]), 256 for one-sided data (the range becomes [0, t] or [-t, 0]).
    /// The smallest divergence wins (ties: the smaller i); t = i·w. The caller clips the range to [Min, Max].
    /// </summary>
    internal static (double, double) Entropy(CalibrationHistogram h)
    {
        var bins = h.Bins;
        // Fold: grid bin k ≥ 0 holds |x| in [k·w, (k+1)·w); bin k < 0 holds |x| in ((-k-1)·w, -k·w].
        long maxK = 0;
        var abs = new SortedDictionary<long, long>();
        for (int i = 0; i < bins.Length; i++)
        {
            if (bins[i] == 0) continue;
            long k = h.FirstBin + i;
            long a = k >= 0 ? k : -k - 1;
            abs[a] = abs.GetValueOrDefault(a) + bins[i];
        }
        if (abs.ContainsKey(0)) abs[0] -= Math.Min(h.Zeros, abs[0]); // exact zeros sit in grid bin 0
        foreach (var (a, c) in abs) if (c > 0) maxK = Math.Max(maxK, a);
        if (h.Count - h.Zeros <= 0) return (h.Min, h.Max);
        double width = h.Width;
        long n = maxK + 1;
        int merge = 1;
        while (n > EntropyBins) { n = (n + 1) / 2; merge *= 2; width *= 2; }
        var hist = new double[n];
        foreach (var (a, c) in abs) if (c > 0) hist[a / merge] += c;

        bool oneSided = h.Min >= 0 || h.Max <= 0;
        int levels = oneSided ? 256 : 128;
        double extent = Math.Max(Math.Abs((double)h.Min), Math.Abs((double)h.Max));
        if (n <= levels) return oneSided ? (h.Min, h.Max) : (-extent, extent);
        double bestKl = double.PositiveInfinity;
        long bestI = n;
        var p = new double[n];
        var q = new double[n];
        double above = 0; // mass in bins [i, n)
        for (long j = levels; j < n; j++) above += hist[j];
        for (long i = levels; i <= n; i++)
        {
            if (i > levels) above -= hist[i - 1];
            for (long j = 0; j < i; j++) p[j] = hist[j];
            p[i - 1] += above;
            for (int l = 0; l < levels; l++)
            {
                long start = l * i / levels, end = (l + 1) * i / levels;
                double total = 0;
                int nonZero = 0;
                for (long j = start; j < end; j++) { total += hist[j]; if (p[j] != 0) nonZero++; }
                for (long j = start; j < end; j++) q[j] = p[j] != 0 ? total / nonZero : 0;
            }
            double kl = Divergence(p.AsSpan(0, (int)i), q.AsSpan(0, (int)i));
            if (kl < bestKl) { bestKl = kl; bestI = i; }
        }
        double t = bestI * width;
        return oneSided ? (h.Min >= 0 ? (0, t) : (-t, 0)) : (-t, t);
    }

    /// <summary>KL(P‖Q) after normalising both and smoothing their zero bins (ε = 1e-4 each, taken from the non-zero bins); ∞ when either is all zeros.</summary>
    internal static double Divergence(Span<double> p, Span<double> q)
    {
        if (!Smooth(p) || !Smooth(q)) return double.PositiveInfinity;
        double kl = 0;
        for (int j = 0; j < p.Length; j++)
            if (p[j] > 0) kl += p[j] * Math.Log(p[j] / q[j]);
        return kl;
    }

    /// <summary>Normalises to sum 1, then gives every zero bin ε and scales the non-zero bins by 1 - ε·zeros (the sum stays 1); false when all are zero.</summary>
    private static bool Smooth(Span<double> d)
    {
        const double Eps = 1e-4;
        double sum = 0;
        int zeros = 0;
        foreach (var v in d) { sum += v; if (v == 0) zeros++; }
        if (sum <= 0) return false;
        double keep = (1 - Eps * zeros) / sum; // d.Length ≤ EntropyBins, so ε·zeros < 1
        for (int j = 0; j < d.Length; j++) d[j] = d[j] == 0 ? Eps : d[j] * keep;
        return true;
    }
}
