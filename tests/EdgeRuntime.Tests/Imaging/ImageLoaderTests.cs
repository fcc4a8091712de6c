using System.Buffers.Binary;
using System.IO.Compression;
using EdgeRuntime.Imaging;
using EdgeRuntime.Tests.Infrastructure;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Metadata.Profiles.Exif;
using SixLabors.ImageSharp.PixelFormats;
using Xunit;

namespace EdgeRuntime.Tests.Imaging;

public class ImageLoaderTests
{
    [Fact]
    public void EveryRealPhotoLoadsWithItsHeaderSize()
    {
        var photos = SharedData.AllPhotos();
        Assert.True(photos.Length >= 15, $"expected the shared photos, found {photos.Length}");
        foreach (var path in photos)
        {
            using var image = ImageLoader.Default.Load(path);
            var info = Image.Identify(path);
            Assert.True(image.Width > 0 && image.Height > 0, path);
            // None of the shared photos carries a rotating EXIF orientation, so the header size holds.
            Assert.True(info.Width == image.Width && info.Height == image.Height, $"{path}: {image.Width}x{image.Height} vs header {info.Width}x{info.Height}");
        }
    }

    [Fact]
    public void Kitten224PngDecodesToTheSamePixelsAsImageSharp()
    {
        var path = SharedData.Path("images/winml/kitten_224.png");
        using var ours = ImageLoader.Default.Load(path);
        using var reference = Image.Load<Rgb24>(path);
        Assert.Equal(224, ours.Width);
        Assert.Equal(224, ours.Height);
        for (int y = 0; y < 224; y += 7)
            for (int x = 0; x < 224; x += 5)
                Assert.Equal(reference[x, y], ours[x, y]);
    }

    [Fact]
    public void BytesSpanAndStreamOverloadsAgreeWithTheFileOverload()
    {
        var path = SharedData.Path("images/coral/owl.jpg");
        var bytes = File.ReadAllBytes(path);
        using var fromFile = ImageLoader.Default.Load(path);
        using var fromArray = ImageLoader.Default.Load(bytes, "owl frame");
        using var fromSpan = ImageLoader.Default.Load((ReadOnlySpan<byte>)bytes, "owl frame");
        using var fromStream = ImageLoader.Default.Load(new MemoryStream(bytes), "owl stream");
        foreach (var other in new[] { fromArray, fromSpan, fromStream })
        {
            Assert.Equal(fromFile.Size(), other.Size());
            Assert.Equal(fromFile[fromFile.Width / 2, fromFile.Height / 3], other[other.Width / 2, other.Height / 3]);
        }
    }

    [Theory]
    [InlineData(1, 32, 16, false)]
    [InlineData(3, 32, 16, false)]
    [InlineData(6, 16, 32, true)]
    [InlineData(8, 16, 32, true)]
    public void ExifOrientationIsApplied(ushort orientation, int expectedWidth, int expectedHeight, bool rotated)
    {
        // Stored image: left half red, right half blue, 32x16.
        using var source = ImageTestData.Make(32, 16, (x, _) => x < 16 ? new Rgb24(255, 0, 0) : new Rgb24(0, 0, 255));
        source.Metadata.ExifProfile = new ExifProfile();
        source.Metadata.ExifProfile.SetValue(ExifTag.Orientation, orientation);
        var jpeg = ImageTestData.Jpeg(source, quality: 95);

        using var image = ImageLoader.Default.Load(jpeg, $"orientation {orientation}");
        Assert.Equal(expectedWidth, image.Width);
        Assert.Equal(expectedHeight, image.Height);
        // Where does the stored left (red) half end up?
        //   1: unchanged (left); 3: rotate 180 (right); 6: rotate 90 clockwise (top); 8: 90 counter-clockwise (bottom).
        var (redX, redY, blueX, blueY) = orientation switch
        {
            1 => (4, 8, 28, 8),
            3 => (28, 8, 4, 8),
            6 => (8, 4, 8, 28),
            8 => (8, 28, 8, 4),
            _ => throw new InvalidOperationException(),
        };
        AssertNear(new Rgb24(255, 0, 0), image[redX, redY], $"orientation {orientation} red");
        AssertNear(new Rgb24(0, 0, 255), image[blueX, blueY], $"orientation {orientation} blue");
        Assert.Equal(rotated, image.Width < image.Height);
    }

    private static void AssertNear(Rgb24 expected, Rgb24 actual, string what)
    {
        Assert.True(Math.Abs(expected.R - actual.R) <= 12 && Math.Abs(expected.G - actual.G) <= 12 && Math.Abs(expected.B - actual.B) <= 12,
            $"{what}: expected about {expected}, got {actual}");
    }

