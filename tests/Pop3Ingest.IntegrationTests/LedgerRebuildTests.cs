using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using Pop3Ingest.Ingestion.Ledger;
using Pop3Ingest.Ingestion.Ledger.Sqlite;
using Pop3Ingest.IntegrationTests.Support;

namespace Pop3Ingest.IntegrationTests;

/// <summary>
/// <c>ledger rebuild</c> after a lost ledger: the rows come back from the store without a download, and the next
/// <c>once</c> stores nothing a second time (a worker that forgot would store every message again under today's date).
/// </summary>
[Trait("Category", WorkerProcess.Category)]
public sealed class LedgerRebuildTests : IDisposable
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromMinutes(2);
    private readonly string _folder = Directory.CreateTempSubdirectory("p3i-rebuild-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Theory]
    [InlineData(true)]
    [InlineData(false)] // no sidecar, no hash in the store: the hash is read from the blob
    public async Task A_lost_ledger_is_rebuilt_from_the_folder_store_and_nothing_is_stored_again(bool sidecar)
    {
        await using var dovecot = await DovecotServer.StartAsync(new DovecotServerOptions { Users = [("keep", "pw")] });
        WorkerConfig.Write(_folder, dovecot.Port, "keep", "pw", account => account["DeletePolicy"] = "Never",
            root => ((JsonObject)root["Storage"]!)["Sidecar"] = sidecar);
        var storeRoot = Path.Combine(_folder, "data", "mail");

        await LoseAndRebuildAsync(dovecot, () => Task.FromResult(StoreInspector.MessageFiles(storeRoot).Count));
    }

    [Fact]
    public async Task A_lost_ledger_is_rebuilt_from_azure_blob_storage_and_nothing_is_stored_again()
    {
        await using var dovecot = await DovecotServer.StartAsync(new DovecotServerOptions { Users = [("keep", "pw")] });
        await using var azurite = await AzuriteServer.StartAsync();
        WorkerConfig.Write(_folder, dovecot.Port, "keep", "pw", account => account["DeletePolicy"] = "Never",
            root => root["Storage"] = new JsonObject
            {
                ["Provider"] = "AzureBlob", ["ConnectionString"] = azurite.ConnectionString, ["Container"] = "inbox", ["Sidecar"] = false,
            });
        var inspector = new StorageInspector(azurite);

        await LoseAndRebuildAsync(dovecot,
            async () => (await inspector.ListBlobsAsync("inbox")).Count(b => b.Name.EndsWith(".eml", StringComparison.Ordinal)));
    }

    /// <summary>
    /// Ingests, loses the ledger, lets one message arrive, rebuilds (twice), and runs <c>once</c>: only the new message
    /// is stored, and every rebuilt row has the original's blob name, size and hash.
    /// </summary>
    private async Task LoseAndRebuildAsync(DovecotServer dovecot, Func<Task<int>> countMessageBlobs)
    {
        for (var i = 1; i <= 6; i++)
        {
            dovecot.Deliver("keep", TestMessages.Create(i, 2_000 + (i * 700)));
        }

        var (once, onceOutput) = await WorkerProcess.RunAsync(_folder, s_timeout, null, "once");
        Assert.True(once == 0, onceOutput);
        Assert.Equal(6, await countMessageBlobs());
        var original = await RowsAsync();
        Assert.Equal(6, original.Count);

        foreach (var file in Directory.EnumerateFiles(Path.Combine(_folder, "data"), "ledger.db*"))
        {
            File.Delete(file);
        }

        dovecot.Deliver("keep", TestMessages.Create(7, 2_500));

        var (rebuild, rebuildOutput) = await WorkerProcess.RunAsync(_folder, s_timeout, null, "ledger", "rebuild", "--account", "KEEP");
        Assert.True(rebuild == 0, rebuildOutput);
        Assert.Contains("keep: 6 rows rebuilt (Stored), 1 not in the store, 0 already known, 0 duplicate UIDLs skipped.", rebuildOutput, StringComparison.Ordinal);
        Assert.Contains("not in the store: will be downloaded by the next run", rebuildOutput, StringComparison.Ordinal);
        var rebuilt = await RowsAsync();
        Assert.Equal(original.Keys.Order(StringComparer.Ordinal), rebuilt.Keys.Order(StringComparer.Ordinal));
        foreach (var (uidl, row) in rebuilt)
        {
            Assert.Equal(LedgerState.Stored, row.State);
            Assert.Null(row.ListSize);
            Assert.Equal(original[uidl].FirstSeen.UtcDateTime.Date, row.FirstSeen.UtcDateTime);
            Assert.Equal((original[uidl].BlobName, original[uidl].Size, original[uidl].Sha256), (row.BlobName, row.Size, row.Sha256));
        }

        var (twice, twiceOutput) = await WorkerProcess.RunAsync(_folder, s_timeout, null, "ledger", "rebuild", "--account", "keep");
        Assert.True(twice == 0, twiceOutput);
        Assert.Contains("keep: 0 rows rebuilt (Stored), 1 not in the store, 6 already known", twiceOutput, StringComparison.Ordinal);

        var (next, nextOutput) = await WorkerProcess.RunAsync(_folder, s_timeout, null, "once");
        Assert.True(next == 0, nextOutput);
        Assert.DoesNotContain("ledger rebuild", nextOutput, StringComparison.Ordinal);
        Assert.Equal(7, await countMessageBlobs());
        Assert.Equal(7, dovecot.MessageCount("keep"));
        var after = await RowsAsync();
        Assert.Equal(7, after.Count);
        foreach (var (uidl, row) in original)
        {
            Assert.Equal((row.BlobName, row.Size, row.Sha256), (after[uidl].BlobName, after[uidl].Size, after[uidl].Sha256));
        }
    }

    private async Task<Dictionary<string, LedgerRow>> RowsAsync()
    {
        var ledger = new SqliteLedger($"Data Source={Path.Combine(_folder, "data", "ledger.db")}");
        var rows = (await ledger.GetAccountAsync("keep", CancellationToken.None)).ToDictionary(r => r.Uidl, StringComparer.Ordinal);
        SqliteConnection.ClearAllPools();
        return rows;
    }
}
