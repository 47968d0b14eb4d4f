using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Azure.Storage.Blobs;
using BlobStates = Azure.Storage.Blobs.Models.BlobStates;
using BlobTraits = Azure.Storage.Blobs.Models.BlobTraits;
using Microsoft.Extensions.Logging.Abstractions;
using Pop3Ingest.Ingestion.Azure;
using Pop3Ingest.Ingestion.Notifications.AzureQueue;
using Pop3Ingest.Ingestion.Events;
using Pop3Ingest.Ingestion.Pipeline;
using Pop3Ingest.Ingestion.Storage;
using Pop3Ingest.Ingestion.Storage.AzureBlob;
using Pop3Ingest.IntegrationTests.Support;
using Pop3Ingest.Mime;
using Pop3Ingest.Pop3;

namespace Pop3Ingest.Benchmarks.Other;

/// <summary>
/// The mixed corpus drained by `once` into Azurite (Blob + queue notifications), straight and behind a delay line that
/// adds a round trip as to a storage account far away (<c>--azure-delay-ms</c>), each `once` on a fresh Azurite; with a
/// baseline build (<c>POP3INGEST_BENCH_BASELINE_WORKER</c>) beside this one in the same rounds. Then one large message
/// (<c>BENCH_LARGE_MB</c>) into Azurite for the worker's peak RSS. As context, the two sides measured apart in-process:
/// the raw pipelined POP3 download into Stream.Null, and the Put Blob (+ sidecar) and queue messages of the same bytes
/// from the product's store and notifier, one at a time.
/// </summary>
internal sealed class AzuriteScenario : IScenario
{
    private const string User = "azure";
    private const string Password = "azure-pw";
    private const string LargeUser = "azure-large";
    private const string LargePassword = "azure-large-pw";
    private const string Container = AzuriteOnce.Container;
    private const string Queue = AzuriteOnce.Queue;

    // Targets (issue 23): behind the delay the drain keeps 80% of its own rate; the large message may use the upload
    // byte budget (Storage:UploadBufferBytes, 64 MiB by default) above the baseline's peak.
    private const double DelayedRateTarget = 0.80;
    private const double UploadBudgetMiB = 64;

    public string Name => "azurite";

    public string Description => "mixed corpus (--messages) from Dovecot through `once` into Azurite Blob + queue, straight and behind --azure-delay-ms; one large message; POP3 side vs blob side";

    public int Order => 50;

