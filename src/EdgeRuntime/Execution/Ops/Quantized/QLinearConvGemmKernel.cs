using EdgeRuntime.Kernels.Common;
using EdgeRuntime.Kernels.Conv;
using EdgeRuntime.Kernels.Gemm;
using EdgeRuntime.Tensors;

namespace EdgeRuntime.Execution.Ops.Quantized;

/// <summary>
/// QLinearConv on the int8 GEMM (<see cref="QGemm"/>) of the process's instruction-set path: pointwise, general KxK
/// and grouped convolutions. Per (image, group, tile of output pixels, range of output channels) — the unit split
/// across worker threads; layers with few pixels (7×7, 14×14, dense) are split by output channels, each range's
/// weights packed as a matrix of their own, so that threads get equal shares without tiles of a few pixels —
/// the receptive fields are expanded into a signed K×T tile (<see cref="QLinearConvIm2Col"/>; skipped for int8
/// 1x1/stride-1/unpadded convolutions, whose input planes already are that matrix), multiplied by the weights packed
/// at load, and requantized straight into the NCHW output — in the GEMM's epilogue where the path has one
/// (<see cref="QGemm.MultiplyRequantize"/>), else by a separate pass (<see cref="QGemmRequantization"/>).
/// Weights and zero points are converted to signed form at load (uint8 w → w - 128), and every constant
/// zero-point term is folded into a per-channel bias, so the result is exactly the reference's.
/// </summary>
internal sealed class QLinearConvGemmKernel : IOpKernel, IParallelWork, IKernelVariant, IPacksConstantInputs, IUsesSharedScratch
{
    /// <summary>
    /// Bytes a worker's tile should occupy (K bytes of operand B plus 4·M bytes of int32 accumulators per output
    /// pixel), so that B and the accumulators stay in L2 between the GEMM and the requantization pass.
    /// </summary>
    private const int TileBytesTarget = 128 * 1024;

    /// <summary>
    /// Layers with fewer multiply-accumulates (about 8 µs of one x86 core, several times that on a Pi) run on the
    /// calling thread alone: sharing them costs about as much as it would save. Lowered from 1 M with the depthwise
    /// threshold: at 2 threads MobileNetV1 0.5 and 0.75 ran 4–7% and 3% faster, 0.25 the same within noise (three
    /// in-process A/B runs each, alternating which goes first); no MobileNetV2 layer is affected.
    /// </summary>
    private const long MinParallelMacs = 400_000;

    /// <summary>
    /// Output channels per range are a multiple of this (every path's row block: 6 on AVX2, 4 on ARM), so ranges
    /// split no microkernel block.
    /// </summary>
    private const int ChannelRangeQuantum = 12;

    /// <summary>Output pixels in one 64-byte cache line of an NCHW int8 channel row.</summary>
    private const int OutputLinePixels = 64;

    /// <summary>
    /// Fewest output channels per range: every range packs all of B again, which for ranges of 12 channels made
    /// MobileNetV2's 14×14 projections (96 × 576 × 196) cost 60% more in all, so that 2 threads were no faster.
    /// </summary>
    private const int MinChannelsPerRange = 24;

    /// <summary>
    /// Layers with fewer output pixels than this are split by output channels; larger ones by pixel tiles (of at least
    /// 16 pixels), which share the packing of B. Narrow planes go by channels because a pixel split puts two threads'
    /// stores in one cache line of nearly every output row (a 196-byte row is not a whole number of lines), and left
    /// the 14×14 layers' tiles at 112 and 84 pixels, the second with a partial panel: MobileNetV2 at 2 threads took
    /// 2.164–2.178 ms against 2.211–2.222 with the bound at 64 (alternated runs, about 13:02 UTC, 2026-11-28); a bound of
    /// 1024 (28×28 layers too) gained nothing more (2.197–2.198), as those rows are 12¼ lines and B is packed twice.
    /// </summary>
    private const int MaxPixelsForChannelRanges = 256;

