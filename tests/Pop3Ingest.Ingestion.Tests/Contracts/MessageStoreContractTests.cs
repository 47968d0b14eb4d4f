using System.Security.Cryptography;
using System.Text;
using Pop3Ingest.Ingestion.Storage;

namespace Pop3Ingest.Ingestion.Tests.Contracts;

/// <summary>
/// What <see cref="IMessageStore"/> promises, whichever store it is: every store gets a subclass that says how to make
/// a store of its own and how another program would write into it, and runs all of these (the folder store in this
/// project, Azure Blob in the integration tests against Azurite). What only one store does (the folder store's temp
/// files and group commit, Azure's blocks, metadata and credentials) stays in that store's own test class. Blobs are
/// read back only after <see cref="IMessageStore.FlushAsync"/>, the one point after which the port promises they exist.
/// This file is compiled into both test projects.
/// </summary>
public abstract class MessageStoreContractTests : IAsyncLifetime
{
    private static readonly DateTimeOffset s_day = new(2026, 11, 23, 8, 0, 0, TimeSpan.Zero);
    private readonly List<IMessageStore> _stores = [];

    /// <summary>A new store in a place of its own that does not exist yet (a folder, a container), not initialized.</summary>
    protected abstract IMessageStore NewStore();

    /// <summary>Writes a blob into the store's place as another program would: not through the store, with nothing but its bytes.</summary>
    protected abstract Task PlantAsync(IMessageStore store, string blobName, byte[] content);

    /// <summary>Whether the store keeps each blob's SHA-256 and lists it (<see cref="StoredBlob.Sha256"/>), or lists null.</summary>
    protected abstract bool ListsSha256 { get; }

    /// <summary>The store's <see cref="IMessageStore.Kind"/>, one of <see cref="StorageProviders"/>.</summary>
    protected abstract string ExpectedKind { get; }

    public virtual Task InitializeAsync() => Task.CompletedTask;

    public virtual async Task DisposeAsync()
    {
        foreach (var store in _stores)
        {
            switch (store)
            {
                case IAsyncDisposable disposable:
                    await disposable.DisposeAsync();
                    break;
                case IDisposable disposable:
                    disposable.Dispose();
                    break;
            }
        }
    }

    [Fact]
    public async Task Check_and_ping_tell_a_store_not_yet_prepared_from_a_prepared_one_and_check_prepares_nothing()
    {
        var store = CreateStore();
        Assert.Equal(ExpectedKind, store.Kind);
        var before = await store.CheckAsync(CancellationToken.None);
        Assert.Contains("the first run creates it", before, StringComparison.Ordinal);
        Assert.Equal(before, await store.CheckAsync(CancellationToken.None));
        await Assert.ThrowsAsync<StoreException>(() => store.PingAsync(CancellationToken.None));

        await store.InitializeAsync(CancellationToken.None);
        await store.InitializeAsync(CancellationToken.None);
        await store.PingAsync(CancellationToken.None);
        Assert.DoesNotContain("the first run creates it", await store.CheckAsync(CancellationToken.None), StringComparison.Ordinal);
        await store.FlushAsync("nobody", CancellationToken.None);
        Assert.Empty(await ListAsync(store, "nobody"));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(65_535)] // around 64 KiB, the block size of the Azure subclass: one Put Blob, or staged blocks
    [InlineData(65_536)]
    [InlineData(65_537)]
    [InlineData(300_000)]
    public async Task A_new_blob_is_stored_whole_with_its_sidecar_and_read_back(int size)
    {
        var store = await NewStoreAsync();
        var name = NameOf("alice", "u1");
        var content = Content(size, seed: 1);
        var stream = new MemoryStream(content);
        var calls = new List<PutResult>();

        var result = await store.PutAsync(name, stream, Properties("alice", "u1"), Sidecar(calls, stream), CancellationToken.None);
        await store.FlushAsync("alice", CancellationToken.None);

        Assert.Equal(new PutResult(Created: true), result);
        Assert.Equal([new PutResult(Created: true)], calls);
        Assert.Equal(content, await ReadAsync(store, name));
        Assert.Equal(SidecarJson(result), await ReadAsync(store, BlobNaming.SidecarOf(name)));
        var listed = Assert.Single(await ListAsync(store, "alice"));
        Assert.Equal((name, (long)size, ListsSha256 ? Sha256(content) : null), (listed.BlobName, listed.Size, listed.Sha256));
        Assert.EndsWith(name, store.LocationOf(name), StringComparison.Ordinal);
        Assert.Null(await store.OpenReadAsync(NameOf("alice", "never stored"), CancellationToken.None));
    }

