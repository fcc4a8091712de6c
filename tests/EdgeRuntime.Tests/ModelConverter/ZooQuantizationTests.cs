using EdgeRuntime.Tests.Infrastructure.ModelZoo;
using ModelConverter.Quantization;
using Xunit;
using Xunit.Abstractions;
using static EdgeRuntime.Tests.ModelConverter.ZooQuantizationSupport;

namespace EdgeRuntime.Tests.ModelConverter;

/// <summary>
/// modelconv quantize on every architecture of the generated model zoo (BN statistics and activation ranges from the
/// even-numbered real photos, evaluation on the odd-numbered ones and their mirror images; see
/// <see cref="ZooQuantizationSupport"/>): the int8 model runs on ONNX Runtime and natively with every node native,
/// native logits are within 1 LSB of ONNX Runtime's, and top-1 agreement with the float model and the logits SQNR are
/// measured (one table row per test) and held above floors set from measurement.
/// </summary>
public sealed class ZooQuantizationTests(ITestOutputHelper output)
{
    /// <summary>
    /// Logits SQNR floor (dB). Measured per-channel QDQ int8 (MinMax): see the table in the test output; the floor sits
    /// a few dB under the worst architecture so that noise of a few dB between seeds does not fail the test, while a
    /// broken scale, zero point or bias (which drops SQNR to ≤ 5 dB) does.
    /// </summary>
    private const double SqnrFloorDb = 15;

    /// <summary>
    /// Top-1 agreement floor on the held-out inputs. These are random-weight networks whose logits on real photos have
    /// small top-1 margins, so one or two flips among 14 inputs are expected at 15–25 dB; the floor sits under the worst
    /// measured architecture (see the table), not at the 95 % target of trained SqueezeNet.
    /// </summary>
    private const double AgreementFloor = 0.5;

    /// <summary>Per model: resolution, width and depth multipliers (as in ModelZooFloatTests) that keep the file under ~90 s on 2 cores.</summary>
    public static TheoryData<string, int, double, double> Architectures => new()
    {
        { "mobilenetv2", 96, 1.0, 1.0 },
        { "mobilenetv3-small", 96, 1.0, 1.0 },
        { "efficientnet-b0", 64, 1.0, 0.5 },
        { "resnet50", 64, 0.5, 0.34 },
        { "vgg11-bn", 64, 0.25, 1.0 },
        { "inception", 64, 1.0, 1.0 },
        { "densenet121", 64, 1.0, 0.25 },
        { "xception", 64, 0.5, 0.25 },
    };

    [Theory]
    [MemberData(nameof(Architectures))]
    public void Zoo_model_quantized_per_channel_QDQ_int8_runs_natively_within_one_LSB_of_OnnxRuntime(string name, int resolution, double width, double depth)
    {
        var row = QuantizeAndMeasure(name, new ZooOptions(resolution, Classes: 1000, Seed: 7, Width: width, Depth: depth), new QuantizeSettings(),
            $"QDQ int8 per-channel @{resolution} w{width} d{depth}", output.WriteLine);
        CheckAccuracy(row);
    }

    [Fact]
    public void QOperator_form_of_MobileNetV3_Small_runs_natively_within_one_LSB_of_OnnxRuntime()
    {
        var row = QuantizeAndMeasure("mobilenetv3-small", new ZooOptions(64, Classes: 1000, Seed: 7), new QuantizeSettings { Format = QuantFormat.QOperator },
            "QOperator int8 per-channel @64", output.WriteLine);
        CheckAccuracy(row);
    }

    [Fact]
    public void Uint8_activations_of_MobileNetV2_run_natively_within_one_LSB_of_OnnxRuntime()
    {
        var row = QuantizeAndMeasure("mobilenetv2", new ZooOptions(64, Classes: 1000, Seed: 7, Width: 0.5), new QuantizeSettings { UnsignedActivations = true },
            "QDQ uint8 activations per-channel @64 w0.5", output.WriteLine);
        CheckAccuracy(row);
    }

    private void CheckAccuracy(ZooQuantizationRow row)
    {
        output.WriteLine(ZooQuantizationRow.Header);
        output.WriteLine(row.ToString());
        Assert.True(row.LogitsSqnrDb >= SqnrFloorDb, $"{row.Model} ({row.Variant}): logits SQNR {row.LogitsSqnrDb:0.0} dB < {SqnrFloorDb} dB");
        Assert.True(row.Agree >= AgreementFloor * row.Total, $"{row.Model} ({row.Variant}): top-1 agreement {row.Agree}/{row.Total} < {AgreementFloor:P0}");
    }
}
