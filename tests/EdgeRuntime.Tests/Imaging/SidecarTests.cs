using EdgeRuntime.Imaging;
using EdgeRuntime.Tensors;
using EdgeRuntime.Tests.Infrastructure;
using Xunit;

namespace EdgeRuntime.Tests.Imaging;

public class SidecarTests
{
    [Fact]
    public void PathForReplacesTheModelExtension()
    {
        Assert.Equal(Path.Combine("dir", "model.edge.json"), Sidecar.PathFor(Path.Combine("dir", "model.onnx")));
        Assert.Equal(Path.Combine("dir", "mobilenet_v1_0.25_128_quant.edge.json"), Sidecar.PathFor(Path.Combine("dir", "mobilenet_v1_0.25_128_quant.onnx")));
    }

    [Fact]
    public void TryLoadForReturnsNullWithoutASidecar()
    {
        using var dir = new ImageTestData.TempDir();
        Assert.Null(Sidecar.TryLoadFor(dir.File("model.onnx")));
    }

    [Fact]
    public void FullSidecarParses()
    {
        using var dir = new ImageTestData.TempDir();
        dir.File("labels.txt", "a\nb\n");
        dir.File("model.edge.json", """
            {
              // comments and trailing commas are allowed
              "layout": "nhwc",
              "width": 160, "height": 128,
              "color": "BGR",
              "range": [-1, 1],
              "mean": [0.1, 0.2, 0.3],
              "std": [0.5],
              "resize": "Stretch",
              "labels": "labels.txt",
              "label_offset": -1,
            }
            """);
        var sidecar = Sidecar.TryLoadFor(dir.File("model.onnx"));
        Assert.NotNull(sidecar);
        var o = sidecar.Overrides;
        Assert.Equal(TensorLayout.Nhwc, o.Layout);
        Assert.Equal(160, o.Width);
        Assert.Equal(128, o.Height);
        Assert.Equal(ColorOrder.Bgr, o.Color);
        Assert.Equal(new PixelRange(-1, 1), o.Range);
        Assert.Equal([0.1f, 0.2f, 0.3f], o.Mean!);
        Assert.Equal([0.5f], o.Std!);
        Assert.Equal(ResizeMethod.Stretch, o.Resize);
        Assert.Equal(Path.Combine(dir.Path, "labels.txt"), o.Labels);
        Assert.Equal(-1, o.LabelOffset);
    }

    [Fact]
    public void EmptyObjectAndNullsSetNothing()
    {
        var o = Sidecar.Parse("{}", "m.edge.json").Overrides;
        Assert.Equal(new PreprocessOverrides(), o);
        var n = Sidecar.Parse("""{"width": null, "mean": null}""", "m.edge.json").Overrides;
        Assert.Null(n.Width);
        Assert.Null(n.Mean);
    }

    public static TheoryData<string, string?, string> BadSidecars() => new()
    {
        // json, key, message part
        { """{"widht": 224}""", "widht", "unknown key" },
        { """{"width": 224, "width": 224}""", "width", "more than once" },
        { """{"width": 224""", null, "not valid JSON" },
        { "", null, "not valid JSON" },
        { "[1, 2]", null, "must be a JSON object" },
        { """{"width": "224"}""", "width", "expected an integer" },
        { """{"width": 224.5}""", "width", "expected an integer" },
        { """{"height": true}""", "height", "expected an integer" },
        { """{"label_offset": 1.5}""", "label_offset", "expected an integer" },
        { """{"layout": 4}""", "layout", "expected a string" },
        { """{"range": "0..1"}""", "range", "expected an array of two numbers" },
        { """{"range": [0, "1"]}""", "range", "expected an array of two numbers" },
        { """{"mean": [0.5, null, 0.5]}""", "mean", "expected an array of numbers" },
        { """{"std": 0.5}""", "std", "expected an array of numbers" },
        { """{"labels": 3}""", "labels", "expected a string" },
        { """{"width": -224}""", "width", "must be between 1 and" },
        { """{"width": 0}""", "width", "must be between 1 and" },
        { """{"height": -1}""", "height", "must be between 1 and" },
        { """{"height": 100000}""", "height", "must be between 1 and" },
        { """{"std": [0.2, 0, 0.2]}""", "std", "must not be 0" },
        { """{"std": [0]}""", "std", "must not be 0" },
        { """{"mean": [0.1, 0.2]}""", "mean", "1 or 3 values" },
        { """{"std": [1, 1, 1, 1]}""", "std", "1 or 3 values" },
        { """{"color": "GRAY", "mean": [0.1, 0.2, 0.3]}""", "mean", "must have 1 value (GRAY" },
        { """{"color": "GRAY", "std": [1, 2, 3]}""", "std", "must have 1 value (GRAY" },
        { """{"range": [1, 1]}""", "range", "min must be less than max" },
        { """{"range": [255, 0]}""", "range", "min must be less than max" },
        { """{"range": [0, 1, 2]}""", "range", "two numbers" },
        { """{"range": []}""", "range", "two numbers" },
        { """{"layout": "NCWH"}""", "layout", "unknown layout" },
        { """{"color": "RGBA"}""", "color", "unknown color" },
        { """{"resize": "pad"}""", "resize", "unknown resize" },
        { """{"labels": "no-such-labels.txt"}""", "labels", "labels file not found" },
        { """{"labels": "  "}""", "labels", "non-empty" },
    };

