using EdgeRuntime.Graph;
using EdgeRuntime.Onnx.Proto;
using EdgeRuntime.Tensors;
using EdgeRuntime.Tests.Infrastructure;
using Xunit;

namespace EdgeRuntime.Tests.Ops.Float;

/// <summary>One input of an oracle comparison; <see cref="Constant"/> inputs become initializers.</summary>
internal sealed record OracleInput(Tensor Value, bool Constant = false);

/// <summary>
/// Runs one op both on ONNX Runtime (single-op model) and natively (OpHarness), with the same data,
/// and compares. The native node is built from the same NodeProto so attributes cannot diverge.
/// </summary>
internal static class FloatOpOracle
{
    /// <summary>Absolute+relative tolerance for exact-ish float ops: |a-b| ≤ 1e-5 + 1e-5·|b|.</summary>
    public const double Tight = 1e-5;

    /// <summary>Tolerance for transcendental ops (Sigmoid, Tanh, Softmax): |a-b| ≤ 1e-4 + 1e-4·|b|.</summary>
    public const double Transcendental = 1e-4;

    /// <summary>
    /// Runs and compares every output. <paramref name="declaredOutputTypes"/> overrides the graph output
    /// types declared to ONNX Runtime (e.g. float16 for Cast to float16); by default the native types are used.
    /// </summary>
    public static void Compare(string opType, int opset, OracleInput?[] inputs, string context, double tolerance = Tight,
        int outputCount = 1, Action<OnnxModelBuilder.AttributeSetter>? attributes = null, TensorElementType[]? declaredOutputTypes = null)
    {
        var (native, ort) = RunBoth(opType, opset, inputs, outputCount, attributes, declaredOutputTypes);
        for (int i = 0; i < outputCount; i++)
            AssertClose(ort[i], native[i]!, tolerance, $"{context} output {i}");
    }

    /// <summary>Runs natively and on ORT; returns both output lists.</summary>
    public static (Tensor?[] Native, Tensor[] Ort) RunBoth(string opType, int opset, OracleInput?[] inputs, int outputCount = 1,
        Action<OnnxModelBuilder.AttributeSetter>? attributes = null, TensorElementType[]? declaredOutputTypes = null)
    {
        var native = RunNative(opType, opset, inputs, outputCount, attributes);
        var builder = new OnnxModelBuilder(opset);
        var feeds = new Dictionary<string, Tensor>();
        var inputNames = new string[inputs.Length];
        for (int i = 0; i < inputs.Length; i++)
        {
            if (inputs[i] is not { } input) { inputNames[i] = ""; continue; }
            inputNames[i] = "in" + i;
            if (input.Constant)
            {
                builder.Initializer(inputNames[i], input.Value);
                // IR version 3 (opset < 9) requires initializers to be listed as graph inputs too.
                if (opset < 9) builder.Input(inputNames[i], input.Value.ElementType, input.Value.Shape);
            }
            else
            {
                builder.Input(inputNames[i], input.Value.ElementType, input.Value.Shape);
                feeds[inputNames[i]] = input.Value;
            }
        }
        var outputNames = Enumerable.Range(0, outputCount).Select(i => "out" + i).ToArray();
        var opOutputs = outputNames.ToArray();
        for (int i = 0; i < outputCount; i++)
        {
            if (declaredOutputTypes?[i] == TensorElementType.Float16)
            {
                // OrtTensorConversion cannot read float16 outputs yet (it asks ORT for UInt16), so widen
                // them exactly with a second Cast inside the model.
                opOutputs[i] = outputNames[i] + "_fp16";
                builder.Node("Cast", [opOutputs[i]], [outputNames[i]], a => a.Int("to", (long)TensorElementType.Float32));
            }
        }
        builder.Node(opType, inputNames, opOutputs, attributes);
        for (int i = 0; i < outputCount; i++)
            builder.Output(outputNames[i], declaredOutputTypes?[i] is { } t && t != TensorElementType.Float16 ? t : native[i]!.ElementType);
        var result = OrtRunner.Run(builder.Build(), feeds);
        return (native, outputNames.Select(n => result[n]).ToArray());
    }

    /// <summary>Binds and runs the op natively; attributes come from the same builder callback as the ONNX model.</summary>
    public static Tensor?[] RunNative(string opType, int opset, OracleInput?[] inputs, int outputCount = 1,
        Action<OnnxModelBuilder.AttributeSetter>? attributes = null)
    {
        var node = MakeNode(opType, inputs.Select(i => i != null).ToArray(), outputCount, attributes);
        var constants = Enumerable.Range(0, inputs.Length).Where(i => inputs[i]?.Constant == true).ToArray();
        return OpHarness.Run(node, inputs.Select(i => i?.Value).ToArray(), constants, opset);
    }

