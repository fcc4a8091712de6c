using EdgeRuntime.Kernels.DataMovement;

namespace EdgeRuntime.Kernels.Elementwise;

/// <summary>The four ONNX broadcasting arithmetic operators.</summary>
public enum BinaryOperation
{
    /// <summary>a + b.</summary>
    Add,
    /// <summary>a - b.</summary>
    Sub,
    /// <summary>a * b.</summary>
    Mul,
    /// <summary>a / b.</summary>
    Div,
}

/// <summary>A scalar binary operator, specialized per struct type so the loops inline it.</summary>
public interface IBinaryOperator<T>
{
    /// <summary>Combines one element of A with one element of B.</summary>
    static abstract T Apply(T a, T b);
}

/// <summary>
/// Reference ONNX Add/Sub/Mul/Div with multidirectional broadcasting (see <see cref="BroadcastPlan"/>).
/// Float32 follows IEEE 754 binary32 (division by zero gives ±inf/NaN). Int32/Int64 wrap around on
/// overflow (two's complement, as C++ does in practice); integer division truncates toward zero, and
/// because ONNX leaves it undefined, division by zero yields 0 and MinValue / -1 yields MinValue
/// instead of trapping.
/// </summary>
public static class BinaryArithmeticReference
{
    /// <summary>output[i] = a[ia] op b[ib] over the broadcast plan. Spans must hold the planned element counts.</summary>
    public static void Compute(BinaryOperation operation, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> output, BroadcastPlan plan)
    {
        switch (operation)
        {
            case BinaryOperation.Add: Broadcast<float, FloatAdd>(a, b, output, plan); break;
            case BinaryOperation.Sub: Broadcast<float, FloatSub>(a, b, output, plan); break;
            case BinaryOperation.Mul: Broadcast<float, FloatMul>(a, b, output, plan); break;
            case BinaryOperation.Div: Broadcast<float, FloatDiv>(a, b, output, plan); break;
            default: throw new ArgumentOutOfRangeException(nameof(operation));
        }
    }

    /// <summary>Int32 form of <see cref="Compute(BinaryOperation, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, BroadcastPlan)"/>.</summary>
    public static void Compute(BinaryOperation operation, ReadOnlySpan<int> a, ReadOnlySpan<int> b, Span<int> output, BroadcastPlan plan)
    {
        switch (operation)
        {
            case BinaryOperation.Add: Broadcast<int, Int32Add>(a, b, output, plan); break;
            case BinaryOperation.Sub: Broadcast<int, Int32Sub>(a, b, output, plan); break;
            case BinaryOperation.Mul: Broadcast<int, Int32Mul>(a, b, output, plan); break;
            case BinaryOperation.Div: Broadcast<int, Int32Div>(a, b, output, plan); break;
            default: throw new ArgumentOutOfRangeException(nameof(operation));
        }
    }

    /// <summary>Int64 form of <see cref="Compute(BinaryOperation, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, BroadcastPlan)"/>.</summary>
    public static void Compute(BinaryOperation operation, ReadOnlySpan<long> a, ReadOnlySpan<long> b, Span<long> output, BroadcastPlan plan)
    {
        switch (operation)
        {
            case BinaryOperation.Add: Broadcast<long, Int64Add>(a, b, output, plan); break;
            case BinaryOperation.Sub: Broadcast<long, Int64Sub>(a, b, output, plan); break;
            case BinaryOperation.Mul: Broadcast<long, Int64Mul>(a, b, output, plan); break;
            case BinaryOperation.Div: Broadcast<long, Int64Div>(a, b, output, plan); break;
            default: throw new ArgumentOutOfRangeException(nameof(operation));
        }
    }

