using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Pop3Ingest.IntegrationTests.Support;

namespace Pop3Ingest.Benchmarks.Other;

/// <summary>
/// 1,000 accounts on one Dovecot, 3 small messages each: one `once` cycle over all of them (wall, CPU, peak RSS),
/// checked to have stored all 3,000 messages. A 5-minute interval is the yardstick. Before that, `run` starting with
/// 10,000 configured accounts: how soon /healthz answers (a liveness probe's patience), how soon every account is
/// scheduled (/readyz 200), and the peak RSS.
/// </summary>
internal sealed class AccountsScenario : IScenario
{
    private const int MessagesPerAccount = 3;
    private static readonly TimeSpan s_interval = TimeSpan.FromMinutes(5);

    public string Name => "accounts";

    public string Description => "1,000 accounts x 3 messages on one host: one `once` cycle (wall, CPU, peak RSS) against a 5-minute interval";

    public int Order => 40;

    public async Task RunAsync(BenchOptions options, Report report, CancellationToken cancellationToken)
    {
        report.Line($"Before: {Load.Now()}.");
        var accountCount = int.TryParse(Environment.GetEnvironmentVariable("BENCH_ACCOUNTS"), CultureInfo.InvariantCulture, out var a) ? a : 1000;
        var parallelSettings = (Environment.GetEnvironmentVariable("BENCH_ACCOUNTS_PARALLEL") ?? "default,16")
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var program = await WorkerHarness.PublishAsync(options, cancellationToken);
        await StartupAsync(program, options, report, cancellationToken);
        var users = Enumerable.Range(1, accountCount).Select(i => (Name: $"u{i:D4}", Password: $"pw-{i}")).ToList();

        // One login process per session (Dovecot's default service_count = 1); 1,000 passwd-file users are fine.
        await using var dovecot = await DovecotServer.StartAsync(new DovecotServerOptions { Users = users, EnableApop = false }, cancellationToken);
        var random = new Random(1000);
        long bytes = 0;
        foreach (var (name, _) in users)
        {
            for (var m = 1; m <= MessagesPerAccount; m++)
            {
                var message = SmallMessage(name, m, random.Next(2_000, 6_000));
                bytes += message.Length;
                dovecot.Deliver(name, message);
            }
        }

        var accounts = new JsonObject();
        foreach (var (name, password) in users)
        {
            accounts[name] = WorkerHarness.Account(dovecot.Port, name, password);
        }

        var expected = accountCount * MessagesPerAccount;
        var rows = new List<IReadOnlyList<string>>();
        var figures = new List<IReadOnlyList<string>>();
        foreach (var parallel in parallelSettings)
        {
            var extra = parallel == "default" ? Array.Empty<string>() : ["--parallel", parallel];
            var label = parallel == "default" ? "`once` (default --parallel 4)" : $"`once --parallel {parallel}`";
            var measured = new List<ProcessMeasurement>();
            var dovecotSeconds = new List<double>();
            for (var run = 1; run <= options.Runs; run++)
            {
                var runDirectory = Path.Combine(options.WorkDirectory, "accounts", $"p{parallel}-run{run}");
                WorkerHarness.ResetDirectory(runDirectory);
                var config = WorkerHarness.WriteConfig(runDirectory, accounts);
                var dovecotBefore = DovecotCpu(dovecot);
                var result = await WorkerHarness.OnceAsync(program, config, runDirectory, cancellationToken, extra);
                var dovecotCpu = DovecotCpu(dovecot) - dovecotBefore;
                var storeRoot = Path.Combine(runDirectory, "data", "mail");
                var stored = WorkerHarness.StoredMessages(storeRoot);
                var folders = Directory.EnumerateDirectories(storeRoot).Count(d => !Path.GetFileName(d).StartsWith('.'));
                if (stored.Count != expected || folders != accountCount)
                {
                    throw new InvalidOperationException($"{label} run {run} stored {stored.Count} messages in {folders} account folders instead of {expected} in {accountCount}.");
                }

                measured.Add(result);
                dovecotSeconds.Add(dovecotCpu);
                rows.Add([label, run.ToString(CultureInfo.InvariantCulture), Stats.F(result.WallSeconds), Stats.F(result.UserSeconds), Stats.F(result.SystemSeconds),
                    Stats.F(result.PeakRssMiB, "0"), Stats.N(stored.Count), Stats.F(dovecotCpu)]);
                Directory.Delete(runDirectory, recursive: true);
            }

            var wall = Stats.Median(measured.Select(m => m.WallSeconds).ToList());
            figures.Add([$"{label}: one cycle over {Stats.N(accountCount)} accounts (median wall)", $"{Stats.F(wall)} s ({Stats.F(accountCount / wall, "0")} accounts/s, {Stats.F(expected / wall, "0")} msgs/s)",
                $"well within {s_interval.TotalMinutes:0} min (< {s_interval.TotalSeconds / 5:0} s, a fifth)", Stats.Met(wall < s_interval.TotalSeconds / 5),
                $"median of {options.Runs}; CPU {Stats.F(Stats.Median(measured.Select(m => m.CpuSeconds).ToList()))} s (user+sys), {Stats.F(Stats.Median(measured.Select(m => m.CpuSeconds).ToList()) / expected * 1000, "0.0")} ms per message; peak RSS {Stats.F(measured.Max(m => m.PeakRssMiB), "0")} MiB; Dovecot CPU {Stats.F(Stats.Median(dovecotSeconds))} s; {Stats.N(expected)} messages stored, verified"]);
            report.Summary(
                $"{Stats.N(accountCount)} accounts × {MessagesPerAccount} messages on one host, one cycle of {label}",
                $"{Stats.F(wall)} s, peak RSS {Stats.F(measured.Max(m => m.PeakRssMiB), "0")} MiB",
                $"< {s_interval.TotalSeconds / 5:0} s: {Stats.Met(wall < s_interval.TotalSeconds / 5)}");
        }

        report.Line($"Dovecot with {Stats.N(accountCount)} passwd-file users, {MessagesPerAccount} messages of 2-6 KB each ({Stats.N(bytes)} bytes in all); " +
                    "one `once` per row with all accounts in one config (DeletePolicy Never), fresh SQLite ledger and folder store each run; GNU time. " +
                    "`once` runs accounts `--parallel` at a time (default 4); Scheduler:MaxConcurrentAccounts and MaxConnectionsPerHost apply to `run` only. " +
                    "Dovecot CPU: its master plus the login and pop3 processes it reaped (/proc/<pid>/stat utime+stime+cutime+cstime), long-lived auth/log processes excluded.");
        report.Table(["command", "run", "wall s", "worker user s", "worker sys s", "worker peak RSS MiB", "stored", "Dovecot CPU s"], rows);
        report.Table(["figure", "value", "target", "result", "how measured"], figures);
    }

