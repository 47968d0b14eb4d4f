using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using Pop3Ingest.Ingestion.Ledger;
using Pop3Ingest.Ingestion.Ledger.Sqlite;
using Pop3Ingest.IntegrationTests.Support;

namespace Pop3Ingest.IntegrationTests;

/// <summary>The command line end to end against Dovecot: check, ledger, and run with live reload and SIGTERM.</summary>
[Trait("Category", WorkerProcess.Category)]
public sealed class WorkerCliTests : IDisposable
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromMinutes(2);
    private readonly string _folder = Directory.CreateTempSubdirectory("p3i-cli-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string StoreRoot => Path.Combine(_folder, "data", "mail");

    [Fact]
    public async Task Check_reports_each_step_and_fails_on_a_wrong_password()
    {
        await using var server = await DovecotServer.StartAsync(new DovecotServerOptions { Users = [("chk", "pw")], ExtraConfig = "auth_failure_delay = 0" });
        WorkerConfig.Write(_folder, server.Port, "chk", "pw");
        var (code, output) = await WorkerProcess.RunAsync(_folder, s_timeout, null, "check");
        Assert.True(code == 0, output);
        Assert.Contains("authenticated", output, StringComparison.Ordinal);
        Assert.Contains("chk: tcp", output, StringComparison.Ordinal);

        var (failed, failedOutput) = await WorkerProcess.RunAsync(_folder, s_timeout,
            new Dictionary<string, string> { ["Pop3Ingest__Accounts__chk__Password"] = "nope" }, "check", "--account", "chk");
        Assert.Equal(1, failed);
        Assert.Contains("FAILED", failedOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("nope", failedOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Attended_once_in_a_terminal_shows_progress()
    {
        await using var server = await DovecotServer.StartAsync(new DovecotServerOptions { Users = [("tty", "pw")] });
        for (var i = 1; i <= 20; i++)
        {
            server.Deliver("tty", TestMessages.Create(i, 20_000));
        }

        WorkerConfig.Write(_folder, server.Port, "tty", "pw");
        var worker = WorkerProcess.NativeBinary ?? $"dotnet {Path.Combine(AppContext.BaseDirectory, "Pop3Ingest.Worker.dll")}";

        // script(1) gives the worker a pseudo-terminal, as an operator's shell would.
        var (code, output) = await ProcessRunner.RunAsync(_folder, "script", "-qfec", $"{worker} once", "/dev/null");
        Assert.True(code == 0, output);
        Assert.Contains("1 accounts: 20/20 messages", output, StringComparison.Ordinal);
        Assert.Equal(20, StoreInspector.MessageFiles(StoreRoot).Count);
    }

    [Fact]
    public async Task Ledger_seed_adopts_a_mailbox_and_only_new_mail_is_ingested()
    {
        await using var server = await DovecotServer.StartAsync(new DovecotServerOptions { Users = [("seed", "pw")] });
        for (var i = 1; i <= 10; i++)
        {
            server.Deliver("seed", TestMessages.Create(i, 2000));
        }

        WorkerConfig.Write(_folder, server.Port, "seed", "pw");
        var (seeded, seedOutput) = await WorkerProcess.RunAsync(_folder, s_timeout, null, "ledger", "seed", "--account", "seed");
        Assert.True(seeded == 0, seedOutput);
        Assert.Contains("10 messages seeded", seedOutput, StringComparison.Ordinal);

        var (once, onceOutput) = await WorkerProcess.RunAsync(_folder, s_timeout, null, "once");
        Assert.True(once == 0, onceOutput);
        Assert.Empty(StoreInspector.MessageFiles(StoreRoot));
        Assert.Equal(10, server.MessageCount("seed"));

        for (var i = 11; i <= 13; i++)
        {
            server.Deliver("seed", TestMessages.Create(i, 2000));
        }

        (once, onceOutput) = await WorkerProcess.RunAsync(_folder, s_timeout, null, "once");
        Assert.True(once == 0, onceOutput);
        Assert.Equal(3, StoreInspector.MessageFiles(StoreRoot).Count);
        Assert.Equal(10, server.MessageCount("seed"));

        var (listed, list) = await WorkerProcess.RunAsync(_folder, s_timeout, null, "ledger", "list", "--account", "seed", "--state", "Seeded", "--format", "tsv");
        Assert.Equal(0, listed);
        Assert.Equal(11, list.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);

        var (retry, retryOutput) = await WorkerProcess.RunAsync(_folder, s_timeout, null, "ledger", "retry", "--account", "seed", "--uidl", "no-such-uidl");
        Assert.Equal(1, retry);
        Assert.Contains("no quarantined message", retryOutput, StringComparison.Ordinal);

        // A quarantined message released by `ledger retry`: the row is written here, the release is the worker's.
        var quarantined = new LedgerRow
        {
            Account = "seed", Uidl = "stuck-1", BlobName = "seed/2026/12/02/stuck.eml", State = LedgerState.Quarantined,
            FirstSeen = DateTimeOffset.UtcNow, UpdatedAt = DateTimeOffset.UtcNow, Attempts = 5, LastError = "boom",
        };
        await new SqliteLedger($"Data Source={Path.Combine(_folder, "data", "ledger.db")}").InsertAsync([quarantined], CancellationToken.None);
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        (retry, retryOutput) = await WorkerProcess.RunAsync(_folder, s_timeout, null, "ledger", "retry", "--account", "seed", "--uidl", "stuck-1");
        Assert.True(retry == 0, retryOutput);
        Assert.Contains("stuck-1 released", retryOutput, StringComparison.Ordinal);
        var (_, pending) = await WorkerProcess.RunAsync(_folder, s_timeout, null, "ledger", "list", "--account", "seed", "--state", "Pending", "--format", "json");
        var released = JsonDocument.Parse(pending.Split('\n').Single(l => l.StartsWith('{'))).RootElement;
        Assert.Equal("stuck-1", released.GetProperty("uidl").GetString());
        Assert.Equal(0, released.GetProperty("attempts").GetInt32());

        var exported = Path.Combine(_folder, "ledger.jsonl");
        var (export, exportOutput) = await WorkerProcess.RunAsync(_folder, s_timeout, null, "ledger", "export", "--file", exported);
        Assert.True(export == 0, exportOutput);
        var other = Directory.CreateTempSubdirectory("p3i-import-").FullName;
        try
        {
            WorkerConfig.Write(other, server.Port, "seed", "pw");
            var (import, importOutput) = await WorkerProcess.RunAsync(other, s_timeout, null, "ledger", "import", "--file", exported);
            Assert.True(import == 0, importOutput);
            Assert.Contains("14 rows imported", importOutput, StringComparison.Ordinal);
            var (_, original) = await WorkerProcess.RunAsync(_folder, s_timeout, null, "ledger", "list", "--account", "seed", "--format", "tsv");
            var (_, copy) = await WorkerProcess.RunAsync(other, s_timeout, null, "ledger", "list", "--account", "seed", "--format", "tsv");
            Assert.Equal(original, copy);
        }
        finally
        {
            Directory.Delete(other, recursive: true);
        }
    }

    [Fact]
    public async Task Run_polls_on_schedule_serves_health_picks_up_config_edits_and_stops_cleanly_on_sigterm()
    {
        await using var server = await DovecotServer.StartAsync(new DovecotServerOptions { Users = [("alpha", "pw"), ("beta", "pw")] });
        for (var i = 1; i <= 5; i++)
        {
            server.Deliver("alpha", TestMessages.Create(i, 3000));
            server.Deliver("beta", TestMessages.Create(100 + i, 3000));
        }

        var port = FreePort();
        var configPath = WorkerConfig.Write(_folder, server.Port, "alpha", "pw", a => a["Interval"] = "00:00:02",
            root => root["Http"] = new JsonObject { ["Urls"] = $"http://127.0.0.1:{port}" });
        using var worker = WorkerProcess.Start(_folder, null, "run");

        // The binary under test is the one asked for: the native build when POP3INGEST_WORKER_BINARY names it.
        var exe = new FileInfo($"/proc/{worker.Id}/exe").LinkTarget;
        if (WorkerProcess.NativeBinary is { } native)
        {
            Assert.Equal(native, exe);
        }
        else
        {
            Assert.Equal("dotnet", Path.GetFileName(exe));
        }

        Assert.True(await worker.WaitForOutputAsync("[3002] alpha", s_timeout, count: 2), worker.AllOutput);
        Assert.Equal(5, StoreInspector.MessageFiles(Path.Combine(StoreRoot, "alpha")).Count);

        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        Assert.Equal("ok", await http.GetStringAsync("/healthz"));
        using (var ready = await http.GetAsync("/readyz"))
        {
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        }

        using (var status = JsonDocument.Parse(await http.GetStringAsync("/status")))
        {
            var alpha = status.RootElement.GetProperty("accounts")[0];
            Assert.Equal("alpha", alpha.GetProperty("account").GetString());
            Assert.Equal(5, alpha.GetProperty("messagesToday").GetInt64());
        }

        Assert.Contains("pop3ingest_messages_ingested_total{account=\"alpha\"} 5", await http.GetStringAsync("/metrics"), StringComparison.Ordinal);

        // A broken edit is refused and the service goes on.
        var good = await File.ReadAllTextAsync(configPath);
        await File.WriteAllTextAsync(configPath, good.Replace("\"00:00:02\"", "\"not a time\"", StringComparison.Ordinal));
        Assert.True(await worker.WaitForOutputAsync("[5002]", s_timeout), worker.AllOutput);

        // A valid edit adds an account without a restart.
        var document = JsonNode.Parse(good)!;
        document["Pop3Ingest"]!["Accounts"]!["beta"] = JsonNode.Parse(document["Pop3Ingest"]!["Accounts"]!["alpha"]!.ToJsonString())!;
        document["Pop3Ingest"]!["Accounts"]!["beta"]!["Username"] = "beta";
        await File.WriteAllTextAsync(configPath, document.ToJsonString());
        Assert.True(await worker.WaitForOutputAsync("[3002] beta", s_timeout), worker.AllOutput);
        Assert.Equal(5, StoreInspector.MessageFiles(Path.Combine(StoreRoot, "beta")).Count);
        Assert.Equal(0, server.MessageCount("beta"));

        worker.Terminate();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(40));
        await worker.WaitForExitAsync(stop.Token);
        Assert.True(worker.ExitCode == 0, worker.AllOutput);
        Assert.Contains(worker.Output, l => l.Contains("[5007]", StringComparison.Ordinal));
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
