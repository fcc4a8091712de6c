namespace EdgeRuntime.Imaging;

/// <summary>Class-label files: one label per line, line i is class i (before the label offset).</summary>
public static class Labels
{
    /// <summary>
    /// Reads a labels file (UTF-8, LF or CRLF). Each line is trimmed. Leading and trailing empty lines are
    /// dropped; empty lines between labels are kept as <c>""</c> so the numbering of later lines holds.
    /// </summary>
    /// <exception cref="ConfigurationException">The file is missing, unreadable or has no label.</exception>
    public static string[] Load(string path)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(path);
        }
        catch (Exception ex)
        {
            throw new ConfigurationException(path, ex is FileNotFoundException or DirectoryNotFoundException ? "labels file not found" : $"cannot read labels file: {ex.Message}", inner: ex);
        }
        int first = 0, last = lines.Length - 1;
        while (first <= last && lines[first].Trim().Length == 0) first++;
        while (last >= first && lines[last].Trim().Length == 0) last--;
        if (first > last) throw new ConfigurationException(path, "labels file has no labels");
        var labels = new string[last - first + 1];
        for (int i = first; i <= last; i++) labels[i - first] = lines[i].Trim();
        return labels;
    }

    /// <summary>
    /// The label of class <paramref name="index"/>: <c>labels[index - offset]</c> (the sidecar's
    /// <c>label_offset</c>), or null when that falls outside the labels (or <paramref name="labels"/> is null).
    /// With the 1001-entry Coral labels ("background" first) and a 1001-output model the offset is 0; with
    /// 1000 ImageNet labels and a 1001-output model whose class 0 is "background" it is 1.
    /// </summary>
    public static string? Name(IReadOnlyList<string>? labels, int index, int offset = 0)
    {
        if (labels == null) return null;
        long at = (long)index - offset;
        return at >= 0 && at < labels.Count ? labels[(int)at] : null;
    }
}
