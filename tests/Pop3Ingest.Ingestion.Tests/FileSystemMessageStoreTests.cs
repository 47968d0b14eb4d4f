using System.Security.Cryptography;
using System.Text;
using Pop3Ingest.Ingestion.Storage;
using Pop3Ingest.Ingestion.Storage.FileSystem;
using Pop3Ingest.Ingestion.Tests.Support;

namespace Pop3Ingest.Ingestion.Tests;

public sealed class FileSystemMessageStoreTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("p3i-store-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static MemoryStream Content(string text) => new(Encoding.ASCII.GetBytes(text));

    [Theory]
    [InlineData("../escape.eml")]
    [InlineData("a/../../escape.eml")]
    [InlineData("/etc/passwd")]
    [InlineData(".tmp/x.eml")]
    [InlineData("a\\b.eml")]
    [InlineData("")]
    public async Task Names_that_could_leave_the_root_are_refused(string name)
    {
        using var store = new FileSystemMessageStore(_root);
        await store.InitializeAsync(CancellationToken.None);
        var error = await Assert.ThrowsAsync<StoreException>(() => store.PutAsync(name, Content("x"), new BlobProperties("a", "h"), null, CancellationToken.None));
        Assert.False(error.IsTransient);
        Assert.DoesNotContain(Directory.EnumerateFiles(Path.GetDirectoryName(_root)!), f => f.EndsWith("escape.eml", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Listing_an_account_finds_its_messages_and_skips_sidecars_temp_files_and_other_accounts()
    {
        using var store = new FileSystemMessageStore(_root, namedTempFilesOnly: true);
        await store.InitializeAsync(CancellationToken.None);
        var first = $"alice/2026/01/01/{BlobNaming.IdOf("u1")}.eml";
        var second = $"alice/2026/02/03/{BlobNaming.IdOf("u2")}.eml";
        await store.PutAsync(first, Content("first"), new BlobProperties("alice", "x"), _ => "{}"u8.ToArray(), CancellationToken.None);
        await store.PutAsync(second, Content("second!"), new BlobProperties("alice", "y"), null, CancellationToken.None);
        await store.PutAsync($"bob/2026/01/01/{BlobNaming.IdOf("u1")}.eml", Content("bob"), new BlobProperties("bob", "x"), null, CancellationToken.None);
        await store.FlushAsync("alice", CancellationToken.None);
        await store.FlushAsync("bob", CancellationToken.None);
        // A put not yet committed sits in .tmp; litter and consumers' files are not messages either.
        await store.PutAsync($"alice/2026/01/01/{BlobNaming.IdOf("u3")}.eml", Content("pending"), new BlobProperties("alice", "z"), null, CancellationToken.None);
        await File.WriteAllTextAsync(Path.Combine(_root, "alice/2026/01/01/notes.txt"), "x");
        await File.WriteAllTextAsync(Path.Combine(_root, "alice/2026/01/01/copy.eml"), "x");
        Directory.CreateDirectory(Path.Combine(_root, "alice/.hidden"));
        await File.WriteAllTextAsync(Path.Combine(_root, "alice/.hidden", BlobNaming.IdOf("u4") + ".eml"), "x");

        var listed = new List<StoredBlob>();
        await foreach (var blob in store.ListAsync("Alice", CancellationToken.None))
        {
            listed.Add(blob);
        }

        Assert.Equal([first, second], listed.Select(b => b.BlobName).Order(StringComparer.Ordinal));
        Assert.Equal([5L, 7L], listed.OrderBy(b => b.BlobName, StringComparer.Ordinal).Select(b => b.Size));
        Assert.All(listed, b => Assert.Null(b.Sha256));
        Assert.All(listed, b => Assert.InRange(b.LastModified, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(1)));
        Assert.Empty(await ToListAsync(store.ListAsync("nobody", CancellationToken.None)));
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
    public async Task Create_if_absent_keeps_the_first_blob_and_reports_its_hash(bool namedTempFiles)
    {
        using var store = new FileSystemMessageStore(_root, namedTempFiles);
        await store.InitializeAsync(CancellationToken.None);
        var first = await store.PutAsync("a/2026/01/01/x.eml", Content("first"), new BlobProperties("a", "x"), _ => "{}"u8.ToArray(), CancellationToken.None);
        var second = await store.PutAsync("a/2026/01/01/x.eml", Content("second!"), new BlobProperties("a", "x"), null, CancellationToken.None);
        await store.FlushAsync("a", CancellationToken.None);

        Assert.True(first.Created);
        Assert.False(second.Created);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData("first"u8)), second.ExistingSha256);
        Assert.Equal(5, second.ExistingSize);
        Assert.Equal("first", await File.ReadAllTextAsync(Path.Combine(_root, "a/2026/01/01/x.eml")));
        Assert.Equal("{}", await File.ReadAllTextAsync(Path.Combine(_root, "a/2026/01/01/x.json")));
        StoreFolder.AssertNoPartialFiles(_root);
        await using var read = await store.OpenReadAsync("a/2026/01/01/x.eml", CancellationToken.None);
        Assert.NotNull(read);
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
    public async Task An_old_sidecar_is_replaced_and_an_existing_message_never_is(bool namedTempFiles)
    {
        using var store = new FileSystemMessageStore(_root, namedTempFiles);
        await store.InitializeAsync(CancellationToken.None);

        // A crash after the sidecar got its name, before the message did: the next put replaces the sidecar.
        Directory.CreateDirectory(Path.Combine(_root, "a/2026/05/01"));
        await File.WriteAllTextAsync(Path.Combine(_root, "a/2026/05/01/s.json"), "{\"old\":true}");
        var put = await store.PutAsync("a/2026/05/01/s.eml", Content("message"), new BlobProperties("a", "s"), _ => "{\"new\":true}"u8.ToArray(), CancellationToken.None);
        Assert.True(put.Created);

        // Another writer gives a message its name while this one waits for its group commit: the other file is kept.
        await store.PutAsync("a/2026/05/01/t.eml", Content("mine"), new BlobProperties("a", "t"), null, CancellationToken.None);
        await File.WriteAllTextAsync(Path.Combine(_root, "a/2026/05/01/t.eml"), "theirs");
        await store.FlushAsync("a", CancellationToken.None);

        Assert.Equal("message", await File.ReadAllTextAsync(Path.Combine(_root, "a/2026/05/01/s.eml")));
        Assert.Equal("{\"new\":true}", await File.ReadAllTextAsync(Path.Combine(_root, "a/2026/05/01/s.json")));
        Assert.Equal("theirs", await File.ReadAllTextAsync(Path.Combine(_root, "a/2026/05/01/t.eml")));
        Assert.Equal(["s.eml", "s.json", "t.eml"], Directory.EnumerateFiles(Path.Combine(_root, "a/2026/05/01")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
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

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_failing_content_stream_leaves_no_blob_and_no_temp_file(bool namedTempFiles)
    {
        using var store = new FileSystemMessageStore(_root, namedTempFiles);
        await store.InitializeAsync(CancellationToken.None);
        await Assert.ThrowsAsync<InvalidOperationException>(() =>
            store.PutAsync("a/2026/01/01/y.eml", new FailingStream(), new BlobProperties("a", "y"), null, CancellationToken.None));
        await store.FlushAsync("a", CancellationToken.None);
        Assert.False(File.Exists(Path.Combine(_root, "a/2026/01/01/y.eml")));
        StoreFolder.AssertNoPartialFiles(_root);
    }

    private sealed class FailingStream : MemoryStream
    {
        private int _reads;

        public FailingStream()
            : base(new byte[100_000])
        {
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            ++_reads > 1 ? throw new InvalidOperationException("connection lost") : base.ReadAsync(buffer[..10], cancellationToken);
    }
}