    /// <summary>
    /// Generic broadcasting loop: one flat loop for the same-shape and scalar cases, otherwise an
    /// odometer over <see cref="BroadcastPlan.Dims"/> whose innermost axis is a plain loop with
    /// fixed strides (0 or 1 after compaction). Allocates nothing (the counter lives on the stack).
    /// </summary>
    public static void Broadcast<T, TOperator>(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> output, BroadcastPlan plan)
        where TOperator : struct, IBinaryOperator<T>
    {
        int count = plan.OutputCount;
        output = output[..count];
        switch (plan.Kind)
        {
            case BroadcastKind.Empty:
                return;
            case BroadcastKind.SameShape:
                a = a[..count];
                b = b[..count];
                for (int i = 0; i < output.Length; i++) output[i] = TOperator.Apply(a[i], b[i]);
                return;
            case BroadcastKind.ScalarA:
            {
                T scalar = a[0];
                b = b[..count];
                for (int i = 0; i < output.Length; i++) output[i] = TOperator.Apply(scalar, b[i]);
                return;
            }
            case BroadcastKind.ScalarB:
            {
                T scalar = b[0];
                a = a[..count];
                for (int i = 0; i < output.Length; i++) output[i] = TOperator.Apply(a[i], scalar);
                return;
            }
        }

        int[] dims = plan.Dims, stridesA = plan.StridesA, stridesB = plan.StridesB;
        int rank = dims.Length;
        int inner = dims[rank - 1], innerStrideA = stridesA[rank - 1], innerStrideB = stridesB[rank - 1];
        Span<int> counter = stackalloc int[rank];
        counter.Clear();
        int offsetA = 0, offsetB = 0, outputOffset = 0;
        while (outputOffset < count)
        {
            var rowOut = output.Slice(outputOffset, inner);
            if (innerStrideA == 0)
            {
                T scalar = a[offsetA];
                var rowB = b.Slice(offsetB, inner);
                for (int i = 0; i < rowOut.Length; i++) rowOut[i] = TOperator.Apply(scalar, rowB[i]);
            }
            else if (innerStrideB == 0)
            {
                T scalar = b[offsetB];
                var rowA = a.Slice(offsetA, inner);
                for (int i = 0; i < rowOut.Length; i++) rowOut[i] = TOperator.Apply(rowA[i], scalar);
            }
            else
            {
                var rowA = a.Slice(offsetA, inner);
                var rowB = b.Slice(offsetB, inner);
                for (int i = 0; i < rowOut.Length; i++) rowOut[i] = TOperator.Apply(rowA[i], rowB[i]);
            }
            outputOffset += inner;

            // Advance the odometer over the outer axes (rank-2 .. 0), carrying into outer axes.
            for (int axis = rank - 2; axis >= 0; axis--)
            {
                offsetA += stridesA[axis];
                offsetB += stridesB[axis];
                if (++counter[axis] < dims[axis]) break;
                offsetA -= stridesA[axis] * dims[axis];
                offsetB -= stridesB[axis] * dims[axis];
                counter[axis] = 0;
            }
        }
    }

    private struct FloatAdd : IBinaryOperator<float> { public static float Apply(float a, float b) => a + b; }
    private struct FloatSub : IBinaryOperator<float> { public static float Apply(float a, float b) => a - b; }
    private struct FloatMul : IBinaryOperator<float> { public static float Apply(float a, float b) => a * b; }
    private struct FloatDiv : IBinaryOperator<float> { public static float Apply(float a, float b) => a / b; }
    private struct Int32Add : IBinaryOperator<int> { public static int Apply(int a, int b) => unchecked(a + b); }
    private struct Int32Sub : IBinaryOperator<int> { public static int Apply(int a, int b) => unchecked(a - b); }
    private struct Int32Mul : IBinaryOperator<int> { public static int Apply(int a, int b) => unchecked(a * b); }
    private struct Int32Div : IBinaryOperator<int>
    {
        public static int Apply(int a, int b) => b == 0 ? 0 : b == -1 ? unchecked(-a) : a / b;
    }
    private struct Int64Add : IBinaryOperator<long> { public static long Apply(long a, long b) => unchecked(a + b); }
    private struct Int64Sub : IBinaryOperator<long> { public static long Apply(long a, long b) => unchecked(a - b); }
    private struct Int64Mul : IBinaryOperator<long> { public static long Apply(long a, long b) => unchecked(a * b); }
    private struct Int64Div : IBinaryOperator<long>
    {
        public static long Apply(long a, long b) => b == 0 ? 0 : b == -1 ? unchecked(-a) : a / b;
    }
}
