using System.Buffers.Binary;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Bmp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace EdgeRuntime.Imaging;

/// <summary>
/// Decodes JPEG, PNG and BMP images (and nothing else) to <see cref="Image{Rgb24}"/> with the EXIF
/// orientation applied.
/// </summary>
/// <remarks>
/// Order of work for every source: (1) detect the format from the leading bytes (only the three enabled
/// formats are known to the private ImageSharp <see cref="Configuration"/>); (2) a cheap structural check
/// of the container (JPEG: the marker segments and entropy-coded data run to an EOI marker; PNG: every
/// chunk fits in the data and an IEND chunk is reached; BMP: uncompressed pixel rows fit in the data) so
/// truncated files are refused even where the decoder would silently pad them; (3) <c>Identify</c> reads
/// only the header and images with width*height above <see cref="MaxPixels"/> are refused before any
/// pixel buffer is allocated; a JPEG without Huffman tables (a Motion-JPEG camera frame) gets the standard
/// tables of ITU-T T.81 Annex K.3 inserted; (4) decode to <see cref="Rgb24"/> (alpha is dropped, gray expanded);
/// (5) <c>AutoOrient</c>. Every failure is an <see cref="InvalidInputException"/> naming the source.
/// Thread-safe: one instance may serve concurrent loads.
/// </remarks>
public sealed class ImageLoader
{
    /// <summary>Default pixel limit: 40 megapixels.</summary>
    public const long DefaultMaxPixels = 40_000_000;

    /// <summary>Largest encoded file or buffer accepted (256 MiB); bigger sources are refused unread.</summary>
    public const long MaxEncodedBytes = 256L * 1024 * 1024;

    private readonly Configuration _configuration;

    /// <summary>Creates a loader that refuses images with more than <paramref name="maxPixels"/> pixels.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxPixels"/> is not positive.</exception>
    public ImageLoader(long maxPixels = DefaultMaxPixels)
    {
        if (maxPixels <= 0) throw new ArgumentOutOfRangeException(nameof(maxPixels), maxPixels, "the pixel limit must be positive");
        MaxPixels = maxPixels;
        _configuration = new Configuration(new JpegConfigurationModule(), new PngConfigurationModule(), new BmpConfigurationModule());
    }

    /// <summary>A shared loader with the default limit.</summary>
    public static ImageLoader Default { get; } = new();

    /// <summary>Images whose width*height exceeds this are refused before decoding.</summary>
    public long MaxPixels { get; }

    /// <summary>Reads and decodes an image file.</summary>
    /// <exception cref="InvalidInputException">Missing/unreadable file or any decoding problem.</exception>
    public Image<Rgb24> Load(string path)
    {
        byte[] data;
        try
        {
            if (Directory.Exists(path)) throw new InvalidInputException(path, "is a directory, not an image file");
            if (!File.Exists(path)) throw new InvalidInputException(path, "file not found");
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            if (stream.Length > MaxEncodedBytes)
                throw new InvalidInputException(path, $"file is {stream.Length} bytes, more than the {MaxEncodedBytes} bytes accepted for an image");
            data = new byte[stream.Length];
            stream.ReadExactly(data);
        }
        catch (InvalidInputException) { throw; }
        catch (Exception ex)
        {
            throw new InvalidInputException(path, $"cannot read file: {ex.Message}", ex);
        }
        return Load((ReadOnlySpan<byte>)data, path);
    }

    /// <summary>Decodes an encoded image held in memory (e.g. one MJPEG frame).</summary>
    /// <param name="data">The encoded bytes.</param>
    /// <param name="sourceName">Name used in error messages.</param>
    /// <exception cref="InvalidInputException">Any decoding problem.</exception>
    public Image<Rgb24> Load(byte[] data, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(data);
        return Load((ReadOnlySpan<byte>)data, sourceName);
    }

    /// <summary>Reads a stream to its end and decodes it.</summary>
    /// <exception cref="InvalidInputException">Read failure or any decoding problem.</exception>
    public Image<Rgb24> Load(Stream stream, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(stream);
        byte[] data;
        try
        {
            using var copy = new MemoryStream();
            var chunk = new byte[81920];
            int n;
            while ((n = stream.Read(chunk, 0, chunk.Length)) > 0)
            {
                if (copy.Length + n > MaxEncodedBytes)
                    throw new InvalidInputException(sourceName, $"stream holds more than the {MaxEncodedBytes} bytes accepted for an image");
                copy.Write(chunk, 0, n);
            }
            data = copy.ToArray();
        }
        catch (InvalidInputException) { throw; }
        catch (Exception ex)
        {
            throw new InvalidInputException(sourceName, $"cannot read stream: {ex.Message}", ex);
        }
        return Load((ReadOnlySpan<byte>)data, sourceName);
    }

