using ScottPlot;

namespace ModelConverter.Comparison;

/// <summary>
/// The per-layer SQNR bar chart (PNG, ScottPlot): one bar per compared tensor in the float model's node order, labelled
/// with the tensor name; the worst layers are drawn red. Tensors that were identical (SQNR +∞) are drawn grey at the
/// top of the scale, SQNR −∞ grey at 0.
/// </summary>
internal static class SqnrChart
{
    /// <summary>Renders the chart as PNG bytes.</summary>
    public static byte[] Render(ComparisonReport report, int width = 0, int height = 600)
    {
        var layers = report.Layers;
        var finite = layers.Select(l => l.SqnrDb).Where(double.IsFinite).ToArray();
        double top = finite.Length > 0 ? Math.Max(finite.Max() + 5, 10) : 60;
        var worst = report.Worst().Select(l => l.Pair.Name).ToHashSet(StringComparer.Ordinal);

        var plot = new Plot();
        var bars = new List<Bar>();
        for (int i = 0; i < layers.Count; i++)
        {
            double db = layers[i].SqnrDb;
            var color = !double.IsFinite(db) ? Colors.Gray : worst.Contains(layers[i].Pair.Name) ? Colors.Red : Colors.SteelBlue;
            double value = double.IsPositiveInfinity(db) ? top : double.IsNegativeInfinity(db) ? 0 : db;
            bars.Add(new Bar { Position = i, Value = value, FillColor = color, LineWidth = 0 });
        }
        plot.Add.Bars(bars);
        plot.Axes.Bottom.SetTicks(Enumerable.Range(0, layers.Count).Select(i => (double)i).ToArray(),
                                  layers.Select(l => Shorten(l.Pair.Name)).ToArray());
        plot.Axes.Bottom.TickLabelStyle.Rotation = 90;
        plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleLeft;
        plot.Axes.Bottom.TickLabelStyle.FontSize = 10;
        plot.Axes.Bottom.MinimumSize = 160;
        plot.Axes.Margins(bottom: 0);
        plot.YLabel("SQNR (dB)");
        plot.Title($"Per-layer SQNR, {report.Images} images (red: worst, grey: identical)");
        if (width <= 0) width = Math.Clamp(120 + 18 * layers.Count, 640, 4000);
        return plot.GetImageBytes(width, height, ImageFormat.Png);
    }

    /// <summary>Renders the chart into <paramref name="path"/> (temporary file renamed into place).</summary>
    /// <returns>A warning when the chart had to be drawn without text (no fonts installed), else null.</returns>
    public static string? Save(ComparisonReport report, string path)
    {
        var png = Render(report);
        AtomicFile.Write(path, s => s.Write(png));
        return HasFonts ? null
            : "warning: no fonts are installed, so the chart has no text (Debian/Ubuntu: apt-get install fonts-dejavu-core)";
    }

    /// <summary>
    /// Whether Skia finds any font. ScottPlot draws text with the system fonts (SkiaSharp's Linux build reads
    /// /usr/share/fonts); without any, bars and grid still render but every label is blank.
    /// </summary>
    public static bool HasFonts => SkiaSharp.SKFontManager.Default.FontFamilyCount > 0;

    private static string Shorten(string name) => name.Length <= 28 ? name : name[..12] + "…" + name[^15..];
}
