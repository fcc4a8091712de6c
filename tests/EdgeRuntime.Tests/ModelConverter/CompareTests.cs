using EdgeRuntime.Execution;
using EdgeRuntime.Onnx.Proto;
using EdgeRuntime.Tensors;
using EdgeRuntime.Tests.Infrastructure;
using Google.Protobuf;
using ModelConverter.Comparison;
using Xunit;

namespace EdgeRuntime.Tests.ModelConverter;

/// <summary>Shares one set of hand-built float/QDQ/QOperator models (calibrated on the real photos) among the tests.</summary>
public sealed class CompareModelsFixture : IDisposable
{
    private readonly Lazy<CompareTestModels> _models = new(() => new CompareTestModels());
    internal CompareTestModels Models => _models.Value;
    public void Dispose() { if (_models.IsValueCreated) _models.Value.Dispose(); }
}

/// <summary>The compare test classes share one <see cref="CompareModelsFixture"/>.</summary>
[CollectionDefinition(Name)]
public sealed class CompareCollection : ICollectionFixture<CompareModelsFixture>
{
    public const string Name = "modelconv compare models";
}

/// <summary>
/// <c>modelconv compare</c>'s numbers on real photos against an independent computation: agreement from the models'
/// own predictions, SQNR from ONNX Runtime runs of the models with their tensors as declared outputs.
/// </summary>
[Collection(CompareCollection.Name)]
public sealed class CompareTests(CompareModelsFixture fixture, Xunit.Abstractions.ITestOutputHelper output)
{
    private CompareTestModels M => fixture.Models;

    private ComparisonReport Compare(string quant, BackendKind backend = BackendKind.Auto) => ModelComparison.Run(new ComparisonRequest
    {
        FloatModel = M.FloatModel,
        QuantModel = quant,
        Images = SharedData.Path("images"),
        Backend = backend,
        Threads = 1,
    });

    [Fact]
    public void Qdq_twin_agreement_matches_the_models_own_predictions()
    {
        var report = Compare(M.QdqModel);
        Assert.Equal(M.Photos.Length, report.Images);
        var (top1, top5) = Agreement(M.QdqModel);
        Assert.Equal(top1, report.Top1Agreement, 9);
        Assert.Equal(top5, report.Top5Agreement, 9);
        Assert.True(report.Top1Agreement >= 0.6, $"top-1 agreement {report.Top1Agreement} is implausibly low for an 8-bit twin");
        Assert.Null(report.AccuracyFloat);
        Assert.Null(report.AccuracyInt8);
    }

    [Fact]
    public void Qdq_twin_sqnr_matches_an_independent_computation()
    {
        var report = Compare(M.QdqModel, BackendKind.Ort);
        var native = Compare(M.QdqModel);
        Assert.Equal(BackendKind.Native, native.QuantBackend);
        var expected = IndependentSqnr(M.QdqModel, new()
        {
            ["input"] = ("input_DequantizeLinear_Output", 1, 0),
            ["conv_out"] = ("conv_out_DequantizeLinear_Output", 1, 0),
            ["relu_out"] = ("relu_out_DequantizeLinear_Output", 1, 0),
            ["gap_out"] = ("gap_out_DequantizeLinear_Output", 1, 0),
            ["logits"] = ("logits", 1, 0),
        });
        Assert.Equal(["input", "conv_out", "relu_out", "gap_out", "logits"], report.Layers.Select(l => l.Pair.Name));
        Assert.Equal(["input", "Conv", "Relu", "GlobalAveragePool", "Flatten"], report.Layers.Select(l => l.Pair.Op));
        Assert.Equal([CounterpartForm.Qdq, CounterpartForm.Qdq, CounterpartForm.Qdq, CounterpartForm.Qdq, CounterpartForm.Float], report.Layers.Select(l => l.Pair.Form));
        foreach (var layer in report.Layers)
        {
            Assert.True(Math.Abs(expected[layer.Pair.Name] - layer.SqnrDb) < 1e-3, $"{layer.Pair.Name}: {layer.SqnrDb} dB, independently {expected[layer.Pair.Name]} dB");
            Assert.InRange(layer.SqnrDb, 5, 80); // 8-bit quantization of calibrated ranges: tens of dB
        }
        // The native engine computes the int8 path itself (fused QLinearConv, within 1 LSB of ONNX Runtime).
        foreach (var (o, n) in report.Layers.Zip(native.Layers))
            Assert.True(Math.Abs(o.SqnrDb - n.SqnrDb) < 1.0, $"{o.Pair.Name}: ONNX Runtime {o.SqnrDb} dB, native {n.SqnrDb} dB");
        output.WriteLine(report.ToText());
        var worst = report.Worst(1).Single();
        Assert.Equal(report.Layers.Min(l => l.SqnrDb), worst.SqnrDb);
    }