    /// <summary>Decodes an encoded image held in memory.</summary>
    /// <param name="data">The encoded bytes.</param>
    /// <param name="sourceName">Name used in error messages.</param>
    /// <exception cref="InvalidInputException">Any decoding problem.</exception>
    public Image<Rgb24> Load(ReadOnlySpan<byte> data, string sourceName)
    {
        if (data.IsEmpty) throw new InvalidInputException(sourceName, "empty (0 bytes)");
        if (data.Length > MaxEncodedBytes)
            throw new InvalidInputException(sourceName, $"{data.Length} bytes, more than the {MaxEncodedBytes} bytes accepted for an image");

        IImageFormat? format;
        try { format = Image.DetectFormat(_configuration, data); }
        catch (Exception ex) { throw new InvalidInputException(sourceName, $"cannot detect the image format: {ex.Message}", ex); }
        if (format == null)
            throw new InvalidInputException(sourceName, $"{DescribeUnsupported(data)} (supported: JPEG, PNG, BMP)");

        string formatName = format.Name;
        bool jpegHasHuffmanTables = true;
        string? structuralProblem = formatName switch
        {
            "JPEG" => ImageContainerCheck.Jpeg(data, out jpegHasHuffmanTables),
            "PNG" => ImageContainerCheck.Png(data),
            "BMP" => ImageContainerCheck.Bmp(data),
            _ => null,
        };
        if (structuralProblem != null)
            throw new InvalidInputException(sourceName, $"{formatName}: {structuralProblem}");
        if (!jpegHasHuffmanTables)
        {
            // Motion-JPEG frames (AVI1, most USB cameras) omit the Huffman tables and rely on the standard
            // ones; the decoder needs them spelled out, so insert them right after SOI.
            return Decode(StandardHuffmanTables.InsertInto(data), sourceName, formatName);
        }
        return Decode(data, sourceName, formatName);
    }

    private Image<Rgb24> Decode(ReadOnlySpan<byte> data, string sourceName, string formatName)
    {
        int width, height;
        try
        {
            IImageInfo? info;
            unsafe
            {
                fixed (byte* p = data)
                {
                    using var stream = new UnmanagedMemoryStream(p, data.Length);
                    info = Image.Identify(_configuration, stream);
                }
            }
            if (info == null) throw new InvalidInputException(sourceName, $"{formatName}: header not recognised");
            width = info.Width;
            height = info.Height;
        }
        catch (InvalidInputException) { throw; }
        catch (Exception ex)
        {
            throw new InvalidInputException(sourceName, $"{formatName}: corrupt image: {ex.Message}", ex);
        }
        CheckSize(sourceName, formatName, width, height);

        Image<Rgb24>? image = null;
        try
        {
            image = Image.Load<Rgb24>(_configuration, data);
            // The decoder must agree with the header it was identified by; anything else is corrupt data.
            if (image.Width != width || image.Height != height)
                throw new InvalidInputException(sourceName, $"{formatName}: decoded size {image.Width}x{image.Height} differs from the header's {width}x{height}");
            image.Mutate(ctx => ctx.AutoOrient());
            CheckSize(sourceName, formatName, image.Width, image.Height);
            return image;
        }
        catch (InvalidInputException)
        {
            image?.Dispose();
            throw;
        }
        catch (Exception ex)
        {
            image?.Dispose();
            var what = ex is OutOfMemoryException || ex is InsufficientMemoryException ? "out of memory while decoding" : "corrupt or unsupported image data";
            throw new InvalidInputException(sourceName, $"{formatName}: {what}: {ex.Message}", ex);
        }
    }

    private void CheckSize(string sourceName, string formatName, int width, int height)
    {
        if (width <= 0 || height <= 0)
            throw new InvalidInputException(sourceName, $"{formatName}: image has zero size ({width}x{height})");
        long pixels = (long)width * height;
        if (pixels > MaxPixels)
            throw new InvalidInputException(sourceName, $"{formatName}: image is {width}x{height} = {pixels} pixels, more than the limit of {MaxPixels}");
    }

