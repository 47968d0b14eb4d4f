using System.CommandLine;

namespace Pop3Ingest.Worker.Cli;

/// <summary>Where a verb's configuration comes from: <c>--config FILE</c> and any number of <c>--set Key=Value</c>.</summary>
internal sealed record ConfigSource(string? Path, IReadOnlyList<string> Overrides)
{
    public static implicit operator ConfigSource(string? path) => new(path, []);
}

/// <summary>The options every verb takes for its configuration (recursive: they may follow any verb).</summary>
internal sealed class ConfigOptions
{
    public Option<string?> File { get; } = new("--config", "-c")
    {
        Description = "Configuration file (replaces appsettings.json in the current folder); its environment sibling (FILE.{Environment}.json, " +
                      "from DOTNET_ENVIRONMENT, default Production), environment variables and --set override it, in that order.",
        Recursive = true,
    };

    public Option<string[]> Set { get; } = new("--set")
    {
        Description = "Override one key, last and strongest: --set Pop3Ingest:Accounts:demo:Interval=10m (repeatable; ':' or '__' between sections).",
        Recursive = true,
        AllowMultipleArgumentsPerToken = false,
        DefaultValueFactory = _ => [],
    };

    public ConfigSource Source(ParseResult parse) => new(parse.GetValue(File), parse.GetValue(Set) ?? []);
}
