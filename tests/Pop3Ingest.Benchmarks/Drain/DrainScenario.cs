using System.Globalization;
using Pop3Ingest.Benchmarks.Common;
using Pop3Ingest.IntegrationTests.Support;

namespace Pop3Ingest.Benchmarks.Drain;

/// <summary>
/// The side-by-side drain: one seeded Dovecot mailbox drained over plain POP3 on loopback by Pop3Ingest
/// (default and sidecar-off, disk and tmpfs), mpop (disk and tmpfs), getmail6, fetchmail and a raw pipelined reader.
/// Every client runs in keep mode into a fresh folder; runs are interleaved round-robin after one warm-up round.
/// </summary>
internal sealed class DrainScenario : IScenario
{
    private const int Seed = DrainMailboxUser.Seed;
    private const string User = DrainMailboxUser.Name;
    private const string Password = DrainMailboxUser.Password;
    private const string TmpfsSize = "4g";

    public string Name => "drain";

    public string Description => "drain one mailbox over plain POP3: Pop3Ingest vs mpop, getmail6, fetchmail and a raw pipelined reader";

    public int Order => 10;

    public async Task RunAsync(BenchOptions options, Report report, CancellationToken cancellationToken)
    {
        if (!Measured.GnuTimeAvailable)
        {
            throw new InvalidOperationException("GNU time (/usr/bin/time) is missing; run deploy/local/install-bench-deps.sh.");
        }

        var work = Path.Combine(options.WorkDirectory, "drain");
        Directory.CreateDirectory(work);
        Progress("publishing Pop3Ingest.Worker (Release)");
        var worker = await WorkerBinary.PublishAsync(options.WorkDirectory, cancellationToken);

        await using var server = await DovecotServer.StartAsync(new DovecotServerOptions { Users = [(User, Password)], EnableApop = false }, cancellationToken);
        Progress($"seeding {options.Messages} messages into {server.MaildirOf(User)}");
        var seedClock = System.Diagnostics.Stopwatch.StartNew();
        var corpus = await CorpusSeeder.SeedAsync(server.MaildirOf(User), options.Messages, Seed, DovecotServer.MailUserName, cancellationToken);
        Progress(FormattableString.Invariant($"seeded {corpus.MessageBytes / 1e6:0.0} MB in {seedClock.Elapsed.TotalSeconds:0.0} s"));
        var mailbox = new DrainMailbox(server.Host, server.Port, User, Password, corpus);

        var disk = Path.Combine(work, "disk");
        Directory.CreateDirectory(disk);
        var (tmpfs, tmpfsError) = await TmpfsMount.MountAsync(Path.Combine(work, "tmpfs"), TmpfsSize, cancellationToken);
        await using var tmpfsLease = tmpfs;

        var (clients, skipped) = Clients(worker, tmpfs is not null);
        var runs = clients.ToDictionary(c => c, _ => new List<DrainRun>());
        var failures = new List<string>();

        // Round 0 warms Dovecot's index and the page cache for everyone alike; it is not counted.
        for (var round = 0; round <= options.Runs; round++)
        {
            foreach (var client in clients)
            {
                var root = client.Target == DrainTarget.Tmpfs ? tmpfs!.Path : disk;
                var runDirectory = Path.Combine(root, $"{client.Slug}-{round}");
                DeleteDirectory(runDirectory);
                Directory.CreateDirectory(runDirectory);

                // Untimed: write back what the previous client left dirty, so no client pays for another's writeback.
                await Writeback.SyncAsync(cancellationToken);
                var run = await client.RunAsync(mailbox, runDirectory, cancellationToken);
                Progress(FormattableString.Invariant(
                    $"{(round == 0 ? "warm-up" : $"run {round}")} {client.Name} {client.Target}: {run.Wall.TotalSeconds:0.00} s{(run.Succeeded ? string.Empty : " FAILED")}"));
                DeleteDirectory(runDirectory);
                if (!run.Succeeded)
                {
                    failures.Add($"{client.Name} {client.Target} {(round == 0 ? "warm-up" : $"run {round}")}: {run.Failure}");
                    if (round == 0 && client is Pop3IngestClient or RawReaderClient)
                    {
                        throw new InvalidOperationException($"{client.Name} {client.Target} failed its warm-up run: {run.Failure}");
                    }
                }

                if (round > 0)
                {
                    runs[client].Add(run);
                }
            }
        }

        Print(report, options, corpus, clients, runs, failures, skipped, tmpfsError);
    }