    [Fact]
    public void OverLimitHeaderIsRefusedBeforeDecoding()
    {
        // A valid-looking PNG whose IHDR claims 20000x20000 RGB (1.2 GB of pixels) with a tiny IDAT.
        var png = CraftPng(20000, 20000);
        var ex = Assert.Throws<InvalidInputException>(() => ImageLoader.Default.Load(png, "huge.png"));
        Assert.Contains("20000x20000", ex.Message);
        Assert.Contains("more than the limit of 40000000", ex.Message);
        Assert.Equal("huge.png", ex.InputName);
        Assert.Null(ex.InnerException); // refused from the header, not from a failed decode
    }

    [Fact]
    public void CraftedPngUnderTheLimitReachesTheDecoder()
    {
        // Same crafting, small size: proves the crafted header is accepted and the pixel limit decides above.
        var png = CraftPng(2, 1);
        try
        {
            using var image = ImageLoader.Default.Load(png, "small.png");
            Assert.Equal(2, image.Width);
        }
        catch (InvalidInputException ex)
        {
            Assert.DoesNotContain("limit", ex.Message);
        }
    }

    [Fact]
    public void LowLimitRefusesARealPhoto()
    {
        var path = SharedData.Path("images/winml/kitten_224.png");
        var loader = new ImageLoader(maxPixels: 224 * 224 - 1);
        var ex = Assert.Throws<InvalidInputException>(() => loader.Load(path));
        Assert.Contains(path, ex.Message);
        Assert.Contains("224x224 = 50176 pixels, more than the limit of 50175", ex.Message);
        using var ok = new ImageLoader(maxPixels: 224 * 224).Load(path);
        Assert.Equal(224, ok.Width);
    }

