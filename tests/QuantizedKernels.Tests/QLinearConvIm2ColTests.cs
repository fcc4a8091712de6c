using EdgeRuntime.Kernels.Conv;
using Xunit;

namespace EdgeRuntime.Kernels.Tests;

/// <summary><see cref="QLinearConvIm2Col.Tile"/> against the formula of its summary, over random geometries and tiles.</summary>
public sealed class QLinearConvIm2ColTests
{
    [Fact]
    public void Tile_MatchesDefinition_OverRandomGeometries()
    {
        var random = new Random(424242);
        for (int trial = 0; trial < 300; trial++)
        {
            int c = random.Next(1, 5), inH = random.Next(1, 40), inW = random.Next(1, 80);
            int kh = random.Next(1, 4), kw = random.Next(1, 4), sh = random.Next(1, 3), sw = random.Next(1, 4);
            int dh = random.Next(1, 3), dw = random.Next(1, 3), padTop = random.Next(0, kh), padLeft = random.Next(0, kw);
            int outH = (inH + 2 * padTop - dh * (kh - 1) - 1) / sh + 1, outW = (inW + 2 * padLeft - dw * (kw - 1) - 1) / sw + 1;
            if (outH <= 0 || outW <= 0) continue;
            var g = new QLinearConvGeometry(1, c, inH, inW, 4, outH, outW, kh, kw, sh, sw, padTop, padLeft, dh, dw, 1);
            var x = new byte[c * inH * inW];
            random.NextBytes(x);
            int xorMask = random.Next(2) == 0 ? 0 : 0x80;
            sbyte padding = (sbyte)random.Next(-128, 128);
            int pixels = outH * outW, first = random.Next(pixels), length = random.Next(1, pixels - first + 1);
            int k = c * kh * kw;
            var col = new sbyte[k * length];
            QLinearConvIm2Col.Tile(g, x, xorMask, padding, first, length, col);
            for (int kk = 0; kk < k; kk++)
                for (int j = 0; j < length; j++)
                {
                    int ch = kk / (kh * kw), r = kk / kw % kh, s = kk % kw, p = first + j;
                    int ih = p / outW * sh - padTop + r * dh, iw = p % outW * sw - padLeft + s * dw;
                    sbyte expected = (uint)ih < (uint)inH && (uint)iw < (uint)inW ? (sbyte)(x[(ch * inH + ih) * inW + iw] ^ xorMask) : padding;
                    if (expected != col[kk * length + j])
                        Assert.Fail($"trial {trial}: {g} tile [{first}, +{length}) k={kk} j={j}: {col[kk * length + j]}, expected {expected}");
                }
        }
    }
}
