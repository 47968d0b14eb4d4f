using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
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
/// The mixed corpus drained by `once` into Azurite (Blob + queue notifications), with the two sides measured apart
/// in-process: the raw pipelined POP3 download into Stream.Null, and the Put Blob (+ sidecar) and queue messages of
/// the same bytes from the product's store and notifier, one at a time as one account's run does them.
/// </summary>
internal sealed class AzuriteScenario : IScenario
{
    private const string User = "azure";
    private const string Password = "azure-pw";
    private const string Container = "mail";
    private const string Queue = "mail-events";

    public string Name => "azurite";

    public string Description => "mixed corpus (--messages) from Dovecot through `once` into Azurite Blob + queue; POP3 side vs blob side";

    public int Order => 50;

    public async Task RunAsync(BenchOptions options, Report report, CancellationToken cancellationToken)
    {
        report.Line($"Before: {Load.Now()}.");
        var program = await WorkerHarness.PublishAsync(options, cancellationToken);
        var corpus = MixedCorpus.Generate(options.Messages);
        var totalBytes = corpus.Sum(m => (long)m.Length);
        await using var dovecot = await DovecotServer.StartAsync(new DovecotServerOptions { Users = [(User, Password)] }, cancellationToken);
        foreach (var message in corpus)
        {
            dovecot.Deliver(User, message);
        }

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

        // The worker, end to end, each run against a fresh Azurite and a fresh ledger.
        var rows = new List<IReadOnlyList<string>>();
        var runs = new List<(ProcessMeasurement Worker, double AzuriteCpu)>();
        for (var run = 1; run <= options.Runs; run++)
        {
            await using var azurite = await AzuriteServer.StartAsync(cancellationToken);
            var runDirectory = Path.Combine(options.WorkDirectory, "azurite", $"run{run}");
            WorkerHarness.ResetDirectory(runDirectory);
            var config = WorkerHarness.WriteConfig(runDirectory, new JsonObject { [User] = WorkerHarness.Account(dovecot.Port, User, Password) }, section =>
            {
                section["Storage"] = new JsonObject { ["Provider"] = "AzureBlob", ["ConnectionString"] = azurite.ConnectionString, ["Container"] = Container };
                section["Notifications"] = new JsonObject { ["Provider"] = "AzureQueue", ["ConnectionString"] = azurite.ConnectionString, ["Queue"] = Queue };
            });
            var cpuBefore = ProcessMeasure.CpuSecondsOfProcesses(azurite.Location);
            var measured = await WorkerHarness.OnceAsync(program, config, runDirectory, cancellationToken);
            var azuriteCpu = ProcessMeasure.CpuSecondsOfProcesses(azurite.Location) - cpuBefore;
            CheckSummary(measured, corpus.Count);
            runs.Add((measured, azuriteCpu));
            rows.Add([run.ToString(CultureInfo.InvariantCulture), Stats.F(measured.WallSeconds), Stats.F(corpus.Count / measured.WallSeconds, "0"),
                Stats.F(totalBytes / measured.WallSeconds / 1e6, "0.0"), Stats.F(measured.PeakRssMiB, "0"), Stats.F(measured.CpuSeconds), Stats.F(azuriteCpu)]);
            Directory.Delete(runDirectory, recursive: true);
        }

        // The blob side alone: the same bytes through the product's store and notifier, sequentially, fresh Azurite.
        var (putSeconds, queueSeconds, blobCpu, queueCpu) = await BlobSideAsync(corpus, cancellationToken);

        var wall = Stats.Median(runs.Select(r => r.Worker.WallSeconds).ToList());
        var pop3 = Stats.Median(pop3Seconds);
        report.Line($"Corpus: {Stats.N(corpus.Count)} messages, {Stats.F(totalBytes / 1e6, "0")} MB (seed 8: ~90% 2-20 KB, ~10% 100 KB-1 MB, " +
                    $"{corpus.Count(m => m.Length > 2_000_000)} of 2-6 MB), one Dovecot account, DeletePolicy Never; Azurite {AzuriteVersion()} (azurite-blob + azurite-queue, fresh per run); " +
                    "worker figures from GNU time, Azurite's CPU from /proc/<pid>/stat of its processes.");
        report.Table(["`once` run", "wall s", "msgs/s", "MB/s", "worker peak RSS MiB", "worker CPU s", "Azurite CPU s"], rows);
        report.Table(
            ["figure", "value", "target", "result", "how measured"],
            [
                ["`once` into Azure Blob + queue (median wall)", $"{Stats.F(wall)} s: {Stats.F(corpus.Count / wall, "0")} msgs/s, {Stats.F(totalBytes / wall / 1e6, "0.0")} MB/s", "(context)", "-",
                    $"median of {options.Runs}; worker peak RSS {Stats.F(runs.Max(r => r.Worker.PeakRssMiB), "0")} MiB (worst), worker CPU {Stats.F(Stats.Median(runs.Select(r => r.Worker.CpuSeconds).ToList()))} s, Azurite CPU {Stats.F(Stats.Median(runs.Select(r => r.AzuriteCpu).ToList()))} s"],
                ["POP3 side: raw download of the mailbox", $"{Stats.F(pop3)} s ({Stats.F(totalBytes / pop3 / 1e6, "0")} MB/s)", "(context)", "-",
                    $"in-process, product Pop3Client: UIDL+LIST then pipelined `RetrieveManyAsync` of all messages into Stream.Null, one session; median of {options.Runs} after a warm-up ({Stats.List(pop3Seconds)} s)"],
                ["blob side: Put Blob + sidecar of the same bytes", $"{Stats.F(putSeconds)} s ({Stats.F(totalBytes / putSeconds / 1e6, "0")} MB/s)", "(context)", "-",
                    $"in-process, product AzureBlobMessageStore.PutAsync per message with its sidecar JSON (prepared beforehand), one at a time as one account's run does; fresh Azurite; azurite-blob CPU {Stats.F(blobCpu)} s"],
                ["queue side: one notification per message", $"{Stats.F(queueSeconds)} s ({Stats.F(corpus.Count / queueSeconds, "0")} msgs/s)", "(context)", "-",
                    $"in-process, product AzureQueueNotifier.PublishAsync per message, one at a time; azurite-queue CPU {Stats.F(queueCpu)} s"],
                ["bottleneck", (putSeconds + queueSeconds) > pop3 ? $"Azurite: blob + queue sides {Stats.F((putSeconds + queueSeconds) / pop3, "0")}x the POP3 side" : "the POP3 side", "-", "-",
                    $"in-process sides: POP3 {Stats.F(pop3)} s vs blob {Stats.F(putSeconds)} s + queue {Stats.F(queueSeconds)} s; during `once` Azurite (Node, one event loop per service) burned {Stats.F(Stats.Median(runs.Select(r => r.AzuriteCpu).ToList()))} CPU-s of {Stats.F(wall)} s wall against the worker's {Stats.F(Stats.Median(runs.Select(r => r.Worker.CpuSeconds).ToList()))}"],
            ]);
        report.Summary(
            $"{Stats.N(corpus.Count)} messages ({Stats.F(totalBytes / 1e6, "0")} MB), `once` into Azurite Blob + queue",
            $"{Stats.F(wall)} s ({Stats.F(corpus.Count / wall, "0")} msgs/s), worker CPU {Stats.F(Stats.Median(runs.Select(r => r.Worker.CpuSeconds).ToList()))} s; POP3 side alone {Stats.F(pop3)} s",
            (putSeconds + queueSeconds) > pop3 ? "none (context): Azurite is the bottleneck" : "none (context)");
    }

    private static void CheckSummary(ProcessMeasurement measured, int count)
    {
        var line = measured.Output.Split('\n').FirstOrDefault(l => l.StartsWith(User + " ", StringComparison.Ordinal)) ?? string.Empty;
        var cells = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var expected = count.ToString(CultureInfo.InvariantCulture);
        if (cells.Length < 4 || cells[1] != "Succeeded" || cells[2] != expected || cells[3] != expected)
        {
            throw new InvalidOperationException($"`once` did not list and store {count}:{Environment.NewLine}{WorkerHarness.Tail(measured.Output, 10)}");
        }
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
