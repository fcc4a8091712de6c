using EdgeRuntime.Graph;
using EdgeRuntime.Onnx;
using EdgeRuntime.Onnx.Proto;
using EdgeRuntime.Tensors;
using EdgeRuntime.Tests.Infrastructure;
using Google.Protobuf;
using Xunit;

namespace EdgeRuntime.Tests.Loading;

/// <summary>The reader on small built models: conversions that must work and every rejection it promises.</summary>
public class ModelReaderTests
{
    private const string FileName = "bad.onnx";

    /// <summary>x[1,3] + W[1,3] -> y.</summary>
    private static OnnxModelBuilder Base(int opset = 13) => new OnnxModelBuilder(opset)
        .Input("x", TensorElementType.Float32, 1, 3)
        .Initializer("W", Tensor.FromFloats([1, 3], [1f, 2f, 3f]))
        .Node("Add", ["x", "W"], ["y"])
        .Output("y", TensorElementType.Float32, [1, 3]);

    private static ModelGraph Load(byte[] model, ModelLoadLimits? limits = null)
    {
        var g = OnnxModelReader.ReadBytes(model, FileName, limits);
        GraphTopology.Sort(g);
        return g;
    }

    /// <summary>Loading must fail with a ModelFormatException naming the file and containing every fragment.</summary>
    private static ModelFormatException Rejects(byte[] model, params string[] fragments) => RejectsWith(model, null, fragments);

    private static ModelFormatException RejectsWith(byte[] model, ModelLoadLimits? limits, params string[] fragments)
    {
        var e = Assert.Throws<ModelFormatException>(() => Load(model, limits));
        Assert.StartsWith(FileName + ": ", e.Message);
        foreach (var f in fragments) Assert.Contains(f, e.Message);
        Assert.DoesNotContain("internal error", e.Message);
        return e;
    }

    private static TensorProto FloatTensor(string name, long[] dims)
    {
        var t = new TensorProto { Name = name, DataType = (int)TensorElementType.Float32 };
        foreach (var d in dims) t.Dims.Add(d);
        return t;
    }

    // ---- conversions that work -------------------------------------------------------------------

    [Fact]
    public void BaseModel_Loads()
    {
        var g = Load(Base().Build());
        Assert.Equal(FileName, g.SourcePath);
        Assert.Equal(13, g.DefaultOpset);
        Assert.Equal("x", Assert.Single(g.Inputs).Name);
        Assert.Equal([1f, 2f, 3f], g.Initializers["W"].ToArray<float>());
        Assert.Equal("Add_0", Assert.Single(g.Nodes).Name);
    }

    [Fact]
    public void IrBelow4_InputsListingInitializersAreExcluded()
    {
        var b = Base(opset: 8); // IR 3
        b.Proto.Graph.Input.Add(OnnxModelBuilder.MakeValueInfo("W", TensorElementType.Float32, [1, 3]));
        var g = Load(b.Build());
        Assert.Equal(3, g.IrVersion);
        Assert.Equal(["x"], g.Inputs.Select(i => i.Name));
        Assert.True(g.Initializers.ContainsKey("W"));
    }

    [Fact]
    public void TypedFieldTensors_AreDecoded()
    {
        var b = Base();
        var f = FloatTensor("F", [2]); f.FloatData.Add([1.5f, -2f]);
        var i64 = new TensorProto { Name = "L", DataType = (int)TensorElementType.Int64 }; i64.Int64Data.Add([-7, 1L << 40]);
        var i32 = new TensorProto { Name = "I", DataType = (int)TensorElementType.Int32 }; i32.Dims.Add(2); i32.Int32Data.Add([-5, 9]);
        var i8 = new TensorProto { Name = "S", DataType = (int)TensorElementType.Int8 }; i8.Dims.Add(2); i8.Int32Data.Add([-128, 127]);
        var u8 = new TensorProto { Name = "U", DataType = (int)TensorElementType.UInt8 }; u8.Dims.Add(2); u8.Int32Data.Add([0, 255]);
        var bo = new TensorProto { Name = "B", DataType = (int)TensorElementType.Bool }; bo.Dims.Add(2); bo.Int32Data.Add([0, 1]);
        i64.Dims.Add(2);
        b.Proto.Graph.Initializer.Add([f, i64, i32, i8, u8, bo]);
        var g = Load(b.Build());
        Assert.Equal([1.5f, -2f], g.Initializers["F"].ToArray<float>());
        Assert.Equal([-7L, 1L << 40], g.Initializers["L"].ToArray<long>());
        Assert.Equal([-5, 9], g.Initializers["I"].ToArray<int>());
        Assert.Equal([(sbyte)-128, (sbyte)127], g.Initializers["S"].ToArray<sbyte>());
        Assert.Equal([(byte)0, (byte)255], g.Initializers["U"].ToArray<byte>());
        Assert.Equal([(byte)0, (byte)1], g.Initializers["B"].ToArray<byte>());
        Assert.Equal(TensorElementType.Bool, g.Initializers["B"].ElementType);
    }