    public async Task RunAsync(BenchOptions options, Report report, CancellationToken cancellationToken)
    {
        report.Line($"Before: {Load.Now()}.");
        var workers = WorkerBuild.All(await WorkerHarness.PublishAsync(options, cancellationToken));
        var delay = TimeSpan.FromMilliseconds(options.AzureDelayMs);
        TimeSpan[] roundTrips = delay > TimeSpan.Zero ? [TimeSpan.Zero, delay] : [TimeSpan.Zero];
        var corpus = MixedCorpus.Generate(options.Messages);
        var totalBytes = corpus.Sum(m => (long)m.Length);
        var large = LargeMessageScenario.Build(LargeMessageScenario.Megabytes() * 1_000_000L);
        var largeSha = Convert.ToHexStringLower(SHA256.HashData(large));
        await using var dovecot = await DovecotServer.StartAsync(new DovecotServerOptions { Users = [(User, Password), (LargeUser, LargePassword)] }, cancellationToken);
        foreach (var message in corpus)
        {
            dovecot.Deliver(User, message);
        }

        dovecot.Deliver(LargeUser, large);

        // Warm Dovecot's index and the page cache, so every timing below sees the same server.
        var pop3Seconds = new List<double>();
        for (var i = 0; i <= options.Runs; i++)
        {
            var (seconds, bytes) = await DownloadAsync(dovecot.Port, cancellationToken);
            if (bytes != totalBytes)
            {
                throw new InvalidOperationException($"RETR returned {bytes} bytes instead of {totalBytes}.");
            }

            if (i > 0)
            {
                pop3Seconds.Add(seconds);
            }
        }

        // The worker, end to end: round by round every build at every distance, each `once` on a fresh Azurite. The
        // builds take turns going first, so that neither always runs right after the other's Azurite.
        var drains = new List<AzuriteRun>();
        for (var run = 1; run <= options.Runs; run++)
        {
            foreach (var roundTrip in roundTrips)
            {
                foreach (var worker in run % 2 == 1 ? workers : workers.Reverse())
                {
                    Console.Error.WriteLine(FormattableString.Invariant($"azurite: run {run}, {worker.Name}, +{roundTrip.TotalMilliseconds:0} ms"));
                    drains.Add(await AzuriteOnce.RunAsync(
                        worker, roundTrip, run, options.WorkDirectory, WorkerHarness.Account(dovecot.Port, User, Password), User, corpus.Count, null, cancellationToken));
                }
            }
        }

        // The large message, straight: what the worker holds in memory while it uploads.
        var larges = new List<AzuriteRun>();
        for (var run = 1; run <= options.Runs; run++)
        {
            foreach (var worker in run % 2 == 1 ? workers : workers.Reverse())
            {
                Console.Error.WriteLine(FormattableString.Invariant($"azurite: large message, run {run}, {worker.Name}"));
                larges.Add(await AzuriteOnce.RunAsync(
                    worker, TimeSpan.Zero, run, options.WorkDirectory, WorkerHarness.Account(dovecot.Port, LargeUser, LargePassword), LargeUser, 1,
                    (azurite, ct) => CheckLargeBlobAsync(azurite, large.Length, largeSha, ct), cancellationToken));
            }
        }

        // The blob side alone: the same bytes through the product's store and notifier, sequentially, fresh Azurite.
        Console.Error.WriteLine("azurite: blob and queue sides in-process");
        var (putSeconds, queueSeconds, blobCpu, queueCpu) = await BlobSideAsync(corpus, cancellationToken);

        var pop3 = Stats.Median(pop3Seconds);
        report.Line($"Corpus: {Stats.N(corpus.Count)} messages, {Stats.F(totalBytes / 1e6, "0")} MB (seed 8: ~90% 2-20 KB, ~10% 100 KB-1 MB, " +
                    $"{corpus.Count(m => m.Length > 2_000_000)} of 2-6 MB), one Dovecot account, DeletePolicy Never; Azurite {AzuriteVersion()} (azurite-blob + azurite-queue, fresh per `once`); " +
                    $"the worker's storage and notification settings at their defaults; workers: {string.Join(", ", workers.Select(w => $"{w.Name} `{w.Program}`"))}; " +
                    "worker figures from GNU time, Azurite's CPU from /proc/<pid>/stat of its processes.");
        if (delay > TimeSpan.Zero)
        {
            report.Line($"Distance: +{Stats.F(delay.TotalMilliseconds, "0")} ms is a delay line in front of both Azurite endpoints (the connection string's BlobEndpoint and QueueEndpoint " +
                        "point at it) that forwards every chunk half a round trip after it arrived, each way, without limiting throughput; a new connection waits one round trip more (the handshake).");
        }

        PrintDrains(report, options, corpus.Count, totalBytes, workers, roundTrips, drains);
        PrintLarge(report, large.Length, larges);
        var figures = Figures(report, options, corpus.Count, totalBytes, workers, delay, drains, larges, large.Length);
        var straight = Runs(drains, workers[0], TimeSpan.Zero);
        var azuriteCpu = Stats.Median(straight.Select(r => r.AzuriteCpuSeconds).ToList());
        var wall = Stats.Median(straight.Select(r => r.Measured.WallSeconds).ToList());
        figures.AddRange(
        [
            ["POP3 side: raw download of the mailbox", $"{Stats.F(pop3)} s ({Stats.F(totalBytes / pop3 / 1e6, "0")} MB/s)", "(context)", "-",
                $"in-process, product Pop3Client: UIDL+LIST then pipelined `RetrieveManyAsync` of all messages into Stream.Null, one session; median of {options.Runs} after a warm-up ({Stats.List(pop3Seconds)} s)"],
            ["blob side: Put Blob + sidecar of the same bytes", $"{Stats.F(putSeconds)} s ({Stats.F(totalBytes / putSeconds / 1e6, "0")} MB/s)", "(context)", "-",
                $"in-process, product AzureBlobMessageStore.PutAsync per message with its sidecar JSON (prepared beforehand), one at a time; fresh Azurite, straight; azurite-blob CPU {Stats.F(blobCpu)} s"],
            ["queue side: one notification per message", $"{Stats.F(queueSeconds)} s ({Stats.F(corpus.Count / queueSeconds, "0")} msgs/s)", "(context)", "-",
                $"in-process, product AzureQueueNotifier.PublishAsync per message, one at a time; azurite-queue CPU {Stats.F(queueCpu)} s"],
            ["bottleneck", (putSeconds + queueSeconds) > pop3 ? $"Azurite: blob + queue sides {Stats.F((putSeconds + queueSeconds) / pop3, "0")}x the POP3 side" : "the POP3 side", "-", "-",
                $"in-process sides: POP3 {Stats.F(pop3)} s vs blob {Stats.F(putSeconds)} s + queue {Stats.F(queueSeconds)} s; during the current build's straight `once` Azurite (Node, one event loop per service) burned {Stats.F(azuriteCpu)} CPU-s of {Stats.F(wall)} s wall"],
        ]);
        report.Table(["figure", "value", "target", "result", "how measured"], figures);
    }

