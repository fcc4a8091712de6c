using EdgeRuntime.Kernels.Conv;
using Xunit;

namespace EdgeRuntime.Kernels.Tests;

/// <summary>
/// The 3×3 stride-2 im2col (the stem convolution's; on x86 the AVX2 three-column path) against the formula of
/// <see cref="QLinearConvIm2Col"/>, at the widths where that path's applicability and step count change: 32 and 33
/// inside outputs of the third kernel column (below and at the path's minimum), 64 and 65 (two steps exactly, two steps
/// plus the overlapping last one), MobileNet's 224 with its right-only padding, and tiles that cut output rows.
/// The conv.im2col self-test group checks random geometries on every path.
/// </summary>
public sealed class QLinearConvIm2ColStemTests
{
    public static TheoryData<int, int, int, int> Cases()
    {
        // (input width, left padding, first pixel, tile length); tile length 0 means the whole output.
        var data = new TheoryData<int, int, int, int>();
        foreach (int width in new[] { 66, 67, 68, 129, 130, 131, 132, 224 })
            data.Add(width, 0, 0, 0);
        data.Add(224, 1, 0, 0);          // left padding: the first segment of each row takes the general code
        data.Add(224, 0, 4848, 4848);    // MobileNet's second tile: starts 32 pixels into an output row
        data.Add(224, 0, 112 * 5 + 40, 300);
        data.Add(131, 0, 66 * 3 + 1, 200);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Stride_two_three_columns_match_the_formula(int width, int padLeft, int firstPixel, int tileLength)
    {
        // MobileNet's input is 224 high; other widths use a few rows (the bottom padding row is the last kernel row's).
        int channels = 3, height = width == 224 ? 224 : 9, padTop = 0;
        int outH = (height + padTop + 1 - 3) / 2 + 1, outW = (width + padLeft + 1 - 3) / 2 + 1;
        var g = new QLinearConvGeometry(1, channels, height, width, 32, outH, outW, 3, 3, 2, 2, padTop, padLeft, 1, 1, 1);
        int pixels = outH * outW;
        if (tileLength == 0) tileLength = pixels;
        tileLength = Math.Min(tileLength, pixels - firstPixel);
        var rng = new Random(width * 7 + padLeft + firstPixel);
        var x = new byte[channels * height * width];
        rng.NextBytes(x);
        foreach (int xorMask in new[] { 0, 0x80 })
        {
            const sbyte padding = -77;
            var col = new sbyte[27 * tileLength];
            QLinearConvIm2Col.Tile(g, x, xorMask, padding, firstPixel, tileLength, col);
            string? mismatch = null;
            for (int k = 0; k < 27 && mismatch == null; k++)
                for (int j = 0; j < tileLength; j++)
                {
                    int c = k / 9, r = k / 3 % 3, s = k % 3, p = firstPixel + j;
                    int ih = p / outW * 2 - padTop + r, iw = p % outW * 2 - padLeft + s;
                    sbyte expected = (uint)ih < (uint)height && (uint)iw < (uint)width ? (sbyte)(x[(c * height + ih) * width + iw] ^ xorMask) : padding;
                    if (expected == col[k * tileLength + j]) continue;
                    mismatch = $"k={k} j={j} (pixel {p}) xor {xorMask:X2}: got {col[k * tileLength + j]}, expected {expected}";
                    break;
                }
            Assert.True(mismatch == null, mismatch);
        }
    }
}
