using System.Diagnostics;
using EdgeRuntime.Imaging;
using EdgeRuntime.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace EdgeRuntime.Tests.Imaging;

/// <summary>
/// Seeded mutation fuzz over real photo bytes: every mutant must either decode or fail with
/// <see cref="InvalidInputException"/> — never another exception type, never a hang.
/// </summary>
public class ImageLoaderFuzzTests(ITestOutputHelper output)
{
    private const int MutantsPerPhoto = 80;

    [Theory]
    [InlineData("images/winml/kitten_224.png", 101)]
    [InlineData("images/coral/owl.jpg", 202)]
    [InlineData("images/coral/cat.bmp", 303)]
    [InlineData("images/winml/kitten_224.png", 404, true)]
    [InlineData("images/coral/pets.jpg", 505)]
    public async Task MutantsDecodeOrFailWithInvalidInputException(string photo, int seed, bool repairPngCrcs = false)
    {
        var original = File.ReadAllBytes(SharedData.Path(photo));
        var random = new Random(seed);
        // A loader with a modest limit keeps mutants that inflate the header size from decoding huge images.
        var loader = new ImageLoader(maxPixels: 4_000_000);
        int decoded = 0, refused = 0;
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < MutantsPerPhoto; i++)
        {
            var (mutant, how) = Mutate(original, random);
            // Recomputing the CRCs lets PNG mutants past the CRC check into the inflater and filters.
            if (repairPngCrcs) RepairPngCrcs(mutant);
            var name = $"{photo} mutant {i} ({how})";
            var run = Task.Run(() =>
            {
                try
                {
                    using var image = loader.Load(mutant, name);
                    return (Exception?)null;
                }
                catch (Exception ex)
                {
                    return ex;
                }
            });
            var finished = await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(10)));
            Assert.True(finished == run, $"{name}: decoding did not finish within 10 s");
            var error = await run;
            if (error == null) decoded++;
            else if (error is InvalidInputException iie)
            {
                Assert.StartsWith(name + ": ", iie.Message);
                if (refused++ < 4) output.WriteLine(iie.Message);
            }
            else
                Assert.Fail($"{name}: {error.GetType().FullName}: {error.Message}");
        }
        output.WriteLine($"{photo}: {decoded} mutants decoded, {refused} refused, {clock.Elapsed.TotalSeconds:F1} s");
        Assert.Equal(MutantsPerPhoto, decoded + refused);
        // About 0.1-2 s per photo on an idle 2-core machine; the bound only catches pathological slowness.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"fuzzing {photo} took {clock.Elapsed.TotalSeconds:F1} s");
    }

    /// <summary>Rewrites the CRC of every chunk that still fits in the data.</summary>
    private static void RepairPngCrcs(byte[] png)
    {
        long i = 8;
        while (i + 12 <= png.Length)
        {
            uint length = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan((int)i));
            if (i + 12 + length > png.Length) return;
            uint crc = ImageLoaderTests.Crc32(png.AsSpan((int)i + 4, (int)length + 4));
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan((int)(i + 8 + length)), crc);
            i += 12 + length;
        }
    }

    /// <summary>One random mutation; header bytes are favoured because that is where decoders branch most.</summary>
    private static (byte[] Data, string How) Mutate(byte[] original, Random random)
    {
        var data = (byte[])original.Clone();
        int Position() => random.Next(3) == 0 ? random.Next(Math.Min(data.Length, 1024)) : random.Next(data.Length);
        switch (random.Next(7))
        {
            case 0:
            {
                int flips = 1 + random.Next(8);
                for (int k = 0; k < flips; k++) data[Position()] ^= (byte)(1 << random.Next(8));
                return (data, $"{flips} bit flips");
            }
            case 1:
            {
                byte[] interesting = [0x00, 0xFF, 0x7F, 0x80, 0x01, 0xFE];
                int count = 1 + random.Next(4);
                for (int k = 0; k < count; k++) data[Position()] = interesting[random.Next(interesting.Length)];
                return (data, $"{count} interesting bytes");
            }
            case 2:
            {
                int length = random.Next(data.Length);
                return (data[..length], $"truncated to {length}");
            }
            case 3:
            {
                int at = Position(), count = Math.Min(1 + random.Next(64), data.Length - at);
                random.NextBytes(data.AsSpan(at, count));
                return (data, $"{count} random bytes at {at}");
            }
            case 4:
            {
                int at = Position(), count = 1 + random.Next(32);
                var insert = new byte[count];
                random.NextBytes(insert);
                return ([.. data.AsSpan(0, at), .. insert, .. data.AsSpan(at)], $"{count} bytes inserted at {at}");
            }
            case 5:
            {
                int at = Position(), count = Math.Min(1 + random.Next(256), data.Length - at);
                return ([.. data.AsSpan(0, at), .. data.AsSpan(at + count)], $"{count} bytes deleted at {at}");
            }
            default:
            {
                // Overwrite a 16/32-bit big- or little-endian field near the start with an extreme value.
                int at = random.Next(Math.Min(data.Length - 4, 256));
                uint value = random.Next(4) switch { 0 => 0u, 1 => 0xFFFFFFFFu, 2 => 0x7FFFFFFFu, _ => (uint)random.Next(1, 70000) };
                BitConverter.TryWriteBytes(data.AsSpan(at), random.Next(2) == 0 ? value : System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(value));
                return (data, $"field at {at} = 0x{value:X}");
            }
        }
    }
}
