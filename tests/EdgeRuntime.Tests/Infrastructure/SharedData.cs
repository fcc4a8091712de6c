using System.Reflection;

namespace EdgeRuntime.Tests.Infrastructure;

/// <summary>
/// Locates the read-only real models and photos in <c>../shared</c> beside the checkout (or
/// <c>$EDGE_SHARED</c>). When they are missing, tests fail under <c>CI=true</c> and skip otherwise.
/// </summary>
internal static class SharedData
{
    private static readonly Lazy<string?> RootLazy = new(FindRoot);

    /// <summary>The shared folder, or null when it cannot be found.</summary>
    public static string? Root => RootLazy.Value;

    /// <summary>Absolute path of a file under the shared folder; fails (CI) or skips (locally) when absent.</summary>
    public static string Path(string relative)
    {
        var root = Root;
        if (root == null)
        {
            if (Environment.GetEnvironmentVariable("CI") == "true")
                throw new InvalidOperationException("../shared (or $EDGE_SHARED) is missing: CI must have the real models and photos");
            Skip.Because("../shared (or $EDGE_SHARED) is not present");
        }
        var full = System.IO.Path.Combine(root!, relative);
        if (!File.Exists(full) && !Directory.Exists(full))
            throw new FileNotFoundException($"shared data file missing: {full}");
        return full;
    }

    /// <summary>Every photo under images/ (JPEG, PNG, BMP).</summary>
    public static string[] AllPhotos() =>
        Directory.GetFiles(Path("images"), "*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".jpg", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".png", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".bmp", StringComparison.OrdinalIgnoreCase))
            .OrderBy(f => f, StringComparer.Ordinal).ToArray();

    /// <summary>The NuGet ResNet18 backbone model file.</summary>
    public static string ResNet18Model()
    {
        var pkg = typeof(SharedData).Assembly.GetCustomAttribute<ResNet18PathAttribute>()!.Path;
        var path = System.IO.Path.Combine(pkg, "tools", "DnnImageModels", "ResNet18Onnx", "ResNet18.onnx");
        if (!File.Exists(path)) throw new FileNotFoundException($"ResNet18 model not restored: {path}");
        return path;
    }

    private static string? FindRoot()
    {
        var env = Environment.GetEnvironmentVariable("EDGE_SHARED");
        if (!string.IsNullOrEmpty(env) && Directory.Exists(env)) return env;
        // Walk up from the test binary to the checkout root (the folder with EdgeRuntime.sln), then ../shared.
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "EdgeRuntime.sln")))
            {
                var shared = System.IO.Path.Combine(dir.Parent?.FullName ?? dir.FullName, "shared");
                return Directory.Exists(shared) ? shared : null;
            }
        }
        return null;
    }
}

/// <summary>Skips the running test (xunit 2 has no built-in dynamic skip, so this is reported as a pass with a message).</summary>
internal static class Skip
{
    public static void Because(string reason) => throw new SkipException(reason);
}

/// <summary>Thrown to stop a test whose preconditions are absent outside CI.</summary>
internal sealed class SkipException(string reason) : Exception("SKIPPED: " + reason);
