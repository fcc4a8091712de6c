using EdgeRuntime.Kernels.Common;
using EdgeRuntime.Kernels.Depthwise;
using EdgeRuntime.Tensors;

namespace EdgeRuntime.Execution.Ops.Quantized;

/// <summary>
/// Depthwise QLinearConv (group == input channels == output channels) on <see cref="DepthwiseConv"/>: per image,
/// the channels are split into ranges that the worker threads compute independently into the NCHW output.
/// Weights are stored as <c>w - wZeroPoint[c]</c> per channel <c>[C][KH*KW]</c>, packed once at load.
/// </summary>
internal sealed class QLinearConvDepthwiseKernel : IOpKernel, IParallelWork, IKernelVariant, IPacksConstantInputs, IUsesSharedScratch
{
    /// <summary>
    /// Layers with fewer multiply-accumulates (about 8 µs of one x86 core) run on the calling thread alone; see
    /// QLinearConvGemmKernel's threshold, lowered with this one (from 250 000).
    /// </summary>
    private const long MinParallelMacs = 100_000;

    private readonly DepthwiseConvGeometry _g;
    private readonly int _batch;
    private readonly IsaPath _isa;
    private readonly WorkerPool? _workers;
    private readonly DepthwiseConvWeights _weights;
    private readonly float[] _multipliers;
    private readonly bool _xSigned;
    private readonly int _xZeroPoint, _yZeroPoint, _yMin, _yMax;
    private readonly int _channelsPerItem, _itemsPerImage;
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
        _scratch = workers?.Scratch ?? new SharedScratch(1);
        _scratchInts = DepthwiseConv.ScratchLength(g);
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
        int cFirst = item % _itemsPerImage * _channelsPerItem;
        int cCount = Math.Min(_channelsPerItem, _g.Channels - cFirst);
        int inImage = _g.Channels * _g.InHeight * _g.InWidth, outImage = _g.Channels * _g.OutHeight * _g.OutWidth;
        DepthwiseConv.Run(_isa, _g, _x!.Bytes.Slice(n * inImage, inImage), _xSigned, _xZeroPoint, _weights,
            _bias != null ? _bias.AsSpan<int>() : ReadOnlySpan<int>.Empty, _multipliers, _yZeroPoint, _yMin, _yMax,
            _y!.Bytes.Slice(n * outImage, outImage), _scratch.For(worker).AsSpan(0, _scratchInts), cFirst, cCount);
    }
}