    /// <summary>
    /// `run` with many accounts (BENCH_STARTUP_ACCOUNTS, default 10,000) that point at a closed port with a one-hour
    /// interval, so that start-up is all that is measured: seconds from exec to the first 200 of /healthz and of /readyz
    /// (every account scheduled), and the peak RSS (VmHWM) once ready. Then SIGTERM, which must end it cleanly.
    /// </summary>
    private static async Task StartupAsync(string program, BenchOptions options, Report report, CancellationToken cancellationToken)
    {
        var count = int.TryParse(Environment.GetEnvironmentVariable("BENCH_STARTUP_ACCOUNTS"), CultureInfo.InvariantCulture, out var c) ? c : 10_000;
        var accounts = new JsonObject();
        for (var i = 1; i <= count; i++)
        {
            var account = WorkerHarness.Account(1, $"s{i:D5}", "pw");
            account["Interval"] = "01:00:00";
            accounts[$"s{i:D5}"] = account;
        }

        var rows = new List<IReadOnlyList<string>>();
        var health = new List<double>();
        var ready = new List<double>();
        var rss = new List<double>();
        for (var run = 1; run <= options.Runs; run++)
        {
            var runDirectory = Path.Combine(options.WorkDirectory, "accounts", $"startup-run{run}");
            WorkerHarness.ResetDirectory(runDirectory);
            var port = FreePort();
            var config = WorkerHarness.WriteConfig(runDirectory, accounts, root => root["Http"] = new JsonObject { ["Urls"] = $"http://127.0.0.1:{port}" });
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(2) };
            var watch = Stopwatch.StartNew();
            using var process = Process.Start(new ProcessStartInfo(program) { ArgumentList = { "run", "--config", config }, WorkingDirectory = runDirectory, RedirectStandardOutput = true, RedirectStandardError = true })
                ?? throw new InvalidOperationException("the worker did not start");
            var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
            var errors = process.StandardError.ReadToEndAsync(cancellationToken);
            try
            {
                var healthSeconds = await WaitForAsync(http, "/healthz", watch, process, cancellationToken);
                var readySeconds = await WaitForAsync(http, "/readyz", watch, process, cancellationToken);
                var peak = ProcessMeasure.PeakRssMiB(process.Id);
                health.Add(healthSeconds);
                ready.Add(readySeconds);
                rss.Add(peak);
                rows.Add([run.ToString(CultureInfo.InvariantCulture), Stats.F(healthSeconds), Stats.F(readySeconds), Stats.F(peak, "0")]);
            }
            finally
            {
                using (Process.Start("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)]))
                {
                }

                using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                stop.CancelAfter(TimeSpan.FromMinutes(2));
                await process.WaitForExitAsync(stop.Token);
                _ = await output;
                _ = await errors;
                Directory.Delete(runDirectory, recursive: true);
            }

            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"run with {count} accounts exited {process.ExitCode} after SIGTERM");
            }
        }

