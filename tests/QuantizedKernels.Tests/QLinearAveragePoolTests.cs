using EdgeRuntime.Kernels.Common;
using EdgeRuntime.Kernels.Pooling;
using EdgeRuntime.Kernels.SelfTest;
using Xunit;

namespace EdgeRuntime.Kernels.Tests;

/// <summary>
/// QLinearAveragePool whole-plane windows (one output per plane, MobileNet's final 7×7 average) on every supported path
/// against the reference, bit for bit: plane sizes around the 16- and 32-element transposition blocks and below 8,
/// channel counts around the groups of 8 and 32 planes, uint8 and int8, and extreme scales and zero points.
/// </summary>
public sealed class QLinearAveragePoolTests
{
    /// <summary>(height, width) of the planes: 1, &lt; 8, &lt; 16, 16, odd, 17–31, 32, 33, 49, 64 and 196 elements.</summary>
    private static readonly (int H, int W)[] Planes =
        [(1, 1), (1, 3), (2, 3), (1, 8), (3, 5), (4, 4), (1, 17), (5, 5), (1, 31), (4, 8), (3, 11), (7, 7), (8, 8), (14, 14)];

    /// <summary>Channel counts: below, at and above groups of 8 and steps of 32 planes.</summary>
    private static readonly int[] Channels = [1, 3, 7, 8, 9, 15, 16, 24, 31, 32, 33, 40, 63, 64, 65, 1280];

    public static TheoryData<bool, int> Cases()
    {
        var data = new TheoryData<bool, int>();
        foreach (var signed in new[] { false, true })
            for (int plane = 0; plane < Planes.Length; plane++)
                data.Add(signed, plane);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Whole_plane_windows_match_the_reference(bool signed, int planeIndex)
    {
        var (h, w) = Planes[planeIndex];
        var rng = new Random(planeIndex * 2 + (signed ? 1 : 0));
        int lo = signed ? -128 : 0, hi = signed ? 127 : 255;
        foreach (int channels in Channels)
            for (int variant = 0; variant < 8; variant++)
            {
                if (channels == 1280 && h * w > 49) continue; // MobileNet's shape; larger planes add nothing but time
                // variant 1 pads the kernel (count_include_pad on and off), 2 uses a batch of 2.
                int padTop = variant == 1 ? 1 : 0, padLeft = variant == 1 ? 2 : 0, batch = variant == 2 ? 2 : 1;
                var g = new QLinearPoolGeometry(batch, channels, h, w, 1, 1, h + padTop, w + padLeft, 1, 1, padTop, padLeft,
                    CountIncludePad: variant == 1 && rng.Next(2) == 0, ChannelsLast: false);
                var x = new byte[batch * channels * h * w];
                rng.NextBytes(x);
                float xScale = (float)(rng.NextDouble() * 0.1 + 1e-3), yScale = (float)(rng.NextDouble() * 0.1 + 1e-3);
                int xZeroPoint = rng.Next(lo, hi + 1), yZeroPoint = rng.Next(lo, hi + 1);
                switch (variant)
                {
                    case 3: // extreme zero points and every input at the opposite extreme: the largest terms
                        xZeroPoint = hi;
                        yZeroPoint = lo;
                        Array.Fill(x, (byte)lo);
                        break;
                    case 4: // tiny output scale: every output saturates
                        yScale = 1e-7f;
                        break;
                    case 5: // huge input scale: sums overflow to ±infinity and mixed signs give NaN (→ zero point)
                        xScale = 3e37f;
                        break;
                    case 6: // output scale 0: ±infinity and 0/0 quotients; zero point outside the type's range
                        yScale = 0f;
                        xZeroPoint = signed ? 200 : -70;
                        break;
                    case 7: // terms cancelling exactly: the output is the sign of the float sum's rounding residue
                        xZeroPoint = signed ? 0 : 128;
                        xScale = 0.0123457f;
                        yScale = 1e-30f;
                        ElementwiseSelfTest.FillCancelling(x, h * w, xZeroPoint, rng);
                        break;
                }
                var expected = new byte[batch * channels];
                QLinearAveragePoolReference.Run(g, x, signed, xScale, xZeroPoint, yScale, yZeroPoint, expected);
                foreach (var isa in CpuFeatures.Supported)
                {
                    var actual = new byte[expected.Length];
                    QLinearAveragePool.Run(isa, g, x, signed, xScale, xZeroPoint, yScale, yZeroPoint, actual, new float[QLinearAveragePool.ScratchLength(g)]);
                    int at = expected.AsSpan().CommonPrefixLength(actual);
                    Assert.True(at == expected.Length,
                        $"{CpuFeatures.Name(isa)} {g} variant {variant}: element {at} is {(at < actual.Length ? actual[at] : 0)}, expected {(at < expected.Length ? expected[at] : 0)}");
                }
            }
    }

    [Fact]
    public void Cancelling_terms_expose_the_order_of_the_sum()
    {
        // Guards variant 7 above: the same data summed in reverse order quantizes differently for many planes.
        var rng = new Random(9);
        var x = new byte[1280 * 49];
        ElementwiseSelfTest.FillCancelling(x, 49, 128, rng);
        var g = new QLinearPoolGeometry(1, 1280, 7, 7, 1, 1, 7, 7, 1, 1, 0, 0, false, false);
        var y = new byte[1280];
        QLinearAveragePoolReference.Run(g, x, false, 0.0123457f, 128, 1e-30f, 128, y);
        int differing = 0;
        for (int c = 0; c < 1280; c++)
        {
            float reversed = 0f;
            for (int i = 48; i >= 0; i--) reversed += 0.0123457f * (x[c * 49 + i] - 128);
            byte q = (byte)Requantization.RoundAndClamp(reversed / 49 / 1e-30f + 128, 0, 0, 255);
            if (q != y[c]) differing++;
        }
        Assert.True(differing > 100, $"only {differing} of 1280 planes depend on the order");
    }

    [Fact]
    public void Whole_plane_outputs_are_not_all_saturated()
    {
        // Guards the test above against comparing only clamped values: random data and scales give outputs inside the range.
        var g = new QLinearPoolGeometry(1, 64, 7, 7, 1, 1, 7, 7, 1, 1, 0, 0, false, false);
        var rng = new Random(5);
        var x = new byte[64 * 49];
        rng.NextBytes(x);
        var y = new byte[64];
        QLinearAveragePool.Run(CpuFeatures.Best, g, x, false, 0.05f, 128, 0.01f, 128, y, new float[QLinearAveragePool.ScratchLength(g)]);
        Assert.True(y.Distinct().Count() > 10, string.Join(",", y));
    }
}
