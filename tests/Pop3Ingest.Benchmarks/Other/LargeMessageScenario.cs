using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Pop3Ingest.IntegrationTests.Support;

namespace Pop3Ingest.Benchmarks.Other;

/// <summary>
/// One 200 MB message (a base64 attachment) in a real Dovecot, drained by the worker's <c>once</c> into the folder
/// store: wall time, MB/s, peak RSS (bounded memory, README promise 3) and a byte-exact check of the stored file.
/// </summary>
internal sealed class LargeMessageScenario : IScenario
{
    private const long TargetRssMiB = 150;
    private const string User = "large";
    private const string Password = "large-pw";

    public string Name => "large";

    public string Description => "one 200 MB message from Dovecot through `once` into the folder store: time, MB/s, peak RSS, SHA-256";

    public int Order => 20;

    public async Task RunAsync(BenchOptions options, Report report, CancellationToken cancellationToken)
    {
        report.Line($"Before: {Load.Now()}.");
        var megabytes = Megabytes();
        var program = await WorkerHarness.PublishAsync(options, cancellationToken);
        var message = Build(megabytes * 1_000_000L);
        var sourceSha = Convert.ToHexStringLower(SHA256.HashData(message));
        await using var dovecot = await DovecotServer.StartAsync(new DovecotServerOptions { Users = [(User, Password)] }, cancellationToken);
        dovecot.Deliver(User, message);

        var rows = new List<IReadOnlyList<string>>();
        var walls = new List<double>();
        var rss = new List<double>();
        for (var run = 1; run <= options.Runs; run++)
        {
            var runDirectory = Path.Combine(options.WorkDirectory, "large", $"run{run}");
            WorkerHarness.ResetDirectory(runDirectory);
            var config = WorkerHarness.WriteConfig(runDirectory, new JsonObject { [User] = WorkerHarness.Account(dovecot.Port, User, Password) });
            var measured = await WorkerHarness.OnceAsync(program, config, runDirectory, cancellationToken);
            var stored = WorkerHarness.StoredMessages(Path.Combine(runDirectory, "data", "mail"));
            if (stored.Count != 1)
            {
                throw new InvalidOperationException($"Run {run} stored {stored.Count} messages instead of 1.{Environment.NewLine}{WorkerHarness.Tail(measured.Output, 20)}");
            }

            string storedSha;
            await using (var file = File.OpenRead(stored[0]))
            {
                storedSha = Convert.ToHexStringLower(await SHA256.HashDataAsync(file, cancellationToken));
            }

            if (storedSha != sourceSha)
            {
                throw new InvalidOperationException($"Run {run}: the stored file's SHA-256 {storedSha} differs from the source's {sourceSha} ({new FileInfo(stored[0]).Length} vs {message.Length} bytes).");
            }

            walls.Add(measured.WallSeconds);
            rss.Add(measured.PeakRssMiB);
            rows.Add([$"run {run}", Stats.F(measured.WallSeconds), Stats.F(message.Length / measured.WallSeconds / 1e6, "0"), Stats.F(measured.PeakRssMiB, "0"),
                Stats.F(measured.CpuSeconds), "identical"]);
            Directory.Delete(runDirectory, recursive: true);
        }

        report.Line($"Message: {Stats.N(message.Length)} bytes (CRLF, one base64 attachment), delivered to a private Dovecot (Maildir, plain POP3 on loopback); " +
                    $"`once` with DeletePolicy Never, fresh ledger and store each run; figures from GNU time (`%e %M %U %S`).");
        report.Table(["run", "wall s", "MB/s", "peak RSS MiB", "CPU s (user+sys)", "stored SHA-256 vs source"], rows);
        var medianWall = Stats.Median(walls);
        var maxRss = rss.Max();
        report.Table(
            ["figure", "value", "target", "result", "how measured"],
            [
                ["wall time (median)", $"{Stats.F(medianWall)} s ({Stats.F(message.Length / medianWall / 1e6, "0")} MB/s)", "(context)", "-",
                    $"median of {options.Runs} `once` processes: start-up, connect, LIST/UIDL, RETR into the store with fsync, ledger, exit"],
                ["peak RSS (worst run)", $"{Stats.F(maxRss, "0")} MiB", $"< {TargetRssMiB} MiB (message {Stats.F(message.Length / 1048576.0, "0")} MiB)", Stats.Met(maxRss < TargetRssMiB),
                    "GNU time %M of the worker process"],
                ["stored bytes", "SHA-256 identical in every run", "identical", "met", "SHA-256 of the stored .eml against the generated source"],
            ]);
        report.Summary(
            $"one {Stats.F(message.Length / 1e6, "0")} MB message, `once` into the folder store",
            $"{Stats.F(medianWall)} s ({Stats.F(message.Length / medianWall / 1e6, "0")} MB/s), peak RSS {Stats.F(maxRss, "0")} MiB",
            $"RSS < {TargetRssMiB} MiB: {Stats.Met(maxRss < TargetRssMiB)}");
    }

    /// <summary>The message's size in MB (10^6 bytes): <c>BENCH_LARGE_MB</c>, 200 by default; the azurite scenario uses it too.</summary>
    public static int Megabytes() => int.TryParse(Environment.GetEnvironmentVariable("BENCH_LARGE_MB"), out var m) ? m : 200;

    /// <summary>Headers, a short text part and one base64 attachment, CRLF throughout, of about <paramref name="size"/> bytes.</summary>
    public static byte[] Build(long size)
    {
        var head = Encoding.ASCII.GetBytes(
            "From: Scanner <scanner@example.org>\r\nTo: archive@example.net\r\nSubject: Large scan\r\n" +
            "Date: Mon, 23 Nov 2026 08:00:00 +0000\r\nMessage-ID: <large-200@example.org>\r\nMIME-Version: 1.0\r\n" +
            "Content-Type: multipart/mixed; boundary=\"big\"\r\n\r\n--big\r\nContent-Type: text/plain\r\n\r\nThe scan is attached.\r\n" +
            "--big\r\nContent-Type: application/octet-stream; name=\"scan.tiff\"\r\nContent-Disposition: attachment; filename=\"scan.tiff\"\r\n" +
            "Content-Transfer-Encoding: base64\r\n\r\n");
        var tail = Encoding.ASCII.GetBytes("\r\n--big--\r\n");
        var rawLength = (int)((size - head.Length - tail.Length) * 57 / 78);
        var raw = new byte[rawLength];
        new Random(200).NextBytes(raw);
        var body = Encoding.ASCII.GetBytes(Convert.ToBase64String(raw, Base64FormattingOptions.InsertLineBreaks));
        return [.. head, .. body, .. tail];
    }
}