    [Fact]
    public void Float16InInt32Data_IsWidenedToFloat32()
    {
        var b = Base();
        var h = new TensorProto { Name = "H", DataType = (int)TensorElementType.Float16 };
        h.Dims.Add(3);
        foreach (var v in new[] { 1.5f, -0.25f, 65504f }) h.Int32Data.Add(BitConverter.HalfToUInt16Bits((Half)v));
        b.Proto.Graph.Initializer.Add(h);
        var t = Load(b.Build()).Initializers["H"];
        Assert.Equal(TensorElementType.Float32, t.ElementType);
        Assert.Equal([1.5f, -0.25f, 65504f], t.ToArray<float>());
    }

    [Fact]
    public void Float16RawData_IsWidenedToFloat32_ScalarHasOneElement()
    {
        var b = Base();
        b.Initializer("H", Tensor.FromArray(TensorElementType.Float16, [], [(Half)0.5f]));
        var t = Load(b.Build()).Initializers["H"];
        Assert.Equal(TensorElementType.Float32, t.ElementType);
        Assert.Empty(t.Shape);
        Assert.Equal([0.5f], t.ToArray<float>());
    }

    [Fact]
    public void Float16Widening_IsExactForEveryBitPattern()
    {
        var raw = new byte[65536 * 2];
        var typed = new TensorProto { Name = "T", DataType = (int)TensorElementType.Float16 };
        typed.Dims.Add(65536);
        for (int bits = 0; bits < 65536; bits++)
        {
            raw[2 * bits] = (byte)bits;
            raw[2 * bits + 1] = (byte)(bits >> 8);
            typed.Int32Data.Add(bits);
        }
        var b = Base().Initializer("R", new Tensor(TensorElementType.Float16, [65536], raw));
        b.Proto.Graph.Initializer.Add(typed);
        var g = Load(b.Build());
        foreach (var name in new[] { "R", "T" })
        {
            var widened = g.Initializers[name].AsSpan<float>();
            for (int bits = 0; bits < 65536; bits++)
            {
                float expected = (float)BitConverter.UInt16BitsToHalf((ushort)bits);
                if (float.IsNaN(expected)) Assert.True(float.IsNaN(widened[bits]), $"{name}: 0x{bits:X4} should be NaN");
                else Assert.True(BitConverter.SingleToUInt32Bits(expected) == BitConverter.SingleToUInt32Bits(widened[bits]),
                    $"{name}: 0x{bits:X4} -> {widened[bits]}, expected {expected}");
            }
        }
    }

    [Fact]
    public void Opsets_DomainsAreNormalizedAndStored()
    {
        var b = Base();
        b.Proto.OpsetImport[0].Domain = "ai.onnx";
        b.Proto.OpsetImport.Add(new OperatorSetIdProto { Domain = "com.microsoft", Version = 1 });
        b.Proto.OpsetImport.Add(new OperatorSetIdProto { Domain = "org.example", Version = 3 });
        b.Node("Foo", ["y"], ["z"], domain: "org.example");
        var g = OnnxModelReader.ReadBytes(b.Build(), FileName);
        Assert.Equal(13, g.OpsetFor(""));
        Assert.Equal(1, g.OpsetFor("com.microsoft"));
        Assert.Equal(3, g.OpsetFor("org.example"));
        Assert.Equal("org.example", g.Nodes[1].Domain);
    }