    [Fact]
    public void QOperator_twin_dequantizes_quantized_tensors_and_compares_float_ones()
    {
        var report = Compare(M.QOperatorModel, BackendKind.Ort);
        var (inScale, inZp) = M.Params("input", unsigned: true);
        var (convScale, convZp) = M.Params("conv_out", unsigned: true);
        var expected = IndependentSqnr(M.QOperatorModel, new()
        {
            ["input"] = ("input_quantized", inScale, inZp),
            ["conv_out"] = ("conv_out_quantized", convScale, convZp),
            ["relu_out"] = ("relu_out", 1, 0),
            ["gap_out"] = ("gap_out", 1, 0),
            ["logits"] = ("logits", 1, 0),
        });
        Assert.Equal([CounterpartForm.QOperator, CounterpartForm.QOperator, CounterpartForm.Float, CounterpartForm.Float, CounterpartForm.Float], report.Layers.Select(l => l.Pair.Form));
        Assert.Equal(["input_quantized", "conv_out_quantized", "relu_out", "gap_out", "logits"], report.Layers.Select(l => l.Pair.Counterpart));
        foreach (var layer in report.Layers)
            Assert.True(Math.Abs(expected[layer.Pair.Name] - layer.SqnrDb) < 1e-3, $"{layer.Pair.Name}: {layer.SqnrDb} dB, independently {expected[layer.Pair.Name]} dB");
        output.WriteLine(report.ToText());

        // Natively the same model is at least as close: ONNX Runtime's x86 u8s8 QLinearConv can saturate 16-bit
        // intermediate sums (no VNNI), which EdgeRuntime's kernels do not.
        var native = Compare(M.QOperatorModel);
        output.WriteLine(native.ToText());
        Assert.Equal(BackendKind.Native, native.QuantBackend);
        Assert.True(native.Layers[1].SqnrDb >= report.Layers[1].SqnrDb - 0.5, $"conv_out native {native.Layers[1].SqnrDb} dB, ONNX Runtime {report.Layers[1].SqnrDb} dB");
        Assert.InRange(native.Layers[1].SqnrDb, 30, 80);
        report = native;
        var (top1, top5) = Agreement(M.QOperatorModel);
        Assert.Equal(top1, report.Top1Agreement, 9);
        Assert.Equal(top5, report.Top5Agreement, 9);
    }

    [Fact]
    public void Identical_models_agree_fully_and_every_layer_is_exact()
    {
        var report = Compare(M.FloatModel);
        Assert.Equal(1.0, report.Top1Agreement);
        Assert.Equal(1.0, report.Top5Agreement);
        Assert.Equal(["conv_out", "relu_out", "gap_out", "logits"], report.Layers.Select(l => l.Pair.Name));
        Assert.All(report.Layers, l => Assert.True(double.IsPositiveInfinity(l.SqnrDb) && l.Noise == 0 && l.Signal > 0, l.Pair.Name));
        Assert.Empty(report.Worst());
        using var json = new MemoryStream();
        report.WriteJson(json);
        using var doc = System.Text.Json.JsonDocument.Parse(json.ToArray());
        foreach (var layer in doc.RootElement.GetProperty("layers").EnumerateArray())
        {
            Assert.Equal(System.Text.Json.JsonValueKind.Null, layer.GetProperty("sqnr_db").ValueKind);
            Assert.True(layer.GetProperty("exact").GetBoolean());
        }
    }

