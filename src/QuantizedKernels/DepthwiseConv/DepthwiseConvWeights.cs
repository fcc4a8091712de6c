using EdgeRuntime.Kernels.Common;

namespace EdgeRuntime.Kernels.Depthwise;

/// <summary>
/// Depthwise weights prepared once (at model load) in the forms the fast paths read per channel, so a run does no
/// per-channel weight work: the weight sums that fold the input zero point into the bias, the AVX2 tap pairs, the
/// NEON 3×3 lanes and the SDOT kernel rows. Packed for one path (what a model loads: for MobileNetV2's 7136
/// depthwise channels the AVX2 forms take 44 bytes per 3×3 channel and the NEON ones 49, about 0.66 MB together,
/// roughly half of it never read on a given machine) or for every path.
/// Immutable; one instance may serve any number of threads and runs.
/// </summary>
public sealed class DepthwiseConvWeights
{
    private readonly short[] values;
    private readonly int kernelHeight, kernelWidth;
    private readonly IsaPath? packedFor;

    /// <summary>Channels (<see cref="DepthwiseConvGeometry.Channels"/> of the geometry packed for).</summary>
    public int Channels { get; }

    /// <summary>Taps per channel (<c>KernelHeight * KernelWidth</c>).</summary>
    public int Taps { get; }

    /// <summary>The weights as given: <c>[Channels][Taps]</c>, weight minus that channel's weight zero point.</summary>
    public ReadOnlySpan<short> Values => values;

    /// <summary>Per channel: <c>Σ weights</c> (int32, wrapping), for the accumulator start <c>bias - xZeroPoint * Σ w</c>.</summary>
    internal readonly int[] Sums;

    /// <summary>
    /// AVX2 tap pairs, <c>[Channels][KernelHeight * PairsPerRow]</c> with <c>PairsPerRow = (KernelWidth + 1) / 2</c>:
    /// <c>(w[kh][2p] &amp; 0xFFFF) | (w[kh][2p + 1] &lt;&lt; 16)</c>, weight 0 after an odd row's last tap.
    /// </summary>
    internal readonly int[] Avx2Pairs;

    /// <summary>Ints per channel in <see cref="Avx2Pairs"/>.</summary>
    internal readonly int Avx2PairsPerChannel;

    /// <summary>
    /// AVX2 channel groups: tap pairs by channel, <c>[⌈Taps/2⌉][Channels + 16]</c> ints, <c>(w[c][2p] &amp; 0xFFFF) |
    /// (w[c][2p + 1] &lt;&lt; 16)</c> (0 past the last tap and past the last channel), so that 16 consecutive channels
    /// of a pair are two aligned-free 32-byte loads.
    /// </summary>
    internal readonly int[] Avx2ChannelPairs;

    /// <summary>Ints per tap pair in <see cref="Avx2ChannelPairs"/>: Channels + 16.</summary>
    internal int Avx2ChannelPairStride => Channels + 16;

    /// <summary>3×3 only (else empty): per channel 16 int16 lanes, taps 0-8 then zeros (NEON SMLAL by element).</summary>
    internal readonly short[] Neon3x3;

    /// <summary>
    /// 3×3 only (else empty): per channel 16 int8 bytes, kernel row kh in bytes <c>4kh .. 4kh + 2</c> and zeros (the
    /// SDOT rows), valid where <see cref="FitsInt8"/> is true.
    /// </summary>
    internal readonly sbyte[] DotRows;

    /// <summary>3×3 only (else empty): per channel, whether every weight lies in [-128, 127] (the SDOT path applies).</summary>
    internal readonly bool[] FitsInt8;

    /// <summary>Packs <paramref name="weights"/> (<c>[Channels][Taps]</c> of <paramref name="g"/>) for every path.</summary>
    /// <exception cref="ArgumentException">Invalid geometry, or fewer than <c>Channels * Taps</c> weights.</exception>
    public DepthwiseConvWeights(in DepthwiseConvGeometry g, ReadOnlySpan<short> weights) : this(g, weights, null)
    {
    }

    /// <summary>
    /// Packs <paramref name="weights"/> (<c>[Channels][Taps]</c> of <paramref name="g"/>) for <paramref name="isa"/>
    /// alone: the AVX2 paths get the tap pairs, NEON the 3×3 lanes (and NeonDot the SDOT rows), Vector128 and Scalar
    /// only the weights and their sums. <see cref="DepthwiseConv.Run(IsaPath, in DepthwiseConvGeometry, ReadOnlySpan{byte}, bool, int, DepthwiseConvWeights, ReadOnlySpan{int}, ReadOnlySpan{float}, int, int, int, Span{byte}, Span{int}, int, int)"/>
    /// refuses the instance for another path family.
    /// </summary>
    /// <exception cref="ArgumentException">Invalid geometry, or fewer than <c>Channels * Taps</c> weights.</exception>
    public DepthwiseConvWeights(in DepthwiseConvGeometry g, ReadOnlySpan<short> weights, IsaPath isa) : this(g, weights, (IsaPath?)isa)
    {
    }