    /// <summary>Names a few common formats that are deliberately not enabled, for a clearer message.</summary>
    private static string DescribeUnsupported(ReadOnlySpan<byte> data)
    {
        static bool StartsWith(ReadOnlySpan<byte> d, ReadOnlySpan<byte> prefix) => d.StartsWith(prefix);
        if (StartsWith(data, "GIF8"u8)) return "unsupported image format GIF";
        if (StartsWith(data, "II*\0"u8) || StartsWith(data, "MM\0*"u8)) return "unsupported image format TIFF";
        if (data.Length >= 12 && StartsWith(data, "RIFF"u8) && data.Slice(8, 4).SequenceEqual("WEBP"u8)) return "unsupported image format WebP";
        if (StartsWith(data, "\0\0\0"u8) && data.Length >= 12 && data.Slice(4, 4).SequenceEqual("ftyp"u8)) return "unsupported image format HEIF/AVIF";
        if (data.Length >= 2 && data[0] == 'P' && data[1] >= '1' && data[1] <= '7') return "unsupported image format PBM/PGM/PPM";
        return "not a recognised image format";
    }
}

/// <summary>
/// Container-level completeness checks run before the decoder. Each returns null when the data looks
/// complete, else a short description of the problem. They never read past the span.
/// </summary>
internal static class ImageContainerCheck
{
    /// <summary>
    /// Walks JPEG marker segments from SOI: length-prefixed segments must fit; after each SOS the
    /// entropy-coded data runs to the next marker that is not a byte-stuffing (FF 00), restart (FF D0-D7)
    /// or fill (FF FF) code. Success requires reaching EOI (FF D9). Stray non-marker bytes between
    /// segments are skipped, as libjpeg does.
    /// </summary>
    /// <param name="d">The encoded bytes.</param>
    /// <param name="hasHuffmanTables">False when no DHT segment precedes the first SOS (Motion-JPEG style).</param>
    public static string? Jpeg(ReadOnlySpan<byte> d, out bool hasHuffmanTables)
    {
        hasHuffmanTables = true;
        if (d.Length < 4 || d[0] != 0xFF || d[1] != 0xD8) return "missing the start-of-image marker";
        bool sawTables = false;
        int i = 2;
        bool sawScan = false;
        while (true)
        {
            int next = d.Slice(i).IndexOf((byte)0xFF);
            if (next < 0) return "truncated: no end-of-image marker";
            i += next;
            while (i + 1 < d.Length && d[i + 1] == 0xFF) i++; // fill bytes before a marker
            if (i + 1 >= d.Length) return "truncated: no end-of-image marker";
            byte marker = d[i + 1];
            i += 2;
            if (marker == 0xD9) return sawScan ? null : "no image scan before the end-of-image marker";
            if (marker == 0x00 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) continue; // standalone codes
            if (i + 2 > d.Length) return "truncated inside a marker segment";
            int length = BinaryPrimitives.ReadUInt16BigEndian(d.Slice(i, 2));
            if (length < 2) return $"marker segment 0xFF{marker:X2} at offset {i - 2} has an invalid length {length}";
            if ((long)i + length > d.Length) return $"truncated inside marker segment 0xFF{marker:X2} at offset {i - 2}";
            i += length;
            if (marker == 0xC4) sawTables = true;
            if (marker != 0xDA) continue;

            // Entropy-coded data after SOS: find the next real marker.
            if (!sawScan) hasHuffmanTables = sawTables;
            sawScan = true;
            while (true)
            {
                int ff = d.Slice(i).IndexOf((byte)0xFF);
                if (ff < 0) return "truncated inside the image scan data (no end-of-image marker)";
                i += ff;
                if (i + 1 >= d.Length) return "truncated inside the image scan data (no end-of-image marker)";
                byte code = d[i + 1];
                if (code == 0x00 || (code >= 0xD0 && code <= 0xD7)) { i += 2; continue; }
                if (code == 0xFF) { i += 1; continue; }
                break; // a marker: handled by the outer loop
            }
        }
    }

    private static ReadOnlySpan<byte> PngSignature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>
    /// Walks PNG chunks (4-byte big-endian length, 4-byte type, data, 4-byte CRC): every chunk must fit in
    /// the data and IEND must be reached; the first chunk must be IHDR and some IDAT must precede IEND.
    /// </summary>
    public static string? Png(ReadOnlySpan<byte> d)
    {
        if (d.Length < 8 || !d.Slice(0, 8).SequenceEqual(PngSignature)) return "bad signature";
        long i = 8;
        bool first = true, sawData = false;
        while (true)
        {
            if (i + 8 > d.Length) return "truncated: no IEND chunk";
            uint length = BinaryPrimitives.ReadUInt32BigEndian(d.Slice((int)i, 4));
            var type = d.Slice((int)i + 4, 4);
            if (length > int.MaxValue) return $"chunk at offset {i} has an invalid length {length}";
            if (i + 12 + length > d.Length) return $"truncated inside the {Ascii(type)} chunk at offset {i}";
            if (first && !type.SequenceEqual("IHDR"u8)) return "the first chunk is not IHDR";
            first = false;
            if (type.SequenceEqual("IDAT"u8)) sawData = true;
            if (type.SequenceEqual("IEND"u8)) return sawData ? null : "no IDAT (image data) chunk";
            i += 12 + length;
        }
    }

