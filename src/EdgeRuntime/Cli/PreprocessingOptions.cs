using System.CommandLine;
using EdgeRuntime.Imaging;

namespace EdgeRuntime.Cli;

/// <summary>
/// The command-line flags that override a model's sidecar (<c>model.edge.json</c>); same names as the sidecar keys.
/// </summary>
internal sealed class PreprocessingOptions
{
    private readonly Option<string?> _labels;
    private readonly Option<int?> _labelOffset = new("--label-offset") { Description = "Label of class i is line i - offset (1 for 1001-class models whose class 0 is background and labels lack it)" };
    private readonly Option<string?> _layout = new("--layout") { Description = "NCHW or NHWC" };
    private readonly Option<int?> _width = new("--width") { Description = "Input width in pixels" };
    private readonly Option<int?> _height = new("--height") { Description = "Input height in pixels" };
    private readonly Option<string?> _color = new("--color") { Description = "RGB, BGR or GRAY" };
    private readonly Option<string?> _range = new("--range") { Description = "Interval 0..255 pixels map to, e.g. 0,1 or -1,1 or 0,255" };
    private readonly Option<string?> _mean = new("--mean") { Description = "Per-channel mean subtracted after --range, e.g. 0.485,0.456,0.406" };
    private readonly Option<string?> _std = new("--std") { Description = "Per-channel standard deviation divided by after --mean" };
    private readonly Option<string?> _resize = new("--resize") { Description = "crop (shorter side, then center crop; default) or stretch" };

    /// <param name="labelsFlag">Name of the flag for the model's labels file: <c>--labels</c>, except in commands
    /// where <c>--labels</c> means something else (modelconv compare: the ground truth).</param>
    public PreprocessingOptions(string labelsFlag = "--labels")
    {
        _labels = new(labelsFlag) { Description = "The model's labels file, one class name per line (overrides the sidecar's 'labels')" };
    }

    public void AddTo(Command cmd)
    {
        foreach (var o in new Option[] { _labels, _labelOffset, _layout, _width, _height, _color, _range, _mean, _std, _resize })
            cmd.Add(o);
    }

    public PreprocessOverrides Read(ParseResult parse) => new()
    {
        Labels = parse.GetValue(_labels) is { } l ? Path.GetFullPath(l) : null,
        LabelOffset = parse.GetValue(_labelOffset),
        Layout = parse.GetValue(_layout) is { } layout ? PreprocessFlags.ParseLayout(layout, "--layout") : null,
        Width = parse.GetValue(_width),
        Height = parse.GetValue(_height),
        Color = parse.GetValue(_color) is { } color ? PreprocessFlags.ParseColor(color, "--color") : null,
        Range = parse.GetValue(_range) is { } range ? PreprocessFlags.ParseRange(range, "--range") : null,
        Mean = parse.GetValue(_mean) is { } mean ? PreprocessFlags.ParseFloats(mean, "--mean") : null,
        Std = parse.GetValue(_std) is { } std ? PreprocessFlags.ParseFloats(std, "--std") : null,
        Resize = parse.GetValue(_resize) is { } resize ? PreprocessFlags.ParseResize(resize, "--resize") : null,
    };
}
