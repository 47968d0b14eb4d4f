using Microsoft.Extensions.Configuration;
using Pop3Ingest.Worker.Options;

namespace Pop3Ingest.IntegrationTests;

/// <summary>The loader's indexed providers answer every configuration question as the stock providers do.</summary>
public sealed class ConfigurationLoaderTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("p3i-config-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void The_indexed_configuration_has_the_same_sections_children_and_values_as_the_stock_one()
    {
        var file = Path.Combine(_folder, "appsettings.json");
        File.WriteAllText(file, """
            {
              "Pop3Ingest": {
                "Defaults": { "Timeout": "00:00:30" },
                "Accounts": {
                  "Zeta": { "Host": "z", "Port": 995, "Tags": [ "a", "b", { "Deep": { "Er": "x" } } ] },
                  "alpha": { "Host": "a", "Username": "u" },
                  "10": { "Host": "ten" }, "9": { "Host": "nine" },
                  "Empty": { }
                },
                "Http": { "Urls": "" }
              },
              "Top": "value"
            }
            """);
        var (indexed, _) = ConfigurationLoader.Load(file);
        var stock = new ConfigurationBuilder().AddJsonFile(file).AddEnvironmentVariables().Build();

        Assert.Equal(Tree(stock), Tree(indexed));
        Assert.Equal(["9", "10", "alpha", "Empty", "Zeta"], Children(indexed, "Pop3Ingest:Accounts"));
        Assert.Equal(Children(stock, "POP3INGEST:accounts:zeta:TAGS"), Children(indexed, "POP3INGEST:accounts:zeta:TAGS"));
        Assert.Empty(Children(indexed, "Pop3Ingest:Accounts:Missing"));

        // A value set in place is seen by the next question, as with the stock providers.
        indexed["Pop3Ingest:Accounts:beta:Host"] = "b";
        Assert.Contains("beta", Children(indexed, "Pop3Ingest:Accounts"));
    }

    private static List<string> Children(IConfiguration configuration, string path) => configuration.GetSection(path).GetChildren().Select(c => c.Key).ToList();

    /// <summary>Every section reachable by walking children, with its value, in the order GetChildren gives.</summary>
    private static List<string> Tree(IConfiguration configuration)
    {
        var lines = new List<string>();
        void Walk(IEnumerable<IConfigurationSection> sections)
        {
            foreach (var section in sections)
            {
                lines.Add($"{section.Path}={section.Value}");
                Walk(section.GetChildren());
            }
        }

        Walk(configuration.GetChildren());
        return lines;
    }
}
