// The tests call the comparison directly (ModelComparison, GroundTruth, ComparisonReport) besides running the tool.
[assembly: System.Runtime.CompilerServices.InternalsVisibleTo("EdgeRuntime.Tests")]
