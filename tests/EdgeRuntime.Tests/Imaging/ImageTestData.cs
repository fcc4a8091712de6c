using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Bmp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;

namespace EdgeRuntime.Tests.Imaging;

/// <summary>Synthetic images and encoded bytes for the imaging tests.</summary>
internal static class ImageTestData
{
    /// <summary>
    /// A 4x2 image whose pixel (x, y) is (10 + 30 k, 20 + 30 k, 30 + 30 k) with k = 4 y + x, so every
    /// channel of every pixel is distinct.
    /// </summary>
    public static Image<Rgb24> FourByTwo()
    {
        var image = new Image<Rgb24>(4, 2);
        for (int y = 0; y < 2; y++)
            for (int x = 0; x < 4; x++)
                image[x, y] = Pixel(x, y);
        return image;
    }

    /// <summary>The pixel of <see cref="FourByTwo"/> at (x, y).</summary>
    public static Rgb24 Pixel(int x, int y)
    {
        int k = 4 * y + x;
        return new Rgb24((byte)(10 + 30 * k), (byte)(20 + 30 * k), (byte)(30 + 30 * k));
    }

    /// <summary>An image filled by a function of (x, y).</summary>
    public static Image<Rgb24> Make(int width, int height, Func<int, int, Rgb24> pixel)
    {
        var image = new Image<Rgb24>(width, height);
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                image[x, y] = pixel(x, y);
        return image;
    }

    public static byte[] Png(Image image) { using var s = new MemoryStream(); image.SaveAsPng(s, new PngEncoder()); return s.ToArray(); }

    public static byte[] Jpeg(Image image, int quality = 90) { using var s = new MemoryStream(); image.SaveAsJpeg(s, new JpegEncoder { Quality = quality }); return s.ToArray(); }

    public static byte[] Bmp(Image image) { using var s = new MemoryStream(); image.SaveAsBmp(s, new BmpEncoder { BitsPerPixel = BmpBitsPerPixel.Pixel24 }); return s.ToArray(); }

    /// <summary>A temporary directory removed on dispose.</summary>
    public sealed class TempDir : IDisposable
    {
        public TempDir()
        {
            Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "edgerun-imaging-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(Path);
        }

        public string Path { get; }

        public string File(string name, string? text = null)
        {
            var full = System.IO.Path.Combine(Path, name);
            if (text != null) System.IO.File.WriteAllText(full, text);
            return full;
        }

        public string File(string name, byte[] bytes)
        {
            var full = System.IO.Path.Combine(Path, name);
            System.IO.File.WriteAllBytes(full, bytes);
            return full;
        }

        public void Dispose()
        {
            try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
        }
    }
}
