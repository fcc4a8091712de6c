namespace EdgeRuntime.Onnx;

/// <summary>
/// Full, blocking garbage collections at the points of a model load where megabytes of weights have just become
/// garbage, so that the load's peak memory is set by what it keeps rather than by when the GC next decides to run.
/// </summary>
/// <remarks>
/// A load leaves large arrays behind in two bursts: the parsed protobuf copies of weights stored in typed fields
/// (<c>float_data</c>, as in ML.NET's ResNet18) once they are decoded, and the raw weights each kernel packed once it
/// is bound. Left to its heuristics the GC reclaimed them late or not at all before the next large allocation: the
/// peak RSS of loading float ResNet18 was 190-234 MB as configured and 236-290 MB with ConserveMemory off, over
/// identical runs here and in CI. With these collections (and <see cref="FileWindowSequence"/>) it is 130-133 MB in
/// every run (139 with ConserveMemory off); without them, 155 and 209 MB. A collection runs only once 16 MB have
/// become garbage, so small int8 models (MobileNetV2: 3.5 MB of weights) never trigger one. Each is non-compacting:
/// the freed space is reused by the packed weights allocated next; compacting gained about 1 MB (one run each).
/// </remarks>
internal sealed class LoadCollections
{
    /// <summary>Garbage, in bytes, that triggers a collection.</summary>
    internal const long ThresholdBytes = 16_000_000;

    private long _pending;

    /// <summary>Collections this instance has run (tests watch it).</summary>
    internal int Count { get; private set; }

    /// <summary>Notes <paramref name="bytes"/> that just became unreachable, and collects once enough has.</summary>
    public void Released(long bytes)
    {
        _pending += bytes;
        if (_pending < ThresholdBytes) return;
        _pending = 0;
        Count++;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: false);
    }
}
