using Pop3Ingest.Benchmarks.Common;
using Pop3Ingest.Benchmarks.Drain;
using Pop3Ingest.IntegrationTests.Support;

namespace Pop3Ingest.Benchmarks.Other;

/// <summary>
/// Not a measurement: starts the drain scenario's Dovecot with the same seeded mailbox and keeps it up until Ctrl-C,
/// so that one client can be profiled by hand (perf, dotnet-trace, strace) against the mailbox the table measures.
/// Runs only when named; it prints the address, the user and a Pop3Ingest configuration for that mailbox.
/// </summary>
internal sealed class ServeScenario : IScenario
{
    public string Name => "serve";

    public string Description => "(only when named) keep the drain scenario's seeded Dovecot up for profiling until Ctrl-C";

    public int Order => -1;

    public async Task RunAsync(BenchOptions options, Report report, CancellationToken cancellationToken)
    {
        await using var server = await DovecotServer.StartAsync(
            new DovecotServerOptions { Users = [(DrainMailboxUser.Name, DrainMailboxUser.Password)], EnableApop = false }, cancellationToken);
        var corpus = await CorpusSeeder.SeedAsync(server.MaildirOf(DrainMailboxUser.Name), options.Messages, DrainMailboxUser.Seed,
            DovecotServer.MailUserName, cancellationToken);
        var config = Path.Combine(options.WorkDirectory, "serve-appsettings.json");
        await File.WriteAllTextAsync(config, $$"""
            {
              "Pop3Ingest": {
                "Ledger": { "Provider": "Sqlite", "ConnectionString": "Data Source=data/ledger.db" },
                "Storage": { "Provider": "FileSystem", "Root": "data/mail" },
                "Http": { "Urls": "" },
                "Accounts": {
                  "bench": {
                    "Host": "{{server.Host}}", "Port": {{server.Port}}, "Security": "None", "AllowInsecureAuth": true,
                    "Auth": "UserPass", "Username": "{{DrainMailboxUser.Name}}", "Password": "{{DrainMailboxUser.Password}}",
                    "Interval": "00:05:00", "DeletePolicy": "Never"
                  }
                }
              }
            }
            """, cancellationToken);
        report.Line(FormattableString.Invariant(
            $"Dovecot on {server.Host}:{server.Port}, user {DrainMailboxUser.Name} / {DrainMailboxUser.Password}: {corpus.Count} messages, {corpus.MessageBytes / 1e6:0.0} MB."));
        report.Line($"Pop3Ingest configuration (copy it into an empty folder, then `Pop3Ingest.Worker once --config FILE`): {config}");
        report.Line("Ctrl-C stops the server.");
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // Ctrl-C: stop the server.
        }
    }
}