    /// <summary>Every `once` of the corpus, then per build and distance the medians.</summary>
    private static void PrintDrains(Report report, BenchOptions options, int count, long totalBytes, IReadOnlyList<WorkerBuild> workers, TimeSpan[] roundTrips, List<AzuriteRun> drains)
    {
        report.Table(
            ["`once` run", "worker", "round trip added", "wall s", "msgs/s", "MB/s", "worker peak RSS MiB", "worker CPU s", "worker CPU ms/msg", "Azurite CPU s"],
            drains.Select(r => (IReadOnlyList<string>)
            [
                r.Run.ToString(CultureInfo.InvariantCulture), r.Worker.Name, Distance(r.RoundTrip), Stats.F(r.Measured.WallSeconds), Stats.F(count / r.Measured.WallSeconds, "0.0"),
                Stats.F(totalBytes / r.Measured.WallSeconds / 1e6, "0.0"), Stats.F(r.Measured.PeakRssMiB, "0"), Stats.F(r.Measured.CpuSeconds),
                Stats.F(r.Measured.CpuSeconds / count * 1000, "0.00"), Stats.F(r.AzuriteCpuSeconds),
            ]));
        var rows = new List<IReadOnlyList<string>>();
        foreach (var worker in workers)
        {
            foreach (var roundTrip in roundTrips)
            {
                var runs = Runs(drains, worker, roundTrip);
                var rate = Rate(drains, worker, roundTrip, count);
                var own = Rate(drains, worker, TimeSpan.Zero, count);
                rows.Add(
                [
                    worker.Name, Distance(roundTrip), Stats.F(rate, "0.0"), roundTrip == TimeSpan.Zero ? "1" : Stats.F(rate / own),
                    Stats.F(CpuPerMessageMs(drains, worker, roundTrip, count), "0.00"), Stats.F(runs.Max(r => r.Measured.PeakRssMiB), "0"),
                    Stats.F(Stats.Median(runs.Select(r => r.AzuriteCpuSeconds).ToList())),
                ]);
            }
        }

        report.Table(["worker", "round trip added", $"msgs/s (median of {options.Runs})", "× its rate straight", "worker CPU ms/msg (median)", "worker peak RSS MiB (worst)", "Azurite CPU s (median)"], rows);
    }

    private static void PrintLarge(Report report, long length, List<AzuriteRun> larges)
    {
        report.Line($"Large message: {Stats.N(length)} bytes (the `large` scenario's, one base64 attachment) in a second Dovecot account, `once` straight into a fresh Azurite; " +
                    "the blob's length and the SHA-256 in its metadata checked against the source.");
        report.Table(
            ["run", "worker", "wall s", "MB/s", "peak RSS MiB", "CPU s (user+sys)", "Azurite CPU s"],
            larges.Select(r => (IReadOnlyList<string>)
            [
                r.Run.ToString(CultureInfo.InvariantCulture), r.Worker.Name, Stats.F(r.Measured.WallSeconds), Stats.F(length / r.Measured.WallSeconds / 1e6, "0"),
                Stats.F(r.Measured.PeakRssMiB, "0"), Stats.F(r.Measured.CpuSeconds), Stats.F(r.AzuriteCpuSeconds),
            ]));
    }

