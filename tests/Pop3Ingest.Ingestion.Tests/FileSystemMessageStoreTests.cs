using System.Security.Cryptography;
using System.Text;
using Pop3Ingest.Ingestion.Storage;
using Pop3Ingest.Ingestion.Storage.FileSystem;
using Pop3Ingest.Ingestion.Tests.Support;

namespace Pop3Ingest.Ingestion.Tests;

/// <summary>
/// What only the folder store does: the group commit (nothing named before it, all of a group after it, one account at a
/// time, a failed rename), temp files unnamed or named and their clean-up, its staging folder, litter in its folders.
/// What every store promises is in <see cref="Contracts.MessageStoreContractTests"/> (FileSystemMessageStoreContractTests).
/// </summary>
public sealed class FileSystemMessageStoreTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("p3i-store-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static MemoryStream Content(string text) => new(Encoding.ASCII.GetBytes(text));

    [Fact]
    public async Task The_staging_folder_cannot_be_named()
    {
        using var store = new FileSystemMessageStore(_root);
        await store.InitializeAsync(CancellationToken.None);
        var error = await Assert.ThrowsAsync<StoreException>(() => store.PutAsync(".tmp/x.eml", Content("x"), new BlobProperties("a", "h"), null, CancellationToken.None));
        Assert.False(error.IsTransient);
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_root, ".tmp")));
    }

    [Fact]
    public async Task Listing_skips_puts_not_yet_committed_and_files_consumers_or_litter_left_in_the_folders()
    {
        using var store = new FileSystemMessageStore(_root, namedTempFilesOnly: true);
        await store.InitializeAsync(CancellationToken.None);
        var committed = $"alice/2026/01/01/{BlobNaming.IdOf("u1")}.eml";
        await store.PutAsync(committed, Content("first"), new BlobProperties("alice", "x"), _ => "{}"u8.ToArray(), CancellationToken.None);
        await store.FlushAsync("alice", CancellationToken.None);

        // A put not yet committed sits in .tmp; litter and consumers' files are not messages either.
        await store.PutAsync($"alice/2026/01/01/{BlobNaming.IdOf("u3")}.eml", Content("pending"), new BlobProperties("alice", "z"), null, CancellationToken.None);
        await File.WriteAllTextAsync(Path.Combine(_root, "alice/2026/01/01/notes.txt"), "x");
        await File.WriteAllTextAsync(Path.Combine(_root, "alice/2026/01/01/copy.eml"), "x");
        Directory.CreateDirectory(Path.Combine(_root, "alice/.hidden"));
        await File.WriteAllTextAsync(Path.Combine(_root, "alice/.hidden", BlobNaming.IdOf("u4") + ".eml"), "x");

        Assert.Equal([committed], (await ToListAsync(store.ListAsync("alice", CancellationToken.None))).Select(b => b.BlobName));
    }

    private static async Task<List<T>> ToListAsync<T>(IAsyncEnumerable<T> items)
    {
        var list = new List<T>();
        await foreach (var item in items)
        {
            list.Add(item);
        }

        return list;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Puts_become_visible_only_at_the_group_commit_and_are_all_there_after_it(bool namedTempFiles)
    {
        var store = new FileSystemMessageStore(_root, namedTempFiles);
        await store.InitializeAsync(CancellationToken.None);
        var names = Enumerable.Range(0, 200).Select(i => $"a/2026/01/{1 + (i % 3):00}/m{i}.eml").ToList();
        foreach (var (name, i) in names.Select((n, i) => (n, i)))
        {
            var put = await store.PutAsync(name, Content($"message {i}"), new BlobProperties("a", $"m{i}"),
                i % 2 == 0 ? _ => Encoding.UTF8.GetBytes($"{{\"n\":{i}}}") : null, CancellationToken.None);
            Assert.True(put.Created);
        }

        // Before the group commit nothing has its name: a file appears only once its data is durable.
        Assert.DoesNotContain(Directory.EnumerateFiles(_root, "*", SearchOption.AllDirectories), f => !f.Contains("/.tmp/", StringComparison.Ordinal));

        await store.FlushAsync("a", CancellationToken.None);

        foreach (var (name, i) in names.Select((n, i) => (n, i)))
        {
            Assert.Equal($"message {i}", await File.ReadAllTextAsync(Path.Combine(_root, name)));
            Assert.Equal(i % 2 == 0, File.Exists(Path.Combine(_root, Path.ChangeExtension(name, ".json"))));
        }

        StoreFolder.AssertNoPartialFiles(_root);

        // A second put of each name, after the flush, keeps the first copy.
        var again = await store.PutAsync(names[7], Content("other"), new BlobProperties("a", "m7"), null, CancellationToken.None);
        Assert.False(again.Created);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData("message 7"u8)), again.ExistingSha256);

        // Disposing the store removes the temp files it created ahead.
        store.Dispose();
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_root, ".tmp")));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_group_commit_running_beside_new_puts_keeps_both_groups_whole(bool namedTempFiles)
    {
        using var store = new FileSystemMessageStore(_root, namedTempFiles);
        await store.InitializeAsync(CancellationToken.None);
        for (var i = 0; i < 50; i++)
        {
            await store.PutAsync($"a/2026/02/01/first{i}.eml", Content($"first {i}"), new BlobProperties("a", $"f{i}"), null, CancellationToken.None);
        }

        // The pipeline flushes one group in the background while the next messages stream in.
        var flush = Task.Run(() => store.FlushAsync("a", CancellationToken.None));
        for (var i = 0; i < 50; i++)
        {
            await store.PutAsync($"a/2026/02/01/second{i}.eml", Content($"second {i}"), new BlobProperties("a", $"s{i}"), null, CancellationToken.None);
        }

        await flush;
        await store.FlushAsync("a", CancellationToken.None);
        for (var i = 0; i < 50; i++)
        {
            Assert.Equal($"first {i}", await File.ReadAllTextAsync(Path.Combine(_root, $"a/2026/02/01/first{i}.eml")));
            Assert.Equal($"second {i}", await File.ReadAllTextAsync(Path.Combine(_root, $"a/2026/02/01/second{i}.eml")));
        }

        StoreFolder.AssertNoPartialFiles(_root);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_group_commit_that_cannot_rename_fails_the_whole_group_and_leaves_no_partial_file(bool namedTempFiles)
    {
        using var store = new FileSystemMessageStore(_root, namedTempFiles);
        await store.InitializeAsync(CancellationToken.None);
        await store.PutAsync("a/2026/03/01/ok.eml", Content("ok"), new BlobProperties("a", "ok"), null, CancellationToken.None);

        // The day folder cannot be created: a file stands where it belongs.
        Directory.CreateDirectory(Path.Combine(_root, "a/2026/03"));
        await File.WriteAllTextAsync(Path.Combine(_root, "a/2026/03/02"), "in the way");
        await store.PutAsync("a/2026/03/02/blocked.eml", Content("blocked"), new BlobProperties("a", "b"), null, CancellationToken.None);

        var error = await Assert.ThrowsAsync<StoreException>(() => store.FlushAsync("a", CancellationToken.None));
        Assert.Contains("Committing 2 files", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_root, "a/2026/03/02/blocked.eml")));
        StoreFolder.AssertNoPartialFiles(_root);

        // What did reach its name is whole; a later group commits normally.
        if (File.Exists(Path.Combine(_root, "a/2026/03/01/ok.eml")))
        {
            Assert.Equal("ok", await File.ReadAllTextAsync(Path.Combine(_root, "a/2026/03/01/ok.eml")));
        }

        await store.PutAsync("a/2026/03/01/later.eml", Content("later"), new BlobProperties("a", "l"), null, CancellationToken.None);
        await store.FlushAsync("a", CancellationToken.None);
        Assert.Equal("later", await File.ReadAllTextAsync(Path.Combine(_root, "a/2026/03/01/later.eml")));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_group_commit_covers_one_account_and_its_failure_reaches_no_other(bool namedTempFiles)
    {
        using var store = new FileSystemMessageStore(_root, namedTempFiles);
        await store.InitializeAsync(CancellationToken.None);
        await store.PutAsync("a/2026/04/01/a1.eml", Content("a1"), new BlobProperties("a", "a1"), null, CancellationToken.None);
        await store.PutAsync("b/2026/04/01/b1.eml", Content("b1"), new BlobProperties("b", "b1"), null, CancellationToken.None);

        // Account a's commit leaves b's file alone: b's run learns about b's files from its own commit.
        await store.FlushAsync("a", CancellationToken.None);
        Assert.Equal("a1", await File.ReadAllTextAsync(Path.Combine(_root, "a/2026/04/01/a1.eml")));
        Assert.False(File.Exists(Path.Combine(_root, "b/2026/04/01/b1.eml")));
        await store.FlushAsync("b", CancellationToken.None);
        Assert.Equal("b1", await File.ReadAllTextAsync(Path.Combine(_root, "b/2026/04/01/b1.eml")));

        // b's next commit fails (its day folder cannot be created); a's put and commit beside it are not touched.
        Directory.CreateDirectory(Path.Combine(_root, "b/2026/04"));
        await File.WriteAllTextAsync(Path.Combine(_root, "b/2026/04/02"), "in the way");
        await store.PutAsync("b/2026/04/02/b2.eml", Content("b2"), new BlobProperties("b", "b2"), null, CancellationToken.None);
        await store.PutAsync("a/2026/04/01/a2.eml", Content("a2"), new BlobProperties("a", "a2"), null, CancellationToken.None);
        await Assert.ThrowsAsync<StoreException>(() => store.FlushAsync("b", CancellationToken.None));
        await store.FlushAsync("a", CancellationToken.None);
        Assert.Equal("a2", await File.ReadAllTextAsync(Path.Combine(_root, "a/2026/04/01/a2.eml")));
        StoreFolder.AssertNoPartialFiles(_root);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_message_another_writer_names_while_this_one_waits_for_its_group_commit_is_kept(bool namedTempFiles)
    {
        using var store = new FileSystemMessageStore(_root, namedTempFiles);
        await store.InitializeAsync(CancellationToken.None);
        await store.PutAsync("a/2026/05/01/t.eml", Content("mine"), new BlobProperties("a", "t"), null, CancellationToken.None);
        Directory.CreateDirectory(Path.Combine(_root, "a/2026/05/01"));
        await File.WriteAllTextAsync(Path.Combine(_root, "a/2026/05/01/t.eml"), "theirs");
        await store.FlushAsync("a", CancellationToken.None);

        Assert.Equal("theirs", await File.ReadAllTextAsync(Path.Combine(_root, "a/2026/05/01/t.eml")));
        Assert.Equal(["t.eml"], Directory.EnumerateFiles(Path.Combine(_root, "a/2026/05/01")).Select(Path.GetFileName));
        StoreFolder.AssertNoPartialFiles(_root);
    }

    [Fact]
    public async Task On_Linux_temp_files_are_unnamed_and_leave_nothing_in_the_staging_folder()
    {
        using (var store = new FileSystemMessageStore(_root))
        {
            await store.InitializeAsync(CancellationToken.None);
            Assert.True(store.UsesUnnamedTempFiles);
            for (var i = 0; i < 100; i++)
            {
                await store.PutAsync($"a/2026/06/01/u{i}.eml", Content($"unnamed {i}"), new BlobProperties("a", $"u{i}"), _ => "{}"u8.ToArray(), CancellationToken.None);
            }

            // Written but not committed: nothing has a name anywhere, not even in .tmp.
            Assert.Empty(Directory.EnumerateFiles(_root, "*", SearchOption.AllDirectories));
            await store.FlushAsync("a", CancellationToken.None);
            Assert.Equal(200, Directory.EnumerateFiles(Path.Combine(_root, "a/2026/06/01")).Count());
            Assert.Equal("unnamed 42", await File.ReadAllTextAsync(Path.Combine(_root, "a/2026/06/01/u42.eml")));
            await store.PutAsync("a/2026/06/01/lost.eml", Content("never committed"), new BlobProperties("a", "lost"), null, CancellationToken.None);
        }

        // Disposed with a put still waiting for its commit (as a killed process would be): no litter, no file.
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_root, ".tmp")));
        Assert.False(File.Exists(Path.Combine(_root, "a/2026/06/01/lost.eml")));
    }

    [Fact]
    public async Task Named_temp_files_are_used_when_asked_and_cleaned_up_when_disposed()
    {
        var store = new FileSystemMessageStore(_root, namedTempFilesOnly: true);
        await store.InitializeAsync(CancellationToken.None);
        Assert.False(store.UsesUnnamedTempFiles);
        await store.PutAsync("a/2026/07/01/n.eml", Content("named"), new BlobProperties("a", "n"), null, CancellationToken.None);
        Assert.Contains(Directory.EnumerateFiles(Path.Combine(_root, ".tmp")), f => new FileInfo(f).Length == 5);
        await store.FlushAsync("a", CancellationToken.None);
        store.Dispose();
        Assert.Equal("named", await File.ReadAllTextAsync(Path.Combine(_root, "a/2026/07/01/n.eml")));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_root, ".tmp")));
    }

    [Fact]
    public async Task Start_removes_temp_files_of_dead_processes_only()
    {
        Directory.CreateDirectory(Path.Combine(_root, ".tmp"));
        var dead = Path.Combine(_root, ".tmp", "999999-dead.tmp");
        var mine = Path.Combine(_root, ".tmp", $"{Environment.ProcessId}-old.tmp");
        var live = Path.Combine(_root, ".tmp", "1-live.tmp");
        await File.WriteAllTextAsync(dead, "x");
        await File.WriteAllTextAsync(mine, "x");
        await File.WriteAllTextAsync(live, "x");
        using var store = new FileSystemMessageStore(_root);
        await store.InitializeAsync(CancellationToken.None);
        Assert.False(File.Exists(dead));
        Assert.False(File.Exists(mine));
        Assert.True(File.Exists(live));
    }
}
