using System.Text;
using EdgeRuntime.Graph;
using EdgeRuntime.Onnx.Proto;
using EdgeRuntime.Tensors;
using Google.Protobuf;

namespace EdgeRuntime.Onnx;

/// <summary>
/// Reads an ONNX model file into a <see cref="ModelGraph"/> and validates its structure: opsets,
/// declared inputs/outputs, initializers, nodes and attributes, all within <see cref="ModelLoadLimits"/>.
/// Every problem, including unreadable or non-ONNX files, is reported as a <see cref="ModelFormatException"/>
/// naming the file and (where it applies) the node; no other exception type escapes.
/// Topological order and dangling references are checked separately by <see cref="GraphTopology.Sort"/>.
/// </summary>
public static class OnnxModelReader
{
    /// <summary>Lowest ai.onnx opset EdgeRuntime implements.</summary>
    public const int MinOpset = 7;

    /// <summary>Highest ai.onnx opset EdgeRuntime implements.</summary>
    public const int MaxOpset = 21;

    /// <summary>Oldest ONNX IR version accepted (the first with <c>opset_import</c>).</summary>
    public const long MinIrVersion = 3;

    /// <summary>Newest ONNX IR version accepted.</summary>
    public const long MaxIrVersion = 11;

    /// <summary>The Microsoft contrib-op domain (stored with its version like ai.onnx).</summary>
    public const string MicrosoftDomain = "com.microsoft";

    /// <summary>GraphProto field number of <c>sparse_initializer</c>, absent from EdgeRuntime's schema subset.</summary>
    private const int SparseInitializerFieldNumber = 15;

