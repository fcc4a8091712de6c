using EdgeRuntime.Imaging;
using EdgeRuntime.Tensors;
using EdgeRuntime.Tests.Infrastructure;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;
using Xunit;

namespace EdgeRuntime.Tests.Imaging;

public class ImagePreprocessorTests
{
    private static readonly PreprocessOptions RawFourByTwo = new()
    {
        Layout = TensorLayout.Nchw, Width = 4, Height = 2, Color = ColorOrder.Rgb, Range = PixelRange.Raw,
        Resize = ResizeMethod.Stretch,
    };

    private static int[] Shape(PreprocessOptions o) =>
        o.Layout == TensorLayout.Nhwc ? [1, o.Height, o.Width, o.Channels] : [1, o.Channels, o.Height, o.Width];

    private static Tensor Run(PreprocessOptions options, Image<Rgb24> image, TensorElementType type = TensorElementType.Float32, InputQuantization? q = null)
    {
        var pre = new ImagePreprocessor(options, type, Shape(options), q);
        return pre.Preprocess(image);
    }

    private static byte Channel(Rgb24 p, int c) => c switch { 0 => p.R, 1 => p.G, _ => p.B };

    [Fact]
    public void NchwRgbPlacesEveryPixelExactly()
    {
        using var image = ImageTestData.FourByTwo();
        var t = Run(RawFourByTwo, image);
        Assert.Equal([1, 3, 2, 4], t.Shape);
        var v = t.AsSpan<float>();
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < 2; y++)
                for (int x = 0; x < 4; x++)
                    Assert.Equal(Channel(ImageTestData.Pixel(x, y), c), v[c * 8 + y * 4 + x]);
    }

    [Fact]
    public void NhwcBgrPlacesEveryPixelExactly()
    {
        using var image = ImageTestData.FourByTwo();
        var t = Run(RawFourByTwo with { Layout = TensorLayout.Nhwc, Color = ColorOrder.Bgr }, image);
        Assert.Equal([1, 2, 4, 3], t.Shape);
        var v = t.AsSpan<float>();
        for (int y = 0; y < 2; y++)
            for (int x = 0; x < 4; x++)
            {
                var p = ImageTestData.Pixel(x, y);
                int o = (y * 4 + x) * 3;
                Assert.Equal([p.B, p.G, p.R], new[] { v[o], v[o + 1], v[o + 2] });
            }
    }

    [Fact]
    public void NchwBgrSwapsThePlanes()
    {
        using var image = ImageTestData.FourByTwo();
        var v = Run(RawFourByTwo with { Color = ColorOrder.Bgr }, image).AsSpan<float>();
        Assert.Equal(ImageTestData.Pixel(2, 1).B, v[0 * 8 + 1 * 4 + 2]);
        Assert.Equal(ImageTestData.Pixel(2, 1).G, v[1 * 8 + 1 * 4 + 2]);
        Assert.Equal(ImageTestData.Pixel(2, 1).R, v[2 * 8 + 1 * 4 + 2]);
    }

    [Theory]
    [InlineData(TensorLayout.Nchw)]
    [InlineData(TensorLayout.Nhwc)]
    public void GrayIsRoundedBt601Luma(TensorLayout layout)
    {
        using var image = ImageTestData.FourByTwo();
        image[0, 0] = new Rgb24(255, 0, 0);   // 76.245 -> 76
        image[1, 0] = new Rgb24(0, 255, 0);   // 149.685 -> 150
        image[2, 0] = new Rgb24(0, 0, 255);   // 29.07 -> 29
        image[3, 0] = new Rgb24(1, 1, 2);     // 1.114 -> 1
        image[0, 1] = new Rgb24(255, 255, 255);
        image[1, 1] = new Rgb24(0, 0, 0);
        image[2, 1] = new Rgb24(2, 1, 0);     // 1.185 -> 1
        image[3, 1] = new Rgb24(0, 1, 5);     // 1.157 -> 1
        var t = Run(RawFourByTwo with { Layout = layout, Color = ColorOrder.Gray }, image, TensorElementType.UInt8);
        Assert.Equal(layout == TensorLayout.Nhwc ? new[] { 1, 2, 4, 1 } : [1, 1, 2, 4], t.Shape);
        Assert.Equal(new byte[] { 76, 150, 29, 1, 255, 0, 1, 1 }, t.ToArray<byte>());
    }

    [Fact]
    public void CropTakesTheCenterWindowWithoutResampling()
    {
        // 4x2 to 2x2: the shorter side (height 2) already matches, so columns 1 and 2 are taken as they are.
        using var image = ImageTestData.FourByTwo();
        var options = RawFourByTwo with { Width = 2, Height = 2, Resize = ResizeMethod.Crop, Layout = TensorLayout.Nhwc };
        var v = Run(options, image, TensorElementType.UInt8).ToArray<byte>();
        var expected = new List<byte>();
        for (int y = 0; y < 2; y++)
            for (int x = 1; x <= 2; x++)
            {
                var p = ImageTestData.Pixel(x, y);
                expected.AddRange([p.R, p.G, p.B]);
            }
        Assert.Equal(expected.ToArray(), v);

        // 4x2 to 4x1: the width governs (scaled stays 4x2) and the window starts at row (2 - 1) / 2 = 0.
        var row = Run(RawFourByTwo with { Height = 1, Resize = ResizeMethod.Crop }, image, TensorElementType.UInt8).ToArray<byte>();
        Assert.Equal(new byte[] { 10, 40, 70, 100, 20, 50, 80, 110, 30, 60, 90, 120 }, row);
    }

    [Fact]
    public void StretchKeepsVerticallyConstantColumnsExactly()
    {
        // Vertical stripes stretched 4x2 -> 4x4: only the height changes, so each column keeps its colour.
        using var image = ImageTestData.Make(4, 2, (x, _) => ImageTestData.Pixel(x, 0));
        var options = RawFourByTwo with { Height = 4, Resize = ResizeMethod.Stretch };
        var v = Run(options, image).AsSpan<float>();
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < 4; y++)
                for (int x = 0; x < 4; x++)
                    Assert.Equal(Channel(ImageTestData.Pixel(x, 0), c), v[c * 16 + y * 4 + x]);

        // Crop of the same image to 4x4 scales to 8x4 and takes columns 2..5: different from stretch.
        var cropped = Run(options with { Resize = ResizeMethod.Crop }, image).AsSpan<float>();
        Assert.False(cropped.SequenceEqual(v));
    }

    [Fact]
    public void CropEqualsResizeThenCenterCrop()
    {
        using var image = ImageTestData.Make(41, 23, (x, y) => new Rgb24((byte)(x * 6), (byte)(y * 11), (byte)((x * y) % 256)));
        var options = RawFourByTwo with { Width = 10, Height = 12, Resize = ResizeMethod.Crop };
        var pre = new ImagePreprocessor(options, TensorElementType.UInt8, Shape(options));
        var (sw, sh, left, top) = pre.ScaledGeometry(41, 23);
        // Cover: height governs (41/23 > 10/12): 12 x round(41 * 12 / 23) = 21.39 -> 21.
        Assert.Equal((21, 12, 5, 0), (sw, sh, left, top));
        var actual = pre.Preprocess(image).ToArray<byte>();

        using var reference = image.Clone(ctx => ctx.Resize(new ResizeOptions
        {
            Size = new Size(sw, sh), Mode = ResizeMode.Stretch, Sampler = KnownResamplers.Triangle,
        }).Crop(new Rectangle(left, top, 10, 12)));
        int worst = 0;
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < 12; y++)
                for (int x = 0; x < 10; x++)
                    worst = Math.Max(worst, Math.Abs(actual[c * 120 + y * 10 + x] - Channel(reference[x, y], c)));
        Assert.True(worst <= 1, $"crop differs from resize-then-crop by {worst}");
    }

    [Theory]
    [InlineData(100, 100, 20, 20, 20, 20, 0, 0)]
    [InlineData(200, 100, 20, 20, 40, 20, 10, 0)]
    [InlineData(100, 301, 20, 20, 20, 60, 0, 20)]   // 301 * 20 / 100 = 60.2 -> 60
    [InlineData(3, 1000, 224, 224, 224, 74667, 0, 37221)]
    [InlineData(640, 480, 300, 200, 300, 225, 0, 12)]
    public void CropGeometry(int w, int h, int tw, int th, int sw, int sh, int left, int top)
    {
        var options = new PreprocessOptions { Width = tw, Height = th, Resize = ResizeMethod.Crop };
        var pre = new ImagePreprocessor(options, TensorElementType.Float32, Shape(options));
        Assert.Equal((sw, sh, left, top), pre.ScaledGeometry(w, h));
    }

    [Fact]
    public void ExtremeAspectCropComputesOnlyTheWindow()
    {
        using var image = ImageTestData.Make(2, 3000, (_, y) => new Rgb24((byte)(y % 256), 0, 0));
        var options = new PreprocessOptions { Width = 224, Height = 224, Resize = ResizeMethod.Crop };
        var t = new ImagePreprocessor(options, TensorElementType.Float32, Shape(options)).Preprocess(image);
        Assert.Equal([1, 3, 224, 224], t.Shape);
    }

    [Fact]
    public void RangeMeanStdArithmetic()
    {
        using var image = ImageTestData.FourByTwo();
        var options = RawFourByTwo with { Range = new PixelRange(-1, 1), Mean = [0.5f, 0.25f, -0.125f], Std = [0.25f] };
        var v = Run(options, image).AsSpan<float>();
        float[] mean = [0.5f, 0.25f, -0.125f];
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < 8; i++)
            {
                var p = Channel(ImageTestData.Pixel(i % 4, i / 4), c);
                double expected = (-1 + p * 2.0 / 255 - mean[c]) / 0.25;
                Assert.True(Math.Abs(v[c * 8 + i] - expected) < 1e-5, $"c={c} i={i}: {v[c * 8 + i]} vs {expected}");
            }
    }

    [Fact]
    public void FloatDefaultsGiveImageNetNormalisation()
    {
        using var image = ImageTestData.FourByTwo();
        var options = PreprocessOptions.DefaultsFor(TensorElementType.Float32, [1, 3, 2, 4]) with { Resize = ResizeMethod.Stretch };
        var v = Run(options, image).AsSpan<float>();
        var p = ImageTestData.Pixel(3, 1);
        Assert.Equal((p.G / 255.0 - 0.456) / 0.224, v[1 * 8 + 7], 5);
    }

    [Fact]
    public void Float16HoldsTheHalfOfTheFloatValue()
    {
        using var image = ImageTestData.FourByTwo();
        var options = RawFourByTwo with { Range = PixelRange.Unit };
        var f32 = Run(options, image).AsSpan<float>().ToArray();
        var f16 = Run(options, image, TensorElementType.Float16);
        Assert.Equal(TensorElementType.Float16, f16.ElementType);
        var halves = f16.AsSpan<Half>();
        for (int i = 0; i < f32.Length; i++) Assert.Equal((Half)f32[i], halves[i]);
    }

    [Fact]
    public void Uint8RawAndInt8Shifted()
    {
        using var image = ImageTestData.FourByTwo();
        var u8 = Run(RawFourByTwo, image, TensorElementType.UInt8).ToArray<byte>();
        var i8 = Run(RawFourByTwo, image, TensorElementType.Int8).ToArray<sbyte>();
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < 8; i++)
            {
                var p = Channel(ImageTestData.Pixel(i % 4, i / 4), c);
                Assert.Equal(p, u8[c * 8 + i]);
                Assert.Equal(p - 128, i8[c * 8 + i]);
            }
        // The raw path does not need (and ignores) quantization parameters.
        var withQ = Run(RawFourByTwo, image, TensorElementType.UInt8, new InputQuantization(0.0078125f, 128)).ToArray<byte>();
        Assert.Equal(u8, withQ);
    }

    [Fact]
    public void QuantizationRoundsHalfToEvenAndSaturates()
    {
        using var image = ImageTestData.Make(4, 1, (x, _) => new Rgb24((byte)(2 * x + 1), (byte)(2 * x + 1), (byte)(250 - x)));
        // v = p / 2 exactly: p = 1, 3, 5, 7 -> 0.5, 1.5, 2.5, 3.5 -> half-to-even 0, 2, 2, 4.
        var halfOptions = RawFourByTwo with { Width = 4, Height = 1, Mean = [0], Std = [2] };
        var u8 = Run(halfOptions, image, TensorElementType.UInt8, new InputQuantization(1, 0)).ToArray<byte>();
        Assert.Equal(new byte[] { 0, 2, 2, 4 }, u8[..4]);
        // Blue channel v = 125, 124.5, 124, 123.5 with zero point 10 -> 135, 134, 134, 134.
        Assert.Equal(new byte[] { 135, 134, 134, 134 }, Run(halfOptions, image, TensorElementType.UInt8, new InputQuantization(1, 10)).ToArray<byte>()[8..]);

        // Saturation: int8 v = p - 100 (std 1) with scale 0.5 -> 2 (p - 100), clamped to [-128, 127].
        var satOptions = halfOptions with { Mean = [100], Std = [1] };
        var i8 = Run(satOptions, image, TensorElementType.Int8, new InputQuantization(0.5f, 0)).ToArray<sbyte>();
        Assert.Equal(new sbyte[] { -128, -128, -128, -128 }, i8[..4]);   // p = 1..7: 2 (p - 100) < -128
        Assert.Equal(new sbyte[] { 127, 127, 127, 127 }, i8[8..]);       // p = 247..250: > 127

        // [-1, 1] into int8 with scale 1/128: q = round(128 (-1 + 2 p / 255)).
        var unitOptions = RawFourByTwo with { Range = new PixelRange(-1, 1) };
        using var four = ImageTestData.FourByTwo();
        var q = Run(unitOptions, four, TensorElementType.Int8, new InputQuantization(1f / 128, 0)).ToArray<sbyte>();
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < 8; i++)
            {
                var p = Channel(ImageTestData.Pixel(i % 4, i / 4), c);
                float real = (float)(-1 + p * (2.0 / 255));
                var expected = (int)Math.Clamp(Math.Round(real / (1f / 128), MidpointRounding.ToEven), -128, 127);
                Assert.Equal(expected, q[c * 8 + i]);
            }
    }

    [Fact]
    public void NonRawIntegerInputWithoutQuantizationIsConfigurationException()
    {
        var options = RawFourByTwo with { Range = PixelRange.Unit };
        var ex = Assert.Throws<ConfigurationException>(() => new ImagePreprocessor(options, TensorElementType.UInt8, Shape(options)));
        Assert.Contains("scale and zero point", ex.Message);
        Assert.Throws<ConfigurationException>(() => new ImagePreprocessor(options, TensorElementType.UInt8, Shape(options), new InputQuantization(0, 0)));
        Assert.Throws<ConfigurationException>(() => new ImagePreprocessor(options, TensorElementType.Int8, Shape(options), new InputQuantization(1, 200)));
    }

    [Fact]
    public void OptionsThatDoNotFitTheInputAreConfigurationException()
    {
        var options = new PreprocessOptions { Width = 224, Height = 224 };
        var ex = Assert.Throws<ConfigurationException>(() => new ImagePreprocessor(options, TensorElementType.Float32, [1, 224, 224, 3]));
        Assert.Contains("[1,3,224,224]", ex.Message);
        Assert.Contains("[1,224,224,3]", ex.Message);
        Assert.Throws<ConfigurationException>(() => new ImagePreprocessor(options with { Width = 200 }, TensorElementType.Float32, [1, 3, 224, 224]));
        Assert.Throws<ConfigurationException>(() => new ImagePreprocessor(options with { Color = ColorOrder.Gray }, TensorElementType.Float32, [1, 3, 224, 224]));
        Assert.Throws<ConfigurationException>(() => new ImagePreprocessor(options, TensorElementType.Int64, [1, 3, 224, 224]));
        Assert.Throws<ConfigurationException>(() => new ImagePreprocessor(options, TensorElementType.Float32, [3, 224, 224]));
        Assert.Throws<ConfigurationException>(() => new ImagePreprocessor(options with { Std = [0] }, TensorElementType.Float32, [1, 3, 224, 224]));
        // Symbolic dimensions accept whatever the options choose.
        var pre = new ImagePreprocessor(options with { Width = 300, Height = 200 }, TensorElementType.Float32, [-1, 3, -1, -1]);
        Assert.Equal([1, 3, 200, 300], pre.OutputShape);
    }

    [Fact]
    public void PreprocessIntoAnExistingTensorReusesIt()
    {
        using var image = ImageTestData.FourByTwo();
        var pre = new ImagePreprocessor(RawFourByTwo, TensorElementType.Float32, [1, 3, 2, 4]);
        var buffer = new byte[4 + 96];
        var destination = new Tensor(TensorElementType.Float32, [1, 3, 2, 4], buffer, byteOffset: 4);
        pre.Preprocess(image, destination);
        Assert.Equal(pre.Preprocess(image).ToArray<float>(), destination.ToArray<float>());
        Assert.Equal(0, buffer[0]);
        Assert.Throws<ArgumentException>(() => pre.Preprocess(image, new Tensor(TensorElementType.Float32, [1, 2, 4, 3])));
        Assert.Throws<ArgumentException>(() => pre.Preprocess(image, new Tensor(TensorElementType.UInt8, [1, 3, 2, 4])));
    }

    [Fact]
    public void PreprocessIntoAnExistingTensorDoesNotAllocateWhenNoResizeIsNeeded()
    {
        using var image = ImageTestData.Make(224, 224, (x, y) => new Rgb24((byte)x, (byte)y, 7));
        var options = new PreprocessOptions { Width = 224, Height = 224, Layout = TensorLayout.Nhwc };
        var pre = new ImagePreprocessor(options, TensorElementType.UInt8, [1, 224, 224, 3]);
        var destination = new Tensor(TensorElementType.UInt8, [1, 224, 224, 3]);
        pre.Preprocess(image, destination); // warm up
        long before = GC.GetAllocatedBytesForCurrentThread();
        pre.Preprocess(image, destination);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated == 0, $"allocated {allocated} bytes");
    }

    [Fact]
    public void RealPhotosPreprocessToTheModelShapesAndTypes()
    {
        var cases = new (TensorElementType Type, int[] Shape)[]
        {
            (TensorElementType.Float32, [1, 3, 224, 224]),   // ResNet-18 style
            (TensorElementType.Float16, [1, 3, 224, 224]),   // SqueezeNet fp16
            (TensorElementType.UInt8, [1, 224, 224, 3]),     // Coral MobileNet v2
            (TensorElementType.UInt8, [1, 128, 128, 3]),     // MobileNet v1 0.25
            (TensorElementType.Float32, [1, 1, 28, 28]),     // MNIST
            (TensorElementType.Int8, [1, 3, 160, 160]),
        };
        string[] photos = ["images/coral/cat_720p.jpg", "images/coral/grace_hopper.bmp", "images/winml/fish.png", "images/winml/kitten_224.png", "images/coral/parrot.jpg"];
        foreach (var photo in photos)
        {
            using var image = ImageLoader.Default.Load(SharedData.Path(photo));
            foreach (var (type, shape) in cases)
            {
                var options = PreprocessOptions.DefaultsFor(type, shape);
                var tensor = new ImagePreprocessor(options, type, shape).Preprocess(image);
                Assert.Equal(type, tensor.ElementType);
                Assert.Equal(shape, tensor.Shape);
                var values = tensor.ToFloatArray();
                Assert.True(values.Distinct().Count() > 10, $"{photo} {type.OnnxName()}{TensorShape.Format(shape)}: nearly constant output");
                Assert.All(values, v => Assert.True(float.IsFinite(v)));
            }
        }
    }

    [Fact]
    public void Kitten224IsCopiedUnchangedIntoAUint8NhwcInput()
    {
        var path = SharedData.Path("images/winml/kitten_224.png");
        using var image = ImageLoader.Default.Load(path);
        var shape = new[] { 1, 224, 224, 3 };
        var tensor = new ImagePreprocessor(PreprocessOptions.DefaultsFor(TensorElementType.UInt8, shape), TensorElementType.UInt8, shape).Preprocess(image);
        var v = tensor.AsSpan<byte>();
        for (int y = 0; y < 224; y += 13)
            for (int x = 0; x < 224; x += 11)
            {
                var p = image[x, y];
                int o = (y * 224 + x) * 3;
                Assert.Equal((p.R, p.G, p.B), (v[o], v[o + 1], v[o + 2]));
            }
    }
}