    [Theory]
    [InlineData(10_000)]
    [InlineData(300_000)]
    public async Task An_existing_blob_is_kept_and_described_and_the_sidecar_is_written_for_it(int size)
    {
        var store = await NewStoreAsync();
        var name = NameOf("alice", "u1");
        var first = Content(size, seed: 3);
        await store.PutAsync(name, new MemoryStream(first), Properties("alice", "u1"), _ => "{\"first\":true}"u8.ToArray(), CancellationToken.None);
        await store.FlushAsync("alice", CancellationToken.None);

        // A crash after the upload, before the ledger knew: the next run puts the message again.
        var again = new MemoryStream(Content(size + 1, seed: 4));
        var calls = new List<PutResult>();
        var result = await store.PutAsync(name, again, Properties("alice", "u1"), Sidecar(calls, again), CancellationToken.None);
        await store.FlushAsync("alice", CancellationToken.None);

        Assert.Equal(new PutResult(Created: false, Sha256(first), size), result);
        Assert.Equal(again.Length, again.Position); // read to its end, as the port promises
        Assert.Equal(result, calls[^1]);
        Assert.Equal(first, await ReadAsync(store, name));
        Assert.Equal(SidecarJson(result), await ReadAsync(store, BlobNaming.SidecarOf(name)));
        Assert.Equal([name], (await ListAsync(store, "alice")).Select(b => b.BlobName));
    }

    [Fact]
    public async Task A_name_put_twice_before_the_group_commit_keeps_the_first_and_a_put_without_sidecar_writes_none()
    {
        var store = await NewStoreAsync();
        var name = NameOf("alice", "u1");
        var first = Content(1000, seed: 5);
        Assert.True((await store.PutAsync(name, new MemoryStream(first), Properties("alice", "u1"), null, CancellationToken.None)).Created);
        var second = await store.PutAsync(name, new MemoryStream(Content(2000, seed: 6)), Properties("alice", "u1"), null, CancellationToken.None);
        await store.FlushAsync("alice", CancellationToken.None);

        Assert.Equal(new PutResult(Created: false, Sha256(first), first.Length), second);
        Assert.Equal(first, await ReadAsync(store, name));
        Assert.Null(await store.OpenReadAsync(BlobNaming.SidecarOf(name), CancellationToken.None));
        Assert.Single(await ListAsync(store, "alice"));
    }

    [Theory]
    [InlineData(10_000)]
    [InlineData(300_000)]
    public async Task A_blob_another_program_wrote_is_kept_and_described_from_its_content(int size)
    {
        var store = await NewStoreAsync();
        var name = NameOf("alice", "u1");
        var theirs = Content(size, seed: 7);
        await PlantAsync(store, name, theirs);

        var result = await store.PutAsync(name, new MemoryStream(Content(size, seed: 8)), Properties("alice", "u1"), null, CancellationToken.None);
        await store.FlushAsync("alice", CancellationToken.None);

        Assert.Equal(new PutResult(Created: false, Sha256(theirs), size), result);
        Assert.Equal(theirs, await ReadAsync(store, name));
    }

    [Fact]
    public async Task An_older_sidecar_is_replaced_by_the_one_of_the_new_blob()
    {
        // A crash after the sidecar was written, before its message was: the next put writes both.
        var store = await NewStoreAsync();
        var name = NameOf("alice", "u1");
        await PlantAsync(store, BlobNaming.SidecarOf(name), "{\"old\":true}"u8.ToArray());

        var content = Content(500, seed: 9);
        var result = await store.PutAsync(name, new MemoryStream(content), Properties("alice", "u1"), _ => "{\"new\":true}"u8.ToArray(), CancellationToken.None);
        await store.FlushAsync("alice", CancellationToken.None);

        Assert.True(result.Created);
        Assert.Equal(content, await ReadAsync(store, name));
        Assert.Equal("{\"new\":true}"u8.ToArray(), await ReadAsync(store, BlobNaming.SidecarOf(name)));
    }

