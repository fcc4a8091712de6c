using EdgeRuntime.Tests.Infrastructure;
using Xunit;

namespace EdgeRuntime.Tests.Cli;

/// <summary>The modelconv executable: inspect shows the model's form and quantization parameters; errors exit like edgerun.</summary>
public sealed class ModelconvCliTests
{
    [Fact]
    public void Inspect_shows_form_and_quantization_parameters()
    {
        var r = EdgerunProcess.RunTool("modelconv", "inspect", SharedData.Path("models/converted/mobilenet_v1_0.25_128_quant.onnx"));
        Assert.True(r.ExitCode == 0, r.StdErr);
        Assert.Contains("int8, QOperator form", r.StdOut);
        Assert.Contains("per-tensor scale 0.0078125 zero point 128", r.StdOut); // the input quantization of the Coral model
        var f = EdgerunProcess.RunTool("modelconv", "inspect", SharedData.Path("models/winml/mnist.onnx"));
        Assert.Equal(0, f.ExitCode);
        Assert.Contains("Form    float", f.StdOut);
    }

    [Fact]
    public void Bad_model_exits_3_and_bad_usage_2()
    {
        var path = Path.Combine(Path.GetTempPath(), $"modelconv-{Guid.NewGuid():N}.onnx");
        File.WriteAllText(path, "not a model");
        try
        {
            var r = EdgerunProcess.RunTool("modelconv", "inspect", path);
            Assert.Equal(3, r.ExitCode);
            Assert.Contains(Path.GetFileName(path), r.StdErr);
        }
        finally { File.Delete(path); }
        Assert.Equal(2, EdgerunProcess.RunTool("modelconv", "inspect").ExitCode);
    }
}
