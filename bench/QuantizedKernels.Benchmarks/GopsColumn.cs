using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace EdgeRuntime.Benchmarks;

/// <summary>Throughput column: 2·M·N·K / mean time, in 10⁹ integer operations per second.</summary>
public sealed class GopsColumn : IColumn
{
    public string Id => nameof(GopsColumn);
    public string ColumnName => "GOPS";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => "Giga integer operations per second: 2*M*N*K / mean time";

    public bool IsAvailable(Summary summary) => true;

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) =>
        Gops(summary, benchmarkCase) is { } gops ? gops.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture) : "-";

    /// <summary>GOPS of one case, or null when it has no result or no <see cref="GemmShape"/> parameter.</summary>
    public static double? Gops(Summary summary, BenchmarkCase benchmarkCase)
    {
        var meanNs = summary[benchmarkCase]?.ResultStatistics?.Mean;
        var shape = benchmarkCase.Parameters.Items.Select(p => p.Value).OfType<GemmShape>().FirstOrDefault();
        if (meanNs is not > 0 || shape == null) return null;
        return shape.Operations / meanNs.Value;
    }
}
