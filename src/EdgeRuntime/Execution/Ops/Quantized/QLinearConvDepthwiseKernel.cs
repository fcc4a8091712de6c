using EdgeRuntime.Kernels.Common;
using EdgeRuntime.Kernels.Depthwise;
using EdgeRuntime.Tensors;

namespace EdgeRuntime.Execution.Ops.Quantized;

/// <summary>
/// Depthwise QLinearConv (group == input channels == output channels) on <see cref="DepthwiseConv"/>: per image, the
/// worker threads compute ranges of channels (multiples of 16), or bands of output rows for the largest planes and
/// where the channels have fewer such ranges than there are threads, independently into the NCHW output.
/// Weights are stored as <c>w - wZeroPoint[c]</c> per channel <c>[C][KH*KW]</c>, packed once at load.
/// </summary>
internal sealed class QLinearConvDepthwiseKernel : IOpKernel, IParallelWork, IKernelVariant, IPacksConstantInputs, IUsesSharedScratch
{
    /// <summary>
    /// Layers with fewer multiply-accumulates (about 8 µs of one x86 core) run on the calling thread alone; see
    /// QLinearConvGemmKernel's threshold, lowered with this one (from 250 000).
    /// </summary>
    private const long MinParallelMacs = 100_000;

    /// <summary>
    /// Output planes of at least this many pixels (MobileNetV2's 112×112 and 56×56 depthwise layers) are split into
    /// bands of rows at any thread count, as the pointwise layers around them split their pixels: a thread then reads
    /// the rows its own expansion wrote and writes the rows its own projection reads, where channel ranges had each
    /// thread read half its input from the other's cache. That costs little when the two vCPUs of the build machine
    /// share a cache and about 300 ns a line when they do not: MobileNetV2 at 2 threads, medians of 9–15 runs each
    /// with the vCPUs apart, 2.94–3.00 ms against 3.01–3.10 ms with channel ranges; with them close 1.95 against 1.96
    /// (alternated runs, 2026-11-29 06:28–06:45 UTC). Bands for every plane of 256 pixels or more were slower (below).
    /// </summary>
    private const int MinPlaneForRowBands = 56 * 56;

    private readonly DepthwiseConvGeometry _g;
    private readonly int _batch;
    private readonly IsaPath _isa;
    private readonly WorkerPool? _workers;
    private readonly DepthwiseConvWeights _weights;
    private readonly float[] _multipliers;
    private readonly bool _xSigned;
    private readonly int _xZeroPoint, _yZeroPoint, _yMin, _yMax;
    private readonly int _channelsPerItem, _itemsPerImage;
    private readonly int _rowBands;               // bands of output rows per image (items), or 0: channel ranges
    private readonly SharedScratch _scratch;      // the plan's per-thread scratch (its own when built without a pool)
    private readonly int _scratchInts;
    private Tensor? _x, _bias, _y;

    SharedScratch IUsesSharedScratch.Scratch => _scratch;
    int IUsesSharedScratch.ScratchInts => _scratchInts;

    /// <inheritdoc/>
    public string Variant => $"depthwise {_g.KernelHeight}x{_g.KernelWidth}/s{_g.StrideHeight}";

