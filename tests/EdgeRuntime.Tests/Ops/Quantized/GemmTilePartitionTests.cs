using EdgeRuntime.Execution.Ops.Quantized;
using Xunit;

namespace EdgeRuntime.Tests.Ops.Quantized;

/// <summary>
/// How a QLinearConv GEMM layer's output pixels are split into tiles for threads: every pixel in exactly one tile, no
/// tile longer than the scratch allows, tiles of equal size to a unit, and a whole number of items per thread where
/// the pixels allow. (That the outputs are identical for any thread count is WarmRunTests'.)
/// </summary>
public sealed class GemmTilePartitionTests
{
    public static TheoryData<int, int, int, int> Layers => new()
    {
        // pixels, tile before balancing, threads, items per tile (images × groups × channel ranges)
        { 784, 112, 2, 1 },    // MobileNetV2 28×28: 7 tiles of 112 before
        { 196, 32, 2, 1 },     // 14×14
        { 12544, 1600, 2, 1 }, // 112×112 in 64-pixel lines
        { 12544, 1568, 2, 1 }, // MobileNetV2's 112×112 split: rounded up to 1600, 64-pixel units
        { 3136, 448, 3, 1 },
        { 49, 49, 2, 8 },      // 7×7 split by channel ranges
        { 50, 16, 4, 1 },      // fewer units than a multiple of the threads needs
        { 17, 16, 2, 3 },
        { 1, 1, 2, 1 },
    };

    [Theory]
    [MemberData(nameof(Layers))]
    public void Tiles_cover_every_pixel_once_and_differ_by_at_most_one_unit(int pixels, int tile, int threads, int otherItems)
    {
        var (tiles, unit, longest) = QLinearConvGemmKernel.BalancedTiles(pixels, tile, threads, otherItems);
        // A tile of two or more output lines is first rounded up to whole 64-pixel lines.
        int rounded = tile >= 128 && tile < pixels ? (tile + 63) / 64 * 64 : tile;
        Assert.True(longest <= rounded || longest == pixels, $"longest tile {longest} exceeds the rounded tile {rounded}");
        int units = (pixels + unit - 1) / unit;
        Assert.True(tiles <= units, $"{tiles} tiles for {units} units leaves some empty");
        if (units >= threads * ((pixels + tile - 1) / tile)) Assert.Equal(0, (long)tiles * otherItems % threads);

        var covered = new int[pixels];
        int shortest = int.MaxValue, longestSeen = 0;
        for (int t = 0; t < tiles; t++)
        {
            var (first, length) = QLinearConvGemmKernel.BalancedTile(t, pixels, tiles, unit);
            Assert.True(length > 0, $"tile {t} is empty");
            Assert.True(length <= longest, $"tile {t} has {length} pixels, the scratch {longest}");
            Assert.True(first % unit == 0, $"tile {t} starts at {first}, not on a {unit}-pixel boundary");
            for (int p = first; p < first + length; p++) covered[p]++;
            if (first + length < pixels) { shortest = Math.Min(shortest, length); longestSeen = Math.Max(longestSeen, length); }
        }
        Assert.All(covered, c => Assert.Equal(1, c));
        if (longestSeen > 0) Assert.True(longestSeen - shortest <= unit, $"tiles of {shortest} to {longestSeen} pixels");
    }

    [Fact]
    public void Seven_tiles_of_28x28_become_eight_for_two_threads()
    {
        var (tiles, unit, longest) = QLinearConvGemmKernel.BalancedTiles(784, 112, 2, 1);
        Assert.Equal(8, tiles);
        Assert.Equal(16, unit);
        Assert.Equal(112, longest); // 49 units of 16: one tile of 7, seven of 6
    }
}
