using System.Text.Json;
using EdgeRuntime.Tensors;
using EdgeRuntime.Tests.Infrastructure;
using Xunit;

namespace EdgeRuntime.Tests.ModelConverter;

/// <summary>The <c>modelconv compare</c> executable: report JSON, chart PNG, and errors with edgerun's exit codes.</summary>
[Collection(CompareCollection.Name)]
public sealed class CompareCliTests(CompareModelsFixture fixture)
{
    private CompareTestModels M => fixture.Models;

    [Fact]
    public void Writes_json_report_and_png_chart()
    {
        var dir = Directory.CreateTempSubdirectory("modelconv-compare-cli-").FullName;
        try
        {
            var json = Path.Combine(dir, "report.json");
            var png = Path.Combine(dir, "sqnr.png");
            var r = EdgerunProcess.RunTool("modelconv", "compare", "--float", M.FloatModel, "--quant", M.QdqModel,
                "--images", SharedData.Path("images"), "--count", "6", "--report", json, "--chart", png, "--quiet");
            Assert.True(r.ExitCode == 0, r.StdErr);
            Assert.Contains("Top-1 agreement", r.StdOut);
            Assert.Contains("Worst layers:", r.StdOut);

            using var doc = JsonDocument.Parse(File.ReadAllText(json));
            var root = doc.RootElement;
            foreach (var key in new[] { "top1_agreement", "top5_agreement", "accuracy_float", "accuracy_int8", "images", "layers", "worst_layers" })
                Assert.True(root.TryGetProperty(key, out _), $"missing key {key}");
            Assert.Equal(6, root.GetProperty("images").GetInt32());
            Assert.InRange(root.GetProperty("top1_agreement").GetDouble(), 0, 1);
            Assert.Equal(JsonValueKind.Null, root.GetProperty("accuracy_float").ValueKind);
            var layers = root.GetProperty("layers").EnumerateArray().ToArray();
            Assert.Equal(5, layers.Length);
            foreach (var layer in layers)
            {
                Assert.False(string.IsNullOrEmpty(layer.GetProperty("name").GetString()));
                Assert.False(string.IsNullOrEmpty(layer.GetProperty("op").GetString()));
                Assert.Equal(JsonValueKind.Number, layer.GetProperty("sqnr_db").ValueKind);
            }

            var bytes = File.ReadAllBytes(png);
            Assert.True(bytes.Length > 1000, $"PNG of {bytes.Length} bytes");
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, bytes[..8]);
            Assert.Equal("IHDR", System.Text.Encoding.ASCII.GetString(bytes, 12, 4));
            int width = (bytes[16] << 24) | (bytes[17] << 16) | (bytes[18] << 8) | bytes[19];
            Assert.True(width >= 640, $"width {width}");
            Assert.Empty(Directory.GetFiles(dir, "*.tmp"));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void Models_with_different_inputs_exit_3_naming_both_inputs()
    {
        var dir = Directory.CreateTempSubdirectory("modelconv-compare-cli-").FullName;
        try
        {
            var other = new OnnxModelBuilder(13).Input("input", TensorElementType.Float32, 1, 3, 16, 16)
                .Node("GlobalAveragePool", ["input"], ["gap"]).Node("Flatten", ["gap"], ["logits"])
                .Output("logits", TensorElementType.Float32, [1, 3]).Save(Path.Combine(dir, "other.onnx"));
            var report = Path.Combine(dir, "report.json");
            var r = EdgerunProcess.RunTool("modelconv", "compare", "--float", M.FloatModel, "--quant", other, "--images", SharedData.Path("images"), "--report", report);
            Assert.Equal(3, r.ExitCode);
            Assert.Contains("different inputs", r.StdErr);
            Assert.Contains("[1,3,16,16]", r.StdErr.Replace(" ", ""));
            Assert.False(File.Exists(report));
            Assert.Empty(Directory.GetFiles(dir, "*.tmp"));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void Empty_or_missing_folder_and_unreadable_image_exit_4()
    {
        var dir = Directory.CreateTempSubdirectory("modelconv-compare-cli-").FullName;
        try
        {
            var empty = Directory.CreateDirectory(Path.Combine(dir, "empty")).FullName;
            File.WriteAllText(Path.Combine(empty, "notes.txt"), "no images here");
            var r = EdgerunProcess.RunTool("modelconv", "compare", "--float", M.FloatModel, "--quant", M.QdqModel, "--images", empty);
            Assert.Equal(4, r.ExitCode);
            Assert.Contains("no images", r.StdErr);

            r = EdgerunProcess.RunTool("modelconv", "compare", "--float", M.FloatModel, "--quant", M.QdqModel, "--images", Path.Combine(dir, "missing"));
            Assert.Equal(4, r.ExitCode);
            Assert.Contains("not found", r.StdErr);

            var broken = Directory.CreateDirectory(Path.Combine(dir, "broken")).FullName;
            File.Copy(M.Photos[0], Path.Combine(broken, "a" + Path.GetExtension(M.Photos[0])));
            File.WriteAllText(Path.Combine(broken, "b.jpg"), "this is not a JPEG");
            r = EdgerunProcess.RunTool("modelconv", "compare", "--float", M.FloatModel, "--quant", M.QdqModel, "--images", broken, "--quiet");
            Assert.Equal(4, r.ExitCode);
            Assert.Contains("b.jpg", r.StdErr);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void Bad_model_exits_3_and_bad_usage_2()
    {
        var dir = Directory.CreateTempSubdirectory("modelconv-compare-cli-").FullName;
        try
        {
            var junk = Path.Combine(dir, "junk.onnx");
            File.WriteAllText(junk, "not a model");
            var r = EdgerunProcess.RunTool("modelconv", "compare", "--float", M.FloatModel, "--quant", junk, "--images", SharedData.Path("images"));
            Assert.Equal(3, r.ExitCode);
            Assert.Contains("junk.onnx", r.StdErr);

            Assert.Equal(2, EdgerunProcess.RunTool("modelconv", "compare", "--quant", M.QdqModel, "--images", SharedData.Path("images")).ExitCode);
            Assert.Equal(2, EdgerunProcess.RunTool("modelconv", "compare", "--float", M.FloatModel, "--quant", M.QdqModel, "--images", SharedData.Path("images"), "--count", "0").ExitCode);
            Assert.Equal(2, EdgerunProcess.RunTool("modelconv", "compare", "--float", M.FloatModel, "--quant", M.QdqModel, "--images", SharedData.Path("images"), "--backend", "gpu").ExitCode);
            var labels = EdgerunProcess.RunTool("modelconv", "compare", "--float", M.FloatModel, "--quant", M.QdqModel, "--images", SharedData.Path("images"), "--labels", Path.Combine(dir, "nope"));
            Assert.Equal(2, labels.ExitCode);
            Assert.Contains("--labels", labels.StdErr);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