    private readonly QLinearConvGeometry _g;
    private readonly IsaPath _isa;
    private readonly WorkerPool? _workers;
    private readonly sbyte[][] _packedWeights;   // per (group, channel range), QGemm.PackA layout of [range, K]
    private readonly QGemm.MultiplierRange[] _multiplierRanges; // per (group, channel range), classified once here
    private readonly int[] _bias;                 // per output channel: model bias + folded zero-point terms
    private readonly int[]? _foldedTerms;         // the zero-point terms alone, when the model bias arrives at run time
    private readonly int[] _weightZeroPoints;     // per output channel, signed form; all zero → empty
    private readonly float[] _multipliers;
    private readonly int _yZeroPoint, _yMin, _yMax;
    private readonly int _xorMask;                // 0x80 for uint8 input
    private readonly sbyte _paddingValue;         // input zero point in signed form
    private readonly bool _direct;                // int8 1x1/s1/p0: the input plane is the GEMM operand B
    private readonly bool _fused;                 // QGemm.MultiplyRequantize: weight zero points folded into packed A
    private readonly bool _matrixVector;          // one output pixel (dense layers): QGemm.MultiplyVectorRequantize
    private readonly int _tile, _tilesPerGroup;
    /// <summary>Pixels the tile boundaries fall on when split for threads (<see cref="BalancedTiles"/>); 0 for fixed tiles.</summary>
    private readonly int _tileUnit;
    private readonly int _channelRanges, _channelsPerRange; // output channels of a group split into ranges of _channelsPerRange (last may be shorter)
    private readonly SharedScratch _scratch;      // the plan's per-thread scratch (its own when built without a pool)
    // A thread's scratch, in ints: [GEMM scratch][accumulators][column sums][im2col columns, bytes packed 4 per int].
    private readonly int _gemmInts, _accumulatorInts, _columnSumInts, _columnBytes, _scratchInts;
    private Tensor? _x, _y;

    SharedScratch IUsesSharedScratch.Scratch => _scratch;
    int IUsesSharedScratch.ScratchInts => _scratchInts;

    /// <inheritdoc/>
    public string Variant => (_g.Group > 1 ? "grouped " : "") + $"{_g.KernelHeight}x{_g.KernelWidth}";

