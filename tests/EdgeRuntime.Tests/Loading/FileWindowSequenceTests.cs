using System.Buffers;
using EdgeRuntime.Onnx;
using EdgeRuntime.Tests.Infrastructure;
using Xunit;

namespace EdgeRuntime.Tests.Loading;

/// <summary>
/// The file view <see cref="OnnxModelReader.ReadFile"/> parses through: every window holds the file's bytes at its
/// offset, however the windows fall against the file's length, and a file that shrinks under it is an I/O error.
/// </summary>
public sealed class FileWindowSequenceTests : IDisposable
{
    private const int W = FileWindowSequence.WindowBytes;
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"edgeruntime-windows-{Guid.NewGuid():N}.bin");

    public void Dispose() => File.Delete(_path);

    private byte[] WriteRandom(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        File.WriteAllBytes(_path, bytes);
        return bytes;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(W - 1)]
    [InlineData(W)]
    [InlineData(W + 1)]
    [InlineData(3 * W + 17)]
    public void Windows_read_in_order_are_the_file(int length)
    {
        var expected = WriteRandom(length, length);
        using var file = new FileWindowSequence(_path, length);
        Assert.Equal(length, file.Sequence.Length);
        Assert.Equal((length + W - 1) / W, Segments(file.Sequence).Count);
        var seen = new List<byte>();
        foreach (var window in file.Sequence) seen.AddRange(window.Span.ToArray());
        Assert.Equal(expected, seen.ToArray());
        Assert.Equal(expected, file.Sequence.ToArray());
    }

    [Fact]
    public void A_window_asked_for_again_out_of_order_is_read_again()
    {
        var expected = WriteRandom(3 * W + 5, 7);
        using var file = new FileWindowSequence(_path, expected.Length);
        var windows = Segments(file.Sequence);
        foreach (int i in new[] { 2, 0, 3, 0, 1 })
            Assert.Equal(expected.AsSpan(i * W, windows[i].Length).ToArray(), windows[i].Span.ToArray());
    }

    [Fact]
    public void A_file_that_shrinks_while_read_is_an_io_error()
    {
        WriteRandom(2 * W + 100, 3);
        using var file = new FileWindowSequence(_path, 2 * W + 100);
        using (var truncate = new FileStream(_path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite)) truncate.SetLength(W + 10);
        var e = Assert.Throws<IOException>(() => file.Sequence.ToArray());
        Assert.Contains("shrank", e.Message);
    }

    [Fact]
    public void A_model_over_protobufs_2_GiB_is_refused_by_name_before_reading()
    {
        using (var sparse = new FileStream(_path, FileMode.Create)) sparse.SetLength(int.MaxValue + 1L);
        var e = Assert.Throws<ModelFormatException>(() => OnnxModelReader.ReadFile(_path, new ModelLoadLimits { MaxFileBytes = 4L << 30 }));
        Assert.StartsWith(_path + ": ", e.Message);
        Assert.Contains("2 GiB", e.Message);
    }

    /// <summary>
    /// ML.NET's ResNet18 stores its 64 MB of weights in float_data (typed values, copied on decode, the parsed copy
    /// dropped as it goes) rather than raw_data: read from the file it is the same graph as read from memory.
    /// </summary>
    [Fact]
    public void ResNet18s_typed_weights_read_from_the_file_are_those_read_from_memory()
    {
        var path = SharedData.ResNet18Model();
        var fromFile = OnnxModelReader.ReadFile(path);
        var fromBytes = OnnxModelReader.ReadBytes(File.ReadAllBytes(path), path);
        Assert.Equal(fromBytes.Initializers.Keys.Order(), fromFile.Initializers.Keys.Order());
        long total = 0;
        foreach (var (name, tensor) in fromBytes.Initializers)
        {
            Assert.Equal(tensor.Shape, fromFile.Initializers[name].Shape);
            Assert.True(tensor.Bytes.SequenceEqual(fromFile.Initializers[name].Bytes), $"initializer {name} differs");
            total += tensor.ByteLength;
        }
        Assert.True(total > 60_000_000, $"{total} bytes of weights");
        Assert.Equal(fromBytes.Nodes.Count, fromFile.Nodes.Count);
    }

    private static List<ReadOnlyMemory<byte>> Segments(ReadOnlySequence<byte> sequence)
    {
        var list = new List<ReadOnlyMemory<byte>>();
        foreach (var m in sequence) list.Add(m);
        return list;
    }
}

/// <summary>When a load collects: once per <see cref="LoadCollections.ThresholdBytes"/> of garbage, counted afresh after each.</summary>
public sealed class LoadCollectionsTests
{
    [Fact]
    public void Collects_once_per_threshold_of_released_bytes()
    {
        var collections = new LoadCollections();
        int gen2 = GC.CollectionCount(2);
        collections.Released(LoadCollections.ThresholdBytes - 1);
        Assert.Equal(0, collections.Count);
        collections.Released(1);
        Assert.Equal(1, collections.Count);
        Assert.True(GC.CollectionCount(2) > gen2, "a full collection ran");
        collections.Released(LoadCollections.ThresholdBytes / 2);
        Assert.Equal(1, collections.Count); // the count restarted after the collection
        collections.Released(3 * LoadCollections.ThresholdBytes);
        Assert.Equal(2, collections.Count);
    }
}
