using EdgeRuntime.Imaging;
using EdgeRuntime.Tensors;
using Xunit;

namespace EdgeRuntime.Tests.Imaging;

public class PreprocessFlagsTests
{
    [Fact]
    public void ParsesGoodValues()
    {
        Assert.Equal(TensorLayout.Nhwc, PreprocessFlags.ParseLayout(" nhwc", "--layout"));
        Assert.Equal(ColorOrder.Gray, PreprocessFlags.ParseColor("Gray", "--color"));
        Assert.Equal(ResizeMethod.Stretch, PreprocessFlags.ParseResize("STRETCH", "--resize"));
        Assert.Equal(300, PreprocessFlags.ParseSize("300", "--width"));
        Assert.Equal([0.485f, 0.456f, 0.406f], PreprocessFlags.ParseFloats("0.485, 0.456,0.406", "--mean"));
        Assert.Equal([127.5f], PreprocessFlags.ParseFloats("[127.5]", "--std"));
        Assert.Equal(new PixelRange(-1, 1), PreprocessFlags.ParseRange("-1,1", "--range"));
    }

    [Theory]
    [InlineData("layout", "NCWH")]
    [InlineData("color", "RGBA")]
    [InlineData("resize", "fit")]
    [InlineData("size", "0")]
    [InlineData("size", "-3")]
    [InlineData("size", "2x2")]
    [InlineData("floats", "1,,2")]
    [InlineData("floats", "1;2")]
    [InlineData("floats", "NaN")]
    [InlineData("range", "1")]
    [InlineData("range", "1,0")]
    [InlineData("range", "0,1,2")]
    public void BadValuesAreConfigurationExceptionNamingTheFlag(string what, string text)
    {
        const string flag = "--the-flag";
        Action parse = what switch
        {
            "layout" => () => PreprocessFlags.ParseLayout(text, flag),
            "color" => () => PreprocessFlags.ParseColor(text, flag),
            "resize" => () => PreprocessFlags.ParseResize(text, flag),
            "size" => () => PreprocessFlags.ParseSize(text, flag),
            "floats" => () => PreprocessFlags.ParseFloats(text, flag),
            _ => () => PreprocessFlags.ParseRange(text, flag),
        };
        var ex = Assert.Throws<ConfigurationException>(parse);
        Assert.Equal(flag, ex.Key);
        Assert.Contains("'--the-flag'", ex.Message);
    }

    [Fact]
    public void ResolveMergesDefaultsSidecarAndCommandLine()
    {
        using var dir = new ImageTestData.TempDir();
        var model = dir.File("squeezenet.onnx");
        var shape = new[] { 1, 3, 224, 224 };

        var plain = PreprocessFlags.Resolve(model, TensorElementType.Float16, shape, null);
        Assert.Equal(PreprocessOptions.DefaultsFor(TensorElementType.Float16, shape).ToString(), plain.ToString());

        dir.File("squeezenet.edge.json", """{"color": "BGR", "range": [0, 255]}""");
        var withSidecar = PreprocessFlags.Resolve(model, TensorElementType.Float16, shape, new PreprocessOverrides { Resize = ResizeMethod.Stretch });
        Assert.Equal(ColorOrder.Bgr, withSidecar.Color);
        Assert.Equal(PixelRange.Raw, withSidecar.Range);
        Assert.Null(withSidecar.Mean);
        Assert.Equal(ResizeMethod.Stretch, withSidecar.Resize);

        var ex = Assert.Throws<ConfigurationException>(() =>
            PreprocessFlags.Resolve(model, TensorElementType.Float16, shape, new PreprocessOverrides { Color = ColorOrder.Gray, Mean = [1, 2, 3] }));
        Assert.Equal("mean", ex.Key);
    }
}
