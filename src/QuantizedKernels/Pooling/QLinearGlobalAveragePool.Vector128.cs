using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using EdgeRuntime.Kernels.Common;

namespace EdgeRuntime.Kernels.Pooling;

/// <summary>
/// QLinearGlobalAveragePool dispatched by instruction-set path. The non-scalar paths compute the same exact int32 sums
/// as <see cref="QLinearGlobalAveragePoolReference"/> with <see cref="Vector128{T}"/> additions (bytes flipped to
/// unsigned order, summed in 16-bit lanes for at most 128 vectors, then widened into 32-bit lanes; the flip is undone
/// by subtracting 128 per element), then requantize each sum with <see cref="Requantization.Requantize"/>, so the
/// result is bit-exact with the reference.
/// </summary>
public static class QLinearGlobalAveragePool
{
    /// <summary>Runs the pool with the code of <paramref name="isa"/>; parameters as <see cref="QLinearGlobalAveragePoolReference.Run"/>.</summary>
    public static void Run(IsaPath isa, ReadOnlySpan<byte> x, bool signed, float xScale, int xZeroPoint, float yScale, int yZeroPoint,
        int batch, int channels, int imageSize, bool channelsLast, Span<byte> y)
    {
        if (isa == IsaPath.Scalar || !Vector128.IsHardwareAccelerated)
        {
            QLinearGlobalAveragePoolReference.Run(x, signed, xScale, xZeroPoint, yScale, yZeroPoint, batch, channels, imageSize, channelsLast, y);
            return;
        }
        float multiplier = QLinearGlobalAveragePoolReference.Multiplier(xScale, yScale, imageSize);
        int min = Requantization.MinOf(signed), max = Requantization.MaxOf(signed);
        // Σ Value(x) = Σ (x ^ flip) - offset·imageSize; fold the offset into the zero-point correction.
        int correction = (xZeroPoint + QuantizedByte.Offset(signed)) * imageSize;
        byte flip = (byte)QuantizedByte.FlipMask(signed);
        if (!channelsLast)
        {
            for (int plane = 0; plane < batch * channels; plane++)
            {
                int sum = PlaneSum(x.Slice(plane * imageSize, imageSize), flip);
                y[plane] = (byte)Requantization.Requantize(sum - correction, multiplier, yZeroPoint, min, max);
            }
            return;
        }
        for (int n = 0; n < batch; n++)
        {
            var image = x.Slice(n * imageSize * channels, imageSize * channels);
            int c = 0;
            for (; c <= channels - 16; c += 16)
                ChannelBlockSums(image, c, channels, imageSize, flip, y.Slice(n * channels + c, 16), correction, multiplier, yZeroPoint, min, max);
            for (; c < channels; c++)
            {
                int sum = 0;
                for (int i = 0; i < imageSize; i++) sum += image[i * channels + c] ^ flip;
                y[n * channels + c] = (byte)Requantization.Requantize(sum - correction, multiplier, yZeroPoint, min, max);
            }
        }
    }

    /// <summary>Σ (b ^ flip) over a contiguous plane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int PlaneSum(ReadOnlySpan<byte> plane, byte flip)
    {
        var flipVector = Vector128.Create(flip);
        ref byte r = ref MemoryMarshal.GetReference(plane);
        var total = Vector128<uint>.Zero;
        int i = 0;
        while (i <= plane.Length - 16)
        {
            // Each 16-bit lane gains at most 2·255 per vector: 128 vectors stay below 65536.
            int end = Math.Min(plane.Length - 15, i + 128 * 16);
            var partial = Vector128<ushort>.Zero;
            for (; i < end; i += 16)
            {
                var (lo, hi) = Vector128.Widen(Vector128.LoadUnsafe(ref r, (nuint)i) ^ flipVector);
                partial += lo + hi;
            }
            var (p0, p1) = Vector128.Widen(partial);
            total += p0 + p1;
        }
        int sum = (int)Vector128.Sum(total);
        for (; i < plane.Length; i++) sum += plane[i] ^ flip;
        return sum;
    }

    /// <summary>Channels-last: the sums of 16 consecutive channels over every pixel, requantized into <paramref name="y"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ChannelBlockSums(ReadOnlySpan<byte> image, int channel, int channels, int imageSize, byte flip, Span<byte> y,
        int correction, float multiplier, int yZeroPoint, int min, int max)
    {
        var flipVector = Vector128.Create(flip);
        ref byte r = ref MemoryMarshal.GetReference(image);
        Vector128<uint> s0 = default, s1 = default, s2 = default, s3 = default;
        int i = 0;
        while (i < imageSize)
        {
            // One byte per 16-bit lane per pixel: 256 pixels stay below 65536.
            int end = Math.Min(imageSize, i + 256);
            Vector128<ushort> lo = default, hi = default;
            for (; i < end; i++)
            {
                var (l, h) = Vector128.Widen(Vector128.LoadUnsafe(ref r, (nuint)(i * channels + channel)) ^ flipVector);
                lo += l;
                hi += h;
            }
            var (a, b) = Vector128.Widen(lo);
            var (c, d) = Vector128.Widen(hi);
            s0 += a; s1 += b; s2 += c; s3 += d;
        }
        Span<int> sums = stackalloc int[16];
        s0.AsInt32().CopyTo(sums);
        s1.AsInt32().CopyTo(sums[4..]);
        s2.AsInt32().CopyTo(sums[8..]);
        s3.AsInt32().CopyTo(sums[12..]);
        for (int k = 0; k < 16; k++) y[k] = (byte)Requantization.Requantize(sums[k] - correction, multiplier, yZeroPoint, min, max);
    }
}
