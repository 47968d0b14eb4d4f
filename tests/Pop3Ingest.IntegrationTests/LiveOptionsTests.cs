using Microsoft.Extensions.Logging.Abstractions;
using Pop3Ingest.Worker.Hosting;
using Pop3Ingest.Worker.Options;

namespace Pop3Ingest.IntegrationTests;

/// <summary><c>run</c>'s live reload: an edit with a mistake in one account changes the others and leaves that one alone.</summary>
public sealed class LiveOptionsTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("p3i-live-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static string Account(string extra = "", string schedule = "\"Interval\": \"5m\"") =>
        $$"""{ "Host": "127.0.0.1", "Port": 110, "Security": "None", "AllowInsecureAuth": true, "Username": "u", "Password": "p", {{schedule}}{{extra}} }""";

    private string Write(string accounts, string global = "")
    {
        var path = Path.Combine(_folder, "appsettings.json");
        File.WriteAllText(path, $$"""{ "Pop3Ingest": { "Ledger": { "ConnectionString": "Data Source=ledger.db" }{{global}}, "Accounts": { {{accounts}} } } }""");
        return path;
    }

    [Fact]
    public void A_mistake_in_one_account_keeps_that_account_as_it_was_and_applies_the_rest()
    {
        var path = Write($$""" "a": {{Account()}}, "b": {{Account()}} """);
        var (configuration, baseDirectory) = ConfigurationLoader.Load(path);
        var initial = new Pop3IngestOptions();
        OptionsSetup.Bind(initial, configuration);
        OptionsSetup.Apply(initial, configuration, baseDirectory);
        using var live = new LiveOptions(Microsoft.Extensions.Options.Options.Create(initial), configuration, new Pop3IngestOptionsValidator(configuration),
            NullLogger<LiveOptions>.Instance);

        // a changes; b gets a timeout out of range; c is new and never fires; d is new and fine.
        Write($$""" "a": {{Account(", \"Timeout\": \"2m\"")}}, "b": {{Account(", \"Timeout\": \"60d\"")}}, "c": {{Account(schedule: "\"Schedule\": \"0 0 0 31 2 ?\"")}}, "d": {{Account()}} """);
        configuration.Reload();
        live.Reload();

        Assert.Equal(["a", "b", "d"], live.Current.Accounts.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(TimeSpan.FromMinutes(2), live.Current.Accounts["a"].Timeout);
        Assert.Equal(TimeSpan.FromMinutes(1), live.Current.Accounts["b"].Timeout);

        // A mistake outside the accounts leaves everything as it was.
        Write($$""" "a": {{Account(", \"Timeout\": \"3m\"")}} """, global: """, "ShutdownTimeout": "100d" """);
        configuration.Reload();
        live.Reload();
        Assert.Equal(["a", "b", "d"], live.Current.Accounts.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(TimeSpan.FromMinutes(2), live.Current.Accounts["a"].Timeout);
    }
}