    /// <summary>
    /// For uncompressed BMPs (BI_RGB / BI_BITFIELDS with a BITMAPINFOHEADER or later), the pixel rows
    /// (each padded to 4 bytes) starting at the pixel-data offset must fit in the data. Other variants
    /// (RLE, OS/2 headers) are left to the decoder.
    /// </summary>
    public static string? Bmp(ReadOnlySpan<byte> d)
    {
        if (d.Length < 14 + 16) return "truncated header";
        uint pixelOffset = BinaryPrimitives.ReadUInt32LittleEndian(d.Slice(10, 4));
        uint headerSize = BinaryPrimitives.ReadUInt32LittleEndian(d.Slice(14, 4));
        if (headerSize < 40) return null;
        if (d.Length < 14 + 40) return "truncated header";
        long width = BinaryPrimitives.ReadInt32LittleEndian(d.Slice(18, 4));
        long height = Math.Abs((long)BinaryPrimitives.ReadInt32LittleEndian(d.Slice(22, 4)));
        int bitsPerPixel = BinaryPrimitives.ReadUInt16LittleEndian(d.Slice(28, 2));
        uint compression = BinaryPrimitives.ReadUInt32LittleEndian(d.Slice(30, 4));
        if (compression != 0 && compression != 3) return null;
        if (width <= 0 || height <= 0 || bitsPerPixel == 0 || bitsPerPixel > 32) return null; // decoder reports these
        long rowBytes = (width * bitsPerPixel + 31) / 32 * 4;
        long needed = pixelOffset + rowBytes * height;
        if (needed > d.Length) return $"truncated: pixel data needs {needed} bytes, the data has {d.Length}";
        return null;
    }

    private static string Ascii(ReadOnlySpan<byte> type)
    {
        Span<char> c = stackalloc char[4];
        for (int k = 0; k < 4; k++) c[k] = type[k] is >= 0x20 and < 0x7F ? (char)type[k] : '?';
        return new string(c);
    }
}

/// <summary>
/// The Huffman tables of ITU-T T.81 Annex K.3 (luminance/chrominance DC and AC), which Motion-JPEG frames
/// leave out, as one DHT segment.
/// </summary>
internal static class StandardHuffmanTables
{
    // Segment layout: FF C4, length 0x01A2, then four tables, each = class/id byte, 16 code-length counts,
    // the symbol values: DC luma (0x00), AC luma (0x10), DC chroma (0x01), AC chroma (0x11).
    private const string SegmentHex =
        "FFC401A2" +
        "00" + "00010501010101010100000000000000" + "000102030405060708090A0B" +
        "10" + "0002010303020403050504040000017D" +
        "01020300041105122131410613516107227114328191A1082342B1C11552D1F02433627282090A161718191A25262728292A3435363738393A" +
        "434445464748494A535455565758595A636465666768696A737475767778797A838485868788898A92939495969798999AA2A3A4A5A6A7A8A9AA" +
        "B2B3B4B5B6B7B8B9BAC2C3C4C5C6C7C8C9CAD2D3D4D5D6D7D8D9DAE1E2E3E4E5E6E7E8E9EAF1F2F3F4F5F6F7F8F9FA" +
        "01" + "00030101010101010101010000000000" + "000102030405060708090A0B" +
        "11" + "00020102040403040705040400010277" +
        "000102031104052131061241510761711322328108144291A1B1C109233352F0156272D10A162434E125F11718191A262728292A35363738393A" +
        "434445464748494A535455565758595A636465666768696A737475767778797A82838485868788898A92939495969798999AA2A3A4A5A6A7A8A9AA" +
        "B2B3B4B5B6B7B8B9BAC2C3C4C5C6C7C8C9CAD2D3D4D5D6D7D8D9DAE2E3E4E5E6E7E8E9EAF2F3F4F5F6F7F8F9FA";

    private static readonly byte[] Segment = Convert.FromHexString(SegmentHex);

    /// <summary>A copy of <paramref name="jpeg"/> with the standard DHT segment inserted after SOI.</summary>
    public static byte[] InsertInto(ReadOnlySpan<byte> jpeg)
    {
        var result = new byte[jpeg.Length + Segment.Length];
        jpeg[..2].CopyTo(result);
        Segment.CopyTo(result, 2);
        jpeg[2..].CopyTo(result.AsSpan(2 + Segment.Length));
        return result;
    }
}