    [Fact]
    public void ValueInfo_SymbolicAndMissingDims_AndShapelessOutput()
    {
        var b = new OnnxModelBuilder(13)
            .Input("x", TensorElementType.Float32, -1, 3)
            .Node("Relu", ["x"], ["y"])
            .Output("y", TensorElementType.Float32);
        b.Proto.Graph.Input[0].Type.TensorType.Shape.Dim.Add(new TensorShapeProto.Types.Dimension());
        var g = Load(b.Build());
        var x = g.Inputs[0];
        Assert.Equal([-1, 3, -1], x.Shape);
        Assert.Equal(new string?[] { "N", null, "" }, x.DimParams.AsEnumerable());
        Assert.True(x.HasShape);
        var y = g.Outputs[0];
        Assert.False(y.HasShape);
        Assert.Empty(y.Shape);
    }

    [Fact]
    public void NodesAndAttributes_AreConverted()
    {
        var b = Base();
        b.Node("Custom", ["y"], ["z", ""], a => a.Int("i", -3).Float("f", 0.5f).String("s", "ünï").Ints("is", 1, 2)
            .Floats("fs", 0.25f).Tensor("t", Tensor.FromArray(TensorElementType.Int64, [2], [4L, 5L])), name: "");
        var strings = new AttributeProto { Name = "ss", Type = AttributeProto.Types.AttributeType.Strings };
        strings.Strings.Add(ByteString.CopyFromUtf8("a")); strings.Strings.Add(ByteString.CopyFromUtf8("b"));
        var graphAttr = new AttributeProto { Name = "g", Type = AttributeProto.Types.AttributeType.Graph, G = new GraphProto() };
        b.Proto.Graph.Node[1].Attribute.Add([strings, graphAttr]);
        b.Proto.MetadataProps.Add(new StringStringEntryProto { Key = "k", Value = "v" });
        b.Output("z", TensorElementType.Float32);
        var g = OnnxModelReader.ReadBytes(b.Build(), FileName);
        var n = g.Nodes[1];
        Assert.Equal("Custom_1", n.Name);
        Assert.Equal(["y"], n.Inputs);
        Assert.Equal(["z", ""], n.Outputs);
        Assert.Equal(-3, n.Attributes["i"].Int);
        Assert.Equal(0.5f, n.Attributes["f"].Float);
        Assert.Equal("ünï", n.Attributes["s"].String);
        Assert.Equal([1L, 2L], n.Attributes["is"].Ints);
        Assert.Equal([0.25f], n.Attributes["fs"].Floats);
        Assert.Equal([4L, 5L], n.Attributes["t"].Tensor!.ToArray<long>());
        Assert.Equal(["a", "b"], n.Attributes["ss"].Strings);
        Assert.Equal(AttributeKind.Other, n.Attributes["g"].Kind);
        Assert.Equal("v", g.Metadata["k"]);
        Assert.Equal("EdgeRuntime.Tests", g.ProducerName);
    }

    // ---- not a model -----------------------------------------------------------------------------

    [Fact]
    public void MissingFile_IsRejected()
    {
        var path = Path.Combine(Path.GetTempPath(), $"edgeruntime-missing-{Guid.NewGuid():N}.onnx");
        var e = Assert.Throws<ModelFormatException>(() => OnnxModelReader.ReadFile(path));
        Assert.Equal(path + ": file not found", e.Message);
    }

