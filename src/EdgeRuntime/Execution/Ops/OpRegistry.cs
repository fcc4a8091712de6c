namespace EdgeRuntime.Execution.Ops;

/// <summary>Every operator EdgeRuntime runs natively, looked up by (domain, op type).</summary>
internal sealed class OpRegistry
{
    private readonly Dictionary<(string Domain, string OpType), OpDefinition> _ops = new();

    private OpRegistry()
    {
        FloatOps.RegisterAll(this);
        QuantizedOps.RegisterAll(this);
    }

    /// <summary>The process-wide registry.</summary>
    public static OpRegistry Instance { get; } = new();

    /// <summary>Adds a definition; a later registration of the same op replaces the earlier one.</summary>
    public void Add(OpDefinition op) => _ops[(op.Domain, op.OpType)] = op;

    /// <summary>Finds the definition for a node, or null when EdgeRuntime cannot run it natively.</summary>
    public OpDefinition? Find(string domain, string opType) =>
        _ops.TryGetValue((domain, opType), out var op) ? op : null;

    /// <summary>All registered ops, for documentation and <c>inspect</c>.</summary>
    public IEnumerable<OpDefinition> All => _ops.Values;
}