    /// <summary>
    /// Reads the model at <paramref name="path"/>; its size is checked against the limit before reading. The file is
    /// parsed through one 64 KiB window (<see cref="FileWindowSequence"/>), so its bytes are not held in memory beside
    /// the tensors decoded from them, and each tensor's bytes are allocated once, at their size.
    /// </summary>
    /// <exception cref="ModelFormatException">Missing, unreadable, oversized, not ONNX, or structurally invalid.</exception>
    public static ModelGraph ReadFile(string path, ModelLoadLimits? limits = null)
    {
        var ctx = new ModelLoadContext(path, limits ?? ModelLoadLimits.Default);
        ModelProto proto;
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists)
                throw new ModelFormatException(path, Directory.Exists(path) ? "is a directory, not a model file" : "file not found");
            if (info.Length > ctx.Limits.MaxFileBytes)
                throw new ModelFormatException(path, $"file is {info.Length} bytes, more than the limit of {ctx.Limits.MaxFileBytes}");
            if (info.Length == 0)
                throw ctx.Fail("empty file, not an ONNX model");
            if (info.Length > int.MaxValue)
                throw ctx.Fail($"file is {info.Length} bytes; protobuf, and so ONNX without external data, stops at 2 GiB");
            using var file = new FileWindowSequence(path, info.Length);
            proto = Parse(() => ModelProto.Parser.ParseFrom(file.Sequence), ctx);
        }
        catch (ModelFormatException) { throw; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException or System.Security.SecurityException)
        {
            throw new ModelFormatException(path, $"cannot read file: {e.Message}", inner: e);
        }
        return ConvertChecked(proto, ctx);
    }

    /// <summary>Reads a model from memory; <paramref name="sourceName"/> is used in messages and as <see cref="ModelGraph.SourcePath"/>.</summary>
    /// <exception cref="ModelFormatException">Oversized, not ONNX, or structurally invalid.</exception>
    public static ModelGraph ReadBytes(byte[] data, string? sourceName, ModelLoadLimits? limits = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        var ctx = new ModelLoadContext(sourceName, limits ?? ModelLoadLimits.Default);
        if (data.LongLength > ctx.Limits.MaxFileBytes)
            throw ctx.Fail($"model is {data.LongLength} bytes, more than the limit of {ctx.Limits.MaxFileBytes}");
        if (data.Length == 0)
            throw ctx.Fail("empty file, not an ONNX model");
        var proto = Parse(() => ModelProto.Parser.ParseFrom(data), ctx);
        return ConvertChecked(proto, ctx);
    }

    private static ModelProto Parse(Func<ModelProto> parse, ModelLoadContext ctx)
    {
        try
        {
            return parse();
        }
        catch (InvalidProtocolBufferException e)
        {
            throw ctx.Fail($"not an ONNX model or truncated file ({e.Message})", inner: e);
        }
        catch (Exception e) when (e is not OutOfMemoryException and not IOException and not UnauthorizedAccessException)
        {
            // Anything else the protobuf layer throws (e.g. a text decoding failure) is still malformed input.
            throw ctx.Fail($"not an ONNX model or truncated file ({e.GetType().Name}: {e.Message})", inner: e);
        }
    }

    private static ModelGraph ConvertChecked(ModelProto proto, ModelLoadContext ctx)
    {
        try
        {
            return Convert(proto, ctx);
        }
        catch (ModelFormatException) { throw; }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Validation is meant to reject every bad input above; this keeps the "only ModelFormatException"
            // contract if something was missed. Tests treat this message as a reader bug.
            throw ctx.Fail($"internal error while reading the model: {e.GetType().Name}: {e.Message}", inner: e);
        }
    }

    private static ModelGraph Convert(ModelProto proto, ModelLoadContext ctx)
    {
        if (proto.Graph == null)
        {
            throw ctx.Fail(proto.OpsetImport.Count == 0 && proto.IrVersion == 0
                ? "not an ONNX model (no graph, no opset import, no IR version)"
                : "model has no graph");
        }
        if (proto.IrVersion < MinIrVersion || proto.IrVersion > MaxIrVersion)
        {
            throw ctx.Fail(proto.IrVersion == 0
                ? "model has no IR version (not an ONNX model?)"
                : $"ONNX IR version {proto.IrVersion} is not supported (EdgeRuntime reads IR versions {MinIrVersion} to {MaxIrVersion})");
        }

        var graph = new ModelGraph
        {
            SourcePath = ctx.File,
            IrVersion = proto.IrVersion,
            ProducerName = proto.ProducerName,
            ProducerVersion = proto.ProducerVersion,
        };
        ReadOpsets(proto, graph, ctx);
        foreach (var entry in proto.MetadataProps)
            graph.Metadata[entry.Key] = entry.Value;

        var g = proto.Graph;
        if (g.UnknownFieldNumbers().Contains(SparseInitializerFieldNumber))
            throw ctx.Fail("sparse initializers are not supported");
        ReadInitializers(g, graph, ctx);
        ReadInputs(g, graph, ctx);
        ReadOutputs(g, graph, ctx);
        ReadValueInfos(g, graph, ctx);
        ReadNodes(g, graph, ctx);
        return graph;
    }

    private static void ReadOpsets(ModelProto proto, ModelGraph graph, ModelLoadContext ctx)
    {
        foreach (var import in proto.OpsetImport)
        {
            var domain = NormalizeDomain(import.Domain);
            var shownDomain = domain.Length == 0 ? "ai.onnx" : domain;
            if (import.Version <= 0 || import.Version > int.MaxValue)
                throw ctx.Fail($"opset import of domain '{shownDomain}' has invalid version {import.Version}");
            int version = (int)import.Version;
            if (graph.Opsets.TryGetValue(domain, out var previous) && previous != version)
                throw ctx.Fail($"domain '{shownDomain}' is imported twice, with opsets {previous} and {version}");
            if (domain.Length == 0 && (version < MinOpset || version > MaxOpset))
                throw ctx.Fail($"ai.onnx opset {version} is not supported (EdgeRuntime supports opsets {MinOpset} to {MaxOpset})");
            graph.Opsets[domain] = version;
        }
        if (!graph.Opsets.ContainsKey(""))
            throw ctx.Fail("model imports no ai.onnx opset (opset_import lacks the default domain)");
    }

    private static string NormalizeDomain(string domain) => domain == "ai.onnx" ? "" : domain;

    /// <summary>Stands in for an initializer once decoded; nothing reads the parsed initializers again.</summary>
    private static readonly TensorProto DecodedInitializer = new();

    private static void ReadInitializers(GraphProto g, ModelGraph graph, ModelLoadContext ctx)
    {
        for (int i = 0; i < g.Initializer.Count; i++)
        {
            var init = g.Initializer[i];
            if (init.Name.Length == 0)
                throw ctx.Fail("an initializer has no name");
            if (graph.Initializers.ContainsKey(init.Name))
                throw ctx.Fail($"duplicate initializer name '{init.Name}'");
            var tensor = TensorProtoDecoder.Decode(init, $"initializer '{init.Name}'", ctx);
            graph.Initializers[init.Name] = tensor;
            // Values stored in a typed field (float_data, int64_data, ...) were copied: drop the parsed copy now rather
            // than when the whole ModelProto goes, so a model's weights are not held twice until the read ends.
            // (raw_data is mostly taken over by the tensor, not copied, so it is not counted as garbage.)
            g.Initializer[i] = DecodedInitializer;
            if (init.RawData.Length == 0) ctx.Collections.Released(tensor.ByteLength);
        }
    }

    private static void ReadInputs(GraphProto g, ModelGraph graph, ModelLoadContext ctx)
    {
        var seen = new HashSet<string>();
        foreach (var input in g.Input)
        {
            if (input.Name.Length == 0) throw ctx.Fail("a graph input has no name");
            if (!seen.Add(input.Name)) throw ctx.Fail($"graph input '{input.Name}' is declared twice");
            // Before IR 4 every initializer is also listed as a graph input; from IR 4 such an input is an
            // initializer a caller may override. Either way EdgeRuntime treats it as a constant.
            if (graph.Initializers.ContainsKey(input.Name)) continue;
            graph.Inputs.Add(ReadValueInfo(input, "graph input", ctx));
        }
    }

    private static void ReadOutputs(GraphProto g, ModelGraph graph, ModelLoadContext ctx)
    {
        if (g.Output.Count == 0) throw ctx.Fail("graph has no outputs");
        var seen = new HashSet<string>();
        foreach (var output in g.Output)
        {
            if (output.Name.Length == 0) throw ctx.Fail("a graph output has no name");
            if (!seen.Add(output.Name)) throw ctx.Fail($"graph output '{output.Name}' is declared twice");
            graph.Outputs.Add(ReadValueInfo(output, "graph output", ctx));
        }
    }

    private static void ReadValueInfos(GraphProto g, ModelGraph graph, ModelLoadContext ctx)
    {
        foreach (var vi in g.ValueInfo)
        {
            // value_info is an optional hint about intermediate values: entries EdgeRuntime cannot represent
            // (no tensor type, unsupported element type) are dropped; ops report real type problems at bind.
            if (vi.Name.Length == 0 || graph.ValueInfos.ContainsKey(vi.Name)) continue;
            if (vi.Type?.TensorType is not { } tt || !TensorElementTypeExtensions.IsSupported(tt.ElemType)) continue;
            graph.ValueInfos[vi.Name] = ReadValueInfo(vi, "value", ctx);
        }
    }

    /// <summary>Converts a declared value; the element type must be supported and the dims within the limits.</summary>
    private static ValueInfo ReadValueInfo(ValueInfoProto vi, string role, ModelLoadContext ctx)
    {
        var label = $"{role} '{vi.Name}'";
        if (vi.Type == null)
            throw ctx.Fail($"{label} has no type");
        if (vi.Type.TensorType is not { } tt)
            throw ctx.Fail($"{label} is not a tensor (sequence, map, optional and sparse values are not supported)");
        if (tt.ElemType == 0)
            throw ctx.Fail($"{label} has no element type");
        if (!TensorElementTypeExtensions.IsSupported(tt.ElemType))
            throw ctx.Fail($"{label} has element type {TensorElementTypeExtensions.OnnxName(tt.ElemType)}, which EdgeRuntime does not support");
        var type = (TensorElementType)tt.ElemType;
        if (tt.Shape == null)
            return new ValueInfo(vi.Name, type, [], []) { HasShape = false };

        var limits = ctx.Limits;
        var dims = tt.Shape.Dim;
        if (dims.Count > limits.MaxRank)
            throw ctx.Fail($"{label} has rank {dims.Count}, more than the limit of {limits.MaxRank}");
        var shape = new int[dims.Count];
        var dimParams = new string?[dims.Count];
        long maxDim = Math.Min(limits.MaxDimension, int.MaxValue);
        for (int i = 0; i < dims.Count; i++)
        {
            var dim = dims[i];
            switch (dim.ValueCase)
            {
                case TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue:
                    long d = dim.DimValue;
                    if (d < 0) throw ctx.Fail($"{label} has negative dimension {d} at axis {i}");
                    if (d > maxDim) throw ctx.Fail($"{label} has dimension {d} at axis {i}, more than the limit of {maxDim}");
                    shape[i] = (int)d;
                    break;
                case TensorShapeProto.Types.Dimension.ValueOneofCase.DimParam:
                    shape[i] = -1;
                    dimParams[i] = dim.DimParam;
                    break;
                default:
                    shape[i] = -1;
                    dimParams[i] = "";
                    break;
            }
        }
        return new ValueInfo(vi.Name, type, shape, dimParams);
    }

    private static void ReadNodes(GraphProto g, ModelGraph graph, ModelLoadContext ctx)
    {
        if (g.Node.Count > ctx.Limits.MaxNodes)
            throw ctx.Fail($"graph has {g.Node.Count} nodes, more than the limit of {ctx.Limits.MaxNodes}");
        for (int index = 0; index < g.Node.Count; index++)
        {
            var np = g.Node[index];
            var opType = np.OpType;
            var name = np.Name.Length > 0 ? np.Name : $"{opType}_{index}";
            if (opType.Length == 0)
                throw ctx.Fail($"node {index} has no op type", np.Name.Length > 0 ? np.Name : $"#{index}", "?");
            var domain = NormalizeDomain(np.Domain);
            if (!graph.Opsets.ContainsKey(domain))
                throw ctx.Fail($"node uses domain '{domain}', which the model does not import in opset_import", name, opType);

            var node = new Node
            {
                Name = name,
                OpType = opType,
                Domain = domain,
                Inputs = [.. np.Input],
                Outputs = [.. np.Output],
            };
            foreach (var ap in np.Attribute)
            {
                if (ap.Name.Length == 0)
                    throw ctx.Fail("node has an attribute without a name", name, opType);
                if (node.Attributes.ContainsKey(ap.Name))
                    throw ctx.Fail($"attribute '{ap.Name}' is given twice", name, opType);
                node.Attributes[ap.Name] = ReadAttribute(ap, name, opType, ctx);
            }
            graph.Nodes.Add(node);
        }
    }

    private static NodeAttribute ReadAttribute(AttributeProto ap, string nodeName, string opType, ModelLoadContext ctx)
    {
        if (ap.RefAttrName.Length > 0)
            throw ctx.Fail($"attribute '{ap.Name}' refers to function attribute '{ap.RefAttrName}' (ONNX functions are not supported)", nodeName, opType);
        var kind = ap.Type switch
        {
            AttributeProto.Types.AttributeType.Float => AttributeKind.Float,
            AttributeProto.Types.AttributeType.Int => AttributeKind.Int,
            AttributeProto.Types.AttributeType.String => AttributeKind.String,
            AttributeProto.Types.AttributeType.Tensor => AttributeKind.Tensor,
            AttributeProto.Types.AttributeType.Floats => AttributeKind.Floats,
            AttributeProto.Types.AttributeType.Ints => AttributeKind.Ints,
            AttributeProto.Types.AttributeType.Strings => AttributeKind.Strings,
            AttributeProto.Types.AttributeType.Undefined => InferKind(ap),
            _ => AttributeKind.Other,
        };
        return kind switch
        {
            AttributeKind.Float => new NodeAttribute { Name = ap.Name, Kind = kind, Float = ap.F },
            AttributeKind.Int => new NodeAttribute { Name = ap.Name, Kind = kind, Int = ap.I },
            AttributeKind.String => new NodeAttribute { Name = ap.Name, Kind = kind, String = DecodeUtf8(ap.S, ap.Name, nodeName, opType, ctx) },
            AttributeKind.Floats => new NodeAttribute { Name = ap.Name, Kind = kind, Floats = [.. ap.Floats] },
            AttributeKind.Ints => new NodeAttribute { Name = ap.Name, Kind = kind, Ints = [.. ap.Ints] },
            AttributeKind.Strings => new NodeAttribute
            {
                Name = ap.Name, Kind = kind,
                Strings = ap.Strings.Select(s => DecodeUtf8(s, ap.Name, nodeName, opType, ctx)).ToArray(),
            },
            AttributeKind.Tensor => new NodeAttribute
            {
                Name = ap.Name, Kind = kind,
                Tensor = ap.T == null
                    ? throw ctx.Fail($"tensor attribute '{ap.Name}' has no tensor", nodeName, opType)
                    : TensorProtoDecoder.Decode(ap.T, $"tensor attribute '{ap.Name}'", ctx, nodeName, opType),
            },
            _ => new NodeAttribute { Name = ap.Name, Kind = AttributeKind.Other },
        };
    }

    /// <summary>
    /// Very old exporters leave <c>type</c> unset; the kind then follows from which value field is filled.
    /// A lone zero scalar is ambiguous between f and i and stays <see cref="AttributeKind.Other"/>.
    /// </summary>
    private static AttributeKind InferKind(AttributeProto ap)
    {
        if (ap.T != null) return AttributeKind.Tensor;
        if (ap.Floats.Count > 0) return AttributeKind.Floats;
        if (ap.Ints.Count > 0) return AttributeKind.Ints;
        if (ap.Strings.Count > 0) return AttributeKind.Strings;
        if (!ap.S.IsEmpty) return AttributeKind.String;
        if (ap.F != 0) return AttributeKind.Float;
        if (ap.I != 0) return AttributeKind.Int;
        return AttributeKind.Other;
    }

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static string DecodeUtf8(ByteString bytes, string attributeName, string nodeName, string opType, ModelLoadContext ctx)
    {
        try
        {
            return StrictUtf8.GetString(bytes.Span);
        }
        catch (DecoderFallbackException e)
        {
            throw ctx.Fail($"string attribute '{attributeName}' is not valid UTF-8", nodeName, opType, e);
        }
    }
}