    public static TheoryData<string, string> BadInputs() => new()
    {
        { "empty", "empty" },
        { "random", "not a recognised image format" },
        { "text", "not a recognised image format" },
        { "gif", "GIF" },
        { "tiff", "TIFF" },
        { "jpeg-truncated-half", "truncated" },
        { "jpeg-truncated-header", "truncated" },
        { "jpeg-no-eoi", "truncated" },
        { "png-truncated-half", "truncated" },
        { "png-truncated-end", "truncated" },
        { "png-bad-crc", "PNG" },
        { "bmp-truncated", "truncated" },
        { "jpeg-signature-only", "JPEG" },
        { "png-signature-only", "PNG" },
        { "png-zero-size", "PNG" },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void BadInputIsInvalidInputException(string kind, string messagePart)
    {
        var data = MakeBadInput(kind);
        var ex = Assert.Throws<InvalidInputException>(() => { using var _ = ImageLoader.Default.Load(data, kind + ".img"); });
        Assert.StartsWith(kind + ".img: ", ex.Message);
        Assert.Contains(messagePart, ex.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void BadInputFileIsInvalidInputExceptionNamingTheFile(string kind, string messagePart)
    {
        using var dir = new ImageTestData.TempDir();
        var path = dir.File(kind + ".jpg", MakeBadInput(kind));
        var ex = Assert.Throws<InvalidInputException>(() => { using var _ = ImageLoader.Default.Load(path); });
        Assert.Contains(path, ex.Message);
        Assert.Contains(messagePart, ex.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void MissingFileAndDirectoryAreInvalidInputException()
    {
        using var dir = new ImageTestData.TempDir();
        var missing = Path.Combine(dir.Path, "nope.jpg");
        var ex = Assert.Throws<InvalidInputException>(() => ImageLoader.Default.Load(missing));
        Assert.Contains(missing, ex.Message);
        Assert.Contains("not found", ex.Message);
        var ex2 = Assert.Throws<InvalidInputException>(() => ImageLoader.Default.Load(dir.Path));
        Assert.Contains("directory", ex2.Message);
    }

    [Fact]
    public void MotionJpegFrameWithoutHuffmanTablesDecodes()
    {
        // ImageSharp's encoder writes the standard Annex K tables, so dropping its DHT segment gives the
        // kind of frame MJPEG cameras send; it must decode to exactly the same pixels.
        using var picture = ImageTestData.Make(64, 48, (x, y) => new Rgb24((byte)(x * 4), (byte)(y * 5), (byte)(x ^ y)));
        var jpeg = ImageTestData.Jpeg(picture);
        var frame = new List<byte> { 0xFF, 0xD8 };
        int i = 2, removed = 0;
        while (true)
        {
            byte marker = jpeg[i + 1];
            if (marker == 0xDA) { frame.AddRange(jpeg[i..]); break; }
            int segment = 2 + ((jpeg[i + 2] << 8) | jpeg[i + 3]);
            if (marker == 0xC4) removed++;
            else frame.AddRange(jpeg[i..(i + segment)]);
            i += segment;
        }
        Assert.True(removed > 0);
        using var expected = ImageLoader.Default.Load(jpeg, "with tables");
        using var actual = ImageLoader.Default.Load(frame.ToArray(), "mjpeg frame");
        Assert.Equal(expected.Size(), actual.Size());
        for (int y = 0; y < 48; y++)
            for (int x = 0; x < 64; x++)
                Assert.Equal(expected[x, y], actual[x, y]);
    }

    [Fact]
    public void GrayAndAlphaPngsDecodeToRgb()
    {
        using var gray = new Image<L8>(3, 2);
        gray[1, 1] = new L8(77);
        using var fromGray = ImageLoader.Default.Load(ImageTestData.Png(gray), "gray.png");
        Assert.Equal(new Rgb24(77, 77, 77), fromGray[1, 1]);

        using var rgba = new Image<Rgba32>(3, 2);
        rgba[2, 0] = new Rgba32(10, 20, 30, 255);
        using var fromRgba = ImageLoader.Default.Load(ImageTestData.Png(rgba), "rgba.png");
        Assert.Equal(new Rgb24(10, 20, 30), fromRgba[2, 0]);
    }

    internal static byte[] MakeBadInput(string kind)
    {
        using var photo = ImageTestData.Make(64, 48, (x, y) => new Rgb24((byte)(x * 4), (byte)(y * 5), (byte)(x ^ y)));
        var jpeg = ImageTestData.Jpeg(photo);
        var png = ImageTestData.Png(photo);
        switch (kind)
        {
            case "empty": return [];
            case "random": { var r = new byte[4096]; new Random(7).NextBytes(r); r[0] = 0x13; return r; }
            case "text": return "hello, this is not an image\n"u8.ToArray();
            case "gif": { using var s = new MemoryStream(); photo.SaveAsGif(s); return s.ToArray(); }
            case "tiff": { using var s = new MemoryStream(); photo.SaveAsTiff(s); return s.ToArray(); }
            case "jpeg-truncated-half": return jpeg[..(jpeg.Length / 2)];
            case "jpeg-truncated-header": return jpeg[..40];
            case "jpeg-no-eoi": return jpeg[..^2];
            case "png-truncated-half": return png[..(png.Length / 2)];
            case "png-truncated-end": return png[..^5];
            case "png-bad-crc":
            {
                // Flip a byte inside the IHDR data (offset 16 = width's high byte); its CRC no longer matches.
                var bad = (byte[])png.Clone();
                bad[17] ^= 0x40;
                return bad;
            }
            case "bmp-truncated": { var bmp = ImageTestData.Bmp(photo); return bmp[..(bmp.Length - 200)]; }
            case "jpeg-signature-only": return [0xFF, 0xD8, 0xFF, 0xD9];
            case "png-signature-only": return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];
            case "png-zero-size": return CraftPng(0, 0);
            default: throw new ArgumentException(kind);
        }
    }

    /// <summary>A PNG with the given header size (8-bit RGB), one small zlib IDAT and IEND, all CRCs valid.</summary>
    internal static byte[] CraftPng(int width, int height)
    {
        using var output = new MemoryStream();
        output.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(0), width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8; // bit depth
        ihdr[9] = 2; // color type RGB
        WriteChunk(output, "IHDR", ihdr);
        using (var raw = new MemoryStream())
        {
            using (var z = new ZLibStream(raw, CompressionLevel.Optimal, leaveOpen: true))
                z.Write(new byte[] { 0, 1, 2, 3, 4, 5, 6, 0, 7, 8, 9, 10, 11, 12 }); // filter byte + 2 RGB pixels, twice
            WriteChunk(output, "IDAT", raw.ToArray());
        }
        WriteChunk(output, "IEND", []);
        return output.ToArray();
    }

    private static void WriteChunk(Stream output, string type, byte[] data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        output.Write(word);
        var typeAndData = new byte[4 + data.Length];
        System.Text.Encoding.ASCII.GetBytes(type).CopyTo(typeAndData, 0);
        data.CopyTo(typeAndData, 4);
        output.Write(typeAndData);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc32(typeAndData));
        output.Write(word);
    }

    internal static uint Crc32(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (var b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
        }
        return ~crc;
    }
}
