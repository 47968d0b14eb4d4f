using System.Text.Json;
using System.Text.Json.Nodes;
using Pop3Ingest.Benchmarks.Common;

namespace Pop3Ingest.Benchmarks.Drain;

/// <summary>
/// <c>Pop3Ingest.Worker once</c> with the shipped defaults (folder store, SQLite ledger, logging as in the root
/// appsettings.json), the account set to <c>DeletePolicy: Never</c> so every run drains the same mailbox; optionally
/// with <c>Storage:Sidecar</c> off. Ledger and store live in the run folder on the target.
/// </summary>
/// With a <paramref name="label"/>, it is another build of the worker (a baseline named by
/// <c>POP3INGEST_BENCH_BASELINE_WORKER</c>), measured beside this one in the same rounds.
internal sealed class Pop3IngestClient(string binary, bool sidecar, DrainTarget target, string? label = null) : DrainClient(target)
{
    public override string Name => (sidecar ? "Pop3Ingest default" : "Pop3Ingest sidecar-off") + (label is null ? string.Empty : $" ({label})");

    /// <summary>Whether this is a baseline build rather than the one under test.</summary>
    public bool IsBaseline => label is not null;

    public bool Sidecar => sidecar;

    public override async Task<DrainRun> RunAsync(DrainMailbox mailbox, string runDirectory, CancellationToken cancellationToken)
    {
        var config = WriteConfig(runDirectory, mailbox);
        var measured = await Measured.RunAsync(binary, ["once", "--config", config], runDirectory, null, RunTimeout, cancellationToken);
        var stored = CountStored(Path.Combine(runDirectory, "data", "mail"));
        return DrainRun.From(measured, Check(measured, measured.ExitCode == 0, stored, mailbox.Corpus.Count));
    }

    private string WriteConfig(string folder, DrainMailbox mailbox)
    {
        var document = new JsonObject
        {
            // As in the repository's appsettings.json.
            ["Logging"] = new JsonObject
            {
                ["LogLevel"] = new JsonObject { ["Default"] = "Information", ["Microsoft"] = "Warning", ["Quartz"] = "Warning" },
            },
            ["Pop3Ingest"] = new JsonObject
            {
                ["Ledger"] = new JsonObject { ["Provider"] = "Sqlite", ["ConnectionString"] = "Data Source=data/ledger.db" },
                ["Storage"] = new JsonObject { ["Provider"] = "FileSystem", ["Root"] = "data/mail", ["Sidecar"] = sidecar },
                ["Http"] = new JsonObject { ["Urls"] = string.Empty },
                ["Accounts"] = new JsonObject
                {
                    ["bench"] = new JsonObject
                    {
                        ["Host"] = mailbox.Host,
                        ["Port"] = mailbox.Port,
                        ["Security"] = "None",
                        ["AllowInsecureAuth"] = true,
                        ["Auth"] = "UserPass",
                        ["Username"] = mailbox.User,
                        ["Password"] = mailbox.Password,
                        ["Interval"] = "00:05:00",
                        ["DeletePolicy"] = "Never",
                    },
                },
            },
        };
        var path = Path.Combine(folder, "appsettings.json");
        File.WriteAllText(path, document.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        return path;
    }

    /// <summary>Stored messages: every file under the store root except sidecars (*.json) and the staging folder .tmp.</summary>
    private static int CountStored(string root)
    {
        if (!Directory.Exists(root))
        {
            return 0;
        }

        var staging = Path.Combine(root, ".tmp") + Path.DirectorySeparatorChar;
        return Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Count(f => !f.StartsWith(staging, StringComparison.Ordinal) && !f.EndsWith(".json", StringComparison.Ordinal));
    }
}
