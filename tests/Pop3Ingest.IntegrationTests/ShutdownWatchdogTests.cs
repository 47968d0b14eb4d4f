using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using Pop3Ingest.IntegrationTests.Support;

namespace Pop3Ingest.IntegrationTests;

/// <summary>SIGTERM stops the process within ShutdownTimeout and a margin, even when the clean stop waits on something that ignores cancellation.</summary>
[Trait("Category", WorkerProcess.Category)]
public sealed class ShutdownWatchdogTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("p3i-watchdog-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task Once_exits_within_the_shutdown_timeout_while_the_ledger_is_locked_and_the_server_stalls()
    {
        // A server that accepts and never greets, and an account Timeout far longer than the test.
        using var server = new TcpListener(IPAddress.Loopback, 0);
        server.Start();
        var accepted = new List<Socket>();
        _ = Task.Run(async () =>
        {
            while (true)
            {
                accepted.Add(await server.AcceptSocketAsync());
            }
        });

        // Another process holds the SQLite ledger: the worker's migration waits in SQLite's busy handler, which no
        // cancellation token reaches, for the connection string's Default Timeout (here longer than the test).
        Directory.CreateDirectory(Path.Combine(_folder, "data"));
        await using var holder = new SqliteConnection($"Data Source={Path.Combine(_folder, "data", "ledger.db")};Pooling=false");
        await holder.OpenAsync();
        await using (var exclusive = holder.CreateCommand())
        {
            exclusive.CommandText = "CREATE TABLE IF NOT EXISTS held(x); BEGIN EXCLUSIVE; INSERT INTO held VALUES (1);";
            await exclusive.ExecuteNonQueryAsync();
        }

        var shutdownTimeout = TimeSpan.FromSeconds(2);
        WorkerConfig.Write(_folder, ((IPEndPoint)server.LocalEndpoint).Port, "stall", "pw", a => a["Timeout"] = "00:10:00", root =>
        {
            root["Ledger"] = new JsonObject { ["ConnectionString"] = "Data Source=data/ledger.db;Default Timeout=300" };
            root["ShutdownTimeout"] = "00:00:02";
        });
        using var worker = WorkerProcess.Start(_folder, null, "once");
        Assert.True(await worker.WaitForOutputAsync("[3001] stall", TimeSpan.FromMinutes(1)), worker.AllOutput);
        await Task.Delay(TimeSpan.FromSeconds(1));

        var watch = Stopwatch.StartNew();
        worker.Terminate();
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await worker.WaitForExitAsync(wait.Token);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"still running {watch.Elapsed} after SIGTERM: {worker.AllOutput}");
        }

        // ShutdownTimeout + the watchdog's 10 s margin, and a little for the runtime to exit.
        Assert.True(watch.Elapsed < shutdownTimeout + TimeSpan.FromSeconds(10) + TimeSpan.FromSeconds(4), $"exited {watch.Elapsed} after SIGTERM");
        Assert.True(worker.ExitCode == 1, worker.AllOutput);
        var line = Assert.Single(worker.Errors, l => l.StartsWith("Stopped without a clean stop", StringComparison.Ordinal));
        Assert.Contains("still running: preparing the ledger and the store", line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", worker.AllOutput, StringComparison.Ordinal);
        foreach (var socket in accepted.ToList())
        {
            socket.Dispose();
        }
    }
}