    private static (List<DrainClient> Clients, List<string> Skipped) Clients(string worker, bool haveTmpfs)
    {
        var clients = new List<DrainClient>();
        var skipped = new List<string>();
        var targets = haveTmpfs ? new[] { DrainTarget.Disk, DrainTarget.Tmpfs } : [DrainTarget.Disk];
        foreach (var target in targets)
        {
            clients.Add(new Pop3IngestClient(worker, sidecar: true, target));
            clients.Add(new Pop3IngestClient(worker, sidecar: false, target));

            // Another build (say, main before a change), interleaved with this one in the same rounds: the way to
            // compare two builds on a noisy machine.
            if (Environment.GetEnvironmentVariable("POP3INGEST_BENCH_BASELINE_WORKER") is { Length: > 0 } baseline)
            {
                clients.Add(new Pop3IngestClient(baseline, sidecar: true, target, "baseline"));
                clients.Add(new Pop3IngestClient(baseline, sidecar: false, target, "baseline"));
            }
        }

        foreach (var target in targets)
        {
            if (File.Exists(MpopClient.Binary))
            {
                clients.Add(new MpopClient(target));
            }
        }

        if (!File.Exists(MpopClient.Binary))
        {
            skipped.Add($"mpop: {MpopClient.Binary} is missing");
        }

        if (File.Exists(GetmailClient.Binary))
        {
            clients.Add(new GetmailClient(DrainTarget.Disk));
        }
        else
        {
            skipped.Add($"getmail6: {GetmailClient.Binary} is missing");
        }

        if (File.Exists(FetchmailClient.Binary))
        {
            clients.Add(new FetchmailClient(DrainTarget.Disk));
        }
        else
        {
            skipped.Add($"fetchmail: {FetchmailClient.Binary} is missing");
        }

        clients.Add(new RawReaderClient());

        // POP3INGEST_BENCH_DRAIN_CLIENTS="pop3ingest,mpop" keeps only the clients whose run-folder name contains one of the words.
        var only = (Environment.GetEnvironmentVariable("POP3INGEST_BENCH_DRAIN_CLIENTS") ?? string.Empty)
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (only.Length > 0)
        {
            skipped.AddRange(clients.Where(c => !only.Any(o => c.Slug.Contains(o, StringComparison.OrdinalIgnoreCase)))
                .Select(c => $"{c.Name} {c.Target}: not in POP3INGEST_BENCH_DRAIN_CLIENTS"));
            clients.RemoveAll(c => !only.Any(o => c.Slug.Contains(o, StringComparison.OrdinalIgnoreCase)));
        }

        return (clients, skipped);
    }

    private static void Print(
        Report report, BenchOptions options, Corpus corpus, List<DrainClient> clients, Dictionary<DrainClient, List<DrainRun>> runs,
        List<string> failures, List<string> skipped, string? tmpfsError)
    {
        report.Line(
            FormattableString.Invariant($"Corpus: {corpus.Count} messages, {corpus.MessageBytes / 1e6:0.0} MB as RETR delivers them (CRLF): {corpus.Small} of 2-20 KB, ") +
            FormattableString.Invariant($"{corpus.Medium} of 100 KB-1 MB (multipart/mixed, base64 attachment), {corpus.Large} of 5-10 MB; {corpus.DotLines} body lines start with '.'; seed {Seed}."));
        report.Line("Server: Dovecot on 127.0.0.1, plain POP3, USER/PASS, Maildir seeded once; every client keeps the mail on the server " +
                    "and starts from an empty folder each run (no UIDL state).");
        report.Line(
            FormattableString.Invariant($"Method: one warm-up round of every client (not counted: warms Dovecot's index and the page cache alike for all), then {options.Runs} ") +
            "rounds run round-robin (run 1 of every client, then run 2, ...). Medians. Wall time from a stopwatch around the process; peak RSS and " +
            "user+sys CPU from GNU time. `sync` (untimed) before every run. MB = 10^6 bytes of message data. Disk = ext4 root file system; tmpfs mounted for the scenario.");
        if (tmpfsError is not null)
        {
            report.Line($"tmpfs rows skipped: {tmpfsError}");
        }

        foreach (var skip in skipped)
        {
            report.Line($"Skipped: {skip}.");
        }

        report.Line();
        double Median(DrainClient client, Func<DrainRun, double> value) =>
            Stats.Median(runs[client].Where(r => r.Succeeded).Select(value));
        DrainClient? Mpop(DrainTarget target) => clients.FirstOrDefault(c => c is MpopClient && c.Target == target);
        double Ratio(DrainClient client, DrainTarget versus) =>
            Mpop(versus) is { } mpop ? Median(client, r => r.Wall.TotalSeconds) / Median(mpop, r => r.Wall.TotalSeconds) : double.NaN;

        var rows = new List<IReadOnlyList<string>>();
        foreach (var client in clients)
        {
            var wall = Median(client, r => r.Wall.TotalSeconds);
            var versus = client.Target == DrainTarget.None ? DrainTarget.Tmpfs : client.Target;
            var ok = runs[client].Count(r => r.Succeeded);
            rows.Add(
            [
                client.Name,
                client.Target == DrainTarget.None ? "none (discarded)" : client.Target.ToString().ToLowerInvariant(),
                Stats.Cell(wall, "0.00"),
                Stats.Cell(corpus.Count / wall, "0"),
                Stats.Cell(corpus.MessageBytes / 1e6 / wall, "0.0"),
                Stats.Cell(Median(client, r => r.PeakRssMiB), "0"),
                Stats.Cell(Median(client, r => r.CpuSeconds), "0.00"),
                Stats.Cell(Median(client, r => r.UserSeconds), "0.00") + " / " + Stats.Cell(Median(client, r => r.SystemSeconds), "0.00"),
                Stats.Cell(Ratio(client, versus), "0.00") + (client.Target == DrainTarget.None ? " (vs tmpfs)" : string.Empty),
                string.Join(", ", runs[client].Select(r => r.Succeeded ? r.Wall.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture) : "failed")),
                FormattableString.Invariant($"{ok}/{runs[client].Count}"),
            ]);
        }