    /// <summary>
    /// The targets, judged on the current build (the baseline's own figures as context), as rows of the figures table;
    /// their summary rows go to the root README.
    /// </summary>
    private static List<IReadOnlyList<string>> Figures(
        Report report, BenchOptions options, int count, long totalBytes, IReadOnlyList<WorkerBuild> workers, TimeSpan delay, List<AzuriteRun> drains, List<AzuriteRun> larges, long largeLength)
    {
        var rows = new List<IReadOnlyList<string>>();
        var current = workers[0];
        var baseline = workers.FirstOrDefault(w => w.IsBaseline);
        var straight = Rate(drains, current, TimeSpan.Zero, count);
        var cpu = CpuPerMessageMs(drains, current, TimeSpan.Zero, count);
        var largeRss = larges.Where(r => r.Worker == current).Max(r => r.Measured.PeakRssMiB);
        var medians = $"medians of {options.Runs}";
        var corpus = $"{Stats.N(count)} messages ({Stats.F(totalBytes / 1e6, "0")} MB), `once` into Azurite Blob + queue";
        var large = $"one {Stats.F(largeLength / 1e6, "0")} MB message, `once` into Azurite";
        rows.Add(["`once` straight into Azurite", $"{Stats.F(straight, "0.0")} msgs/s, worker CPU {Stats.F(cpu, "0.00")} ms/msg", "(context)", "-", medians]);

        if (delay > TimeSpan.Zero)
        {
            var delayed = Rate(drains, current, delay, count);
            var ratio = delayed / straight;
            var verdict = Stats.Met(ratio >= DelayedRateTarget);
            var context = baseline is null ? string.Empty
                : $"; baseline {Stats.F(Rate(drains, baseline, delay, count), "0.0")} vs {Stats.F(Rate(drains, baseline, TimeSpan.Zero, count), "0.0")} msgs/s ({Stats.F(Rate(drains, baseline, delay, count) / Rate(drains, baseline, TimeSpan.Zero, count))}×)";
            rows.Add([$"`once` behind +{Distance(delay)} against straight", $"{Stats.F(ratio)}× ({Stats.F(delayed, "0.0")} vs {Stats.F(straight, "0.0")} msgs/s)",
                $"≥ {Stats.F(DelayedRateTarget)}×", verdict, medians + context]);
            report.Summary($"{corpus}, behind a {Distance(delay)} round trip against straight", $"{Stats.F(ratio)}× ({Stats.F(delayed, "0.0")} vs {Stats.F(straight, "0.0")} msgs/s)",
                $"≥ {Stats.F(DelayedRateTarget)}×: {verdict}");
        }

        if (baseline is not null)
        {
            var baseRate = Rate(drains, baseline, TimeSpan.Zero, count);
            var baseCpu = CpuPerMessageMs(drains, baseline, TimeSpan.Zero, count);
            rows.Add(["straight: rate against the baseline", $"{Stats.F(straight / baseRate)}× ({Stats.F(straight, "0.0")} vs {Stats.F(baseRate, "0.0")} msgs/s)", "≥ 1×",
                Stats.Met(straight >= baseRate), medians + ", the two builds in the same rounds"]);
            rows.Add(["straight: worker CPU per message against the baseline", $"{Stats.F(cpu, "0.00")} vs {Stats.F(baseCpu, "0.00")} ms", "≤ the baseline's",
                Stats.Met(cpu <= baseCpu), medians + ", GNU time user + system over the corpus's messages"]);
            report.Summary($"{corpus}, straight, against the baseline build", $"{Stats.F(straight / baseRate)}× its rate ({Stats.F(straight, "0.0")} msgs/s), CPU {Stats.F(cpu, "0.00")} vs {Stats.F(baseCpu, "0.00")} ms/msg",
                $"≥ 1× and ≤ its CPU: {Stats.Met(straight >= baseRate && cpu <= baseCpu)}");
            var baseRss = larges.Where(r => r.Worker == baseline).Max(r => r.Measured.PeakRssMiB);
            var verdict = Stats.Met(largeRss <= baseRss + UploadBudgetMiB);
            rows.Add([$"{large}: peak RSS against the baseline", $"{Stats.F(largeRss, "0")} vs {Stats.F(baseRss, "0")} MiB",
                $"≤ the baseline's + {Stats.F(UploadBudgetMiB, "0")} MiB (the upload byte budget)", verdict, $"worst of {options.Runs} each, GNU time %M"]);
            report.Summary(large, $"peak RSS {Stats.F(largeRss, "0")} MiB (baseline {Stats.F(baseRss, "0")})", $"≤ baseline + {Stats.F(UploadBudgetMiB, "0")} MiB: {verdict}");
        }
        else
        {
            rows.Add(["against the baseline (rate, CPU per message, large message's peak RSS)", "not measured", "", "-", "set POP3INGEST_BENCH_BASELINE_WORKER"]);
            rows.Add([$"{large}: peak RSS", $"{Stats.F(largeRss, "0")} MiB", "(context without a baseline)", "-", $"worst of {options.Runs}, GNU time %M"]);
            report.Summary($"{corpus}, straight", $"{Stats.F(straight, "0.0")} msgs/s, CPU {Stats.F(cpu, "0.00")} ms/msg", "none without a baseline");
            report.Summary(large, $"peak RSS {Stats.F(largeRss, "0")} MiB", "none without a baseline");
        }

        return rows;
    }

