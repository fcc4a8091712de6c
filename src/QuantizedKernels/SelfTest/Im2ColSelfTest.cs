using EdgeRuntime.Kernels.Common;
using EdgeRuntime.Kernels.Conv;

namespace EdgeRuntime.Kernels.SelfTest;

/// <summary>
/// Self-test group of the QLinearConv im2col (<see cref="QLinearConvIm2Col"/>) against the formula of its summary. The
/// copy helpers pick their vector code from the CPU, not from the path, so every path runs the same code here; the group
/// exists so that the ARM64 LD2 and vector code is checked where it runs (unit tests only run on the build machine).
/// </summary>
public static class Im2ColSelfTest
{
    /// <summary>
    /// Random geometries and tiles (strides 1–3 with padding and dilation), stem-shaped geometries, then stride-2 rows of
    /// every length 1–70.
    /// </summary>
    public static void Check(IsaPath isa, SelfTestRecorder recorder)
    {
        _ = isa;
        var random = new Random(6161);
        for (int trial = 0; trial < 280; trial++)
        {
            // From trial 200 on: the stem shape (3×3, stride 2, no column dilation) with and without left padding, rows of
            // 15–60 outputs and, every other trial, up to 120 (the ARM64 and AVX2 three-column paths, their steps of 16 and
            // 32 outputs, and their fallbacks).
            bool stem = trial >= 200;
            int c = random.Next(1, 4), inH = random.Next(1, 30);
            int inW = !stem ? random.Next(1, 120) : trial % 2 == 0 ? random.Next(30, 121) : random.Next(60, 241);
            int kh = stem ? 3 : random.Next(1, 4), kw = stem ? 3 : random.Next(1, 4), sh = random.Next(1, 3), sw = stem ? 2 : random.Next(1, 4);
            int dh = random.Next(1, 3), dw = stem || trial % 2 == 0 ? 1 : random.Next(1, 3), padTop = random.Next(0, kh), padLeft = random.Next(0, kw);
            int outH = (inH + 2 * padTop - dh * (kh - 1) - 1) / sh + 1, outW = (inW + 2 * padLeft - dw * (kw - 1) - 1) / sw + 1;
            if (outH <= 0 || outW <= 0) continue;
            var g = new QLinearConvGeometry(1, c, inH, inW, 4, outH, outW, kh, kw, sh, sw, padTop, padLeft, dh, dw, 1);
            var x = new byte[c * inH * inW];
            random.NextBytes(x);
            int xorMask = random.Next(2) == 0 ? 0 : 0x80;
            sbyte padding = (sbyte)random.Next(-128, 128);
            int pixels = outH * outW, first = trial % 3 == 0 ? 0 : random.Next(pixels);
            int length = trial % 3 == 0 ? pixels : random.Next(1, pixels - first + 1);
            int k = c * kh * kw;
            var col = new sbyte[k * length];
            QLinearConvIm2Col.Tile(g, x, xorMask, padding, first, length, col);
            string? mismatch = null;
            for (int kk = 0; kk < k && mismatch == null; kk++)
                for (int j = 0; j < length; j++)
                {
                    int ch = kk / (kh * kw), r = kk / kw % kh, s = kk % kw, p = first + j;
                    int ih = p / outW * sh - padTop + r * dh, iw = p % outW * sw - padLeft + s * dw;
                    sbyte expected = (uint)ih < (uint)inH && (uint)iw < (uint)inW ? (sbyte)(x[(ch * inH + ih) * inW + iw] ^ xorMask) : padding;
                    if (expected != col[kk * length + j]) { mismatch = $"k={kk} j={j}: got {col[kk * length + j]}, expected {expected}"; break; }
                }
            recorder.Check(mismatch == null, () => $"{g} tile [{first}, +{length}) xor {xorMask:X2}", () => mismatch!);
        }
        for (int n = 1; n <= 70; n++)
            foreach (int extra in new[] { 0, 1 })
            {
                // Sources of exactly 2n − 1 bytes (what Tile passes) and one byte longer.
                var src = new byte[2 * n - 1 + extra];
                random.NextBytes(src);
                byte mask = (byte)(n % 2 == 0 ? 0x80 : 0);
                var dst = new byte[n];
                QLinearConvIm2Col.CopyEvenXor(src, dst, mask);
                int bad = -1;
                for (int i = 0; i < n && bad < 0; i++)
                    if (dst[i] != (byte)(src[2 * i] ^ mask)) bad = i;
                recorder.Check(bad < 0, () => $"CopyEvenXor n={n} source {src.Length}", () => $"element {bad}");
            }
    }
}