    [Theory]
    [MemberData(nameof(BadSidecars))]
    public void BadSidecarIsConfigurationExceptionNamingFileAndKey(string json, string? key, string messagePart)
    {
        using var dir = new ImageTestData.TempDir();
        var path = dir.File("model.edge.json", json);
        var ex = Assert.Throws<ConfigurationException>(() => Sidecar.TryLoadFor(dir.File("model.onnx")));
        Assert.Equal(path, ex.File);
        Assert.Equal(key, ex.Key);
        Assert.StartsWith(path + ": ", ex.Message);
        if (key != null) Assert.Contains($"'{key}'", ex.Message);
        Assert.Contains(messagePart, ex.Message);
    }

    [Fact]
    public void MissingSidecarFileIsConfigurationException()
    {
        using var dir = new ImageTestData.TempDir();
        var ex = Assert.Throws<ConfigurationException>(() => Sidecar.Load(dir.File("absent.edge.json")));
        Assert.Contains("not found", ex.Message);
    }

    [Fact]
    public void DefaultsForFloatNchw()
    {
        var o = PreprocessOptions.DefaultsFor(TensorElementType.Float32, [1, 3, 224, 224]);
        Assert.Equal(TensorLayout.Nchw, o.Layout);
        Assert.Equal((224, 224), (o.Width, o.Height));
        Assert.Equal(ColorOrder.Rgb, o.Color);
        Assert.Equal(PixelRange.Unit, o.Range);
        Assert.Equal([0.485f, 0.456f, 0.406f], o.Mean!);
        Assert.Equal([0.229f, 0.224f, 0.225f], o.Std!);
        Assert.Equal(ResizeMethod.Crop, o.Resize);
    }

    [Fact]
    public void DefaultsForQuantizedNhwc()
    {
        var o = PreprocessOptions.DefaultsFor(TensorElementType.UInt8, [1, 128, 160, 3]);
        Assert.Equal(TensorLayout.Nhwc, o.Layout);
        Assert.Equal((160, 128), (o.Width, o.Height));
        Assert.Equal(PixelRange.Raw, o.Range);
        Assert.Null(o.Mean);
        Assert.Null(o.Std);
        Assert.Equal(PixelRange.Raw, PreprocessOptions.DefaultsFor(TensorElementType.Int8, [1, 3, 64, 64]).Range);
    }

    [Theory]
    [InlineData(new[] { 1, 1, 28, 28 }, TensorLayout.Nchw, ColorOrder.Gray, 28, 28)]
    [InlineData(new[] { 1, 28, 28, 1 }, TensorLayout.Nhwc, ColorOrder.Gray, 28, 28)]
    [InlineData(new[] { 1, -1, -1, 3 }, TensorLayout.Nhwc, ColorOrder.Rgb, 224, 224)]
    [InlineData(new[] { -1, 3, -1, -1 }, TensorLayout.Nchw, ColorOrder.Rgb, 224, 224)]
    [InlineData(new[] { 1, 3, 3, 3 }, TensorLayout.Nchw, ColorOrder.Rgb, 3, 3)]
    [InlineData(new[] { 1, 3, 100, 1 }, TensorLayout.Nchw, ColorOrder.Rgb, 1, 100)]
    public void DefaultsLayoutAndSize(int[] shape, TensorLayout layout, ColorOrder color, int width, int height)
    {
        var o = PreprocessOptions.DefaultsFor(TensorElementType.Float32, shape);
        Assert.Equal((layout, color, width, height), (o.Layout, o.Color, o.Width, o.Height));
        if (color == ColorOrder.Gray) Assert.Null(o.Mean);
    }