    public QLinearConvDepthwiseKernel(in DepthwiseConvGeometry g, int batch, IsaPath isa, WorkerPool? workers, short[] weights,
        bool xSigned, int xZeroPoint, float[] multipliers, int yZeroPoint, int yMin, int yMax)
    {
        g.Validate();
        _g = g;
        _batch = batch;
        _isa = isa;
        _workers = workers;
        _weights = new DepthwiseConvWeights(g, weights, isa); // the per-channel forms this path reads, packed once
        _xSigned = xSigned;
        _xZeroPoint = xZeroPoint;
        _multipliers = multipliers;
        _yZeroPoint = yZeroPoint;
        _yMin = yMin;
        _yMax = yMax;
        int threads = workers?.ThreadCount ?? 1;
        // WorkerPool.ItemsPerThread ranges per thread; a multiple of 16 channels per range, so that the AVX2 channel
        // groups of small planes (16 channels at a time) are not split into single channels. Layers with less work than
        // a thread wake-up is worth (MinParallelMacs) stay on the calling thread.
        bool split = threads > 1 && (long)batch * g.Channels * g.OutPlane * g.Taps >= MinParallelMacs;
        if (!split)
        {
            _workers = null;
            threads = 1;
        }
        int ranges = WorkerPool.ItemsPerThread * threads;
        _channelsPerItem = !split ? g.Channels : ((g.Channels + ranges - 1) / ranges + 15) / 16 * 16;
        _itemsPerImage = (g.Channels + _channelsPerItem - 1) / _channelsPerItem;
        // Where whole groups of 16 channels leave threads without a range (MobileNetV2's 32-, 96- and 144-channel layers,
        // the largest planes, at 4 threads: 2, 3 and 3 ranges), and for the largest planes (MinPlaneForRowBands), bands
        // of output rows instead. Not everywhere: at 2 threads, bands for every layer of 256 input pixels or more made
        // MobileNetV2 slower on the 2-vCPU build machine (3.18–3.23 ms against 3.00–3.07 with the vCPUs apart, 1.94–1.99
        // against 1.90 close; alternated runs, 2026-11-29 02:55–03:05 UTC): each thread then runs every channel, so the
        // per-channel set-up is paid twice.
        if (split && (_itemsPerImage < ranges || g.OutPlane >= MinPlaneForRowBands) && g.OutHeight >= ranges)
        {
            _rowBands = ranges;
            _channelsPerItem = g.Channels;
            _itemsPerImage = ranges;
        }
        _scratch = workers?.Scratch ?? new SharedScratch(1);
        _scratchInts = DepthwiseConv.ScratchLength(g);
        for (int band = 0; band < _rowBands; band++)
        {
            var (first, count) = Band(band);
            _scratchInts = Math.Max(_scratchInts, DepthwiseConv.ScratchLength(g, first, count));
        }
        _scratch.Reserve(_scratchInts);
    }

    /// <inheritdoc/>
    public bool ReadsAtRun(int index) => index == 0 || index == 8; // x and the int32 bias; the weights are packed

    /// <inheritdoc/>
    public long PackedBytes => _weights.PackedBytes + _multipliers.Length * sizeof(float);

    public void Run(ReadOnlySpan<Tensor?> inputs, ReadOnlySpan<Tensor?> outputs)
    {
        _x = inputs[0];
        _bias = inputs.Length > 8 ? inputs[8] : null;
        _y = outputs[0];
        int items = _batch * _itemsPerImage;
        if (_workers != null) _workers.Run(this, items);
        else for (int i = 0; i < items; i++) Execute(i, 0);
        _x = _bias = _y = null;
    }

    public void Execute(int item, int worker)
    {
        int n = item / _itemsPerImage;
        int cFirst = 0, cCount = _g.Channels, rowFirst = 0, rowCount = _g.OutHeight;
        if (_rowBands > 0) (rowFirst, rowCount) = Band(item % _itemsPerImage);
        else
        {
            cFirst = item % _itemsPerImage * _channelsPerItem;
            cCount = Math.Min(_channelsPerItem, _g.Channels - cFirst);
        }
        int inImage = _g.Channels * _g.InHeight * _g.InWidth, outImage = _g.Channels * _g.OutHeight * _g.OutWidth;
        DepthwiseConv.Run(_isa, _g, _x!.Bytes.Slice(n * inImage, inImage), _xSigned, _xZeroPoint, _weights,
            _bias != null ? _bias.AsSpan<int>() : ReadOnlySpan<int>.Empty, _multipliers, _yZeroPoint, _yMin, _yMax,
            _y!.Bytes.Slice(n * outImage, outImage), _scratch.For(worker).AsSpan(0, _scratchInts), cFirst, cCount, rowFirst, rowCount);
    }

    /// <summary>Output rows of band <paramref name="band"/>: the first bands (thread 0's) hold the top rows, as its pointwise tiles do.</summary>
    private (int First, int Count) Band(int band)
    {
        int first = band * _g.OutHeight / _rowBands;
        return (first, (band + 1) * _g.OutHeight / _rowBands - first);
    }
}
