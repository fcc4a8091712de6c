using Google.Protobuf;
using EdgeRuntime.Tests.Infrastructure;
using Xunit;
using static EdgeRuntime.Tests.ModelConverter.QuantizeTestSupport;

namespace EdgeRuntime.Tests.ModelConverter;

/// <summary>The quantize command line: success writes the model; every failure exits like edgerun and leaves no file.</summary>
public sealed class QuantizeCliTests
{
    [Fact]
    public void Quantize_writes_the_model_and_errors_leave_no_file()
    {
        var dir = TempDir();
        try
        {
            var (model, images) = FloatModelAndPhotos(dir);
            var outPath = Path.Combine(dir, "int8.onnx");

            var ok = EdgerunProcess.RunTool("modelconv", "quantize", "--model", model, "--calibration", images, "--range", "0,1",
                "--method", "percentile", "--percentile", "99.9", "--format", "qoperator", "--keep-float", "conv4", "-o", outPath);
            Assert.True(ok.ExitCode == 0, ok.StdErr + ok.StdOut);
            Assert.True(File.Exists(outPath));
            Assert.Contains("kept float: conv4", ok.StdOut);
            File.Delete(outPath);

            void Fails(int code, string expected, params string[] args)
            {
                var r = EdgerunProcess.RunTool("modelconv", ["quantize", .. args, "-o", outPath]);
                Assert.True(r.ExitCode == code, $"{string.Join(' ', args)}: exit {r.ExitCode}, expected {code}: {r.StdErr}");
                Assert.Contains(expected, r.StdErr);
                Assert.False(File.Exists(outPath), "no output may remain after a failure");
                Assert.Empty(Directory.GetFiles(dir, "*.tmp"));
            }

            var empty = Path.Combine(dir, "empty");
            Directory.CreateDirectory(empty);
            Fails(4, "no images", "--model", model, "--calibration", empty);
            Fails(4, "not found", "--model", model, "--calibration", Path.Combine(dir, "missing"));
            var broken = Path.Combine(dir, "broken");
            Directory.CreateDirectory(broken);
            File.WriteAllText(Path.Combine(broken, "a.jpg"), "not an image");
            Fails(4, "a.jpg", "--model", model, "--calibration", broken);
            Fails(3, "already quantized", "--model", SharedData.Path("models/converted/mobilenet_v1_0.25_128_quant.onnx"), "--calibration", images);
            Fails(3, "not found", "--model", Path.Combine(dir, "nope.onnx"), "--calibration", images);
            var garbage = Path.Combine(dir, "garbage.onnx");
            File.WriteAllText(garbage, "garbage");
            Fails(3, "garbage.onnx", "--model", garbage, "--calibration", images);
            Fails(2, "--method", "--model", model, "--calibration", images, "--method", "magic");
            Fails(2, "no node named 'nope'", "--model", model, "--calibration", images, "--keep-float", "nope");
            Fails(2, "exclude", "--model", model, "--calibration", images, "--per-channel", "--per-tensor");
            Fails(2, "--width", "--model", model, "--calibration", images, "--width", "abc");
        }
        finally { Directory.Delete(dir, true); }
    }

    /// <summary>The all-patterns float model and a folder of three real photos, in <paramref name="dir"/>.</summary>
    private static (string Model, string Images) FloatModelAndPhotos(string dir)
    {
        var model = Save(dir, "float.onnx", AllPatternsModel(softmax: true));
        var images = Path.Combine(dir, "images");
        Directory.CreateDirectory(images);
        foreach (var p in SharedData.AllPhotos()[..3]) File.Copy(p, Path.Combine(images, Path.GetFileName(p)));
        return (model, images);
    }

    [Fact]
    public void No_bias_correction_changes_only_the_biases_and_is_deterministic()
    {
        var dir = TempDir();
        try
        {
            var (model, images) = FloatModelAndPhotos(dir);
            byte[] Quantize(string name, params string[] extra)
            {
                var path = Path.Combine(dir, name);
                var r = EdgerunProcess.RunTool("modelconv", ["quantize", "--model", model, "--calibration", images, "--range", "0,1", .. extra, "-o", path]);
                Assert.True(r.ExitCode == 0, r.StdErr + r.StdOut);
                return File.ReadAllBytes(path);
            }
            var corrected = EdgeRuntime.Onnx.Proto.ModelProto.Parser.ParseFrom(Quantize("on.onnx"));
            var plain = EdgeRuntime.Onnx.Proto.ModelProto.Parser.ParseFrom(Quantize("off.onnx", "--no-bias-correction"));
            Assert.Equal(plain.ToByteArray(), EdgeRuntime.Onnx.Proto.ModelProto.Parser.ParseFrom(Quantize("off2.onnx", "--no-bias-correction")).ToByteArray());

            // Same graph, same weights and activation ranges; only int32 bias initializers may differ, and some must.
            Assert.Equal(corrected.Graph.Node.Count, plain.Graph.Node.Count);
            var plainInits = plain.Graph.Initializer.ToDictionary(t => t.Name);
            int differingBiases = 0;
            foreach (var t in corrected.Graph.Initializer)
            {
                Assert.True(plainInits.TryGetValue(t.Name, out var other), $"initializer {t.Name} missing without bias correction");
                if (t.Equals(other)) continue;
                Assert.True(t.DataType == 6, $"{t.Name} (type {t.DataType}) differs, but only int32 biases may");
                differingBiases++;
            }
            Assert.True(differingBiases > 0, "bias correction changed no bias");
        }
        finally { Directory.Delete(dir, true); }
    }
}