    [Fact]
    public void DefaultsRefuseNonImageInputs()
    {
        Assert.Throws<ConfigurationException>(() => PreprocessOptions.DefaultsFor(TensorElementType.Float32, [1, 3, 224]));
        Assert.Throws<ConfigurationException>(() => PreprocessOptions.DefaultsFor(TensorElementType.Int64, [1, 3, 224, 224]));
    }

    [Fact]
    public void MergeOrderIsDefaultsThenSidecarThenCommandLine()
    {
        var defaults = PreprocessOptions.DefaultsFor(TensorElementType.Float32, [1, 3, 224, 224]);
        var sidecar = Sidecar.Parse("""{"color": "BGR", "range": [0, 255], "resize": "stretch"}""", "m.edge.json");
        var cli = new PreprocessOverrides { Resize = ResizeMethod.Crop, Width = 256 };
        var merged = defaults.With(sidecar.Overrides).With(cli).With(null);
        Assert.Equal(ColorOrder.Bgr, merged.Color);
        Assert.Equal(PixelRange.Raw, merged.Range);
        Assert.Null(merged.Mean); // range set alone clears the default ImageNet statistics
        Assert.Null(merged.Std);
        Assert.Equal(ResizeMethod.Crop, merged.Resize);
        Assert.Equal((256, 224), (merged.Width, merged.Height));

        // Mean/std set beside the range are kept; a later mean-only override keeps std.
        var withStats = defaults.With(new PreprocessOverrides { Range = new PixelRange(0, 255), Mean = [127.5f], Std = [127.5f] })
            .With(new PreprocessOverrides { Mean = [128] });
        Assert.Equal([128f], withStats.Mean!);
        Assert.Equal([127.5f], withStats.Std!);
    }

    [Fact]
    public void ValidateCatchesMergedMismatch()
    {
        // Sidecar gives 3 means; a later override switches to gray.
        var merged = new PreprocessOptions { Mean = [1, 2, 3] }.With(new PreprocessOverrides { Color = ColorOrder.Gray });
        var ex = Assert.Throws<ConfigurationException>(() => merged.Validate());
        Assert.Equal("mean", ex.Key);
    }

    [Fact]
    public void SuggestedSidecarRoundTrips()
    {
        var options = PreprocessOptions.DefaultsFor(TensorElementType.Float32, [1, 3, 224, 224]) with { LabelOffset = -1 };
        var json = options.ToSidecarJson();
        Assert.Contains("\"layout\": \"NCHW\"", json);
        Assert.Contains("\"label_offset\": -1", json);
        Assert.Contains("0.485", json);
        Assert.DoesNotContain("labels\"", json);
        var back = new PreprocessOptions().With(Sidecar.Parse(json, "suggested.edge.json").Overrides);
        Assert.Equal(options.ToString(), back.ToString());
        Assert.Equal(options.Mean, back.Mean);
        Assert.Equal(options.Std, back.Std);
        Assert.Equal(-1, back.LabelOffset);
    }

    [Fact]
    public void LabelsKeepInteriorBlanksOnly()
    {
        using var dir = new ImageTestData.TempDir();
        var path = dir.File("labels.txt", "\n  \r\n  cat \r\ndog\n\n  \nbird\t\n\n\n");
        Assert.Equal(["cat", "dog", "", "", "bird"], Labels.Load(path));
    }

    [Fact]
    public void LabelsErrors()
    {
        using var dir = new ImageTestData.TempDir();
        var missing = Path.Combine(dir.Path, "missing.txt");
        var ex = Assert.Throws<ConfigurationException>(() => Labels.Load(missing));
        Assert.Contains(missing, ex.Message);
        Assert.Throws<ConfigurationException>(() => Labels.Load(dir.File("blank.txt", "\n \n")));
    }

    [Fact]
    public void LabelNameAppliesTheOffset()
    {
        string[] labels = ["tench", "goldfish", "shark"];
        Assert.Equal("goldfish", Labels.Name(labels, 1));
        Assert.Equal("tench", Labels.Name(labels, 1, 1));
        Assert.Null(Labels.Name(labels, 0, 1));
        Assert.Null(Labels.Name(labels, 3));
        Assert.Null(Labels.Name(null, 0));
        Assert.Null(Labels.Name(labels, int.MaxValue, -1));
    }

    [Fact]
    public void RealCoralLabels()
    {
        var labels = Labels.Load(SharedData.Path("models/coral/imagenet_labels.txt"));
        Assert.Equal(1001, labels.Length);
        Assert.Equal("background", labels[0]);
        Assert.Equal("tench, Tinca tinca", Labels.Name(labels, 1, 0));
    }
}
