using EdgeRuntime.Kernels.Common;
using EdgeRuntime.Kernels.SelfTest;
using Xunit;

namespace EdgeRuntime.Kernels.Tests;

/// <summary>
/// Runs the kernel self-test (every SIMD path vs the scalar definition) on the machine running the tests; ARM paths are
/// covered by test.sh under qemu, where xunit cannot run.
/// </summary>
public sealed class KernelSelfTestTests
{
    public static TheoryData<string> SupportedPaths()
    {
        var data = new TheoryData<string>();
        foreach (var path in CpuFeatures.Supported) data.Add(CpuFeatures.Name(path));
        return data;
    }

    [Theory]
    [MemberData(nameof(SupportedPaths))]
    public void EveryGroup_MatchesScalar(string pathName)
    {
        Assert.True(CpuFeatures.TryParse(pathName, out var path));
        var report = KernelSelfTest.Run([path]);
        Assert.Equal([path], report.Exercised);
        Assert.Equal(KernelSelfTest.Groups.Count, report.Groups.Count);
        foreach (var group in report.Groups)
        {
            Assert.True(group.Passed > 100, $"{group.Group} ran only {group.Passed} cases");
            Assert.True(group.Failed == 0, $"{pathName} {group.Group}: {group.Failed} failed, e.g. {string.Join(" | ", group.Failures)}");
        }
    }

    [Fact]
    public void UnsupportedPaths_AreSkippedNotFailed()
    {
        var unsupported = Enum.GetValues<IsaPath>().Where(p => !CpuFeatures.IsSupported(p)).ToArray();
        var report = KernelSelfTest.Run(unsupported);
        Assert.Empty(report.Exercised);
        Assert.Equal(0, report.Passed + report.Failed);
    }
}