        report.Table(
            ["client", "target", "median wall s", "msgs/s", "MB/s", "peak RSS MiB", "CPU s (user+sys)", "user / sys s", "× mpop (same target)", "wall s per run", "ok"],
            rows);

        void Goal(string label, bool sidecar, DrainTarget target, double limit)
        {
            var client = clients.OfType<Pop3IngestClient>().FirstOrDefault(c => c.Sidecar == sidecar && c.Target == target && !c.IsBaseline);
            if (client is null || Mpop(target) is null)
            {
                report.Line($"- {label}: not measured.");
                return;
            }

            var ratio = Ratio(client, target);
            var verdict = double.IsNaN(ratio) ? "no result" : ratio <= limit ? "met" : "missed";
            var name = target.ToString().ToLowerInvariant();
            report.Line(FormattableString.Invariant($"- Pop3Ingest {label} {name} = {Stats.Cell(ratio, "0.00")}× mpop {name} (target ≤ {limit:0.##}×): {verdict}"));
            report.Summary(
                FormattableString.Invariant($"drain of {corpus.Count:N0} messages ({corpus.MessageBytes / 1e6:0.0} MB), {label} onto {name}, wall time against mpop's"),
                FormattableString.Invariant($"{Stats.Cell(ratio, "0.00")}× ({Stats.Cell(Median(client, r => r.Wall.TotalSeconds), "0.00")} s)"),
                FormattableString.Invariant($"≤ {limit:0.##}×: {(verdict == "missed" ? "**missed**" : verdict)}"));
        }

        Goal("sidecar-off", sidecar: false, DrainTarget.Tmpfs, 1.0);
        Goal("sidecar-off", sidecar: false, DrainTarget.Disk, 0.5);
        Goal("default", sidecar: true, DrainTarget.Disk, 1.0);
        Goal("default", sidecar: true, DrainTarget.Tmpfs, 1.0);

        if (failures.Count > 0)
        {
            report.Line();
            report.Line($"Failed runs ({failures.Count}):");
            foreach (var failure in failures)
            {
                report.Line("```");
                report.Line(failure);
                report.Line("```");
            }

            // Another client's failure is its own (getmail6's lost-child race, for one) and is reported above; the
            // scenario fails only when Pop3Ingest or the raw reader did.
            if (clients.Any(c => c is Pop3IngestClient or RawReaderClient && runs[c].Any(r => !r.Succeeded)))
            {
                throw new InvalidOperationException($"{failures.Count} drain runs failed (see above).");
            }
        }
    }

    private static void DeleteDirectory(string path)
    {
        if (Directory.Exists(path))
        {
            Directory.Delete(path, recursive: true);
        }
    }

    private static void Progress(string text) => Console.Error.WriteLine($"drain: {text}");
}
