namespace EdgeRuntime.Tests.Infrastructure.ModelZoo;

/// <summary>
/// SplitMix64 generator: the model zoo's only source of randomness. Written out here (rather than
/// <see cref="System.Random"/>) so the sequence for a seed is fixed by this file, not by the .NET version.
/// </summary>
internal sealed class ZooRandom(ulong seed)
{
    private ulong _state = seed;
    private double? _spareNormal;

    /// <summary>Next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Standard normal (Box–Muller; the second value of each pair is kept for the next call).</summary>
    public double NextNormal()
    {
        if (_spareNormal is { } spare) { _spareNormal = null; return spare; }
        double u1 = 1.0 - NextDouble(); // (0, 1]: log is finite
        double u2 = NextDouble();
        double r = Math.Sqrt(-2.0 * Math.Log(u1));
        _spareNormal = r * Math.Sin(2 * Math.PI * u2);
        return r * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>An independent generator derived from this one and a label (so adding a layer does not shift the others' draws).</summary>
    public ZooRandom Fork(string label)
    {
        ulong h = 0xCBF29CE484222325UL; // FNV-1a over the label, mixed with the parent seed
        foreach (char c in label) { h ^= c; h *= 0x100000001B3UL; }
        return new ZooRandom(_state ^ h);
    }
}
