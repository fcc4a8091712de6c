namespace ModelConverter;

/// <summary>Writes a file through a temporary sibling renamed into place, so a failure leaves no partial file.</summary>
internal static class AtomicFile
{
    /// <summary>Writes <paramref name="path"/> with <paramref name="write"/>.</summary>
    /// <remarks>Every file modelconv writes (quantized model, JSON report, chart) goes through here.</remarks>
    /// <exception cref="EdgeRuntime.Cli.UsageException">The file cannot be written.</exception>
    public static void Write(string path, Action<Stream> write)
    {
        var full = Path.GetFullPath(path);
        if (!Directory.Exists(Path.GetDirectoryName(full))) throw new EdgeRuntime.Cli.UsageException($"cannot write {path}: the folder does not exist");
        var temp = Path.Combine(Path.GetDirectoryName(full) ?? ".", $".{Path.GetFileName(full)}.{Environment.ProcessId}.tmp");
        try
        {
            using (var stream = File.Create(temp)) write(stream);
            File.Move(temp, full, overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            TryDelete(temp);
            throw new EdgeRuntime.Cli.UsageException($"cannot write {path}: {ex.Message}");
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
