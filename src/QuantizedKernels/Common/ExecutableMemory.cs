using System.Runtime.InteropServices;

namespace EdgeRuntime.Kernels.Common;

/// <summary>
/// Maps machine code into pages the process can execute, for the instructions .NET has no API for (see
/// QGemm.Avx512Vnni.cs). Linux only: an anonymous private mapping is made read-write, the code copied in, then the
/// mapping made read + execute, so no page is ever writable and executable at once. Mappings live for the process.
/// </summary>
internal static unsafe partial class ExecutableMemory
{
    private const int ProtRead = 1, ProtWrite = 2, ProtExec = 4;
    private const int MapPrivate = 0x02, MapAnonymous = 0x20;

    /// <summary>
    /// Maps <paramref name="code"/> read + execute and returns its first byte, or null with <paramref name="failure"/>
    /// saying why (not Linux, the C library not found, mmap or mprotect refused with errno; a hardened kernel may
    /// refuse execute permission on anonymous memory).
    /// </summary>
    public static byte* TryMap(ReadOnlySpan<byte> code, out string? failure)
    {
        failure = null;
        if (!OperatingSystem.IsLinux())
        {
            failure = "machine code is only mapped on Linux";
            return null;
        }
        nuint length = (nuint)((code.Length + 4095) & ~4095);
        try
        {
            nint memory = mmap(0, length, ProtRead | ProtWrite, MapPrivate | MapAnonymous, -1, 0);
            if (memory == -1)
            {
                failure = $"mmap failed (errno {Marshal.GetLastPInvokeError()})";
                return null;
            }
            code.CopyTo(new Span<byte>((void*)memory, code.Length));
            if (mprotect(memory, length, ProtRead | ProtExec) != 0)
            {
                failure = $"mprotect to read+execute failed (errno {Marshal.GetLastPInvokeError()})";
                munmap(memory, length);
                return null;
            }
            return (byte*)memory;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            failure = $"the C library's mmap is not reachable ({ex.Message})";
            return null;
        }
    }

    // "libc.so.6": glibc's soname on every Linux the runtime ships for (x64, arm64); a plain "libc" resolves only where
    // the development symlink libc.so exists. Elsewhere (musl) loading fails and the caller reports the path unsupported.
    [LibraryImport("libc.so.6", SetLastError = true)]
    private static partial nint mmap(nint address, nuint length, int protection, int flags, int fd, nint offset);

    [LibraryImport("libc.so.6", SetLastError = true)]
    private static partial int mprotect(nint address, nuint length, int protection);

    [LibraryImport("libc.so.6", SetLastError = true)]
    private static partial int munmap(nint address, nuint length);
}
