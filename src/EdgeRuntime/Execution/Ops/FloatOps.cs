namespace EdgeRuntime.Execution.Ops;

/// <summary>Registers the float32 operators (definitions live in <c>Execution/Ops/Float/</c>).</summary>
internal static partial class FloatOps
{
    public static void RegisterAll(OpRegistry registry)
    {
    }
}
