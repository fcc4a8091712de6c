using EdgeRuntime.Kernels.Activations;
using EdgeRuntime.Kernels.Common;
using EdgeRuntime.Kernels.DataMovement;
using EdgeRuntime.Kernels.SelfTest;
using Xunit;

namespace EdgeRuntime.Kernels.Tests;

/// <summary>QLinearConcat's table and copy semantics, float SiLU, and the new self-test groups on every supported path.</summary>
public sealed class QLinearElementwiseKernelTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Concat_table_is_quantize_of_dequantize(bool signed)
    {
        var table = new byte[256];
        Assert.False(QLinearConcat.BuildTable(table, signed, 0.1f, 3, 0.1f, 3)); // same parameters: copy
        Assert.True(QLinearConcat.BuildTable(table, signed, 0.07f, 5, 0.1f, -2 + (signed ? 0 : 130)));
        int yZeroPoint = -2 + (signed ? 0 : 130), min = signed ? -128 : 0, max = signed ? 127 : 255;
        for (int b = 0; b < 256; b++)
        {
            int value = signed ? (sbyte)b : b;
            float real = 0.07f * (value - 5);
            int expected = (int)Math.Clamp(MathF.Round(real / 0.1f, MidpointRounding.ToEven) + yZeroPoint, min, max);
            Assert.Equal((byte)expected, table[b]);
        }
    }

    [Fact]
    public void Concat_copies_rows_into_slots()
    {
        // Output [2, 5] from inputs [2, 2] (copied) and [2, 3] (through a table that adds 1).
        var table = Enumerable.Range(0, 256).Select(i => (byte)(i + 1)).ToArray();
        var y = new byte[10];
        QLinearConcat.CopyInput([1, 2, 3, 4], [], y, 2, 2, 5, 0);
        QLinearConcat.CopyInput([10, 11, 12, 13, 14, 15], table, y, 2, 3, 5, 2);
        Assert.Equal(new byte[] { 1, 2, 11, 12, 13, 3, 4, 14, 15, 16 }, y);
    }

    [Fact]
    public void Silu_is_sigmoid_then_multiply_bit_for_bit()
    {
        var rng = new Random(5);
        var x = Enumerable.Range(0, 1000).Select(i => i < 6 ? new[] { 0f, -0f, 88f, -88f, float.PositiveInfinity, float.NegativeInfinity }[i] : (float)(rng.NextDouble() * 40 - 20)).ToArray();
        var sigmoid = new float[x.Length];
        ActivationReference.Sigmoid(x, sigmoid);
        var silu = new float[x.Length];
        SiluReference.Run(x, silu);
        for (int i = 0; i < x.Length; i++) Assert.Equal(x[i] * sigmoid[i], silu[i]);
    }

    public static TheoryData<string, string> PathsAndGroups()
    {
        var data = new TheoryData<string, string>();
        foreach (var path in CpuFeatures.Supported)
            foreach (var group in new[] { "qlinear.add", "qlinear.mul", "qlinear.gap", "qlinear.avgpool", "conv.im2col" })
                data.Add(CpuFeatures.Name(path), group);
        return data;
    }

    [Theory]
    [MemberData(nameof(PathsAndGroups))]
    public void SelfTest_group_passes(string pathName, string groupName)
    {
        Assert.True(CpuFeatures.TryParse(pathName, out var path));
        var group = KernelSelfTest.Groups.Single(g => g.Name == groupName);
        var recorder = new SelfTestRecorder(5);
        group.Run(path, recorder);
        Assert.True(recorder.Passed > 100, $"{groupName} ran only {recorder.Passed} cases");
        Assert.True(recorder.Failed == 0, $"{pathName} {groupName}: {string.Join(" | ", recorder.Details)}");
    }
}