        var healthMedian = Stats.Median(health);
        report.Line($"`run` with {Stats.N(count)} configured accounts (closed port, one-hour interval, so only start-up is measured): seconds from exec to the first 200 of /healthz and of /readyz (every account scheduled), and peak RSS (VmHWM) then; SIGTERM ended each run with exit code 0.");
        report.Table(["run", "/healthz s", "/readyz s", "peak RSS MiB"], rows);
        report.Summary(
            $"`run` with {Stats.N(count)} accounts: start-up",
            $"/healthz after {Stats.F(healthMedian)} s, all scheduled after {Stats.F(Stats.Median(ready))} s, peak RSS {Stats.F(rss.Max(), "0")} MiB",
            $"/healthz < 10 s (a liveness probe's patience): {Stats.Met(healthMedian < 10)}");
    }

    private static async Task<double> WaitForAsync(HttpClient http, string path, Stopwatch watch, Process process, CancellationToken cancellationToken)
    {
        var deadline = TimeSpan.FromMinutes(5);
        while (watch.Elapsed < deadline)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"the worker exited with {process.ExitCode} before {path} answered");
            }

            try
            {
                using var response = await http.GetAsync(path, cancellationToken);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return watch.Elapsed.TotalSeconds;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet.
            }

            await Task.Delay(50, cancellationToken);
        }

        throw new TimeoutException($"{path} did not answer 200 within {deadline}");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Dovecot's master and the session processes it reaped (login, pop3); its long-lived auth and log processes are not counted.</summary>
    private static double DovecotCpu(DovecotServer dovecot) => ProcessMeasure.CpuSecondsOfProcesses(dovecot.ConfigPath, reapedChildren: true);

    private static byte[] SmallMessage(string user, int number, int size)
    {
        var builder = new StringBuilder();
        builder.Append(CultureInfo.InvariantCulture, $"From: \"Sender {number}\" <sender{number}@example.org>\r\nTo: {user}@example.net\r\n");
        builder.Append(CultureInfo.InvariantCulture, $"Subject: =?UTF-8?Q?Nachricht_{number}_f=C3=BCr_{user}?=\r\nDate: Mon, 23 Nov 2026 08:00:0{number} +0000\r\n");
        builder.Append(CultureInfo.InvariantCulture, $"Message-ID: <{user}-{number}@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n");
        while (builder.Length < size)
        {
            builder.Append("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.\r\n");
        }

        return Encoding.ASCII.GetBytes(builder.ToString());
    }
}
