using EdgeRuntime.Execution.Ops;
using EdgeRuntime.Graph;
using EdgeRuntime.Kernels.Common;
using EdgeRuntime.Onnx;
using EdgeRuntime.Tensors;

namespace EdgeRuntime.Execution;

/// <summary>
/// Turns a validated <see cref="ModelGraph"/> into an <see cref="ExecutionPlan"/>: binds every node to a
/// native kernel in topological order (which is also static shape inference), evaluates nodes whose
/// inputs are all constant at load (constant folding), and assigns intermediate tensors to reusable
/// arena buffers by liveness.
/// </summary>
internal static class GraphPlanner
{
    /// <summary>Arena buffers are rounded up to this many bytes (cache-line multiple, room for SIMD tails).</summary>
    private const int BufferAlignment = 64;

    /// <summary>Nodes EdgeRuntime has no native kernel for, as "name (domain:op)" strings; empty when all are supported.</summary>
    public static List<Node> FindUnsupported(ModelGraph graph)
    {
        var missing = new List<Node>();
        foreach (var node in graph.Nodes)
            if (OpRegistry.Instance.Find(node.Domain, node.OpType) == null)
                missing.Add(node);
        return missing;
    }

    /// <summary>Describes unsupported nodes grouped by op, e.g. <c>NonMaxSuppression (2 nodes: a, b)</c>.</summary>
    public static string DescribeUnsupported(IEnumerable<Node> nodes) =>
        string.Join("; ", nodes.GroupBy(n => (n.Domain.Length > 0 ? n.Domain + "." : "") + n.OpType)
            .Select(g => $"{g.Key} ({g.Count()} node{(g.Count() == 1 ? "" : "s")}: {string.Join(", ", g.Take(5).Select(n => n.Name))}{(g.Count() > 5 ? ", ..." : "")})"));