    public QLinearConvGemmKernel(in QLinearConvGeometry g, IsaPath isa, WorkerPool? workers, ReadOnlySpan<byte> weights, bool weightsSigned,
        ReadOnlySpan<int> weightZeroPoints, ReadOnlySpan<int> bias, bool runtimeBias, bool xSigned, int xZeroPoint,
        float[] multipliers, int yZeroPoint, int yMin, int yMax)
    {
        _g = g;
        _isa = isa;
        _workers = workers;
        _multipliers = multipliers;
        _yZeroPoint = yZeroPoint;
        _yMin = yMin;
        _yMax = yMax;
        _xorMask = xSigned ? 0 : 0x80;
        int xzSigned = xSigned ? xZeroPoint : xZeroPoint - 128;
        _paddingValue = (sbyte)xzSigned;

        int k = g.ReductionLength, mPerGroup = g.OutChannelsPerGroup;
        var signedWeights = new sbyte[g.OutChannels * k];
        var wz = new int[g.OutChannels];
        _bias = new int[g.OutChannels];
        bool anyWeightZeroPoint = false;
        for (int m = 0; m < g.OutChannels; m++)
        {
            wz[m] = weightsSigned ? weightZeroPoints[m] : weightZeroPoints[m] - 128;
            anyWeightZeroPoint |= wz[m] != 0;
            long rowSum = 0;
            for (int i = 0; i < k; i++)
            {
                sbyte w = (sbyte)(weights[m * k + i] ^ (weightsSigned ? 0 : 0x80));
                signedWeights[m * k + i] = w;
                rowSum += w;
            }
            // Σ (x' - xz')(w' - wz') = Σ x'w' - xz'·Σw' + K·xz'·wz' - wz'·Σx'  (the last term per pixel, at run time)
            _bias[m] = checked((int)((bias.IsEmpty ? 0 : bias[m]) - xzSigned * rowSum + (long)k * xzSigned * wz[m]));
        }
        _weightZeroPoints = anyWeightZeroPoint ? wz : [];
        if (runtimeBias) _foldedTerms = (int[])_bias.Clone();

        _fused = QGemm.HasFusedRequantization(isa) && isa != IsaPath.Scalar;
        _matrixVector = _fused && g.OutputPixels == 1 && QGemm.HasMatrixVector(isa);
        _direct = xSigned && g.KernelHeight == 1 && g.KernelWidth == 1 && g.StrideHeight == 1 && g.StrideWidth == 1
                  && g.PadTop == 0 && g.PadLeft == 0 && g.InHeight == g.OutHeight && g.InWidth == g.OutWidth;

        int pixels = g.OutputPixels;
        int tile = Math.Max(16, TileBytesTarget / (k + (_fused ? 0 : 4 * mPerGroup))) / 16 * 16;
        int threads = workers?.ThreadCount ?? 1;
        long macs = (long)g.Batch * g.OutChannels * pixels * k;
        if (threads > 1 && macs < MinParallelMacs)
        {
            // Too little work to share: one item per group, run by the calling thread without waking the workers.
            _workers = null;
            threads = 1;
            tile = Math.Max(tile, pixels);
        }
        int ranges = 1;
        if (threads > 1 && _workers != null)
        {
            // One item per thread (WorkerPool.ItemsPerThread): by output channel ranges for layers of a few pixels (14×14,
            // 7×7, dense), else by pixel tiles.
            int want = WorkerPool.ItemsPerThread * threads;
            int units = g.Batch * g.Group;
            tile = Math.Min(tile, pixels);
            int tiles = (pixels + tile - 1) / tile;
            if (units * tiles < want && (long)pixels * units < MaxPixelsForChannelRanges)
                ranges = Math.Max(1, Math.Min((want + units * tiles - 1) / (units * tiles), mPerGroup / MinChannelsPerRange));
            if (units * tiles * ranges < want)
                tile = Math.Max(16, ((pixels * units * ranges + want - 1) / want + 15) / 16 * 16);
        }
        _tile = Math.Min(pixels, tile);
        _tilesPerGroup = (pixels + _tile - 1) / _tile;
        _channelsPerRange = ranges == 1 ? mPerGroup : (mPerGroup / ranges + ChannelRangeQuantum - 1) / ChannelRangeQuantum * ChannelRangeQuantum;
        _channelRanges = (mPerGroup + _channelsPerRange - 1) / _channelsPerRange;
        if (threads > 1 && _workers != null)
            (_tilesPerGroup, _tileUnit, _tile) = BalancedTiles(pixels, _tile, threads, g.Batch * g.Group * _channelRanges);

        // The fused path subtracts the weight zero points in the packed weights (Σ x'(w' - wz') needs no column
        // sums of x'); the bias above is the same either way. The scalar path keeps the unfused definition.
        _packedWeights = new sbyte[g.Group * _channelRanges][];
        _multiplierRanges = new QGemm.MultiplierRange[g.Group * _channelRanges];
        for (int group = 0; group < g.Group; group++)
            for (int range = 0; range < _channelRanges; range++)
            {
                int first = group * mPerGroup + range * _channelsPerRange;
                int rows = Math.Min(_channelsPerRange, mPerGroup - range * _channelsPerRange);
                _multiplierRanges[group * _channelRanges + range] = QGemm.ClassifyMultipliers(multipliers.AsSpan(first, rows));
                var rangeWeights = signedWeights.AsSpan(first * k, rows * k);
                ref var packed = ref _packedWeights[group * _channelRanges + range];
                if (_matrixVector)
                {
                    packed = new sbyte[QGemm.PackedMatrixVectorALength(isa, rows, k)];
                    QGemm.PackMatrixVectorA(isa, rangeWeights, rows, k, wz.AsSpan(first, rows), packed);
                }
                else if (_fused)
                {
                    packed = new sbyte[QGemm.PackedAWithRowOffsetsLength(isa, rows, k)];
                    int used = QGemm.PackAWithRowOffsets(isa, rangeWeights, rows, k, wz.AsSpan(first, rows), packed);
                    if (used < packed.Length) packed = packed[..used]; // AVX2's VPMADDUBSW format takes about half the bound
                }
                else
                {
                    packed = new sbyte[QGemm.PackedALength(isa, rows, k)];
                    QGemm.PackA(isa, rangeWeights, rows, k, packed);
                }
            }
        _columnBytes = _direct ? 0 : k * _tile;
        _accumulatorInts = _fused ? 0 : mPerGroup * _tile;
        _columnSumInts = !_fused && anyWeightZeroPoint ? _tile : 0;
        _gemmInts = !_fused ? QGemm.ScratchLength(isa, mPerGroup, _tile, k)
            : _matrixVector ? QGemm.MatrixVectorScratchLength(isa, k) : QGemm.FusedScratchLength(isa, mPerGroup, _tile, k);
        _scratch = workers?.Scratch ?? new SharedScratch(1);
        _scratchInts = checked(_gemmInts + _accumulatorInts + _columnSumInts + (_columnBytes + 3) / 4);
        _scratch.Reserve(_scratchInts);
    }

