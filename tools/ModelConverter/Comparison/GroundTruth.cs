using System.Globalization;
using EdgeRuntime;

namespace ModelConverter.Comparison;

/// <summary>
/// The true class of each image, for accuracy. Two sources (<c>--labels</c>):
/// <list type="bullet">
/// <item>a folder with one subfolder per class (usually the <c>--images</c> folder itself): an image's class is the name
/// of the subfolder of that folder it lies in (at any depth below it); images outside every class subfolder are unlabelled;</item>
/// <item>a text file, one image per line: <c>PATH&lt;TAB&gt;CLASS</c> (or <c>PATH CLASS</c> split at the first run of
/// spaces when the line has no tab), PATH relative to the <c>--images</c> folder; '#' starts a comment line.</item>
/// </list>
/// A class is a label of the model (matched to its labels file: case-insensitive, '_' and '-' read as spaces, either
/// the whole label line or one of its comma-separated synonyms, so folder <c>tabby_cat</c> or <c>tabby</c> matches
/// "tabby, tabby cat") or a class index written as a non-negative integer.
/// </summary>
internal sealed class GroundTruth
{
    private readonly Dictionary<string, int> _classOf;

    private GroundTruth(Dictionary<string, int> classOf, string source)
    {
        _classOf = classOf;
        Source = source;
    }

    /// <summary>The folder or file the classes came from.</summary>
    public string Source { get; }

    /// <summary>The class index of an image (a full path as listed by <see cref="ImageSet"/>), or null when unlabelled.</summary>
    public int? ClassOf(string imagePath) => _classOf.TryGetValue(Path.GetFullPath(imagePath), out var c) ? c : null;

    /// <summary>Reads ground truth for <paramref name="images"/> from a class-folder tree or a file.</summary>
    /// <param name="labelsPath">The <c>--labels</c> value.</param>
    /// <param name="imagesFolder">The <c>--images</c> folder (anchors relative paths in a file).</param>
    /// <param name="images">The images being compared.</param>
    /// <param name="modelLabels">The model's label lines, or null when it has none.</param>
    /// <param name="labelOffset">Label of class i is line i - offset.</param>
    /// <exception cref="ConfigurationException">Unreadable file, malformed line, a class that matches no label, or no image labelled.</exception>
    public static GroundTruth Load(string labelsPath, string imagesFolder, IReadOnlyList<string> images, string[]? modelLabels, int labelOffset)
    {
        var matcher = new ClassMatcher(modelLabels, labelOffset, labelsPath);
        var classOf = new Dictionary<string, int>(StringComparer.Ordinal);
        if (Directory.Exists(labelsPath))
        {
            var root = Path.GetFullPath(labelsPath);
            foreach (var image in images)
            {
                var relative = Path.GetRelativePath(root, Path.GetFullPath(image));
                if (relative.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(relative)) continue;
                var parts = relative.Split(Path.DirectorySeparatorChar);
                if (parts.Length < 2) continue; // directly in the root: no class folder
                classOf[Path.GetFullPath(image)] = matcher.Match(parts[0], $"class folder '{parts[0]}'");
            }
        }
        else if (File.Exists(labelsPath))
        {
            string[] lines;
            try { lines = File.ReadAllLines(labelsPath); }
            catch (Exception ex) { throw new ConfigurationException(labelsPath, $"cannot read the labels file: {ex.Message}", "--labels", ex); }
            var wanted = new HashSet<string>(images.Select(Path.GetFullPath), StringComparer.Ordinal);
            for (int n = 0; n < lines.Length; n++)
            {
                var line = lines[n].Trim();
                if (line.Length == 0 || line.StartsWith('#')) continue;
                int cut = line.IndexOf('\t');
                if (cut < 0) cut = line.IndexOfAny([' ']);
                if (cut <= 0 || line[(cut + 1)..].Trim().Length == 0)
                    throw new ConfigurationException(labelsPath, $"line {n + 1}: expected 'IMAGE<TAB>CLASS', got '{line}'", "--labels");
                var image = Path.GetFullPath(Path.Combine(imagesFolder, line[..cut].Trim()));
                var name = line[(cut + 1)..].Trim();
                if (!wanted.Contains(image)) continue; // not among the compared images (e.g. beyond --count)
                classOf[image] = matcher.Match(name, $"line {n + 1} class '{name}'");
            }
        }
        else
        {
            throw new ConfigurationException(labelsPath, "not found (give a folder with one subfolder per class, or a file of IMAGE<TAB>CLASS lines)", "--labels");
        }
        if (classOf.Count == 0)
            throw new ConfigurationException(labelsPath, Directory.Exists(labelsPath)
                ? "no compared image lies in a class subfolder of this folder (expected FOLDER/<class>/image.jpg)"
                : "names none of the compared images", "--labels");
        return new GroundTruth(classOf, labelsPath);
    }

    /// <summary>Maps class names to class indices through the model's labels.</summary>
    private sealed class ClassMatcher
    {
        private readonly Dictionary<string, int> _byFullLabel = new(StringComparer.Ordinal);
        private readonly Dictionary<string, int> _bySynonym = new(StringComparer.Ordinal);
        private readonly bool _hasLabels;
        private readonly string _source;

        public ClassMatcher(string[]? labels, int offset, string source)
        {
            _source = source;
            _hasLabels = labels != null;
            if (labels == null) return;
            for (int line = 0; line < labels.Length; line++)
            {
                int index = line + offset;
                _byFullLabel.TryAdd(Normalize(labels[line]), index); // first line wins for duplicate labels
                foreach (var synonym in labels[line].Split(','))
                    if (Normalize(synonym) is { Length: > 0 } s) _bySynonym.TryAdd(s, index);
            }
        }

        public int Match(string name, string what)
        {
            var key = Normalize(name);
            if (_byFullLabel.TryGetValue(key, out var i) || _bySynonym.TryGetValue(key, out i)) return i;
            if (int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var index)) return index;
            throw new ConfigurationException(_source, _hasLabels
                ? $"{what} matches no label of the model (compared case-insensitively, '_' and '-' as spaces, whole label or a comma-separated synonym)"
                : $"{what} cannot be matched: the model has no labels file (set 'labels' in its sidecar or give --class-names) and the class is not a class index", "--labels");
        }

        private static string Normalize(string s) =>
            string.Join(' ', s.Replace('_', ' ').Replace('-', ' ').ToLowerInvariant().Split(' ', StringSplitOptions.RemoveEmptyEntries));
    }
}
