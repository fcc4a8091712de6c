namespace EdgeRuntime.Kernels.DataMovement;

/// <summary>How a two-input broadcasting loop can be run.</summary>
public enum BroadcastKind
{
    /// <summary>The output has no elements; nothing to compute.</summary>
    Empty,
    /// <summary>Both inputs have the output's element count and layout: one flat loop.</summary>
    SameShape,
    /// <summary>Input A has a single element that is paired with every element of B.</summary>
    ScalarA,
    /// <summary>Input B has a single element that is paired with every element of A.</summary>
    ScalarB,
    /// <summary>Strided loop over <see cref="BroadcastPlan.Dims"/> (e.g. per-channel operands).</summary>
    General,
}

/// <summary>
/// Precomputed iteration plan for ONNX multidirectional (numpy-style) broadcasting of two row-major
/// tensors A and B. Shapes are right-aligned (missing leading dims count as 1); along each axis the
/// dims must be equal or one of them 1, and the output dim is the other one (so 1 vs 0 gives 0).
/// <para>
/// For the strided loop the output dims are compacted: axes of output size 1 are dropped and adjacent
/// axes are merged while both inputs keep the same "broadcast or contiguous" pattern. For example
/// A=[N,C,H,W] with B=[C,1,1] becomes Dims=[N,C,H*W], StridesA=[C*H*W,H*W,1], StridesB=[0,1,0].
/// Strides are in elements; a stride of 0 repeats the element along that axis.
/// </para>
/// </summary>
public sealed class BroadcastPlan
{
    private BroadcastPlan(int[] outputShape, BroadcastKind kind, int[] dims, int[] stridesA, int[] stridesB, int outputCount)
    {
        OutputShape = outputShape;
        Kind = kind;
        Dims = dims;
        StridesA = stridesA;
        StridesB = stridesB;
        OutputCount = outputCount;
    }

    /// <summary>The broadcast output shape (ONNX semantics; rank = max of the input ranks).</summary>
    public int[] OutputShape { get; }

    /// <summary>Which loop applies.</summary>
    public BroadcastKind Kind { get; }

    /// <summary>Compacted output dims (outermost first, at least one entry) for <see cref="BroadcastKind.General"/>.</summary>
    public int[] Dims { get; }

    /// <summary>Element strides of A per compacted dim (0 = broadcast along that dim).</summary>
    public int[] StridesA { get; }

    /// <summary>Element strides of B per compacted dim (0 = broadcast along that dim).</summary>
    public int[] StridesB { get; }

    /// <summary>Number of output elements.</summary>
    public int OutputCount { get; }

    /// <summary>
    /// Computes the plan, or returns false with a message when the shapes cannot be broadcast together.
    /// </summary>
    public static bool TryCreate(ReadOnlySpan<int> shapeA, ReadOnlySpan<int> shapeB, out BroadcastPlan? plan, out string? error)
    {
        plan = null;
        error = null;
        int rank = Math.Max(shapeA.Length, shapeB.Length);
        var output = new int[rank];
        var alignedA = new int[rank];
        var alignedB = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int ia = i - (rank - shapeA.Length), ib = i - (rank - shapeB.Length);
            alignedA[i] = ia >= 0 ? shapeA[ia] : 1;
            alignedB[i] = ib >= 0 ? shapeB[ib] : 1;
            int a = alignedA[i], b = alignedB[i];
            if (a == b || b == 1) output[i] = a;
            else if (a == 1) output[i] = b;
            else
            {
                error = $"shapes {Format(shapeA)} and {Format(shapeB)} cannot be broadcast: dimension {i} of the aligned shapes is {a} vs {b}";
                return false;
            }
        }

        long count = 1;
        foreach (var d in output) count *= d;
        if (count > int.MaxValue)
        {
            error = $"broadcast output {Format(output)} has more than 2^31-1 elements";
            return false;
        }
        int outputCount = (int)count;
        int countA = Product(alignedA), countB = Product(alignedB);

        if (outputCount == 0)
        {
            plan = new BroadcastPlan(output, BroadcastKind.Empty, [0], [0], [0], 0);
            return true;
        }
        if (countA == outputCount && countB == outputCount)
        {
            plan = new BroadcastPlan(output, BroadcastKind.SameShape, [outputCount], [1], [1], outputCount);
            return true;
        }
        if (countA == 1)
        {
            plan = new BroadcastPlan(output, BroadcastKind.ScalarA, [outputCount], [0], [1], outputCount);
            return true;
        }
        if (countB == 1)
        {
            plan = new BroadcastPlan(output, BroadcastKind.ScalarB, [outputCount], [1], [0], outputCount);
            return true;
        }

        // Row-major strides of each input in its aligned shape, 0 where the input is broadcast.
        var dims = new List<int>();
        var sa = new List<int>();
        var sb = new List<int>();
        int strideA = 1, strideB = 1;
        var fullStridesA = new int[rank];
        var fullStridesB = new int[rank];
        for (int i = rank - 1; i >= 0; i--)
        {
            fullStridesA[i] = alignedA[i] == 1 ? 0 : strideA;
            fullStridesB[i] = alignedB[i] == 1 ? 0 : strideB;
            strideA *= alignedA[i];
            strideB *= alignedB[i];
        }
        for (int i = 0; i < rank; i++)
        {
            if (output[i] == 1) continue;
            int last = dims.Count - 1;
            bool samePattern = last >= 0 && (sa[last] == 0) == (fullStridesA[i] == 0) && (sb[last] == 0) == (fullStridesB[i] == 0);
            if (samePattern)
            {
                // Merge into the previous axis: its stride becomes this (inner) axis' stride.
                dims[last] *= output[i];
                sa[last] = fullStridesA[i];
                sb[last] = fullStridesB[i];
            }
            else
            {
                dims.Add(output[i]);
                sa.Add(fullStridesA[i]);
                sb.Add(fullStridesB[i]);
            }
        }
        plan = new BroadcastPlan(output, BroadcastKind.General, dims.ToArray(), sa.ToArray(), sb.ToArray(), outputCount);
        return true;
    }

    private static int Product(int[] shape)
    {
        long n = 1;
        foreach (var d in shape) n *= d;
        return (int)Math.Min(n, int.MaxValue);
    }

    private static string Format(ReadOnlySpan<int> shape)
    {
        var parts = new string[shape.Length];
        for (int i = 0; i < shape.Length; i++) parts[i] = shape[i].ToString(System.Globalization.CultureInfo.InvariantCulture);
        return "[" + string.Join(",", parts) + "]";
    }
}
