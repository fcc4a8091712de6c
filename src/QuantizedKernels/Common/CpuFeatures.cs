using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace EdgeRuntime.Kernels.Common;

/// <summary>The instruction-set paths the int8 kernels are written for.</summary>
public enum IsaPath
{
    /// <summary>Plain C#; the definition every other path must match bit for bit.</summary>
    Scalar,
    /// <summary>Portable <see cref="Vector128{T}"/> code for CPUs without a dedicated path.</summary>
    Vector128,
    /// <summary>ARM64 AdvSimd without dot product (Raspberry Pi 4, Cortex-A72): SMULL/SMLAL/SADALP.</summary>
    Neon,
    /// <summary>ARM64 AdvSimd with the dot-product extension (Raspberry Pi 5, Cortex-A76): SDOT.</summary>
    NeonDot,
    /// <summary>x86-64 AVX2.</summary>
    Avx2,
    /// <summary>x86-64 AVX-VNNI (VPDPBUSD on 256-bit vectors).</summary>
    AvxVnni,
    /// <summary>
    /// x86-64 AVX-512 VNNI: AVX2 kernels with a VPDPBUSD (EVEX, 256-bit) GEMM k loop in machine code, as .NET 10 has
    /// no API for that instruction form (Zen 4, Ice Lake, Sapphire Rapids; Linux only; see QGemm.Avx512Vnni.cs).
    /// </summary>
    Avx512Vnni,
}

/// <summary>
/// Which <see cref="IsaPath"/>s this CPU supports and which one the process uses. The active path is chosen once,
/// on first use: the value of the <c>EDGE_ISA</c> environment variable when set (refused with
/// <see cref="IsaNotSupportedException"/> when the CPU lacks it), otherwise the fastest supported path.
/// </summary>
public static class CpuFeatures
{
    /// <summary>Name of the environment variable that forces a path.</summary>
    public const string EnvironmentVariable = "EDGE_ISA";

    private static readonly Lazy<IsaPath> ActiveLazy = new(ChooseActive);

    /// <summary>Every path, fastest first (the order <see cref="Best"/> picks from).</summary>
    public static IReadOnlyList<IsaPath> PreferenceOrder { get; } =
        [IsaPath.Avx512Vnni, IsaPath.AvxVnni, IsaPath.Avx2, IsaPath.NeonDot, IsaPath.Neon, IsaPath.Vector128, IsaPath.Scalar];

    /// <summary>True when this CPU (and runtime) can execute <paramref name="path"/>.</summary>
    public static bool IsSupported(IsaPath path) => path switch
    {
        IsaPath.Scalar => true,
        IsaPath.Vector128 => System.Runtime.Intrinsics.Vector128.IsHardwareAccelerated,
        IsaPath.Neon => AdvSimd.Arm64.IsSupported,
        IsaPath.NeonDot => AdvSimd.Arm64.IsSupported && Dp.IsSupported,
        IsaPath.Avx2 => Avx2.IsSupported,
        IsaPath.AvxVnni => Avx2.IsSupported && AvxVnni.IsSupported,
        // Machine code (QGemm.Avx512Vnni.cs): CPUID, XCR0 and an executable mapping decide, not the runtime's flags.
        IsaPath.Avx512Vnni => Gemm.Avx512VnniCode.IsAvailable,
        _ => false,
    };

    /// <summary>The supported paths, fastest first.</summary>
    public static IReadOnlyList<IsaPath> Supported => PreferenceOrder.Where(IsSupported).ToArray();

    /// <summary>The fastest supported path.</summary>
    public static IsaPath Best => PreferenceOrder.First(IsSupported);

    /// <summary>The path the kernels use in this process (see the class summary).</summary>
    /// <exception cref="IsaNotSupportedException"><c>EDGE_ISA</c> names an unknown or unsupported path.</exception>
    public static IsaPath Active => ActiveLazy.Value;

    /// <summary>Lower-case name used by <c>EDGE_ISA</c> and in reports: scalar, vector128, neon, neondot, avx2, avxvnni, avx512vnni.</summary>
    public static string Name(IsaPath path) => path.ToString().ToLowerInvariant();

    /// <summary>Parses a name as written by <see cref="Name"/> (case-insensitive).</summary>
    public static bool TryParse(string text, out IsaPath path)
    {
        foreach (var p in Enum.GetValues<IsaPath>())
            if (string.Equals(Name(p), text.Trim(), StringComparison.OrdinalIgnoreCase)) { path = p; return true; }
        path = IsaPath.Scalar;
        return false;
    }

    /// <summary>Checks that <paramref name="path"/> can run here.</summary>
    /// <exception cref="IsaNotSupportedException">It cannot.</exception>
    public static void Require(IsaPath path)
    {
        if (!IsSupported(path))
        {
            string why = path == IsaPath.Avx512Vnni ? $" ({Gemm.Avx512VnniCode.UnavailableReason})" : "";
            throw new IsaNotSupportedException($"instruction set path '{Name(path)}' is not supported by this CPU{why} (supported: {string.Join(", ", Supported.Select(Name))})");
        }
    }

    private static IsaPath ChooseActive()
    {
        var forced = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (string.IsNullOrWhiteSpace(forced)) return Best;
        if (!TryParse(forced, out var path))
            throw new IsaNotSupportedException($"{EnvironmentVariable}='{forced}' is not a known path (one of: {string.Join(", ", Enum.GetValues<IsaPath>().Select(Name))})");
        Require(path);
        return path;
    }
}

/// <summary>A requested instruction-set path cannot run on this CPU, or its name is unknown.</summary>
public sealed class IsaNotSupportedException(string message) : Exception(message);
