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

    /// <summary>
    /// KL-divergence threshold on the histogram of |x| (the signed grid folded at 0, merged to ≤ 2048 bins): for each
    /// candidate threshold i (in steps), the reference distribution is bins [0, i) with everything above added to bin
    /// i-1, the candidate is those bins merged into L levels and expanded back evenly over the non-empty bins; L is 128
    /// for signed data and 256 for one-sided data. The threshold with the smallest KL(P‖Q) wins; the range is [-t, t]
    /// (clipped to [Min, Max] by the caller).
    /// </summary>
    private static (double, double) Entropy(CalibrationHistogram h)
    {
        var bins = h.Bins;
        // Fold: grid bin k ≥ 0 holds |x| in [k·w, (k+1)·w); bin k < 0 holds |x| in ((-k-1)·w, -k·w].
        long maxK = 0;
        var abs = new Dictionary<long, long>();
        for (int i = 0; i < bins.Length; i++)
        {
            if (bins[i] == 0) continue;
            long k = h.FirstBin + i;
            long a = k >= 0 ? k : -k - 1;
            abs[a] = abs.GetValueOrDefault(a) + bins[i];
            maxK = Math.Max(maxK, a);
        }
        double width = h.Width;
        long n = maxK + 1;
        int merge = 1;
        while (n > 2048) { n = (n + 1) / 2; merge *= 2; width *= 2; }
        var hist = new double[n];
        foreach (var (a, c) in abs) hist[a / merge] += c;

        bool oneSided = h.Min >= 0 || h.Max <= 0;
        int levels = oneSided ? 256 : 128;
        if (n <= levels) return (h.Min, h.Max);
        double bestKl = double.PositiveInfinity;
        long bestI = n;
        long step = Math.Max(1, (n - levels) / 128);
        var p = new double[n];
        var q = new double[n];
        for (long i = levels; i <= n; i += step)
        {
            double outliers = 0;
            for (long j = i; j < n; j++) outliers += hist[j];
            for (long j = 0; j < i; j++) p[j] = hist[j];
            p[i - 1] += outliers;
            // Merge bins [0, i) into `levels` groups and spread each group's total over its non-empty bins.
            for (int l = 0; l < levels; l++)
            {
                long start = l * i / levels, end = (l + 1) * i / levels;
                double total = 0;
                int nonEmpty = 0;
                for (long j = start; j < end; j++) { total += hist[j]; if (hist[j] != 0) nonEmpty++; }
                for (long j = start; j < end; j++) q[j] = hist[j] != 0 ? total / nonEmpty : 0;
            }
            double pSum = 0, qSum = 0;
            for (long j = 0; j < i; j++) { pSum += p[j]; qSum += q[j]; }
            if (pSum == 0 || qSum == 0) continue;
            double kl = 0;
            for (long j = 0; j < i; j++)
            {
                if (p[j] == 0) continue;
                double pj = p[j] / pSum, qj = q[j] / qSum;
                kl += pj * Math.Log(pj / (qj > 0 ? qj : 1e-12));
            }
            if (kl < bestKl) { bestKl = kl; bestI = i; }
        }
        double t = bestI * width;
        return (-t, t);
    }
}