    [Fact]
    public void TextFile_IsRejected()
    {
        var path = Path.Combine(Path.GetTempPath(), $"edgeruntime-text-{Guid.NewGuid():N}.onnx");
        File.WriteAllText(path, "This is a README, not a neural network.\nIt has two lines.\n");
        try
        {
            var e = Assert.Throws<ModelFormatException>(() => OnnxModelReader.ReadFile(path));
            Assert.StartsWith(path + ": not an ONNX model", e.Message);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void FileOverSizeLimit_IsRejectedBeforeReading()
    {
        var path = Path.Combine(Path.GetTempPath(), $"edgeruntime-big-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(path, Base().Build());
        try
        {
            var e = Assert.Throws<ModelFormatException>(() => OnnxModelReader.ReadFile(path, new ModelLoadLimits { MaxFileBytes = 10 }));
            Assert.StartsWith(path + ": file is ", e.Message);
            Assert.Contains("more than the limit of 10", e.Message);
            Assert.Equal("x", OnnxModelReader.ReadFile(path).Inputs[0].Name);
        }
        finally { File.Delete(path); }
        RejectsWith(Base().Build(), new ModelLoadLimits { MaxFileBytes = 10 }, "more than the limit of 10");
    }

    [Fact]
    public void EmptyAndTruncatedFiles_AreRejected()
    {
        Rejects([], "empty file");
        var model = Base().Build();
        for (int cut = 1; cut < model.Length; cut += Math.Max(1, model.Length / 40))
            Assert.Throws<ModelFormatException>(() => Load(model[..cut]));
        Rejects(model[..(model.Length - 3)], "not an ONNX model or truncated file");
    }

    [Fact]
    public void TruncatedRealModel_IsRejected() =>
        Rejects(File.ReadAllBytes(SharedData.Path(RealModelLoadingTests.Mnist))[..10000], "not an ONNX model or truncated file");

    [Fact]
    public void RandomBytes_AreRejected()
    {
        var rng = new Random(1234);
        for (int i = 0; i < 50; i++)
        {
            var bytes = new byte[rng.Next(1, 4000)];
            rng.NextBytes(bytes);
            Rejects(bytes);
        }
    }

    // ---- opsets and IR -------------------------------------------------------------------------------

    [Theory]
    [InlineData(6)]
    [InlineData(22)]
    public void UnsupportedOpset_IsRejected(int opset) =>
        Rejects(Base(opset).Build(), $"ai.onnx opset {opset} is not supported");

    [Fact]
    public void MissingDefaultOpset_IsRejected()
    {
        var b = Base();
        b.Proto.OpsetImport.Clear();
        b.Proto.OpsetImport.Add(new OperatorSetIdProto { Domain = "com.microsoft", Version = 1 });
        Rejects(b.Build(), "imports no ai.onnx opset");
    }

    [Fact]
    public void UnsupportedIrVersion_IsRejected()
    {
        var b = Base();
        b.Proto.IrVersion = 99;
        Rejects(b.Build(), "IR version 99");
    }

    [Fact]
    public void NodeInUnimportedDomain_IsRejected()
    {
        var b = Base().Node("Foo", ["y"], ["z"], domain: "org.example");
        var e = Rejects(b.Build(), "domain 'org.example'", "node 'Foo_1' (Foo)");
        Assert.Equal("Foo_1", e.NodeName);
    }

    // ---- declared values -------------------------------------------------------------------------

    [Fact]
    public void AbsurdDims_AreRejected()
    {
        Rejects(new OnnxModelBuilder().Input("x", TensorElementType.Float32, 1, 1 << 30).Node("Relu", ["x"], ["y"])
            .Output("y", TensorElementType.Float32).Build(), "graph input 'x'", "dimension 1073741824");
        var b = Base();
        b.Proto.Graph.Input[0].Type.TensorType.Shape.Dim[0].DimValue = -4;
        Rejects(b.Build(), "graph input 'x' has negative dimension -4");
        Rejects(new OnnxModelBuilder().Input("x", TensorElementType.Float32, 1, 1, 1, 1, 1, 1, 1, 1, 1).Node("Relu", ["x"], ["y"])
            .Output("y", TensorElementType.Float32).Build(), "graph input 'x' has rank 9");

        var huge = Base();
        huge.Proto.Graph.Initializer.Add(FloatTensor("H", [1 << 20, 1 << 20]));
        Rejects(huge.Build(), "initializer 'H'", "elements");
        var tooBigDim = Base();
        tooBigDim.Proto.Graph.Initializer.Add(FloatTensor("H", [1L << 40]));
        Rejects(tooBigDim.Build(), "initializer 'H' has dimension 1099511627776");
        var negative = Base();
        negative.Proto.Graph.Initializer.Add(FloatTensor("H", [-1]));
        Rejects(negative.Build(), "initializer 'H' has negative dimension");
    }

    [Fact]
    public void UnsupportedInputType_IsRejectedByName()
    {
        var b = Base();
        b.Proto.Graph.Input[0].Type.TensorType.ElemType = 11;
        Rejects(b.Build(), "graph input 'x' has element type double");
        var noType = Base();
        noType.Proto.Graph.Input[0].Type = null;
        Rejects(noType.Build(), "graph input 'x' has no type");
    }

    [Fact]
    public void NoOutputs_IsRejected()
    {
        var b = Base();
        b.Proto.Graph.Output.Clear();
        Rejects(b.Build(), "graph has no outputs");
        var noGraph = Base();
        noGraph.Proto.Graph = null;
        Rejects(noGraph.Build(), "model has no graph");
    }

    // ---- tensors ----------------------------------------------------------------------------------------

    [Fact]
    public void RawDataSizeMismatch_IsRejected()
    {
        var b = Base();
        b.Proto.Graph.Initializer[0].RawData = ByteString.CopyFrom(new byte[11]);
        Rejects(b.Build(), "raw_data of initializer 'W' has 11 bytes, expected 12");
    }

    [Fact]
    public void TypedFieldCountMismatch_IsRejected()
    {
        var b = Base();
        var f = FloatTensor("F", [3]); f.FloatData.Add([1f, 2f]);
        b.Proto.Graph.Initializer.Add(f);
        Rejects(b.Build(), "initializer 'F' has 2 values in float_data, expected 3");

        var wrongField = Base();
        var g = FloatTensor("G", [1]); g.Int64Data.Add(1);
        wrongField.Proto.Graph.Initializer.Add(g);
        Rejects(wrongField.Build(), "initializer 'G' stores values in int64_data");

        var noData = Base();
        noData.Proto.Graph.Initializer.Add(FloatTensor("E", [4]));
        Rejects(noData.Build(), "initializer 'E' has no data");

        var outOfRange = Base();
        var u = new TensorProto { Name = "U", DataType = (int)TensorElementType.UInt8 }; u.Dims.Add(1); u.Int32Data.Add(256);
        outOfRange.Proto.Graph.Initializer.Add(u);
        Rejects(outOfRange.Build(), "out of range for uint8");
    }

    [Fact]
    public void ExternalData_IsRejected()
    {
        var b = Base();
        b.Proto.Graph.Initializer[0].DataLocation = TensorProto.Types.DataLocation.External;
        b.Proto.Graph.Initializer[0].ExternalData.Add(new StringStringEntryProto { Key = "location", Value = "w.bin" });
        Rejects(b.Build(), "external-data tensors are not supported (initializer 'W')");
    }

    [Fact]
    public void SegmentedTensor_IsRejected()
    {
        var b = Base();
        // TensorProto.segment (field 3, not in EdgeRuntime's schema) = { begin: 0, end: 1 }.
        var bytes = b.Proto.Graph.Initializer[0].ToByteArray().Concat(new byte[] { 0x1A, 4, 0x08, 0, 0x10, 1 }).ToArray();
        b.Proto.Graph.Initializer[0] = TensorProto.Parser.ParseFrom(bytes);
        Rejects(b.Build(), "segmented tensors are not supported (initializer 'W')");
    }

    [Fact]
    public void SparseInitializer_IsRejected()
    {
        var b = Base();
        var graphBytes = b.Proto.Graph.ToByteArray().Concat(new byte[] { 0x7A, 0 }).ToArray(); // field 15, empty
        b.Proto.Graph = GraphProto.Parser.ParseFrom(graphBytes);
        Rejects(b.Build(), "sparse initializers are not supported");
    }

    [Theory]
    [InlineData(8, "string")]
    [InlineData(11, "double")]
    [InlineData(16, "bfloat16")]
    public void UnsupportedTensorType_IsRejected(int dataType, string name)
    {
        var b = Base();
        b.Proto.Graph.Initializer.Add(new TensorProto { Name = "T", DataType = dataType });
        Rejects(b.Build(), $"{name} tensors are not supported (initializer 'T')");
    }

    [Fact]
    public void DuplicateInitializer_IsRejected()
    {
        var b = Base().Initializer("W", Tensor.FromFloats([1], [0f]));
        Rejects(b.Build(), "duplicate initializer name 'W'");
    }

    [Fact]
    public void TensorLimits_AreEnforced()
    {
        RejectsWith(Base().Build(), new ModelLoadLimits { MaxTensorElements = 2 }, "initializer 'W'", "more than 2 elements");
        RejectsWith(Base().Build(), new ModelLoadLimits { MaxTotalInitializerBytes = 11 }, "more than 11 bytes in total");
        RejectsWith(Base().Build(), new ModelLoadLimits { MaxDimension = 2 }, "initializer 'W' has dimension 3");
        RejectsWith(Base().Build(), new ModelLoadLimits { MaxRank = 1 }, "rank 2");
    }

    [Fact]
    public void BadTensorAttribute_NamesTheNode()
    {
        var b = Base();
        b.Node("Constant", [], ["c"], a => a.Tensor("value", Tensor.FromFloats([2], [1f, 2f])), name: "const1");
        b.Proto.Graph.Node[1].Attribute[0].T.RawData = ByteString.CopyFrom(new byte[3]);
        var e = Rejects(b.Build(), "node 'const1' (Constant)", "raw_data of tensor attribute 'value' has 3 bytes");
        Assert.Equal("Constant", e.OpType);
    }

    // ---- nodes ---------------------------------------------------------------------------------------------

    [Fact]
    public void NodeProblems_AreRejected()
    {
        var empty = Base();
        empty.Proto.Graph.Node[0].OpType = "";
        Rejects(empty.Build(), "has no op type");

        var refAttr = Base();
        refAttr.Proto.Graph.Node[0].Attribute.Add(new AttributeProto { Name = "alpha", RefAttrName = "outer", Type = AttributeProto.Types.AttributeType.Float });
        Rejects(refAttr.Build(), "node 'Add_0' (Add)", "functions are not supported");

        var dupAttr = Base().Node("Relu", ["y"], ["z"], a => a.Int("k", 1).Int("k", 2));
        Rejects(dupAttr.Build(), "attribute 'k' is given twice");

        var many = Base();
        for (int i = 0; i < 5; i++) many.Node("Relu", ["y"], [$"r{i}"]);
        RejectsWith(many.Build(), new ModelLoadLimits { MaxNodes = 5 }, "graph has 6 nodes, more than the limit of 5");
    }

    // ---- topology --------------------------------------------------------------------------------------

    [Fact]
    public void Cycle_IsRejectedNamingTheNodes()
    {
        var b = new OnnxModelBuilder()
            .Input("x", TensorElementType.Float32, 1)
            .Node("Relu", ["x"], ["r"], name: "start")
            .Node("Add", ["r", "c"], ["a"], name: "adder")
            .Node("Neg", ["a"], ["b"], name: "neg")
            .Node("Abs", ["b"], ["c"], name: "abs")
            .Output("c", TensorElementType.Float32);
        var e = Rejects(b.Build(), "cycle", "'adder' (Add)", "'neg' (Neg)", "'abs' (Abs)");
        Assert.DoesNotContain("'start'", e.Message);
        Assert.NotNull(e.NodeName);

        var self = new OnnxModelBuilder().Input("x", TensorElementType.Float32, 1)
            .Node("Add", ["x", "s"], ["s"], name: "selfish").Output("s", TensorElementType.Float32);
        Rejects(self.Build(), "cycle: 'selfish' (Add) -> 'selfish'");
    }

    [Fact]
    public void MissingNodeInput_IsRejected()
    {
        var b = Base().Node("Mul", ["y", "ghost"], ["z"], name: "mul");
        var e = Rejects(b.Build(), "node 'mul' (Mul)", "input 1 'ghost' is not produced");
        Assert.Equal("mul", e.NodeName);
        Assert.Equal("Mul", e.OpType);
    }

    [Fact]
    public void DuplicateProducer_IsRejected()
    {
        var b = Base().Node("Relu", ["x"], ["y"], name: "second");
        Rejects(b.Build(), "node 'second' (Relu)", "output 'y' is also produced by node 'Add_0' (Add)");
        var shadow = Base().Node("Relu", ["y"], ["W"], name: "shadow");
        Rejects(shadow.Build(), "node 'shadow' (Relu)", "output 'W' is also produced by an initializer");
    }

    [Fact]
    public void UnproducedGraphOutput_IsRejected()
    {
        var b = Base().Output("nowhere", TensorElementType.Float32);
        Rejects(b.Build(), "graph output 'nowhere' is not produced");
    }

    [Fact]
    public void Sort_IsStableAndReordersOnlyWhenNeeded()
    {
        // File order: c (needs b), a, b (needs a), d (independent).
        var b = new OnnxModelBuilder()
            .Input("x", TensorElementType.Float32, 1)
            .Node("Neg", ["vb"], ["vc"], name: "c")
            .Node("Neg", ["x"], ["va"], name: "a")
            .Node("Neg", ["va"], ["vb"], name: "b")
            .Node("Neg", ["x"], ["vd"], name: "d")
            .Output("vc", TensorElementType.Float32)
            .Output("vd", TensorElementType.Float32);
        var g = OnnxModelReader.ReadBytes(b.Build(), FileName);
        var order = GraphTopology.Sort(g);
        // Ready initially: a (1), d (3) -> a; then b (2) becomes ready and precedes d -> b; then c (0) -> c; then d.
        Assert.Equal(["a", "b", "c", "d"], order.Select(n => n.Name));
        RealModelLoadingTests.AssertTopological(g, order);
    }
}