    /// <summary>
    /// Splits <paramref name="pixels"/> for threads into tiles of equal size to a unit (16 pixels, or a 64-byte output
    /// line when the tile spans two or more, the tile then rounded up to whole lines), so that no thread runs a tile
    /// more than the others: 784 pixels in 7 tiles of 112 had one thread run 4 tiles and the other 3. The count grows
    /// from ⌈pixels/tile⌉ until the items of a run (tiles × <paramref name="otherItems"/>) are a multiple of the
    /// threads, where the units allow.
    /// </summary>
    /// <returns>The tiles, the unit, and the longest tile (at most the rounded tile), which sizes the scratch.</returns>
    internal static (int Tiles, int Unit, int LongestTile) BalancedTiles(int pixels, int tile, int threads, int otherItems)
    {
        // Tiles of whole 64-byte lines of every NCHW output channel row, so that two threads never write the same
        // line, which would have to move between their caches (MobileNetV2's 112×112 layers had 1568-pixel tiles).
        // Measured: 1% faster at 2 threads in three in-process A/B runs, inside that harness's ±1–3% A/A spread.
        if (tile >= 2 * OutputLinePixels && tile < pixels) tile = (tile + OutputLinePixels - 1) / OutputLinePixels * OutputLinePixels;
        int unit = tile >= 2 * OutputLinePixels && tile % OutputLinePixels == 0 ? OutputLinePixels : 16;
        int units = (pixels + unit - 1) / unit;
        int tiles = (pixels + tile - 1) / tile;
        while ((long)otherItems * tiles % threads != 0 && tiles < units) tiles++;
        return (tiles, unit, Math.Min(pixels, (units + tiles - 1) / tiles * unit));
    }

    /// <summary>First pixel and length of tile <paramref name="index"/>: units [index·U/T, (index+1)·U/T) of the U units.</summary>
    internal static (int First, int Length) BalancedTile(int index, int pixels, int tiles, int unit)
    {
        int units = (pixels + unit - 1) / unit;
        int first = (int)((long)index * units / tiles) * unit;
        return (first, Math.Min(pixels, (int)((long)(index + 1) * units / tiles) * unit) - first);
    }

    /// <inheritdoc/>
    public bool ReadsAtRun(int index) => index == 0 || (index == 8 && _foldedTerms != null); // x, and a bias computed at run time

    /// <inheritdoc/>
    public long PackedBytes
    {
        get
        {
            long bytes = (_bias.Length + _weightZeroPoints.Length + (_foldedTerms?.Length ?? 0)) * sizeof(int) + _multipliers.Length * sizeof(float);
            foreach (var packed in _packedWeights) bytes += packed.Length;
            return bytes;
        }
    }