    private static List<AzuriteRun> Runs(List<AzuriteRun> drains, WorkerBuild worker, TimeSpan roundTrip) =>
        drains.Where(r => r.Worker == worker && r.RoundTrip == roundTrip).ToList();

    /// <summary>Messages per second of the median wall time.</summary>
    private static double Rate(List<AzuriteRun> drains, WorkerBuild worker, TimeSpan roundTrip, int count) =>
        count / Stats.Median(Runs(drains, worker, roundTrip).Select(r => r.Measured.WallSeconds).ToList());

    private static double CpuPerMessageMs(List<AzuriteRun> drains, WorkerBuild worker, TimeSpan roundTrip, int count) =>
        Stats.Median(Runs(drains, worker, roundTrip).Select(r => r.Measured.CpuSeconds).ToList()) / count * 1000;

    private static string Distance(TimeSpan roundTrip) => roundTrip == TimeSpan.Zero ? "none" : $"{Stats.F(roundTrip.TotalMilliseconds, "0")} ms";

    /// <summary>The one message blob (the sidecar has no hash): its length and recorded SHA-256 are the source's.</summary>
    private static async Task CheckLargeBlobAsync(AzuriteServer azurite, long length, string sha256, CancellationToken cancellationToken)
    {
        var container = new BlobContainerClient(azurite.ConnectionString, Container, new BlobClientOptions(BlobClientOptions.ServiceVersion.V2025_11_05));
        var found = new List<string>();
        await foreach (var item in container.GetBlobsAsync(BlobTraits.Metadata, BlobStates.None, prefix: null, cancellationToken))
        {
            if (item.Metadata.TryGetValue("sha256", out var hash))
            {
                found.Add($"{item.Name}: {item.Properties.ContentLength} bytes, sha256 {hash}");
                if (item.Properties.ContentLength == length && hash == sha256)
                {
                    return;
                }
            }
        }

        throw new InvalidOperationException($"No blob of {length} bytes with SHA-256 {sha256} in Azurite: {string.Join("; ", found)}");
    }