    [Fact]
    public void Top_k_ranks_by_value_and_keeps_lower_indices_first_on_ties()
    {
        var t = Tensor.FromFloats([1, 7], [0.1f, 0.5f, 0.5f, -1f, 0.9f, 0.2f, 0.5f]);
        Assert.Equal([4, 1, 2, 6, 5], ModelComparison.TopK(t, 5));
        Assert.Equal([0, 1], ModelComparison.TopK(Tensor.FromFloats([2], [3f, 1f]), 5));
    }

    [Fact]
    public void Folder_per_class_labels_give_accuracy_of_each_model()
    {
        var root = Directory.CreateTempSubdirectory("modelconv-classes-").FullName;
        try
        {
            // Model labels: "class0, zero" ... with synonyms; the sidecar points at them.
            var labels = Enumerable.Range(0, CompareTestModels.Classes).Select(i => $"class{i}, number {i}").ToArray();
            var models = Path.Combine(root, "models");
            Directory.CreateDirectory(models);
            File.WriteAllLines(Path.Combine(models, "labels.txt"), labels);
            var floatModel = Path.Combine(models, "float.onnx");
            var quantModel = Path.Combine(models, "qdq.onnx");
            File.Copy(M.FloatModel, floatModel);
            File.Copy(M.QdqModel, quantModel);
            File.WriteAllText(Path.Combine(models, "float.edge.json"), "{ \"labels\": \"labels.txt\" }");

            // Put each photo in the folder of the float model's prediction for even photos, of another class for odd ones;
            // folder names use both the whole label and a synonym, with '_' for spaces.
            var floatPred = Predictions(M.FloatModel);
            var quantPred = Predictions(M.QdqModel);
            var images = Path.Combine(root, "images");
            var truth = new int[M.Photos.Length];
            for (int i = 0; i < M.Photos.Length; i++)
            {
                truth[i] = i % 2 == 0 ? floatPred[i] : (floatPred[i] + 1) % CompareTestModels.Classes;
                var folder = Path.Combine(images, truth[i] % 3 == 0 ? $"number_{truth[i]}" : $"CLASS{truth[i]}, number {truth[i]}");
                Directory.CreateDirectory(folder);
                File.Copy(M.Photos[i], Path.Combine(folder, $"{i:D2}_{Path.GetFileName(M.Photos[i])}"));
            }
            File.Copy(M.Photos[0], Path.Combine(images, "unlabelled.jpg".Replace(".jpg", Path.GetExtension(M.Photos[0]))));

            var report = ModelComparison.Run(new ComparisonRequest { FloatModel = floatModel, QuantModel = quantModel, Images = images, Labels = images, Threads = 1 });
            int n = M.Photos.Length;
            Assert.Equal(n + 1, report.Images);
            Assert.Equal(n, report.LabelledImages);
            Assert.Equal(Enumerable.Range(0, n).Count(i => floatPred[i] == truth[i]) / (double)n, report.AccuracyFloat!.Value, 9);
            Assert.Equal(Enumerable.Range(0, n).Count(i => quantPred[i] == truth[i]) / (double)n, report.AccuracyInt8!.Value, 9);
            Assert.Equal((n + 1) / 2 / (double)n, report.AccuracyFloat!.Value, 9);

            // The same ground truth as an IMAGE<TAB>CLASS file with class indices.
            var list = Path.Combine(root, "truth.tsv");
            File.WriteAllLines(list, Directory.GetFiles(images, "*", SearchOption.AllDirectories)
                .Where(f => Path.GetFileName(f).Length > 3 && char.IsDigit(Path.GetFileName(f)[0]))
                .Select(f => $"{Path.GetRelativePath(images, f)}\t{truth[int.Parse(Path.GetFileName(f)[..2], System.Globalization.CultureInfo.InvariantCulture)]}"));
            var fromFile = ModelComparison.Run(new ComparisonRequest { FloatModel = floatModel, QuantModel = quantModel, Images = images, Labels = list, Threads = 1 });
            Assert.Equal(report.AccuracyFloat, fromFile.AccuracyFloat);
            Assert.Equal(report.AccuracyInt8, fromFile.AccuracyInt8);

            // A class folder that names no label is a configuration error naming it.
            Directory.CreateDirectory(Path.Combine(images, "giraffe"));
            File.Copy(M.Photos[0], Path.Combine(images, "giraffe", "x" + Path.GetExtension(M.Photos[0])));
            var ex = Assert.Throws<ConfigurationException>(() => ModelComparison.Run(new ComparisonRequest { FloatModel = floatModel, QuantModel = quantModel, Images = images, Labels = images, Threads = 1 }));
            Assert.Contains("giraffe", ex.Message);
        }
        finally { Directory.Delete(root, recursive: true); }
    }