    /// <summary>Builds the plan. Throws <see cref="ModelFormatException"/> for anything the model gets wrong.</summary>
    public static ExecutionPlan Build(ModelGraph graph, IReadOnlyList<Node> order, WorkerPool? workers = null, IsaPath? isa = null, bool adaptiveThreads = true)
    {
        var file = graph.SourcePath;
        var unsupported = FindUnsupported(graph);
        if (unsupported.Count > 0)
            throw new ModelFormatException(file, "no native kernel for: " + DescribeUnsupported(unsupported));

        var infos = new Dictionary<string, TensorInfo>();
        var constants = new Dictionary<string, Tensor>(graph.Initializers);
        foreach (var (name, t) in graph.Initializers)
            infos[name] = new TensorInfo(t.ElementType, t.Shape);

        var inputTensors = new Tensor[graph.Inputs.Count];
        for (int i = 0; i < graph.Inputs.Count; i++)
        {
            var input = graph.Inputs[i];
            var shape = StaticInputShape(input, file);
            infos[input.Name] = new TensorInfo(input.ComputeType, shape);
            inputTensors[i] = new Tensor(input.ComputeType, shape);
        }

        // A constant is released as soon as every node reading it is bound and none reads it at run time (its kernels
        // packed it, IPacksConstantInputs), so the model's raw weights can be collected while later layers are packed
        // instead of being held beside every packed copy until the end of the load.
        var uses = new Dictionary<string, int>();
        foreach (var node in order)
            foreach (var name in node.Inputs)
                if (name.Length > 0) uses[name] = uses.GetValueOrDefault(name) + 1;
        var readAtRun = new HashSet<string>(graph.Outputs.Select(o => o.Name)); // graph outputs are always kept
        var released = new HashSet<string>();
        var collections = new LoadCollections();
        void Release(string name)
        {
            if (readAtRun.Contains(name) || !constants.Remove(name, out var tensor)) return;
            graph.Initializers.Remove(name);
            released.Add(name);
            collections.Released(tensor.ByteLength);
        }
        foreach (var name in constants.Keys.ToList())
            if (!uses.ContainsKey(name)) Release(name); // read by no node (an initializer a graph pass replaced, say)

        var bound = new List<(Node Node, IOpKernel Kernel, TensorInfo?[] InputInfos)>();
        int folded = 0;
        foreach (var node in order)
        {
            var def = OpRegistry.Instance.Find(node.Domain, node.OpType)!;
            var inInfos = new TensorInfo?[node.Inputs.Length];
            var inConsts = new Tensor?[node.Inputs.Length];
            bool allConstant = true;
            for (int i = 0; i < node.Inputs.Length; i++)
            {
                var name = node.Inputs[i];
                if (name.Length == 0) continue;
                if (!infos.TryGetValue(name, out var info))
                    throw new ModelFormatException(file, $"input '{name}' is not produced by any earlier node, initializer or graph input", node.Name, node.OpType);
                inInfos[i] = info;
                if (constants.TryGetValue(name, out var c)) inConsts[i] = c;
                else allConstant = false;
            }

            var ctx = new OpContext(node, graph.OpsetFor(node.Domain), file, inInfos, inConsts, workers, isa);
            IOpKernel kernel;
            try
            {
                kernel = def.Bind(ctx);
            }
            catch (ModelFormatException) { throw; }
            catch (Exception ex) when (ex is ArgumentException or IndexOutOfRangeException or OverflowException or InvalidOperationException or NotSupportedException or OutOfMemoryException)
            {
                // A kernel's own validation missed this case; report it as a model problem rather than crash.
                throw new ModelFormatException(file, $"invalid node: {ex.Message}", node.Name, node.OpType, ex);
            }

            for (int o = 0; o < node.Outputs.Length; o++)
            {
                var name = node.Outputs[o];
                if (name.Length == 0) continue;
                var info = ctx.Outputs[o] ?? throw new ModelFormatException(file, $"output {o} ('{name}') is not supported by EdgeRuntime's {node.OpType}", node.Name, node.OpType);
                CheckDeclared(graph, name, info, node, file);
                infos[name] = info;
            }

            if (allConstant || kernel is Ops.Float.ConstantKernel)
            {
                // Every input is known at load (or, like Shape of a static shape, the output does not depend on
                // input data): evaluate now and keep the results as constants.
                var outs = new Tensor?[node.Outputs.Length];
                for (int o = 0; o < outs.Length; o++)
                    if (node.Outputs[o].Length > 0) outs[o] = new Tensor(infos[node.Outputs[o]].Type, infos[node.Outputs[o]].Shape);
                try
                {
                    kernel.Run(inConsts, outs);
                }
                catch (Exception ex) when (ex is ArgumentException or IndexOutOfRangeException or OverflowException or InvalidOperationException)
                {
                    throw new ModelFormatException(file, $"constant folding failed: {ex.Message}", node.Name, node.OpType, ex);
                }
                for (int o = 0; o < outs.Length; o++)
                    if (outs[o] != null) constants[node.Outputs[o]] = outs[o]!;
                folded++;
            }
            else
            {
                bound.Add((node, kernel, inInfos));
                var packer = kernel as IPacksConstantInputs;
                for (int i = 0; i < node.Inputs.Length; i++)
                    if (node.Inputs[i].Length > 0 && (packer == null || packer.ReadsAtRun(i))) readAtRun.Add(node.Inputs[i]);
            }
            foreach (var name in node.Inputs)
                if (name.Length > 0 && --uses[name] == 0 && constants.ContainsKey(name)) Release(name);
        }

        foreach (var output in graph.Outputs)
            if (!infos.ContainsKey(output.Name))
                throw new ModelFormatException(file, $"graph output '{output.Name}' is not produced by any node");

        return Allocate(graph, bound, infos, constants, released, inputTensors, folded, workers,
            workers is { ThreadCount: > 1 } && adaptiveThreads ? new ThreadUseTuner() : null);
    }

    private static int[] StaticInputShape(ValueInfo input, string? file)
    {
        var shape = (int[])input.Shape.Clone();
        for (int d = 0; d < shape.Length; d++)
        {
            if (shape[d] >= 0) continue;
            if (d == 0) { shape[d] = 1; continue; } // symbolic batch: EdgeRuntime runs one image at a time
            throw new ModelFormatException(file, $"graph input '{input.Name}' has a symbolic dimension '{input.DimParams[d] ?? "?"}' at axis {d}; EdgeRuntime needs static shapes (only the batch axis may be symbolic)");
        }
        return shape;
    }

    private static void CheckDeclared(ModelGraph graph, string name, TensorInfo inferred, Node node, string? file)
    {
        ValueInfo? declared = graph.ValueInfos.GetValueOrDefault(name);
        foreach (var o in graph.Outputs) if (o.Name == name) declared = o;
        if (declared == null) return;
        if (declared.ComputeType != inferred.Type)
            throw new ModelFormatException(file, $"value '{name}' is declared {declared.ElementType.OnnxName()} but the node produces {inferred.Type.OnnxName()}", node.Name, node.OpType);
        if (!declared.HasShape) return;
        bool mismatch = declared.Shape.Length != inferred.Shape.Length;
        for (int d = 0; !mismatch && d < declared.Shape.Length; d++)
            mismatch = declared.Shape[d] >= 0 && declared.Shape[d] != inferred.Shape[d] && !(d == 0 && declared.Shape[d] == 1 && inferred.Shape[d] == 1);
        if (mismatch)
            throw new ModelFormatException(file, $"value '{name}' is declared with shape {TensorShape.Format(declared.Shape)} but the node produces {TensorShape.Format(inferred.Shape)}", node.Name, node.OpType);
    }

