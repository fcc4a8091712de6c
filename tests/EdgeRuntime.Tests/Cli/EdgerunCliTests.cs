using System.Text.Json;
using EdgeRuntime.Tests.Infrastructure;
using Xunit;

namespace EdgeRuntime.Tests.Cli;

/// <summary>The edgerun executable end to end: output formats and the documented exit codes.</summary>
public sealed class EdgerunCliTests : IDisposable
{
    private readonly string _temp = Directory.CreateTempSubdirectory("edgerun-cli-").FullName;

    public void Dispose() => Directory.Delete(_temp, recursive: true);

    private static string MobileNet => SharedData.Path("models/converted/mobilenet_v1_0.25_128_quant.onnx");
    private static string Labels => SharedData.Path("models/coral/imagenet_labels.txt");

    [Fact]
    public void Classify_prints_top_labels_and_latency()
    {
        var r = EdgerunProcess.Run("classify", "--model", MobileNet, "--labels", Labels, "--top", "3", "--backend", "native",
            SharedData.Path("images/coral/grace_hopper.bmp"), SharedData.Path("images/coral/parrot.jpg"));
        Assert.True(r.ExitCode == 0, r.StdErr);
        Assert.Contains("grace_hopper.bmp", r.StdOut);
        Assert.Contains("ms, native)", r.StdOut);
        Assert.Contains("macaw", r.StdOut);
    }

    [Fact]
    public void Classify_json_has_the_documented_shape()
    {
        var r = EdgerunProcess.Run("classify", "--model", MobileNet, "--labels", Labels, "--top", "2", "--json", SharedData.Path("images/coral/parrot.jpg"));
        Assert.True(r.ExitCode == 0, r.StdErr);
        using var doc = JsonDocument.Parse(r.StdOut);
        var result = doc.RootElement.GetProperty("results")[0];
        Assert.EndsWith("parrot.jpg", result.GetProperty("image").GetString());
        Assert.True(result.GetProperty("latency_ms").GetDouble() > 0);
        var top = result.GetProperty("top");
        Assert.Equal(2, top.GetArrayLength());
        Assert.Equal("macaw", top[0].GetProperty("label").GetString());
        Assert.InRange(top[0].GetProperty("score").GetDouble(), 0.2, 1.0);
        Assert.True(top[0].GetProperty("score").GetDouble() >= top[1].GetProperty("score").GetDouble());
        Assert.Equal(89, top[0].GetProperty("index").GetInt32()); // "macaw" is index 89 of the 1001 Coral labels (background = 0)
    }

    [Fact]
    public void Inspect_reports_shapes_macs_backend_and_memory()
    {
        var r = EdgerunProcess.Run("inspect", MobileNet);
        Assert.True(r.ExitCode == 0, r.StdErr);
        Assert.Contains("uint8[1,128,128,3]", r.StdOut);
        Assert.Contains("Backend    native", r.StdOut);
        Assert.Contains("MACs per inference", r.StdOut);
        Assert.Contains("activation arena", r.StdOut);
    }

    [Fact]
    public void Inspect_suggest_sidecar_prints_json_defaults()
    {
        var r = EdgerunProcess.Run("inspect", "--suggest-sidecar", MobileNet);
        Assert.True(r.ExitCode == 0, r.StdErr);
        using var doc = JsonDocument.Parse(r.StdOut);
        Assert.Equal("NHWC", doc.RootElement.GetProperty("layout").GetString());
        Assert.Equal(128, doc.RootElement.GetProperty("width").GetInt32());
    }

    [Fact]
    public void Usage_errors_exit_2()
    {
        Assert.Equal(2, EdgerunProcess.Run().ExitCode);
        Assert.Equal(2, EdgerunProcess.Run("classify", "--no-such-flag", "x.jpg").ExitCode);
        var r = EdgerunProcess.Run("classify", "--model", MobileNet, "--top", "0", SharedData.Path("images/coral/parrot.jpg"));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--top", r.StdErr);
    }

    [Fact]
    public void Missing_or_malformed_model_exits_3_naming_the_file()
    {
        var missing = Path.Combine(_temp, "nope.onnx");
        var r = EdgerunProcess.Run("classify", "--model", missing, SharedData.Path("images/coral/parrot.jpg"));
        Assert.Equal(3, r.ExitCode);
        Assert.Contains("nope.onnx", r.StdErr);

        var garbage = Path.Combine(_temp, "garbage.onnx");
        File.WriteAllText(garbage, "this is not a model");
        r = EdgerunProcess.Run("inspect", garbage);
        Assert.Equal(3, r.ExitCode);
        Assert.Contains("garbage.onnx", r.StdErr);
    }

    [Fact]
    public void Bad_image_exits_4_naming_the_file()
    {
        var bad = Path.Combine(_temp, "broken.jpg");
        var bytes = File.ReadAllBytes(SharedData.Path("images/coral/parrot.jpg"));
        File.WriteAllBytes(bad, bytes[..200]);
        var r = EdgerunProcess.Run("classify", "--model", MobileNet, bad);
        Assert.Equal(4, r.ExitCode);
        Assert.Contains("broken.jpg", r.StdErr);
    }

    [Fact]
    public void Bad_sidecar_exits_2_naming_the_key()
    {
        var model = Path.Combine(_temp, "m.onnx");
        File.Copy(MobileNet, model);
        File.WriteAllText(Path.Combine(_temp, "m.edge.json"), """{ "layout": "NWHC" }""");
        var r = EdgerunProcess.Run("classify", "--model", model, SharedData.Path("images/coral/parrot.jpg"));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("m.edge.json", r.StdErr);
        Assert.Contains("layout", r.StdErr);
    }
}
