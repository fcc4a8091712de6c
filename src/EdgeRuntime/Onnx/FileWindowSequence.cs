using System.Buffers;
using Microsoft.Win32.SafeHandles;

namespace EdgeRuntime.Onnx;

/// <summary>
/// A file presented to Google.Protobuf as a <see cref="ReadOnlySequence{T}"/> of fixed-size windows that all share one
/// buffer: a window's bytes are read from the file when the parser asks for that window's span, into the buffer the
/// previous window used.
/// </summary>
/// <remarks>
/// Why: parsed from a <see cref="Stream"/>, Google.Protobuf does not know the input's length, so it reads every bytes
/// field longer than its 4 KiB buffer as a list of 4 KiB chunks and concatenates them at the end. For float ResNet18
/// that is 64 MB of chunks, each tensor's held until the tensor is complete, which the GC promotes and reclaims late:
/// the load's peak RSS then depended on when gen-2 collections ran (190-290 MB over identical runs). From a sequence
/// the parser knows the total length, so it allocates each tensor's array once, at its exact size, and copies the
/// windows into it: the heap holds the tensors and one window, and nothing else of the file.
/// <para>
/// The parser walks a sequence front to back and keeps only the current window's span (it copies what it keeps), so
/// one buffer serves every window. Anything else that asked for an earlier window's span would get that window's
/// bytes again (each request re-reads), but a span obtained before a later request would then be stale: this type is
/// only for handing to <c>MessageParser.ParseFrom(ReadOnlySequence&lt;byte&gt;)</c>.
/// </para>
/// </remarks>
internal sealed class FileWindowSequence : IDisposable
{
    /// <summary>Window size: large enough that reads are few, small enough to stay out of the large object heap.</summary>
    internal const int WindowBytes = 64 * 1024;

    private readonly SafeFileHandle _file;
    private readonly long _length;
    private readonly byte[] _buffer;
    private int _current = -1;

    /// <summary>Opens <paramref name="path"/> for reading; <paramref name="length"/> is its size as checked by the caller.</summary>
    /// <exception cref="IOException">The file cannot be opened.</exception>
    public FileWindowSequence(string path, long length)
    {
        if (length is <= 0 or > int.MaxValue) throw new ArgumentOutOfRangeException(nameof(length), length, "must be 1 byte to 2 GiB (protobuf's limit)");
        _file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        _length = length;
        _buffer = new byte[(int)Math.Min(WindowBytes, length)];
        Sequence = Build();
    }

    /// <summary>The file's bytes as one sequence of <see cref="WindowBytes"/>-byte windows (the last one shorter).</summary>
    public ReadOnlySequence<byte> Sequence { get; }

    private ReadOnlySequence<byte> Build()
    {
        int windows = (int)((_length + WindowBytes - 1) / WindowBytes);
        Window first = new(this, 0), last = first;
        for (int i = 1; i < windows; i++) last = last.Append(new Window(this, i));
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private int WindowLength(int index) => (int)Math.Min(WindowBytes, _length - (long)index * WindowBytes);

    /// <summary>Fills the shared buffer with window <paramref name="index"/> (unless it already holds it).</summary>
    /// <exception cref="IOException">The file is shorter than when it was opened, or a read failed.</exception>
    private Span<byte> Load(int index)
    {
        int length = WindowLength(index);
        var span = _buffer.AsSpan(0, length);
        if (_current == index) return span;
        _current = -1;
        long offset = (long)index * WindowBytes;
        int filled = 0;
        while (filled < length)
        {
            int n = RandomAccess.Read(_file, span[filled..], offset + filled);
            if (n == 0) throw new IOException($"the file shrank while it was read (ended at byte {offset + filled} of {_length})");
            filled += n;
        }
        _current = index;
        return span;
    }

    public void Dispose() => _file.Dispose();

    /// <summary>One window: its memory is a view of the shared buffer, filled when the span is asked for.</summary>
    private sealed class Window : ReadOnlySequenceSegment<byte>
    {
        public Window(FileWindowSequence owner, int index)
        {
            Memory = new WindowMemory(owner, index, owner.WindowLength(index)).Memory;
            RunningIndex = (long)index * WindowBytes;
        }

        public Window Append(Window next)
        {
            Next = next;
            return next;
        }
    }

    private sealed class WindowMemory(FileWindowSequence owner, int index, int length) : MemoryManager<byte>
    {
        public override Span<byte> GetSpan() => owner.Load(index);

        // The parser reads spans only; pinning a window whose buffer the next window reuses would not be meaningful.
        public override MemoryHandle Pin(int elementIndex = 0) => throw new NotSupportedException("file windows cannot be pinned");
        public override void Unpin() { }
        protected override void Dispose(bool disposing) { }

        // Memory<T> checks this length against the window without calling GetSpan.
        public override Memory<byte> Memory => CreateMemory(length);
    }
}