    private static ExecutionPlan Allocate(ModelGraph graph, List<(Node Node, IOpKernel Kernel, TensorInfo?[] InputInfos)> bound,
        Dictionary<string, TensorInfo> infos, Dictionary<string, Tensor> constants, HashSet<string> releasedConstants, Tensor[] inputTensors, int folded, WorkerPool? workers,
        ThreadUseTuner? threadUse)
    {
        var tensors = new Dictionary<string, Tensor>();
        for (int i = 0; i < graph.Inputs.Count; i++) tensors[graph.Inputs[i].Name] = inputTensors[i];
        foreach (var (name, t) in constants) tensors[name] = t;

        var graphOutputs = new HashSet<string>(graph.Outputs.Select(o => o.Name));

        // Liveness: the last step that reads each runtime value.
        var lastUse = new Dictionary<string, int>();
        for (int s = 0; s < bound.Count; s++)
            foreach (var name in bound[s].Node.Inputs)
                if (name.Length > 0) lastUse[name] = s;

        // Greedy best-fit assignment of intermediate values to arena buffers. At step s the outputs are placed
        // first and the buffers of values whose last reader is s are released afterwards, so an output never
        // shares memory with an input of the same node.
        var bufferSizes = new List<long>();
        var freeBuffers = new List<int>();
        var assignment = new Dictionary<string, int>();
        var releaseAt = new Dictionary<int, List<int>>();
        long unplanned = 0;
        for (int s = 0; s < bound.Count; s++)
        {
            foreach (var name in bound[s].Node.Outputs)
            {
                if (name.Length == 0 || graphOutputs.Contains(name)) continue;
                long size = AlignUp((long)infos[name].ElementCount * infos[name].Type.SizeInBytes());
                unplanned += size;
                int chosen = -1;
                foreach (var b in freeBuffers)
                    if (bufferSizes[b] >= size && (chosen < 0 || bufferSizes[b] < bufferSizes[chosen])) chosen = b;
                if (chosen < 0 && freeBuffers.Count > 0)
                {
                    chosen = freeBuffers.MaxBy(b => bufferSizes[b]);
                    bufferSizes[chosen] = size;
                }
                if (chosen < 0) { bufferSizes.Add(size); chosen = bufferSizes.Count - 1; }
                else freeBuffers.Remove(chosen);
                assignment[name] = chosen;
                int last = lastUse.TryGetValue(name, out var l) ? l : s;
                if (!releaseAt.TryGetValue(last, out var list)) releaseAt[last] = list = new List<int>();
                list.Add(chosen);
            }
            if (releaseAt.TryGetValue(s, out var released)) freeBuffers.AddRange(released);
        }

        var buffers = LineAlignedBuffers(bufferSizes);
        foreach (var (name, b) in assignment)
            tensors[name] = new Tensor(infos[name].Type, infos[name].Shape, buffers[b].Array, buffers[b].Offset);
        foreach (var name in graphOutputs)
            if (!tensors.ContainsKey(name)) tensors[name] = new Tensor(infos[name].Type, infos[name].Shape);

        var steps = new List<PlanStep>(bound.Count);
        foreach (var (node, kernel, inInfos) in bound)
        {
            steps.Add(new PlanStep
            {
                Node = node,
                Kernel = kernel,
                Inputs = node.Inputs.Select(n => n.Length == 0 || releasedConstants.Contains(n) ? null : tensors[n]).ToArray(),
                Outputs = node.Outputs.Select(n => n.Length == 0 ? null : tensors[n]).ToArray(),
                Macs = EstimateMacs(node, inInfos, infos),
            });
        }

        // Graph outputs that are constants or graph inputs are produced by a copy step.
        var outputTensors = new Tensor[graph.Outputs.Count];
        for (int i = 0; i < graph.Outputs.Count; i++)
        {
            var name = graph.Outputs[i].Name;
            bool producedByStep = bound.Any(b => Array.IndexOf(b.Node.Outputs, name) >= 0);
            if (producedByStep) { outputTensors[i] = tensors[name]; continue; }
            var source = tensors[name];
            var copy = new Tensor(source.ElementType, source.Shape);
            var copyNode = new Node { Name = "output_copy_" + name, OpType = "Identity", Inputs = [name], Outputs = [name] };
            steps.Add(new PlanStep { Node = copyNode, Kernel = new CopyKernel(), Inputs = [source], Outputs = [copy] });
            outputTensors[i] = copy;
        }

        // The weight bytes reported are what is held: the constants kept (read at run time) plus the kernels' packed forms.
        long constantBytes = 0;
        foreach (var (_, kernel, _) in bound)
            if (kernel is IPacksConstantInputs packer) constantBytes += packer.PackedBytes;
        foreach (var (_, t) in constants) constantBytes += t.ByteLength;

        return new ExecutionPlan
        {
            Graph = graph,
            Steps = steps,
            InputTensors = inputTensors,
            OutputTensors = outputTensors,
            ValueInfos = infos,
            Constants = constants,
            ReleasedConstants = releasedConstants,
            FoldedNodes = folded,
            ArenaBytes = bufferSizes.Sum(),
            ArenaBufferCount = bufferSizes.Count,
            UnplannedActivationBytes = unplanned,
            ConstantBytes = constantBytes,
            Workers = workers,
            ThreadUse = threadUse,
        };
    }