    /// <summary>Builds the native node from a NodeProto configured by <paramref name="attributes"/>.</summary>
    public static Node MakeNode(string opType, bool[] inputPresent, int outputCount, Action<OnnxModelBuilder.AttributeSetter>? attributes)
    {
        var proto = new NodeProto { OpType = opType };
        attributes?.Invoke(new OnnxModelBuilder.AttributeSetter(proto));
        var node = new Node
        {
            Name = opType + "_0",
            OpType = opType,
            Inputs = inputPresent.Select((p, i) => p ? "in" + i : "").ToArray(),
            Outputs = Enumerable.Range(0, outputCount).Select(i => "out" + i).ToArray(),
        };
        foreach (var a in proto.Attribute) node.Attributes[a.Name] = Convert(a);
        return node;
    }

    private static NodeAttribute Convert(AttributeProto a) => a.Type switch
    {
        AttributeProto.Types.AttributeType.Int => new NodeAttribute { Name = a.Name, Kind = AttributeKind.Int, Int = a.I },
        AttributeProto.Types.AttributeType.Float => new NodeAttribute { Name = a.Name, Kind = AttributeKind.Float, Float = a.F },
        AttributeProto.Types.AttributeType.String => new NodeAttribute { Name = a.Name, Kind = AttributeKind.String, String = a.S.ToStringUtf8() },
        AttributeProto.Types.AttributeType.Ints => new NodeAttribute { Name = a.Name, Kind = AttributeKind.Ints, Ints = a.Ints.ToArray() },
        AttributeProto.Types.AttributeType.Floats => new NodeAttribute { Name = a.Name, Kind = AttributeKind.Floats, Floats = a.Floats.ToArray() },
        AttributeProto.Types.AttributeType.Tensor => new NodeAttribute
        {
            Name = a.Name, Kind = AttributeKind.Tensor,
            Tensor = new Tensor((TensorElementType)a.T.DataType, a.T.Dims.Select(d => (int)d).ToArray(), a.T.RawData.ToByteArray()),
        },
        _ => throw new NotSupportedException(a.Type.ToString()),
    };

    /// <summary>
    /// Same shape; integer and bool types must match exactly; floats within |a-b| ≤ tol + tol·|b|
    /// (ORT float16 outputs are compared to the native float32 values that were rounded through Half).
    /// </summary>
    public static void AssertClose(Tensor expected, Tensor actual, double tolerance, string context)
    {
        Assert.True(expected.Shape.SequenceEqual(actual.Shape),
            $"{context}: shape {TensorShape.Format(actual.Shape)} != ORT {TensorShape.Format(expected.Shape)}");
        var expectedType = expected.ElementType == TensorElementType.Float16 ? TensorElementType.Float32 : expected.ElementType;
        Assert.True(expectedType == actual.ElementType, $"{context}: type {actual.ElementType} != ORT {expected.ElementType}");
        if (actual.ElementType == TensorElementType.Int64)
        {
            var e = expected.ToArray<long>();
            var a = actual.ToArray<long>();
            for (int i = 0; i < e.Length; i++)
                Assert.True(e[i] == a[i], $"{context}: element {i} is {a[i]}, ORT {e[i]}");
            return;
        }
        var ef = expected.ToFloatArray();
        var af = actual.ToFloatArray();
        bool exact = actual.ElementType != TensorElementType.Float32;
        for (int i = 0; i < ef.Length; i++)
        {
            if (float.IsNaN(ef[i]) && float.IsNaN(af[i])) continue;
            if (ef[i] == af[i]) continue;
            double diff = Math.Abs((double)ef[i] - af[i]);
            Assert.True(!exact && diff <= tolerance + tolerance * Math.Abs(ef[i]),
                $"{context}: element {i} is {af[i]:R}, ORT {ef[i]:R} (diff {diff:G3}, tolerance {tolerance} abs+rel)");
        }
    }

    /// <summary>Uniform floats in [lo, hi).</summary>
    public static Tensor RandomFloats(Random random, int[] shape, float lo = -3f, float hi = 3f)
    {
        var data = new float[TensorShape.ElementCount(shape)];
        for (int i = 0; i < data.Length; i++) data[i] = lo + (float)random.NextDouble() * (hi - lo);
        return Tensor.FromFloats(shape, data);
    }

    /// <summary>Random values of any supported element type (integers in a small signed/unsigned range, bool 0/1).</summary>
    public static Tensor RandomOfType(Random random, TensorElementType type, int[] shape)
    {
        int n = TensorShape.ElementCount(shape);
        return type switch
        {
            TensorElementType.Float32 => RandomFloats(random, shape, -200f, 200f),
            TensorElementType.UInt8 => Tensor.FromArray(type, shape, Enumerable.Range(0, n).Select(_ => (byte)random.Next(256)).ToArray().AsSpan()),
            TensorElementType.Int8 => Tensor.FromArray(type, shape, Enumerable.Range(0, n).Select(_ => (sbyte)random.Next(-128, 128)).ToArray().AsSpan()),
            TensorElementType.Int32 => Tensor.FromArray(type, shape, Enumerable.Range(0, n).Select(_ => random.Next(-100000, 100000)).ToArray().AsSpan()),
            TensorElementType.Int64 => Tensor.FromArray(type, shape, Enumerable.Range(0, n).Select(_ => (long)random.Next(-100000, 100000) * 3).ToArray().AsSpan()),
            TensorElementType.Bool => Tensor.FromArray(type, shape, Enumerable.Range(0, n).Select(_ => (byte)random.Next(2)).ToArray().AsSpan()),
            _ => throw new NotSupportedException(type.ToString()),
        };
    }

