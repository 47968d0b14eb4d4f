using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Pop3Ingest.IntegrationTests.Support;

namespace Pop3Ingest.IntegrationTests;

/// <summary>The worker as a .NET operator hosts it: systemd's notify protocol, and the console log format chosen by configuration.</summary>
[Trait("Category", WorkerProcess.Category)]
public sealed class WorkerHostingTests : IDisposable
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromMinutes(2);
    private readonly string _folder = Directory.CreateTempSubdirectory("p3i-host-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task Under_systemd_run_reports_ready_once_scheduling_and_stopping_on_sigterm_and_logs_json_with_run_scopes()
    {
        await using var server = await DovecotServer.StartAsync(new DovecotServerOptions { Users = [("sd", "pw")] });
        server.Deliver("sd", TestMessages.Create(1, 3000));
        var port = FreePort();
        WorkerConfig.Write(_folder, server.Port, "sd", "pw", a => a["Interval"] = "00:00:02",
            root => root["Http"] = new JsonObject { ["Urls"] = $"http://127.0.0.1:{port}" });

        // systemd's side of Type=notify: a datagram socket named by NOTIFY_SOCKET.
        var socketPath = Path.Combine(_folder, "notify.sock");
        using var notify = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        notify.Bind(new UnixDomainSocketEndPoint(socketPath));
        using var worker = WorkerProcess.Start(_folder, new Dictionary<string, string>
        {
            ["NOTIFY_SOCKET"] = socketPath,
            ["Logging__Console__FormatterName"] = "json",
        }, "run");

        Assert.Contains("READY=1", await ReceiveAsync(notify, worker), StringComparison.Ordinal);
        Assert.True(await worker.WaitForOutputAsync("\"EventId\":3002", s_timeout), worker.AllOutput);
        using (var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") })
        {
            await http.GetStringAsync("/metrics");
        }

        worker.Terminate();
        Assert.Contains("STOPPING=1", await ReceiveAsync(notify, worker), StringComparison.Ordinal);
        using (var exit = new CancellationTokenSource(s_timeout))
        {
            await worker.WaitForExitAsync(exit.Token);
        }

        Assert.Equal(0, worker.ExitCode);

        // One JSON object per line; a run's lines carry the account and the run id as scopes; ASP.NET Core's request
        // lines (one per scrape) stay below the default Warning.
        var lines = worker.Output.Where(l => l.StartsWith('{')).ToList();
        Assert.NotEmpty(lines);
        var finished = lines.Select(l => JsonDocument.Parse(l).RootElement).First(e => e.GetProperty("EventId").GetInt32() == 3002);
        var scope = finished.GetProperty("Scopes").EnumerateArray().Single(s => s.ValueKind == JsonValueKind.Object && s.TryGetProperty("RunId", out _));
        Assert.Equal("sd", scope.GetProperty("Account").GetString());
        Assert.Matches("^[0-9a-f]{16,32}$", scope.GetProperty("RunId").GetString());
        Assert.DoesNotContain(worker.Output, l => l.Contains("Microsoft.AspNetCore", StringComparison.Ordinal));
        Assert.DoesNotContain(worker.Output, l => l.Contains("\"pw\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Run_exports_its_own_and_the_runtime_s_metrics_and_its_traces_through_OTLP()
    {
        await using var server = await DovecotServer.StartAsync(new DovecotServerOptions { Users = [("otel", "pw")] });
        server.Deliver("otel", TestMessages.Create(1, 3000));
        WorkerConfig.Write(_folder, server.Port, "otel", "pw", a => a["Interval"] = "00:00:02");

        // An OTLP/HTTP collector on loopback that keeps what it is sent (protobuf carries names as plain strings).
        var port = FreePort();
        using var collector = new HttpListener();
        collector.Prefixes.Add($"http://127.0.0.1:{port}/");
        collector.Start();
        var received = new System.Collections.Concurrent.ConcurrentDictionary<string, string>();
        var serving = Task.Run(async () =>
        {
            while (collector.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await collector.GetContextAsync();
                }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
                {
                    return;
                }

                using var body = new MemoryStream();
                await context.Request.InputStream.CopyToAsync(body);
                received.AddOrUpdate(context.Request.Url!.AbsolutePath, Encoding.Latin1.GetString(body.ToArray()), (_, old) => old + Encoding.Latin1.GetString(body.ToArray()));
                context.Response.StatusCode = 200;
                context.Response.Close();
            }
        });

        using var worker = WorkerProcess.Start(_folder, new Dictionary<string, string>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = $"http://127.0.0.1:{port}",
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "500",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "500",
        }, "run");
        Assert.True(await worker.WaitForOutputAsync("[3002] otel", s_timeout), worker.AllOutput);
        var deadline = DateTime.UtcNow + s_timeout;
        while (DateTime.UtcNow < deadline &&
               !(received.GetValueOrDefault("/v1/metrics", "").Contains("pop3ingest.messages.ingested", StringComparison.Ordinal) &&
                 received.GetValueOrDefault("/v1/metrics", "").Contains("dotnet.gc.collections", StringComparison.Ordinal) &&
                 received.GetValueOrDefault("/v1/traces", "").Contains("pop3ingest.run", StringComparison.Ordinal)))
        {
            await Task.Delay(200);
        }

        worker.Terminate();
        collector.Stop();
        await serving;
        Assert.Contains("pop3ingest.messages.ingested", received.GetValueOrDefault("/v1/metrics", ""), StringComparison.Ordinal);
        Assert.Contains("dotnet.gc.collections", received.GetValueOrDefault("/v1/metrics", ""), StringComparison.Ordinal);
        Assert.Contains("pop3ingest.run", received.GetValueOrDefault("/v1/traces", ""), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_console_format_is_refused_at_start_with_the_key_and_the_accepted_values()
    {
        WorkerConfig.Write(_folder, 1, "fmt", "pw");
        var (code, output) = await WorkerProcess.RunAsync(_folder, s_timeout,
            new Dictionary<string, string> { ["Logging__Console__FormatterName"] = "xml" }, "check");
        Assert.Equal(2, code);
        Assert.Contains("Logging:Console:FormatterName: 'xml' is not a console log format; use simple, json or systemd.", output, StringComparison.Ordinal);
    }

    private static async Task<string> ReceiveAsync(Socket socket, WorkerProcess worker)
    {
        var buffer = new byte[4096];
        using var timeout = new CancellationTokenSource(s_timeout);
        try
        {
            var received = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
            return Encoding.UTF8.GetString(buffer, 0, received);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"no notification from the worker: {worker.AllOutput}");
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
