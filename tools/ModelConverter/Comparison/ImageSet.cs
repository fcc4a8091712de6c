namespace ModelConverter.Comparison;

/// <summary>The image files of a folder: every file with an image extension in it and its subfolders, in ordinal path order.</summary>
internal static class ImageSet
{
    /// <summary>Extensions the image loader decodes.</summary>
    public static IReadOnlyList<string> Extensions { get; } = [".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".tga"];

    /// <summary>
    /// The first <paramref name="count"/> (all when null) image files under <paramref name="folder"/>, sorted by
    /// their path relative to the folder (ordinal), so the same folder always gives the same list.
    /// </summary>
    /// <exception cref="EdgeRuntime.InvalidInputException">The folder does not exist or holds no image.</exception>
    public static string[] List(string folder, int? count = null)
    {
        if (!Directory.Exists(folder))
            throw new EdgeRuntime.InvalidInputException(folder, "image folder not found");
        var files = Directory.EnumerateFiles(folder, "*", new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = false, AttributesToSkip = FileAttributes.Hidden })
            .Where(f => Extensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
            .OrderBy(f => Path.GetRelativePath(folder, f), StringComparer.Ordinal)
            .ToArray();
        if (files.Length == 0)
            throw new EdgeRuntime.InvalidInputException(folder, $"no images in the folder or its subfolders (looked for {string.Join(", ", Extensions)})");
        return count is { } n && n < files.Length ? files[..n] : files;
    }
}
