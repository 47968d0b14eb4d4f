using System.Diagnostics;
using Microsoft.Data.Sqlite;
using Pop3Ingest.Ingestion.Ledger;
using Pop3Ingest.Ingestion.Ledger.Sqlite;
using Pop3Ingest.Ingestion.Pipeline;
using Pop3Ingest.Ingestion.Storage.FileSystem;
using Pop3Ingest.Ingestion.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace Pop3Ingest.Ingestion.Tests;

/// <summary>
/// The store and the ledger failing for real: a full disk (a small tmpfs mounted by the test) and a ledger locked by
/// another process. No message is lost, none is deleted unstored, none duplicated, and the next run recovers.
/// </summary>
public sealed class DownstreamFaultTests
{
    private static string Mail(int i, int size) => $"Subject: {i}\r\n\r\n{new string((char)('a' + (i % 26)), size)}\r\n";

    [Fact]
    public async Task A_full_disk_under_the_store_fails_the_run_and_the_next_run_recovers()
    {
        await using var disk = await TmpfsMount.CreateAsync("200k");
        await using var mailbox = new FakeMailbox();
        for (var i = 1; i <= 10; i++)
        {
            mailbox.Add($"uid-{i}", Mail(i, 40_000));
        }

        await using var harness = await IngestionHarness.CreateAsync();
        var store = new FileSystemMessageStore(disk.Path);
        await store.InitializeAsync(CancellationToken.None);
        harness.Store = store;
        harness.Options = new IngestionOptions { Sidecar = false };

        var first = await harness.RunAsync(harness.Account(mailbox));
        Assert.Equal(FailureKind.Store, first.FailureKind);
        Assert.Contains("No space left on device", first.Error, StringComparison.Ordinal);
        var storedFirst = Directory.EnumerateFiles(disk.Path, "*.eml", SearchOption.AllDirectories).Count();
        Assert.InRange(storedFirst, 1, 9);
        Assert.Equal(10 - first.Deleted, mailbox.Live.Count);
        Assert.All(mailbox.DeleRequested, m => Assert.True(File.Exists(store.PathOf(BlobNaming(m.Uidl, harness)))));
        StoreFolder.AssertNoPartialFiles(disk.Path);

        await disk.ResizeAsync("10m");
        var second = await harness.RunAsync(harness.Account(mailbox));
        Assert.Equal(RunOutcome.Succeeded, second.Outcome);
        Assert.Empty(mailbox.Live);
        Assert.Equal(10, Directory.EnumerateFiles(disk.Path, "*.eml", SearchOption.AllDirectories).Count());
        foreach (var message in mailbox.Messages)
        {
            Assert.Equal(message.Content, await File.ReadAllBytesAsync(store.PathOf(BlobNaming(message.Uidl, harness))));
        }
    }

    [Fact]
    public async Task A_full_disk_under_the_ledger_fails_the_run_without_deleting_and_the_next_run_recovers()
    {
        await using var disk = await TmpfsMount.CreateAsync("160k");
        await using var mailbox = new FakeMailbox();
        for (var i = 1; i <= 400; i++)
        {
            mailbox.Add($"a-rather-long-unique-id-for-message-number-{i:D6}", Mail(i, 100));
        }

        await using var harness = await IngestionHarness.CreateAsync();
        var ledger = new SqliteLedger($"Data Source={Path.Combine(disk.Path, "ledger.db")}");
        await ledger.MigrateAsync(CancellationToken.None);
        var runner = new IngestionRunner(ledger, harness.Store, null, new IngestionOptions(), harness.Time, NullLogger<IngestionRunner>.Instance);

        var first = await runner.RunAsync(harness.Account(mailbox), stopping: CancellationToken.None);
        Assert.Equal(FailureKind.Ledger, first.FailureKind);
        Assert.Equal(400, mailbox.Live.Count);
        Assert.Empty(mailbox.DeleRequested);

        await disk.ResizeAsync("20m");
        SqliteConnection.ClearAllPools();
        var second = await runner.RunAsync(harness.Account(mailbox), stopping: CancellationToken.None);
        Assert.Equal(RunOutcome.Succeeded, second.Outcome);
        Assert.Empty(mailbox.Live);
        Assert.Equal(400, harness.StoredFiles().Count);
        SqliteConnection.ClearAllPools();
    }

    [Fact]
    public async Task A_locked_ledger_fails_the_run_within_its_busy_timeout_and_the_next_run_recovers()
    {
        await using var mailbox = new FakeMailbox();
        for (var i = 1; i <= 5; i++)
        {
            mailbox.Add($"uid-{i}", Mail(i, 100));
        }

        await using var harness = await IngestionHarness.CreateAsync();
        var path = Path.Combine(harness.Root, "locked.db");
        var ledger = new SqliteLedger($"Data Source={path};Default Timeout=1");
        await ledger.MigrateAsync(CancellationToken.None);
        var runner = new IngestionRunner(ledger, harness.Store, null, new IngestionOptions(), harness.Time, NullLogger<IngestionRunner>.Instance);

        await using (var other = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            await other.OpenAsync();
            await using var command = other.CreateCommand();
            command.CommandText = "BEGIN EXCLUSIVE;";
            await command.ExecuteNonQueryAsync();
            var watch = Stopwatch.StartNew();
            var locked = await runner.RunAsync(harness.Account(mailbox), stopping: CancellationToken.None);
            Assert.Equal(FailureKind.Ledger, locked.FailureKind);
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(15), $"took {watch.Elapsed}");
            Assert.Empty(mailbox.DeleRequested);
            command.CommandText = "ROLLBACK;";
            await command.ExecuteNonQueryAsync();
        }

        var recovered = await runner.RunAsync(harness.Account(mailbox), stopping: CancellationToken.None);
        Assert.Equal(RunOutcome.Succeeded, recovered.Outcome);
        Assert.Empty(mailbox.Live);
        SqliteConnection.ClearAllPools();
    }

    private static string BlobNaming(string uidl, IngestionHarness harness) => Storage.BlobNaming.BlobNameOf("acct", uidl, harness.Time.Now);
}

/// <summary>A small tmpfs the test mounts (as root) to make a disk fill up for real.</summary>
internal sealed class TmpfsMount : IAsyncDisposable
{
    private TmpfsMount(string path)
    {
        Path = path;
    }

    public string Path { get; }

    public static async Task<TmpfsMount> CreateAsync(string size)
    {
        var path = Directory.CreateTempSubdirectory("p3i-tmpfs-").FullName;
        await RunAsync("mount", "-t", "tmpfs", "-o", $"size={size}", "tmpfs", path);
        return new TmpfsMount(path);
    }

    public Task ResizeAsync(string size) => RunAsync("mount", "-o", $"remount,size={size}", Path);

    public async ValueTask DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        await RunAsync("umount", "-l", Path);
        Directory.Delete(Path);
    }

    private static async Task RunAsync(string file, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardError = true })!;
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed (the fault tests run as root): {error}");
        }
    }
}
