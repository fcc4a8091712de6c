namespace ModelConverter.Quantization;

/// <summary>
/// Running statistics of one tensor over the calibration images: exact min/max, and a histogram on a grid anchored at
/// 0 with power-of-two bin width w: bin k holds values in [k·w, (k+1)·w), and the <see cref="BinCount"/> stored bins are
/// k = <see cref="FirstBin"/> .. FirstBin + BinCount - 1. When new values fall outside, w doubles (bins k merge into
/// k/2, which is exact because the grid is anchored at 0) and the window moves, so one pass suffices and the result
/// depends only on the values and their order.
/// </summary>
internal sealed class CalibrationHistogram
{
    public const int BinCount = 4096;

    private long[]? _bins;

    public float Min { get; private set; } = float.PositiveInfinity;
    public float Max { get; private set; } = float.NegativeInfinity;
    public long Count { get; private set; }

    /// <summary>How many of the values were exactly 0 (after clamping); they also sit in the bin holding 0.</summary>
    public long Zeros { get; private set; }

    /// <summary>Bin width (a power of two).</summary>
    public double Width { get; private set; }

    /// <summary>Grid index of stored bin 0.</summary>
    public long FirstBin { get; private set; }

    public ReadOnlySpan<long> Bins => _bins;

    /// <summary>Adds values, first clamping them to [<paramref name="low"/>, <paramref name="high"/>] (a fused activation).</summary>
    public void Add(ReadOnlySpan<float> values, float low = float.NegativeInfinity, float high = float.PositiveInfinity)
    {
        if (values.Length == 0) return;
        bool clamp = !float.IsNegativeInfinity(low) || !float.IsPositiveInfinity(high);
        float min, max;
        if (clamp)
        {
            min = float.PositiveInfinity; max = float.NegativeInfinity;
            foreach (var raw in values)
            {
                float v = Math.Clamp(raw, low, high);
                if (v < min) min = v;
                if (v > max) max = v;
            }
        }
        else
        {
            min = System.Numerics.Tensors.TensorPrimitives.Min(values);
            max = System.Numerics.Tensors.TensorPrimitives.Max(values);
        }
        if (float.IsNaN(min) || float.IsNaN(max) || float.IsInfinity(min) || float.IsInfinity(max)) return; // non-finite activations carry no range
        Min = Math.Min(Min, min);
        Max = Math.Max(Max, max);
        Count += values.Length;
        Fit(min, max);
        var bins = _bins!;
        double inv = 1.0 / Width;
        double first = FirstBin;
        long zeros = 0;
        foreach (var raw in values)
        {
            float v = clamp ? Math.Clamp(raw, low, high) : raw;
            if (v == 0) zeros++;
            // Values lie in the window [first·w, (first + BinCount)·w), so the offset is non-negative and truncation is floor.
            int k = (int)(v * inv - first);
            bins[k < 0 ? 0 : k >= BinCount ? BinCount - 1 : k]++;
        }
        Zeros += zeros;
    }

    private void Fit(float min, float max)
    {
        if (_bins == null)
        {
            double span = Math.Max(Math.Max(Math.Abs(min), Math.Abs(max)), 1e-12);
            Width = Math.Pow(2, Math.Ceiling(Math.Log2(2 * span / (BinCount / 2))));
            _bins = new long[BinCount];
            FirstBin = (long)Math.Floor(min / Width);
        }
        while (true)
        {
            // Global Min/Max already include the new values; every non-empty bin lies in [lo, hi].
            long lo = (long)Math.Floor(Min / Width), hi = (long)Math.Floor(Max / Width);
            if (lo >= FirstBin && hi < FirstBin + BinCount) return;
            if (hi - lo < BinCount)
            {
                Move(lo - (BinCount - 1 - (hi - lo)) / 2);
                return;
            }
            Double();
        }
    }

    private void Move(long newFirst)
    {
        var moved = new long[BinCount];
        for (int i = 0; i < BinCount; i++)
        {
            if (_bins![i] != 0) moved[FirstBin + i - newFirst] += _bins[i];
        }
        _bins = moved;
        FirstBin = newFirst;
    }

    private void Double()
    {
        long newFirst = FloorDiv2(FirstBin) - BinCount / 4; // leave room on both sides after the merge
        var merged = new long[BinCount];
        for (int i = 0; i < BinCount; i++)
            if (_bins![i] != 0) merged[FloorDiv2(FirstBin + i) - newFirst] += _bins[i];
        _bins = merged;
        FirstBin = newFirst;
        Width *= 2;
    }

    private static long FloorDiv2(long k) => k >> 1; // arithmetic shift floors for negatives

    private double[]? _channelSums;
    private long _perChannelCount;

    /// <summary>Mean of every channel (axis 1 of an N×C×... tensor) over all values seen, or null for rank &lt; 2 or a changing channel count.</summary>
    public double[]? ChannelMeans => _channelSums is { } sums && _perChannelCount > 0 ? sums.Select(v => v / _perChannelCount).ToArray() : null;

    /// <summary>Accumulates per-channel sums of an N×C×... tensor (for bias correction); values as given, without clamping.</summary>
    public void AddChannels(ReadOnlySpan<float> values, ReadOnlySpan<int> shape)
    {
        if (shape.Length < 2 || values.Length == 0 || _perChannelCount < 0) return;
        int channels = shape[1], inner = 1;
        for (int d = 2; d < shape.Length; d++) inner *= shape[d];
        if (channels <= 0 || inner <= 0 || (long)shape[0] * channels * inner != values.Length) return;
        if (_channelSums == null) _channelSums = new double[channels];
        else if (_channelSums.Length != channels) { _perChannelCount = -1; _channelSums = null; return; }
        for (int n = 0; n < shape[0]; n++)
            for (int c = 0; c < channels; c++)
                _channelSums[c] += System.Numerics.Tensors.TensorPrimitives.Sum(values.Slice((n * channels + c) * inner, inner));
        _perChannelCount += (long)shape[0] * inner;
    }

    /// <summary>Lower edge of stored bin <paramref name="i"/>.</summary>
    public double Edge(int i) => (FirstBin + i) * Width;
}
