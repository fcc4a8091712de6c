namespace EdgeRuntime.Tests;

/// <summary>Carries the restore folder of the Microsoft.ML.DnnImageFeaturizer.ResNet18 package into the test assembly.</summary>
[AttributeUsage(AttributeTargets.Assembly)]
public sealed class ResNet18PathAttribute(string path) : Attribute
{
    public string Path { get; } = path;
}