    private static async Task<(double Seconds, long Bytes)> DownloadAsync(int port, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        await using var client = await Loopback.ConnectAsync(port, User, Password, cancellationToken);
        var (_, sizes) = await client.GetUidlsAndSizesAsync(cancellationToken);
        long bytes = 0;
        await foreach (var retrieval in client.RetrieveManyAsync(sizes, cancellationToken))
        {
            if (retrieval.Content is not { } content)
            {
                throw new InvalidOperationException($"RETR {retrieval.Number} refused: {retrieval.Error?.Message}");
            }

            await using (content)
            {
                var counter = new CountingStream();
                await content.CopyToAsync(counter, 64 * 1024, cancellationToken);
                bytes += counter.Count;
            }
        }

        await client.QuitAsync(cancellationToken);
        return (watch.Elapsed.TotalSeconds, bytes);
    }

    private static async Task<(double Put, double Queue, double BlobCpu, double QueueCpu)> BlobSideAsync(List<byte[]> corpus, CancellationToken cancellationToken)
    {
        await using var azurite = await AzuriteServer.StartAsync(cancellationToken);
        var connection = StorageConnectionString.Parse(azurite.ConnectionString);
        var settings = new AzureStorageSettings();
        var store = new AzureBlobMessageStore(StorageEndpoint.Blob(connection), Container, settings, NullLogger.Instance);
        var notifier = new AzureQueueNotifier(StorageEndpoint.Queue(connection), Queue, QueueMessageEncoding.Base64, settings, NullLogger.Instance);
        await store.InitializeAsync(cancellationToken);
        await notifier.InitializeAsync(cancellationToken);

        var now = DateTimeOffset.UtcNow;
        var events = corpus.Select((message, i) =>
        {
            var uidl = FormattableString.Invariant($"bench{i:D8}");
            var blobName = BlobNaming.BlobNameOf(User, uidl, now);
            return new MessageEventData
            {
                Account = User,
                Uidl = uidl,
                Blob = store.LocationOf(blobName),
                BlobName = blobName,
                Size = message.Length,
                Sha256 = Convert.ToHexStringLower(SHA256.HashData(message)),
                Stored = now,
                Metadata = MessageMetadataReader.Read(message),
            };
        }).ToList();
        var sidecars = events.Select(EventDataWriter.ToJson).ToList();

        var blobMarker = "--blobPort " + azurite.BlobPort.ToString(CultureInfo.InvariantCulture);
        var queueMarker = "--queuePort " + azurite.QueuePort.ToString(CultureInfo.InvariantCulture);
        var blobCpu = ProcessMeasure.CpuSecondsOfProcesses(blobMarker);
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < corpus.Count; i++)
        {
            var sidecar = sidecars[i];
            using var content = new MemoryStream(corpus[i], writable: false);
            var result = await store.PutAsync(events[i].BlobName, content, new BlobProperties(User, BlobNaming.IdOf(events[i].Uidl)), _ => sidecar, cancellationToken);
            if (!result.Created)
            {
                throw new InvalidOperationException($"Blob {events[i].BlobName} already existed.");
            }
        }

        var put = watch.Elapsed.TotalSeconds;
        blobCpu = ProcessMeasure.CpuSecondsOfProcesses(blobMarker) - blobCpu;
        var queueCpu = ProcessMeasure.CpuSecondsOfProcesses(queueMarker);
        watch.Restart();
        foreach (var data in events)
        {
            await notifier.PublishAsync(data, cancellationToken);
        }

        var queue = watch.Elapsed.TotalSeconds;
        queueCpu = ProcessMeasure.CpuSecondsOfProcesses(queueMarker) - queueCpu;
        return (put, queue, blobCpu, queueCpu);
    }

    private static string AzuriteVersion()
    {
        try
        {
            var start = new ProcessStartInfo("azurite-blob", "--version") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            using var process = Process.Start(start)!;
            var version = process.StandardOutput.ReadToEnd().Trim();
            process.WaitForExit();
            return version.Length > 0 ? version : "(version unknown)";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "(version unknown)";
        }
    }

    /// <summary>Stream.Null that counts what it is given.</summary>
    private sealed class CountingStream : Stream
    {
        public long Count { get; private set; }

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => Count;

        public override long Position { get => Count; set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => Count += count;

        public override void Write(ReadOnlySpan<byte> buffer) => Count += buffer.Length;

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Count += buffer.Length;
            return ValueTask.CompletedTask;
        }
    }
}
