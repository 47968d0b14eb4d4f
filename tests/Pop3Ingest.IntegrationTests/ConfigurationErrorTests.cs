using Pop3Ingest.Worker.Options;

namespace Pop3Ingest.IntegrationTests;

/// <summary>The mistakes operators make in the configuration, each answered with one line: where, what was given, what is accepted.</summary>
public sealed class ConfigurationErrorTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("p3i-config-errors-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Broken_json_names_the_file_the_line_and_the_position()
    {
        var path = Path.Combine(_folder, "appsettings.json");
        File.WriteAllText(path, "{\n  \"Pop3Ingest\": {\n    \"Accounts\": { \"a\": { \"Host\": \"x\" \"Port\": 110 } }\n  }\n}\n");

        var error = Assert.Throws<ConfigurationException>(() => ConfigurationLoader.Load(path));

        Assert.StartsWith($"{path}: line 3, position ", error.Message, StringComparison.Ordinal);
        Assert.Contains("the JSON is not valid", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Could not parse the JSON file", error.Message, StringComparison.Ordinal);
    }
}