    /// <summary>A random shape of the given rank with dims in [1, maxDim].</summary>
    public static int[] RandomShape(Random random, int rank, int maxDim = 5) =>
        Enumerable.Range(0, rank).Select(_ => random.Next(1, maxDim + 1)).ToArray();

    /// <summary>An int64 1-D tensor.</summary>
    public static Tensor Int64s(params long[] values) => Tensor.FromArray<long>(TensorElementType.Int64, [values.Length], values);

    /// <summary>Formats a shape for messages.</summary>
    public static string S(int[] shape) => TensorShape.Format(shape);
}

public class ElementwiseOracleTests
{
    [Fact]
    public void Oracle_helper_detects_mismatch()
    {
        var a = Tensor.FromFloats([2], [1f, 2f]);
        var b = Tensor.FromFloats([2], [1f, 2.1f]);
        Assert.ThrowsAny<Exception>(() => FloatOpOracle.AssertClose(a, b, FloatOpOracle.Tight, "self-check"));
        FloatOpOracle.AssertClose(a, a.Clone(), FloatOpOracle.Tight, "self-check");
    }
}

public class ElementwiseNoAllocationTests
{
    /// <summary>Binds the node, runs once to JIT, then checks a second Run allocates nothing.</summary>
    private static void AssertRunDoesNotAllocate(string opType, int opset, OracleInput[] inputs, Action<OnnxModelBuilder.AttributeSetter>? attributes = null, int outputCount = 1)
    {
        var node = FloatOpOracle.MakeNode(opType, inputs.Select(_ => true).ToArray(), outputCount, attributes);
        var infos = inputs.Select(i => (Execution.Ops.TensorInfo?)new Execution.Ops.TensorInfo(i.Value.ElementType, i.Value.Shape)).ToArray();
        var consts = inputs.Select(i => i.Constant ? i.Value : null).ToArray();
        var ctx = new Execution.Ops.OpContext(node, opset, "test.onnx", infos, consts);
        var kernel = Execution.Ops.OpRegistry.Instance.Find("", opType)!.Bind(ctx);
        var outputs = ctx.Outputs.Select(o => (Tensor?)new Tensor(o!.Value.Type, o.Value.Shape)).ToArray();
        var values = inputs.Select(i => (Tensor?)i.Value).ToArray();
        kernel.Run(values, outputs);
        long before = GC.GetAllocatedBytesForCurrentThread();
        kernel.Run(values, outputs);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated == 0, $"{opType} Run allocated {allocated} bytes");
    }

    [Fact]
    public void Run_does_not_allocate()
    {
        var random = new Random(77);
        Tensor F(params int[] shape) => FloatOpOracle.RandomFloats(random, shape);
        AssertRunDoesNotAllocate("Add", 13, [new(F(2, 8, 5, 7)), new(F(8, 1, 1), true)]);
        AssertRunDoesNotAllocate("Mul", 13, [new(F(3, 1, 5)), new(F(1, 4, 1))]);
        AssertRunDoesNotAllocate("Div", 13, [new(FloatOpOracle.Int64s(6, 8)), new(FloatOpOracle.Int64s(2))]);
        AssertRunDoesNotAllocate("Sigmoid", 13, [new(F(2, 9))]);
        AssertRunDoesNotAllocate("Clip", 13, [new(F(2, 9)), new(Tensor.FromFloats([], [0f]), true), new(Tensor.FromFloats([], [6f]), true)]);
        AssertRunDoesNotAllocate("Softmax", 13, [new(F(2, 9, 3))], a => a.Int("axis", 1));
        AssertRunDoesNotAllocate("Transpose", 13, [new(F(2, 3, 4, 5))], a => a.Ints("perm", 0, 2, 3, 1));
        AssertRunDoesNotAllocate("Concat", 13, [new(F(2, 3)), new(F(2, 5))], a => a.Int("axis", 1));
        AssertRunDoesNotAllocate("Cast", 13, [new(F(2, 3))], a => a.Int("to", (long)TensorElementType.Float16));
        AssertRunDoesNotAllocate("Gather", 13, [new(F(5, 3)), new(FloatOpOracle.Int64s(4, -1, 0))], a => a.Int("axis", 0));
        AssertRunDoesNotAllocate("Reshape", 13, [new(F(2, 3)), new(FloatOpOracle.Int64s(-1), true)]);
        AssertRunDoesNotAllocate("Shape", 13, [new(F(2, 3))]);
        AssertRunDoesNotAllocate("Dropout", 13, [new(F(2, 3))], outputCount: 2);
    }
}