    public void Run(ReadOnlySpan<Tensor?> inputs, ReadOnlySpan<Tensor?> outputs)
    {
        _x = inputs[0];
        _y = outputs[0];
        if (_foldedTerms != null)
        {
            var modelBias = inputs[8]!.AsSpan<int>();
            for (int m = 0; m < _bias.Length; m++) _bias[m] = _foldedTerms[m] + modelBias[m];
        }
        int items = _g.Batch * _g.Group * _tilesPerGroup * _channelRanges;
        if (_workers != null) _workers.Run(this, items);
        else for (int i = 0; i < items; i++) Execute(i, 0);
        _x = _y = null;
    }

    public void Execute(int item, int worker)
    {
        var g = _g;
        int range = item % _channelRanges;
        item /= _channelRanges;
        int tileIndex = item % _tilesPerGroup;
        int group = item / _tilesPerGroup % g.Group;
        int n = item / _tilesPerGroup / g.Group;
        int pixels = g.OutputPixels, k = g.ReductionLength;
        int mRange = Math.Min(_channelsPerRange, g.OutChannelsPerGroup - range * _channelsPerRange);
        var packedWeights = _packedWeights[group * _channelRanges + range];
        int firstPixel, length;
        if (_tileUnit == 0)
        {
            firstPixel = tileIndex * _tile;
            length = Math.Min(_tile, pixels - firstPixel);
        }
        else (firstPixel, length) = BalancedTile(tileIndex, pixels, _tilesPerGroup, _tileUnit);
        var scratch = _scratch.For(worker).AsSpan();
        var gemmScratch = scratch[.._gemmInts];
        var accumulators = scratch.Slice(_gemmInts, _accumulatorInts);
        var columnSums = scratch.Slice(_gemmInts + _accumulatorInts, _columnSumInts);
        var columns = System.Runtime.InteropServices.MemoryMarshal.Cast<int, sbyte>(scratch[(_gemmInts + _accumulatorInts + _columnSumInts)..])[.._columnBytes];

        int planeSize = g.InHeight * g.InWidth;
        var groupInput = _x!.Bytes.Slice((n * g.InChannels + group * g.InChannelsPerGroup) * planeSize, g.InChannelsPerGroup * planeSize);
        ReadOnlySpan<sbyte> b;
        int ldb;
        if (_direct)
        {
            b = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, sbyte>(groupInput[firstPixel..]);
            ldb = planeSize;
        }
        else
        {
            QLinearConvIm2Col.Tile(g, groupInput, _xorMask, _paddingValue, firstPixel, length, columns);
            b = columns;
            ldb = length;
        }

        int firstChannel = group * g.OutChannelsPerGroup + range * _channelsPerRange;
        var y = _y!.Bytes[((n * g.OutChannels + firstChannel) * pixels + firstPixel)..];
        if (_matrixVector)
        {
            QGemm.MultiplyVectorRequantize(_isa, mRange, k, packedWeights, b, ldb, _bias.AsSpan(firstChannel, mRange),
                _multipliers.AsSpan(firstChannel, mRange), _yZeroPoint, _yMin, _yMax, y, pixels, gemmScratch);
            return;
        }
        if (_fused)
        {
            QGemm.MultiplyRequantize(_isa, mRange, length, k, packedWeights, b, ldb, _bias.AsSpan(firstChannel, mRange),
                _multipliers.AsSpan(firstChannel, mRange), _yZeroPoint, _yMin, _yMax, y, pixels, gemmScratch,
                _multiplierRanges[group * _channelRanges + range]);
            return;
        }

        QGemm.Multiply(_isa, mRange, length, k, packedWeights, b, ldb, accumulators, length, gemmScratch);
        var wz = _weightZeroPoints.Length == 0 ? ReadOnlySpan<int>.Empty : _weightZeroPoints.AsSpan(firstChannel, mRange);
        if (!wz.IsEmpty) QGemm.ColumnSums(_isa, b, k, length, ldb, columnSums);

        QGemmRequantization.Rows(_isa, accumulators, length, mRange, length,
            _bias.AsSpan(firstChannel, mRange), wz, columnSums, _multipliers.AsSpan(firstChannel, mRange),
            _yZeroPoint, _yMin, _yMax, 0, y, pixels);
    }
}
