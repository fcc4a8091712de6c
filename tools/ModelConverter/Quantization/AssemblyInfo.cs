using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("EdgeRuntime.Tests")]
