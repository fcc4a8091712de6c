using EdgeRuntime.Kernels.Common;
using EdgeRuntime.Kernels.Gemm;
using System.Diagnostics;
using Xunit;
using Xunit.Abstractions;

namespace EdgeRuntime.Kernels.Tests;

/// <summary>
/// The avx512vnni path's machine code (QGemm.Avx512Vnni.s): the committed bytes are what the source assembles to, the
/// path is offered exactly where the kernel's /proc/cpuinfo lists the instructions, the code is mapped read + execute
/// only, and its microkernel and depthwise rows compute their definitions (the fused and int32 GEMMs over it are
/// checked against the scalar path by QGemmTests, the depthwise layers by DepthwiseConvTests, on every supported path).
/// </summary>
public sealed class Avx512VnniMachineCodeTests(ITestOutputHelper output)
{
    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "tools", "assemble-machine-code.sh"))) return dir.FullName;
        throw new InvalidOperationException("repository root (tools/assemble-machine-code.sh) not found above " + AppContext.BaseDirectory);
    }

    [Fact]
    public async Task CommittedMachineCode_IsWhatTheAssemblySourceAssemblesTo()
    {
        string root = RepositoryRoot();
        var start = new ProcessStartInfo("bash", ["tools/assemble-machine-code.sh", "--stdout"])
        {
            WorkingDirectory = root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        string stderr = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"tools/assemble-machine-code.sh failed ({process.ExitCode}): {stderr}");
        string committed = File.ReadAllText(Path.Combine(root, "src/QuantizedKernels/Gemm/QGemm.Avx512Vnni.MachineCode.cs"));
        Assert.Equal(await stdout, committed);
    }

    [Fact]
    public void Path_IsOfferedExactlyWhereTheKernelListsAvx512Vnni()
    {
        if (!OperatingSystem.IsLinux() || !System.Runtime.Intrinsics.X86.X86Base.X64.IsSupported || !System.Runtime.Intrinsics.X86.Avx2.IsSupported)
        {
            Assert.False(CpuFeatures.IsSupported(IsaPath.Avx512Vnni));
            return;
        }
        var flags = File.ReadLines("/proc/cpuinfo").First(line => line.StartsWith("flags")).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        bool listed = flags.Contains("avx512f") && flags.Contains("avx512bw") && flags.Contains("avx512vl") && flags.Contains("avx512_vnni");
        output.WriteLine($"/proc/cpuinfo lists avx512f+avx512bw+avx512vl+avx512_vnni: {listed}; path available: {Avx512VnniCode.IsAvailable} ({Avx512VnniCode.UnavailableReason ?? "no reason against"})");
        Assert.Equal(listed, CpuFeatures.IsSupported(IsaPath.Avx512Vnni));
        if (listed) Assert.Equal(IsaPath.Avx512Vnni, CpuFeatures.Best);
        else Assert.NotNull(Avx512VnniCode.UnavailableReason);
    }

    [Fact]
    public unsafe void MachineCode_IsMappedReadExecute_NeverWritable()
    {
        if (!Avx512VnniCode.IsAvailable) { output.WriteLine($"SKIPPED: {Avx512VnniCode.UnavailableReason}"); return; }
        ulong entry = (ulong)Avx512VnniCode.Quads6x16;
        string? permissions = null;
        foreach (var line in File.ReadLines("/proc/self/maps"))
        {
            int dash = line.IndexOf('-'), space = line.IndexOf(' ');
            ulong from = Convert.ToUInt64(line[..dash], 16), to = Convert.ToUInt64(line[(dash + 1)..space], 16);
            if (entry >= from && entry < to) permissions = line.Substring(space + 1, 4);
        }
        Assert.Equal("r-xp", permissions);
    }

    /// <summary>
    /// edge_quads6x16 against its definition: for 0, 1, 7 and 144 k steps, random and extreme bytes (255 × −128 summed
    /// past int32, which must wrap), a row stride wider than the tile; the ints around each row are left alone.
    /// </summary>
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(144)]
    [InlineData(40_000)] // 40 000 · 4 · 255 · 128 > 2³¹: the sums wrap
    public unsafe void Quads6x16_GivesTheDefinitionsSums(int steps)
    {
        if (!Avx512VnniCode.IsAvailable) { output.WriteLine($"SKIPPED: {Avx512VnniCode.UnavailableReason}"); return; }
        var random = new Random(steps);
        var a = new int[steps * 6];
        var panel = new int[steps * 16];
        var aBytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(a.AsSpan());
        var panelBytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(panel.AsSpan());
        if (steps == 40_000) { aBytes.Fill(0x80); panelBytes.Fill(255); }
        else { random.NextBytes(aBytes); random.NextBytes(panelBytes); }
        int[] initial = [int.MaxValue - 5, -7, 0, 123_456, int.MinValue, 42];
        const int ldc = 21; // ints; 5 guard ints after each 16-int row
        var c = new int[6 * ldc];
        Array.Fill(c, 0x5A5A5A5A);
        fixed (int* ap = a, pp = panel, ip = initial, cp = c)
            Avx512VnniCode.Quads6x16(ap, pp, steps, ip, cp, ldc * sizeof(int));
        for (int r = 0; r < 6; r++)
        {
            for (int j = 0; j < 16; j++)
            {
                int sum = initial[r];
                for (int s = 0; s < steps; s++)
                    for (int t = 0; t < 4; t++)
                        sum = unchecked(sum + (sbyte)aBytes[(s * 6 + r) * 4 + t] * panelBytes[(s * 16 + j) * 4 + t]);
                Assert.True(sum == c[r * ldc + j], $"row {r} column {j}: {c[r * ldc + j]}, definition {sum}");
            }
            for (int j = 16; j < ldc; j++) Assert.Equal(0x5A5A5A5A, c[r * ldc + j]);
        }
    }

    /// <summary>
    /// edge_quads6x16_requantize_{s8,u8}[_uncapped][_unclamped] (512-bit: even and odd k steps in separate
    /// accumulators, six rows packed and reordered by VPERMD) against the definition (Requantization.Requantize of
    /// bias + row offset + the exact dot products): 0–7 and 37 steps (no pair, pairs, an odd last step), one and three
    /// panels, every variant. Capped variants get multipliers up to 300 (products far past int32) and negative ones;
    /// uncapped ones |multiplier| &lt; 1, as the caller guarantees. Clamped variants a range inside the type, unclamped
    /// ones the whole type. The bytes between and after the rows' sixteen columns per panel stay untouched. With 0, 1
    /// or 5 corrections (random k, row and d, two on one row and k), each adding d · (u − 128) of its k to its row.
    /// </summary>
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(37)]
    public unsafe void Quads6x16Requantize_GivesTheDefinitionsBytes(int steps)
    {
        if (!Avx512VnniCode.IsAvailable) { output.WriteLine($"SKIPPED: {Avx512VnniCode.UnavailableReason}"); return; }
        foreach (bool signedOutput in new[] { false, true })
        foreach (bool capProducts in new[] { false, true })
        foreach (bool clampBytes in new[] { false, true })
        foreach (int panels in new[] { 1, 3 })
        foreach (int correctionCount in steps == 0 ? new[] { 0 } : new[] { 0, 1, 5 })
        {
            var random = new Random(steps * 16 + (signedOutput ? 8 : 0) + (capProducts ? 4 : 0) + (clampBytes ? 2 : 0) + panels + 1000 * correctionCount);
            var a = new int[steps * 6];
            var panel = new int[panels * steps * 16];
            var aBytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(a.AsSpan());
            var panelBytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(panel.AsSpan());
            random.NextBytes(aBytes);
            random.NextBytes(panelBytes);
            var bias = new int[6];
            var rowOffsets = new int[6];
            var multipliers = new float[6];
            for (int r = 0; r < 6; r++)
            {
                bias[r] = random.Next(-40_000, 40_000);
                rowOffsets[r] = random.Next(-20_000, 20_000);
                multipliers[r] = capProducts
                    ? (r % 3 == 0 ? 300f : r % 3 == 1 ? -0.75f : 0.001f * (1 + random.Next(1000)))
                    : (r % 2 == 0 ? -1f : 1f) * 0.999f * random.NextSingle();
            }
            if (!capProducts) multipliers[5] = 0.5f / 1024; // ties: 512 · (2k + 1) / 1024 ends in .5
            // Corrections (k · 8 + row, d): what the packing could not put in int8, added as d · (u − 128) of that k;
            // two on one row and k, as a packing can list, when there are five.
            var corrections = new int[2 * correctionCount];
            for (int e = 0; e < correctionCount; e++)
            {
                int kk = random.Next(steps * 4), row = random.Next(6);
                if (e == 4) (kk, row) = (corrections[0] >> 3, corrections[0] & 7);
                corrections[2 * e] = kk * 8 + row;
                corrections[2 * e + 1] = random.Next(-300, 301);
            }
            int yMin = signedOutput ? (clampBytes ? -100 : -128) : (clampBytes ? 7 : 0);
            int yMax = signedOutput ? (clampBytes ? 90 : 127) : (clampBytes ? 240 : 255);
            int yZeroPoint = signedOutput ? -3 : 128;
            const int guard = 5;
            int ldy = panels * 16 + guard;
            var y = new byte[6 * ldy];
            Array.Fill(y, (byte)0xA5);
            fixed (int* ap = a, pp = panel, bp = bias, op = rowOffsets, cp = corrections)
            fixed (float* mp = multipliers)
            fixed (byte* yp = y)
            {
                var context = new Avx512VnniEpilogue
                {
                    Bias = bp,
                    RowOffsets = op,
                    Multipliers = mp,
                    Panels = panels,
                    ZeroPoint = (short)yZeroPoint,
                    Min = (byte)yMin,
                    Max = (byte)yMax,
                    Cap = capProducts ? 32767f : float.PositiveInfinity,
                    Corrections = correctionCount == 0 ? null : cp,
                    CorrectionCount = correctionCount,
                };
                Avx512VnniCode.Quads6x16Requantize(signedOutput, capProducts, clampBytes)(ap, pp, steps, &context, yp, ldy);
            }
            for (int r = 0; r < 6; r++)
            {
                for (int j = 0; j < panels * 16; j++)
                {
                    int sum = bias[r] + rowOffsets[r], p = j / 16, column = j % 16;
                    for (int s = 0; s < steps; s++)
                        for (int t = 0; t < 4; t++)
                            sum += (sbyte)aBytes[(s * 6 + r) * 4 + t] * panelBytes[((p * steps + s) * 16 + column) * 4 + t];
                    for (int e = 0; e < correctionCount; e++)
                        if ((corrections[2 * e] & 7) == r)
                        {
                            int kk = corrections[2 * e] >> 3;
                            sum += corrections[2 * e + 1] * (panelBytes[((p * steps + kk / 4) * 16 + column) * 4 + kk % 4] - 128);
                        }
                    byte expected = (byte)Requantization.Requantize(sum, multipliers[r], yZeroPoint, yMin, yMax);
                    Assert.True(expected == y[r * ldy + j],
                        $"{(signedOutput ? "s8" : "u8")} cap {capProducts} clamp {clampBytes}, {panels} panels, {correctionCount} corrections: row {r} column {j}: {y[r * ldy + j]}, definition {expected} (accumulator {sum}, multiplier {multipliers[r]})");
                }
                for (int j = panels * 16; j < ldy; j++) Assert.Equal(0xA5, y[r * ldy + j]);
            }
        }
    }

    /// <summary>
    /// edge_dw3x3_s{1,2}_{u8,s8} and, where the CPU has AVX512_VBMI, the 512-bit edge_dw3x3z_* against their definition
    /// (QGemm.Avx512Vnni.s): 3, 4, 5, 7 and 8 blocks of sixteen outputs (the 256-bit code's pairs alone and with an odd
    /// last block; the 512-bit code's groups of four alone, with 1 or 3 blocks after them, and none) from three random
    /// uint8 rows, weights including both int8 ends,
    /// int8 output with a clamp narrower than the type and uint8 output with the whole type, multipliers below 1 with
    /// exact ties and accumulators that saturate int16; the guard bytes after the last block stay untouched.
    /// </summary>
    [Theory]
    [InlineData(1, false, 4)]
    [InlineData(1, false, 5)]
    [InlineData(1, true, 4)]
    [InlineData(1, true, 5)]
    [InlineData(2, false, 4)]
    [InlineData(2, false, 5)]
    [InlineData(2, true, 4)]
    [InlineData(2, true, 5)]
    [InlineData(1, false, 3)]
    [InlineData(1, true, 7)]
    [InlineData(2, false, 8)]
    [InlineData(2, true, 7)]
    [InlineData(2, true, 3)]
    public unsafe void Depthwise3x3_GivesTheDefinitionsBytes(int stride, bool signedOutput, int blocks)
    {
        if (!Avx512VnniCode.IsAvailable) { output.WriteLine($"SKIPPED: {Avx512VnniCode.UnavailableReason}"); return; }
        const int guard = 16;
        int outputs = 16 * blocks;
        var random = new Random(4 * stride + (signedOutput ? 1 : 0) + 8 * blocks);
        var rows = new byte[3][];
        for (int kh = 0; kh < 3; kh++)
        {
            rows[kh] = new byte[stride * outputs + 64];
            random.NextBytes(rows[kh]);
        }
        var weights = new sbyte[9];
        for (int t = 0; t < 9; t++) weights[t] = (sbyte)(t == 0 ? -128 : t == 4 ? 127 : random.Next(-128, 128));
        int bias = random.Next(-100_000, 100_000), yZeroPoint = signedOutput ? -5 : 9;
        int yMin = signedOutput ? -100 : 0, yMax = signedOutput ? 90 : 255;
        int Quad(int kh) => (byte)weights[3 * kh] | (byte)weights[3 * kh + 1] << 8 | (byte)weights[3 * kh + 2] << 16;
        // 1/256: exact ties at .5 occur, which VCVTPS2DQ must round to even as the definition does; 0.75: products beyond
        // int16, which the saturating packs must still bring to the clamp.
        foreach (bool zmm in Avx512VnniCode.HasVbmi ? new[] { false, true } : [false])
        foreach (float multiplier in new[] { 1f / 256, 0.75f })
        {
            var context = new EdgeRuntime.Kernels.Depthwise.DepthwiseConv.VnniDepthwiseContext(stride, yZeroPoint, yMin, yMax);
            context.SetChannel(Quad(0), Quad(1), Quad(2), bias, multiplier);
            var y = new byte[outputs + guard];
            Array.Fill(y, (byte)0xA5);
            fixed (byte* r0 = rows[0], r1 = rows[1], r2 = rows[2], yp = y)
                Avx512VnniCode.Depthwise3x3(stride, signedOutput, zmm)(r0, r1, r2, blocks, &context, yp);
            for (int q = 0; q < outputs; q++)
            {
                int acc = bias;
                for (int kh = 0; kh < 3; kh++)
                    for (int kw = 0; kw < 3; kw++) acc += rows[kh][stride * q + kw] * weights[3 * kh + kw];
                byte expected = (byte)Requantization.Requantize(acc, multiplier, yZeroPoint, yMin, yMax);
                Assert.True(expected == y[q], $"{(zmm ? "512" : "256")}-bit, multiplier {multiplier}, output {q}: {y[q]}, definition {expected} (accumulator {acc})");
            }
            for (int i = outputs; i < y.Length; i++) Assert.Equal(0xA5, y[i]);
        }
    }

    [Theory]
    [InlineData(1, 1, 7, 7, true, true)]
    [InlineData(1, 1, 14, 14, false, false)]
    [InlineData(1, 1, 3, 5, true, false)]
    [InlineData(2, 2, 7, 7, true, true)]
    [InlineData(2, 2, 4, 6, false, true)]
    [InlineData(2, 1, 5, 9, true, false)]
    [InlineData(1, 2, 1, 1, false, false)]
    public unsafe void DepthwiseGroup3x3_GivesTheDefinitionsBytes(int strideHeight, int strideWidth, int rows, int columns, bool xSigned, bool signedOutput)
    {
        if (!Avx512VnniCode.IsAvailable) { output.WriteLine($"SKIPPED: {Avx512VnniCode.UnavailableReason}"); return; }
        if (!Avx512VnniCode.HasVbmi) { output.WriteLine("SKIPPED: no AVX512_VBMI"); return; }
        const int channels = 16, guard = 64;
        int paddedRows = (rows - 1) * strideHeight + 3, paddedColumns = (columns - 1) * strideWidth + 3;
        var random = new Random(strideHeight * 1000 + strideWidth * 100 + rows * 10 + columns + (xSigned ? 7 : 0));
        var input = new byte[paddedRows * paddedColumns * channels]; // [padded row][padded column][channel]
        random.NextBytes(input);
        var dotRows = new sbyte[channels * 16]; // per channel: kernel rows of (w0, w1, w2, 0), then 4 unused bytes
        for (int c = 0; c < channels; c++)
            for (int kh = 0; kh < 3; kh++)
                for (int kw = 0; kw < 3; kw++)
                    dotRows[16 * c + 4 * kh + kw] = (sbyte)(c == 0 && kh == 0 ? (kw == 0 ? -128 : 127) : random.Next(-128, 128));
        int yZeroPoint = signedOutput ? -3 : 7, yMin = signedOutput ? -128 : 0, yMax = signedOutput ? 100 : 255;
        // 1/256: exact ties, which must round to even; 0.75 and 3.5: results far past the clamp on both sides.
        var multipliers = new float[channels];
        var starts = new int[channels];
        for (int c = 0; c < channels; c++)
        {
            multipliers[c] = (c % 3) switch { 0 => 1f / 256, 1 => 0.75f, _ => 3.5f } * (c % 5 == 4 ? -1 : 1);
            starts[c] = random.Next(-50_000, 50_000);
        }
        var y = new byte[rows * columns * channels + guard];
        Array.Fill(y, (byte)0xA5);
        var context = new EdgeRuntime.Kernels.Depthwise.DepthwiseConv.VnniGroupContext(paddedColumns, strideHeight, xSigned, yZeroPoint, yMin, yMax);
        fixed (sbyte* rowsBase = dotRows)
        fixed (byte* xp = input, yp = y)
        {
            for (int c = 0; c < channels; c++) context.SetChannel(c, (int*)(rowsBase + 16 * c), starts[c], multipliers[c]);
            Avx512VnniCode.DepthwiseGroup3x3(strideWidth)(xp, yp, rows, columns, &context);
        }
        for (int oh = 0; oh < rows; oh++)
            for (int ow = 0; ow < columns; ow++)
                for (int c = 0; c < channels; c++)
                {
                    // The code's input: uint8 as stored, int8 flipped to x + 128.
                    int acc = starts[c];
                    for (int kh = 0; kh < 3; kh++)
                        for (int kw = 0; kw < 3; kw++)
                        {
                            byte raw = input[((oh * strideHeight + kh) * paddedColumns + ow * strideWidth + kw) * channels + c];
                            acc += (xSigned ? (sbyte)raw + 128 : raw) * dotRows[16 * c + 4 * kh + kw];
                        }
                    byte expected = (byte)Requantization.Requantize(acc, multipliers[c], yZeroPoint, yMin, yMax);
                    byte actual = y[(oh * columns + ow) * channels + c];
                    Assert.True(expected == actual, $"pixel ({oh},{ow}) channel {c}: {actual}, definition {expected} (accumulator {acc}, multiplier {multipliers[c]})");
                }
        for (int i = rows * columns * channels; i < y.Length; i++) Assert.Equal(0xA5, y[i]);
    }

    [Theory]
    [InlineData(1, 64)]
    [InlineData(2, 64)]
    [InlineData(3, 100)]
    [InlineData(4, 64)]
    [InlineData(5, 130)]
    [InlineData(8, 64)]
    [InlineData(37, 200)]
    [InlineData(144, 3136)]
    public unsafe void PackQuads4_WritesTheQuadFormatOfFourPanels(int k, int ldb)
    {
        if (!Avx512VnniCode.IsAvailable) { output.WriteLine($"SKIPPED: {Avx512VnniCode.UnavailableReason}"); return; }
        var random = new Random(k * 1000 + ldb);
        var b = new sbyte[k * ldb];
        random.NextBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(b.AsSpan()));
        int quads = (k + 3) / 4, panelBytes = quads * 64 + 64; // a gap of 64 bytes after each panel, which must stay untouched
        var packed = new byte[4 * panelBytes + 64];
        packed.AsSpan().Fill(0xA5);
        fixed (sbyte* bp = b)
        fixed (byte* destination = packed)
            Avx512VnniCode.PackQuads4(bp, ldb, k, destination, panelBytes);
        for (int panel = 0; panel < 4; panel++)
            for (int q = 0; q < quads; q++)
                for (int j = 0; j < 16; j++)
                    for (int t = 0; t < 4; t++)
                    {
                        int kk = 4 * q + t;
                        // The definition (PackBPanelQuadsAvx2): column j of the panel, k step kk, flipped to uint8; rows past K zero.
                        byte expected = kk < k ? (byte)(b[kk * ldb + 16 * panel + j] ^ 0x80) : (byte)0;
                        Assert.True(expected == packed[panel * panelBytes + q * 64 + j * 4 + t], $"panel {panel}, quad {q}, column {j}, step {t}");
                    }
        for (int panel = 0; panel < 4; panel++)
            for (int i = quads * 64; i < panelBytes; i++) Assert.Equal(0xA5, packed[panel * panelBytes + i]);
        for (int i = 4 * panelBytes; i < packed.Length; i++) Assert.Equal(0xA5, packed[i]);
    }

    [Fact]
    public unsafe void DpbusdChains_DoesTheMultiplyAdds()
    {
        if (!Avx512VnniCode.IsAvailable) { output.WriteLine($"SKIPPED: {Avx512VnniCode.UnavailableReason}"); return; }
        // Both operands are bytes of 1 (unsigned and signed): each VPDPBUSD adds 4 to every lane; 12 chains summed.
        Assert.Equal(12 * 4 * 1000, Avx512VnniCode.DpbusdChains(1000));
        Assert.Equal(0, Avx512VnniCode.DpbusdChains(0));
        Assert.Equal(12 * 4 * 1000, Avx512VnniCode.DpbusdChainsZmm(1000));
        Assert.Equal(0, Avx512VnniCode.DpbusdChainsZmm(0));
    }
}