    private DepthwiseConvWeights(in DepthwiseConvGeometry g, ReadOnlySpan<short> weights, IsaPath? isa)
    {
        g.Validate();
        int channels = g.Channels, taps = g.Taps;
        if (weights.Length < channels * taps)
            throw new ArgumentException($"depthwise weights: {weights.Length} values, the geometry needs {channels * taps}");
        Channels = channels;
        Taps = taps;
        kernelHeight = g.KernelHeight;
        kernelWidth = g.KernelWidth;
        packedFor = isa;
        values = weights[..(channels * taps)].ToArray();
        Sums = new int[channels];
        // Every form for every path, or the forms of isa's family (the same mapping Serves checks).
        bool avx2 = isa is not { } one || Family(one) == IsaPath.Avx2;
        bool neon = isa is not { } arm || Family(arm) == IsaPath.Neon, dot = isa is null or IsaPath.NeonDot or IsaPath.Avx512Vnni;
        int pairsPerRow = (g.KernelWidth + 1) / 2;
        Avx2PairsPerChannel = g.KernelHeight * pairsPerRow;
        Avx2Pairs = avx2 ? new int[checked(channels * Avx2PairsPerChannel)] : [];
        int tapPairs = (taps + 1) / 2;
        Avx2ChannelPairs = avx2 ? new int[checked(tapPairs * (channels + 16))] : [];
        if (avx2)
            for (int c = 0; c < channels; c++)
                for (int p = 0; p < tapPairs; p++)
                {
                    int first = values[c * taps + 2 * p], second = 2 * p + 1 < taps ? values[c * taps + 2 * p + 1] : 0;
                    Avx2ChannelPairs[p * (channels + 16) + c] = (first & 0xFFFF) | (second << 16);
                }
        bool is3x3 = g.KernelHeight == 3 && g.KernelWidth == 3;
        Neon3x3 = is3x3 && neon ? new short[channels * 16] : [];
        DotRows = is3x3 && dot ? new sbyte[channels * 16] : [];
        FitsInt8 = is3x3 && dot ? new bool[channels] : [];
        for (int c = 0; c < channels; c++)
        {
            var w = values.AsSpan(c * taps, taps);
            int sum = 0;
            foreach (short value in w) sum = unchecked(sum + value);
            Sums[c] = sum;
            if (avx2)
                for (int kh = 0; kh < g.KernelHeight; kh++)
                    for (int p = 0; p < pairsPerRow; p++)
                    {
                        int kw = 2 * p;
                        int low = w[kh * g.KernelWidth + kw];
                        int high = kw + 1 < g.KernelWidth ? w[kh * g.KernelWidth + kw + 1] : 0;
                        Avx2Pairs[c * Avx2PairsPerChannel + kh * pairsPerRow + p] = (low & 0xFFFF) | (high << 16);
                    }
            if (!is3x3) continue;
            if (neon) w.CopyTo(Neon3x3.AsSpan(c * 16, 9));
            if (!dot) continue;
            bool fits = true;
            foreach (short value in w) fits &= value >= sbyte.MinValue && value <= sbyte.MaxValue;
            FitsInt8[c] = fits;
            if (fits)
                for (int kh = 0; kh < 3; kh++)
                    for (int kw = 0; kw < 3; kw++) DotRows[c * 16 + 4 * kh + kw] = (sbyte)w[3 * kh + kw];
        }
    }

    /// <summary>True when this was packed for a geometry with <paramref name="g"/>'s channels and kernel.</summary>
    internal bool Matches(in DepthwiseConvGeometry g) =>
        Channels == g.Channels && kernelHeight == g.KernelHeight && kernelWidth == g.KernelWidth;

    /// <summary>True when this holds every form <paramref name="isa"/>'s code reads (packed for every path, or for one of its family).</summary>
    internal bool Serves(IsaPath isa) =>
        packedFor is not { } packed
        || isa is IsaPath.Scalar or IsaPath.Vector128 // they read only the weights and their sums, which every packing has
        || Family(packed) == Family(isa) && (isa != IsaPath.NeonDot || packed == IsaPath.NeonDot);

    /// <summary>The path whose packed forms serve <paramref name="isa"/>: the AVX2 forms serve the VNNI paths, the NEON forms NeonDot only when packed for it.</summary>
    private static IsaPath Family(IsaPath isa) => isa switch
    {
        IsaPath.AvxVnni or IsaPath.Avx512Vnni => IsaPath.Avx2,
        IsaPath.NeonDot => IsaPath.Neon,
        _ => isa,
    };

    /// <summary>Bytes of every form held (the weights, their sums and the paths' packed forms), for memory reports.</summary>
    public long PackedBytes =>
        (long)values.Length * sizeof(short) + (long)Sums.Length * sizeof(int) + (long)Avx2Pairs.Length * sizeof(int)
        + (long)Avx2ChannelPairs.Length * sizeof(int) + (long)Neon3x3.Length * sizeof(short) + DotRows.Length + FitsInt8.Length;

    /// <summary>What this was packed for, for error messages.</summary>
    internal string PackedForDescription => packedFor is { } packed ? $"the {packed} path" : "every path";
}