    private int[] Predictions(string model)
    {
        using var m = EdgeModel.Load(model);
        return M.Inputs().Select(input => ArgSort(m.Run(input)[0].ToFloatArray())[0]).ToArray();
    }

    /// <summary>Top-1 and top-5 agreement computed here: a stable descending sort of each model's output.</summary>
    private (double Top1, double Top5) Agreement(string quant)
    {
        using var f = EdgeModel.Load(M.FloatModel);
        using var q = EdgeModel.Load(quant);
        int top1 = 0, top5 = 0, n = 0;
        foreach (var input in M.Inputs())
        {
            var fs = ArgSort(f.Run(input)[0].ToFloatArray());
            var qs = ArgSort(q.Run(input)[0].ToFloatArray());
            if (fs[0] == qs[0]) top1++;
            if (qs.Take(5).Contains(fs[0])) top5++;
            n++;
        }
        return (top1 / (double)n, top5 / (double)n);
    }

    private static int[] ArgSort(float[] v) => Enumerable.Range(0, v.Length).OrderByDescending(i => v[i]).ThenBy(i => i).ToArray();

    /// <summary>SQNR per float tensor from ONNX Runtime runs of both models with the tensors declared as outputs.</summary>
    private Dictionary<string, double> IndependentSqnr(string quant, Dictionary<string, (string Counterpart, float Scale, int ZeroPoint)> pairs)
    {
        var floatTapped = WithOutputs(M.FloatModel, pairs.Keys.Where(k => k != "input"));
        var quantTapped = WithOutputs(quant, pairs.Values.Select(p => p.Counterpart));
        var signal = pairs.Keys.ToDictionary(k => k, _ => 0.0);
        var noise = pairs.Keys.ToDictionary(k => k, _ => 0.0);
        try
        {
            foreach (var input in M.Inputs())
            {
                var fo = OrtRunner.Run(floatTapped, new Dictionary<string, Tensor> { ["input"] = input }, optimize: true);
                fo["input"] = input;
                var qo = OrtRunner.Run(quantTapped, new Dictionary<string, Tensor> { ["input"] = input }, optimize: true);
                foreach (var (name, (counterpart, scale, zp)) in pairs)
                {
                    var s = fo[name].ToFloatArray();
                    var q = qo[counterpart].ToFloatArray(); // raw integer values for quantized tensors
                    Assert.Equal(s.Length, q.Length);
                    for (int i = 0; i < s.Length; i++)
                    {
                        double deq = qo[counterpart].ElementType == TensorElementType.Float32 ? q[i] : (q[i] - zp) * (double)scale;
                        signal[name] += (double)s[i] * s[i];
                        noise[name] += (s[i] - deq) * (s[i] - deq);
                    }
                }
            }
        }
        finally
        {
            File.Delete(floatTapped);
            File.Delete(quantTapped);
        }
        return pairs.Keys.ToDictionary(k => k, k => 10 * Math.Log10(signal[k] / noise[k]));
    }

    private static string WithOutputs(string model, IEnumerable<string> names)
    {
        var proto = ModelProto.Parser.ParseFrom(File.ReadAllBytes(model));
        foreach (var name in names)
            if (proto.Graph.Output.All(o => o.Name != name)) proto.Graph.Output.Add(new ValueInfoProto { Name = name });
        var path = Path.Combine(Path.GetTempPath(), $"compare-tapped-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(path, proto.ToByteArray());
        return path;
    }
}