    /// <summary>
    /// The arena's buffers as regions of one pinned array (so they never move), each starting on a 64-byte line (the
    /// sizes are multiples of 64 already). Kernels that split a layer between threads put their boundaries on whole lines
    /// of each channel plane (pixel tiles of 64, ranges of 16 channels), which only keeps two threads off one line when
    /// the plane starts on one; a byte[] of its own starts 16 bytes into an 8-byte-aligned object (Transpose_0's output
    /// in MobileNetV2 started 24 bytes into a line). MobileNetV2 at 2 threads with the vCPUs apart, against the build
    /// before: medians 2.92–2.97 ms against 2.97–3.16, fastest runs 2.83–2.90 against 2.90–2.95 (three alternated
    /// pairs, `edgerun bench --backend native --threads 2 --fixed-threads --runs 300`, 2026-11-29 04:31–04:34 UTC); no
    /// difference with them close (1.91–1.97 ms either way, 04:20–04:23). One array rather than a pinned array per
    /// buffer: those raised the peak RSS of loading float ResNet18 by about 20 MB (this: 133 MB, as before).
    /// </summary>
    private static (byte[] Array, int Offset)[] LineAlignedBuffers(List<long> sizes)
    {
        var arena = GC.AllocateArray<byte>(checked((int)(sizes.Sum() + BufferAlignment)), pinned: true);
        int offset;
        unsafe { fixed (byte* start = arena) offset = (int)((BufferAlignment - (nint)start % BufferAlignment) % BufferAlignment); }
        var buffers = new (byte[] Array, int Offset)[sizes.Count];
        for (int b = 0; b < sizes.Count; b++)
        {
            buffers[b] = (arena, offset);
            offset += (int)sizes[b];
        }
        return buffers;
    }

    private static long AlignUp(long bytes) => (bytes + BufferAlignment - 1) / BufferAlignment * BufferAlignment;

    /// <summary>Multiply-accumulates of one run of a node, for convolution and matrix ops; 0 otherwise.</summary>
    private static long EstimateMacs(Node node, TensorInfo?[] inputs, Dictionary<string, TensorInfo> infos)
    {
        if (node.Outputs.Length == 0 || node.Outputs[0].Length == 0) return 0;
        var outCount = (long)infos[node.Outputs[0]].ElementCount;
        switch (node.OpType)
        {
            case "Conv" when inputs.Length > 1 && inputs[1] is { } w && w.Shape.Length >= 2:
                return outCount * w.Shape.Skip(1).Aggregate(1L, (a, d) => a * d);
            case "QLinearConv" when inputs.Length > 3 && inputs[3] is { } qw && qw.Shape.Length >= 2:
                return outCount * qw.Shape.Skip(1).Aggregate(1L, (a, d) => a * d);
            case "MatMul" or "Gemm" when inputs[0] is { } a && a.Shape.Length >= 1:
                return outCount * (node.OpType == "Gemm" && node.Attributes.TryGetValue("transA", out var ta) && ta.Int != 0 ? a.Shape[0] : a.Shape[^1]);
            case "QLinearMatMul" when inputs[0] is { } qa && qa.Shape.Length >= 1:
                return outCount * qa.Shape[^1];
            default:
                return 0;
        }
    }

    private sealed class CopyKernel : IOpKernel
    {
        public void Run(ReadOnlySpan<Tensor?> inputs, ReadOnlySpan<Tensor?> outputs) => inputs[0]!.Bytes.CopyTo(outputs[0]!.Bytes);
    }
}