    [Fact]
    public async Task Listing_an_account_finds_its_message_blobs_and_no_sidecar_no_other_name_and_no_other_account()
    {
        var store = await NewStoreAsync();
        var expected = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        (string Uidl, int Generation, int Days)[] messages = [("u1", 0, 0), ("u1", 1, 3), ("\u0000../\u00ff", 0, 40), ("u2", 0, 400)];
        foreach (var (uidl, generation, days) in messages)
        {
            // The account as configured, in any case: the name is in lower case, and so is the listing.
            var name = BlobNaming.BlobNameOf("Alice", uidl, s_day.AddDays(days), generation);
            expected[name] = Content(100 + expected.Count, seed: expected.Count);
            Assert.True((await store.PutAsync(name, new MemoryStream(expected[name]), Properties("Alice", uidl), _ => "{}"u8.ToArray(), CancellationToken.None)).Created);
        }

        await store.PutAsync(NameOf("bob", "u1"), new MemoryStream(Content(10, 20)), Properties("bob", "u1"), null, CancellationToken.None);
        await store.PutAsync(NameOf("alice2", "u1"), new MemoryStream(Content(10, 21)), Properties("alice2", "u1"), null, CancellationToken.None);
        await store.PutAsync("alice/2026/11/23/not-a-message.eml", new MemoryStream(Content(10, 22)), Properties("alice", "x"), null, CancellationToken.None);
        foreach (var account in new[] { "Alice", "bob", "alice2" })
        {
            await store.FlushAsync(account, CancellationToken.None);
        }

        foreach (var account in new[] { "alice", "Alice", "ALICE" })
        {
            var listed = (await ListAsync(store, account)).OrderBy(b => b.BlobName, StringComparer.Ordinal).ToList();
            Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), listed.Select(b => b.BlobName));
            Assert.All(listed, b => Assert.Equal((long)expected[b.BlobName].Length, b.Size));
            Assert.All(listed, b => Assert.Equal(ListsSha256 ? Sha256(expected[b.BlobName]) : null, b.Sha256));
            Assert.All(listed, b => Assert.InRange(b.LastModified, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(5)));
        }

        Assert.Equal([NameOf("bob", "u1")], (await ListAsync(store, "bob")).Select(b => b.BlobName));
        Assert.Empty(await ListAsync(store, "ali"));
        Assert.Empty(await ListAsync(store, "nobody"));
    }

    [Fact]
    public async Task Names_that_could_address_something_else_are_refused_for_good()
    {
        // One test rather than a theory: a NUL in a theory's argument would reach the test's name and the results file.
        var store = await NewStoreAsync();
        foreach (var name in new[] { "", "../x.eml", "alice/../../x.eml", "/alice/x.eml", "alice\\x.eml", "alice/x\0.eml" })
        {
            var error = await Assert.ThrowsAsync<StoreException>(() => store.PutAsync(name, new MemoryStream([1, 2, 3]), Properties("alice", "x"), null, CancellationToken.None));
            Assert.False(error.IsTransient, name);
        }

        await store.FlushAsync("alice", CancellationToken.None);
        Assert.Empty(await ListAsync(store, "alice"));
    }

    [Theory]
    [InlineData(50_000, 20_000)]
    [InlineData(500_000, 200_000)]
    public async Task A_put_whose_content_fails_leaves_nothing_and_the_next_put_of_the_name_stores_it(int size, int failAt)
    {
        var store = await NewStoreAsync();
        var name = NameOf("alice", "u1");
        var content = Content(size, seed: 10);
        var calls = new List<PutResult>();

        // The POP3 connection lost in the middle of RETR: the store sees its content stream fail.
        var error = await Assert.ThrowsAnyAsync<Exception>(() =>
            store.PutAsync(name, new GeneratedStream(content, failAt), Properties("alice", "u1"), Sidecar(calls, null), CancellationToken.None));
        Assert.True(error is IOException { Message: GeneratedStream.Failure } || error.InnerException is IOException { Message: GeneratedStream.Failure }, error.ToString());
        await store.FlushAsync("alice", CancellationToken.None);
        Assert.Empty(calls);
        Assert.Null(await store.OpenReadAsync(name, CancellationToken.None));
        Assert.Null(await store.OpenReadAsync(BlobNaming.SidecarOf(name), CancellationToken.None));
        Assert.Empty(await ListAsync(store, "alice"));

        Assert.True((await store.PutAsync(name, new MemoryStream(content), Properties("alice", "u1"), Sidecar(calls, null), CancellationToken.None)).Created);
        await store.FlushAsync("alice", CancellationToken.None);
        Assert.Equal(content, await ReadAsync(store, name));
        Assert.Equal(SidecarJson(new PutResult(Created: true)), await ReadAsync(store, BlobNaming.SidecarOf(name)));
    }

    [Fact]
    public async Task A_large_message_is_streamed_from_a_stream_that_can_neither_seek_nor_tell_its_length()
    {
        var store = await NewStoreAsync();
        var name = NameOf("alice", "large");
        var content = Content((5 * 1024 * 1024) + 3, seed: 11);

        var result = await store.PutAsync(name, new GeneratedStream(content), Properties("alice", "large"), null, CancellationToken.None);
        await store.FlushAsync("alice", CancellationToken.None);

        Assert.True(result.Created);
        await using (var read = await store.OpenReadAsync(name, CancellationToken.None))
        {
            Assert.NotNull(read);
            Assert.Equal(Sha256(content), Convert.ToHexStringLower(await SHA256.HashDataAsync(read)));
        }

        Assert.Equal((long)content.Length, Assert.Single(await ListAsync(store, "alice")).Size);
        Assert.Equal(new PutResult(Created: false, Sha256(content), content.Length),
            await store.PutAsync(name, new GeneratedStream(content), Properties("alice", "large"), null, CancellationToken.None));
    }

    [Fact]
    public async Task Accounts_putting_at_the_same_time_each_find_their_own_blobs_after_their_own_group_commit()
    {
        var store = await NewStoreAsync();
        string[] accounts = ["a", "b", "c"];
        byte[] Message(string account, int i) => Content(200 + i, seed: (account[0] * 1000) + i);

        // One store shared by the runs of several accounts, each committing its own group when it likes.
        await Task.WhenAll(accounts.Select(account => Task.Run(async () =>
        {
            for (var i = 0; i < 30; i++)
            {
                var result = await store.PutAsync(NameOf(account, $"u{i}"), new MemoryStream(Message(account, i)), Properties(account, $"u{i}"),
                    _ => Encoding.UTF8.GetBytes($"{{\"account\":\"{account}\",\"i\":{i}}}"), CancellationToken.None);
                Assert.True(result.Created);
                if (i % 10 == 9)
                {
                    await store.FlushAsync(account, CancellationToken.None);
                }
            }
        })));

        foreach (var account in accounts)
        {
            var listed = await ListAsync(store, account);
            Assert.Equal(Enumerable.Range(0, 30).Select(i => NameOf(account, $"u{i}")).Order(StringComparer.Ordinal), listed.Select(b => b.BlobName).Order(StringComparer.Ordinal));
            for (var i = 0; i < 30; i += 7)
            {
                Assert.Equal(Message(account, i), await ReadAsync(store, NameOf(account, $"u{i}")));
                Assert.Equal($"{{\"account\":\"{account}\",\"i\":{i}}}", Encoding.UTF8.GetString(await ReadAsync(store, BlobNaming.SidecarOf(NameOf(account, $"u{i}")))));
            }
        }
    }

    /// <summary>The blob name the plan gives a message: <see cref="BlobNaming"/>, generation 0, first seen on one day.</summary>
    private static string NameOf(string account, string uidl) => BlobNaming.BlobNameOf(account, uidl, s_day);

    private static BlobProperties Properties(string account, string uidl) => new(account, BlobNaming.IdOf(uidl));

    private static byte[] Content(int size, int seed)
    {
        var bytes = new byte[size];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static string Sha256(byte[] content) => Convert.ToHexStringLower(SHA256.HashData(content));

    /// <summary>A new store, initialized, disposed with the test.</summary>
    private async Task<IMessageStore> NewStoreAsync()
    {
        var store = CreateStore();
        await store.InitializeAsync(CancellationToken.None);
        return store;
    }

    private IMessageStore CreateStore()
    {
        var store = NewStore();
        _stores.Add(store);
        return store;
    }

    /// <summary>The sidecar the tests write for a put's result, so that which result it was written for can be read back.</summary>
    private static byte[] SidecarJson(PutResult result) =>
        Encoding.UTF8.GetBytes($"{{\"created\":{(result.Created ? "true" : "false")},\"sha256\":\"{result.ExistingSha256}\",\"size\":{result.ExistingSize ?? -1}}}");

    /// <summary>Records each call; the port calls it only once the content has been read to its end.</summary>
    private static Func<PutResult, byte[]> Sidecar(List<PutResult> calls, MemoryStream? content) => result =>
    {
        if (content is not null)
        {
            Assert.Equal(content.Length, content.Position);
        }

        calls.Add(result);
        return SidecarJson(result);
    };

    private static async Task<byte[]> ReadAsync(IMessageStore store, string name)
    {
        await using var stream = await store.OpenReadAsync(name, CancellationToken.None);
        Assert.True(stream is not null, $"{name} is not in the store");
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        return copy.ToArray();
    }

    private static async Task<List<StoredBlob>> ListAsync(IMessageStore store, string account)
    {
        var blobs = new List<StoredBlob>();
        await foreach (var blob in store.ListAsync(account, CancellationToken.None))
        {
            blobs.Add(blob);
        }

        return blobs;
    }

    /// <summary>
    /// Content as a POP3 session hands it over: read forward only, in pieces of at most 16 KiB, with no length and no
    /// seeking; optionally failing at an offset as a lost connection does.
    /// </summary>
    private sealed class GeneratedStream(byte[] content, int failAt = int.MaxValue) : Stream
    {
        public const string Failure = "connection to the POP3 server lost";
        private int _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_position >= failAt)
            {
                throw new IOException(Failure);
            }

            var count = Math.Min(Math.Min(buffer.Length, 16 * 1024), Math.Min(content.Length, failAt) - _position);
            content.AsSpan(_position, count).CopyTo(buffer.Span);
            _position += count;
            return ValueTask.FromResult(count);
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
