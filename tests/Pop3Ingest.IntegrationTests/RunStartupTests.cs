using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Pop3Ingest.IntegrationTests.Support;

namespace Pop3Ingest.IntegrationTests;

/// <summary>`run` answers /healthz as soon as the host has started, however many accounts are still being scheduled.</summary>
[Trait("Category", WorkerProcess.Category)]
public sealed class RunStartupTests : IDisposable
{
    private const int Accounts = 2000;
    private readonly string _folder = Directory.CreateTempSubdirectory("p3i-startup-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task Healthz_answers_before_the_accounts_are_scheduled_and_readyz_waits_for_them()
    {
        var port = FreePort();
        WorkerConfig.Write(_folder, 1, "a0000", "pw", a => a["Interval"] = "01:00:00", root =>
        {
            root["Http"] = new JsonObject { ["Urls"] = $"http://127.0.0.1:{port}" };

            // No account's first run falls within the test.
            root["Scheduler"] = new JsonObject { ["Jitter"] = "00:59:00" };
            var accounts = root["Accounts"]!.AsObject();
            var template = accounts["a0000"]!.ToJsonString();
            for (var i = 1; i < Accounts; i++)
            {
                accounts[$"a{i:D4}"] = JsonNode.Parse(template);
            }
        });
        using var worker = WorkerProcess.Start(_folder, null, "run");
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (true)
        {
            Assert.False(worker.HasExited, worker.AllOutput);
            Assert.True(DateTime.UtcNow < deadline, worker.AllOutput);
            try
            {
                if ((await http.GetAsync("/healthz")).StatusCode == HttpStatusCode.OK)
                {
                    break;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(50);
        }

        Assert.True(await worker.WaitForOutputAsync("[5012]", TimeSpan.FromMinutes(2)), worker.AllOutput);

        // The console lines are in the order they were logged: the host was running (and /healthz answering) before
        // the first account was scheduled, and the last one after.
        var lines = worker.Output.ToList();
        var running = lines.FindIndex(l => l.Contains("[5006]", StringComparison.Ordinal));
        var firstScheduled = lines.FindIndex(l => l.Contains("[5003]", StringComparison.Ordinal));
        var allScheduled = lines.FindIndex(l => l.Contains("[5012]", StringComparison.Ordinal));
        Assert.True(running >= 0 && running < firstScheduled && firstScheduled < allScheduled, worker.AllOutput);
        Assert.Equal(Accounts, lines.Count(l => l.Contains("[5003]", StringComparison.Ordinal)));
        Assert.Contains($"All {Accounts} configured accounts are scheduled", lines[allScheduled], StringComparison.Ordinal);

        using (var ready = await http.GetAsync("/readyz"))
        {
            Assert.True(ready.StatusCode == HttpStatusCode.OK, await ready.Content.ReadAsStringAsync());
        }

        worker.Terminate();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await worker.WaitForExitAsync(stop.Token);
        Assert.True(worker.ExitCode == 0, worker.AllOutput);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
