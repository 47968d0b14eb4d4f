using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Pop3Ingest.Ingestion.Azure;
using Pop3Ingest.Ingestion.Ledger.Sqlite;
using Pop3Ingest.Ingestion.Notifications.AzureQueue;
using Pop3Ingest.Ingestion.Pipeline;
using Pop3Ingest.Ingestion.Storage;
using Pop3Ingest.Ingestion.Storage.AzureBlob;
using Pop3Ingest.IntegrationTests.Support;
using Pop3Ingest.Pop3;

namespace Pop3Ingest.IntegrationTests;

/// <summary>
/// Whole ingestion runs from a real Dovecot into a real Azurite (blobs and queue), with a SQLite ledger: every message
/// once and byte-identical with one event each, and outages of Azurite in the middle of a run.
/// </summary>
public sealed class AzureIngestionTests
{
    private const string Container = "mail";
    private const string Queue = "mail-events";

    [Fact]
    public async Task Every_message_lands_once_byte_identical_with_one_matching_event()
    {
        await using var world = await World.StartAsync(blockSize: 256 * 1024);
        var messages = Enumerable.Range(1, 40)
            .Select(i => TestMessages.Create(i, i switch { 39 => 600_000, 40 => 1_300_000, _ => TestMessages.SizeFor(i) }))
            .ToArray();
        world.Deliver(messages);

        var result = await world.RunAsync();

        Assert.True(result.Outcome == RunOutcome.Succeeded, $"{result.FailureKind}: {result.Error}");
        Assert.Equal((40, 40, 40, 40), (result.Listed, result.Stored, result.Notified, result.Deleted));
        Assert.Equal(0, world.Dovecot.MessageCount("alice"));
        var stored = await world.AssertStoredExactlyAsync(messages);
        foreach (var large in stored.Where(b => b.Size > 256 * 1024))
        {
            // Staged in 256 KiB blocks; everything smaller went up with one Put Blob (no block list).
            Assert.Equal((int)((large.Size + (256 * 1024) - 1) / (256 * 1024)), await world.Inspector.CommittedBlockCountAsync(Container, large.Name));
        }

        Assert.Equal([38, 39], stored.Select((b, i) => (b, i)).Where(x => x.b.Size > 256 * 1024).Select(x => x.i)); // messages 39 and 40
        Assert.Equal(0, await world.Inspector.CommittedBlockCountAsync(Container, stored[0].Name));

        var events = await world.AssertEventsAsync(stored);
        foreach (var (index, root) in events)
        {
            // The headers reach the event: the sample messages carry an RFC 2047 subject and a Message-ID.
            var data = root.GetProperty("data");
            Assert.Equal($"Pr\u00fcfung {index + 1}", data.GetProperty("subject").GetString());
            Assert.Equal($"<msg{index + 1}.0@example.org>", data.GetProperty("messageId").GetString());
            Assert.Equal($"data{index + 1}.bin", data.GetProperty("attachments")[0].GetProperty("fileName").GetString());

            // The sidecar beside the blob holds the same data (its stored time is the upload's, not the commit's).
            using var sidecar = JsonDocument.Parse(await world.Inspector.GetBlobAsync(Container, BlobNaming.SidecarOf(stored[index].Name)));
            Assert.Equal(data.GetProperty("sha256").GetString(), sidecar.RootElement.GetProperty("sha256").GetString());
            Assert.Equal(data.GetProperty("uidl").GetString(), sidecar.RootElement.GetProperty("uidl").GetString());
            Assert.Equal(data.GetProperty("blob").GetString(), sidecar.RootElement.GetProperty("blob").GetString());
        }

        var again = await world.RunAsync();
        Assert.Equal((RunOutcome.Succeeded, 0, 0, 0), (again.Outcome, again.Listed, again.Stored, again.Notified));
        Assert.Empty(await world.Inspector.ReceiveAllAsync(Queue));
    }

    /// <summary>
    /// Azurite is stopped (SIGTERM) while the 12th message is half uploaded, with the uploads after it overlapping (the
    /// product's default): some of them may land before Azurite is gone, the others fail. Whatever the timing, nothing is
    /// half-written, each row says what happened to its own message (what landed is not downloaded again), and only
    /// what was announced is deleted. With one group commit for the whole run nothing was announced, so nothing may be
    /// deleted; with groups of five, the groups committed before the outage are.
    /// </summary>
    [Theory]
    [InlineData(1000)]
    [InlineData(5)]
    public async Task Azurite_stopped_mid_upload_fails_the_run_clearly_and_the_next_run_completes_without_duplicates(int groupCommitSize)
    {
        await using var world = await World.StartAsync(blockSize: 256 * 1024, groupCommitSize: groupCommitSize);
        var messages = Enumerable.Range(1, 30).Select(i => TestMessages.Create(i, i % 3 == 0 ? 150_000 : 5_000)).ToArray();
        world.Deliver(messages);
        var outage = new OutageStore(world.Store, putNumber: 12, afterBytes: 80_000, world.Azurite.StopAsync);

        var failed = await world.RunAsync(outage);

        Assert.True(outage.Fired, "the outage happened");
        Assert.Equal(RunOutcome.Failed, failed.Outcome);
        Assert.Equal(FailureKind.Store, failed.FailureKind);
        Assert.Contains($"Azure Blob Storage at {world.Azurite.BlobEndpoint}", failed.Error, StringComparison.Ordinal);
        Assert.Contains("cannot connect after 3 tries", failed.Error, StringComparison.Ordinal);
        Assert.Equal(30 - failed.Deleted, world.Dovecot.MessageCount("alice"));
        if (groupCommitSize > 30)
        {
            Assert.Equal(0, failed.Deleted);
        }

        await world.Azurite.StartAgainAsync();

        // Nothing half-written: every blob is a whole message (the uploads in flight when Azurite stopped landed whole or
        // not at all; a sidecar written just before may be there without its blob, and is rewritten next run); the
        // twelfth did not land.
        var landed = await world.AssertStoredWholeAsync(messages, orphanSidecars: true);
        Assert.DoesNotContain(11, landed);
        // The announced ones are exactly the deleted ones.
        var announced = await world.Inspector.ReceiveAllAsync(Queue);
        Assert.Equal(failed.Deleted, announced.Count);

        var completed = await world.RunAsync();

        Assert.True(completed.Outcome == RunOutcome.Succeeded, $"{completed.FailureKind}: {completed.Error}");
        Assert.Equal(30 - landed.Count, completed.Stored);                 // nothing stored twice
        Assert.Equal(landed.Count, failed.Stored + completed.AlreadyStored); // (a put cut off after it landed is found next run)
        Assert.Equal(30 - failed.Deleted, completed.Notified);            // including the stored, unannounced ones
        Assert.Equal(0, world.Dovecot.MessageCount("alice"));
        var stored = await world.AssertStoredExactlyAsync(messages);
        var rest = await world.Inspector.ReceiveAllAsync(Queue);
        var ids = announced.Concat(rest).Select(m => World.Decode(m.Text).GetProperty("id").GetString()).ToList();
        Assert.Equal(30, ids.Count);
        Assert.Equal(30, ids.Distinct().Count());
        Assert.Equal(stored.Select(b => $"alice:{Path.GetFileNameWithoutExtension(b.Name.AsSpan())}").Order(), ids.Order());
    }

    [Fact]
    public async Task A_queue_outage_leaves_mail_on_the_server_and_the_next_run_announces_it_without_downloading()
    {
        await using var world = await World.StartAsync(blockSize: 64 * 1024);
        var messages = Enumerable.Range(1, 12).Select(i => TestMessages.Create(i, i % 4 == 0 ? 120_000 : 3_000)).ToArray();
        world.Deliver(messages);
        await world.Azurite.StopQueueAsync();

        var failed = await world.RunAsync();

        Assert.Equal((RunOutcome.Failed, FailureKind.Queue), (failed.Outcome, failed.FailureKind));
        Assert.Contains($"Azure Queue Storage at {world.Azurite.QueueEndpoint}", failed.Error, StringComparison.Ordinal);
        Assert.Equal((12, 0, 0), (failed.Stored, failed.Notified, failed.Deleted));
        Assert.Equal(12, world.Dovecot.MessageCount("alice"));
        await world.AssertStoredExactlyAsync(messages);

        await world.Azurite.StartAgainAsync();
        var completed = await world.RunAsync();

        Assert.True(completed.Outcome == RunOutcome.Succeeded, $"{completed.FailureKind}: {completed.Error}");
        Assert.Equal((0, 0, 12, 12), (completed.Stored, completed.AlreadyStored, completed.Notified, completed.Deleted));
        Assert.Equal(0, world.Dovecot.MessageCount("alice"));
        var events = await world.AssertEventsAsync(await world.AssertStoredExactlyAsync(messages));
        // Rebuilt from the stored blobs (Get Blob), not from the server: the headers are still there.
        Assert.All(events, e => Assert.Equal($"Pr\u00fcfung {e.Index + 1}", e.Root.GetProperty("data").GetProperty("subject").GetString()));
    }

    /// <summary>Dovecot, Azurite, a ledger, the Azure store and notifier, and the runner, all private to one test.</summary>
    [Fact]
    public async Task The_consumer_sample_verifies_each_event_against_its_blob_deletes_it_and_leaves_a_tampered_one()
    {
        await using var world = await World.StartAsync(blockSize: 256 * 1024);
        var messages = Enumerable.Range(1, 6).Select(i => TestMessages.Create(i, TestMessages.SizeFor(i))).ToArray();
        world.Deliver(messages);
        var result = await world.RunAsync();
        Assert.True(result.Outcome == RunOutcome.Succeeded, $"{result.FailureKind}: {result.Error}");
        var stored = (await world.Inspector.ListBlobsAsync(Container)).Where(b => b.Name.EndsWith(".eml", StringComparison.Ordinal)).ToList();
        Assert.Equal(6, stored.Count);

        // Someone rewrites one blob after the event was sent: its bytes no longer match the event.
        var container = new Azure.Storage.Blobs.BlobContainerClient(world.Azurite.ConnectionString, Container,
            new Azure.Storage.Blobs.BlobClientOptions(Azure.Storage.Blobs.BlobClientOptions.ServiceVersion.V2025_11_05));
        await container.GetBlobClient(stored[2].Name).UploadAsync(new BinaryData("tampered"u8.ToArray()), overwrite: true);

        var handled = new List<(string Id, byte[] Content, string Json)>();
        var consumer = new ConsumerSample.MailEventConsumer(world.Azurite.ConnectionString, Queue, Container, async (cloudEvent, content, ct) =>
        {
            using var copy = new MemoryStream();
            await content.CopyToAsync(copy, ct);
            handled.Add((cloudEvent.GetProperty("id").GetString()!, copy.ToArray(), cloudEvent.GetRawText()));
        });
        var first = await consumer.ConsumeAsync(maxEvents: 100, visibilityTimeout: TimeSpan.FromSeconds(1), CancellationToken.None);

        Assert.Equal(new ConsumerSample.ConsumeResult(5, 0, 1), first);
        // Each handled message is the one stored (as RETR returned it), and the tampered one is not among them.
        var expected = stored.Where((_, i) => i != 2).Select(b => b.Metadata["sha256"]).ToHashSet();
        Assert.Equal(expected, handled.Select(h => Convert.ToHexStringLower(SHA256.HashData(h.Content))).ToHashSet());
        Assert.Equal(5, handled.Select(h => h.Id).Distinct().Count());

        // At least once: the same event delivered again is recognised by its id and removed without being handled again.
        var queue = new Azure.Storage.Queues.QueueClient(world.Azurite.ConnectionString, Queue,
            new Azure.Storage.Queues.QueueClientOptions(Azure.Storage.Queues.QueueClientOptions.ServiceVersion.V2025_11_05)
            {
                MessageEncoding = Azure.Storage.Queues.QueueMessageEncoding.Base64,
            });
        await queue.SendMessageAsync(new BinaryData(System.Text.Encoding.UTF8.GetBytes(handled[0].Json)));
        await Task.Delay(TimeSpan.FromSeconds(1.5)); // the tampered event becomes visible again
        var second = await consumer.ConsumeAsync(maxEvents: 100, visibilityTimeout: TimeSpan.FromSeconds(30), CancellationToken.None);
        Assert.Equal(new ConsumerSample.ConsumeResult(0, 1, 1), second);
        Assert.Equal(5, handled.Count);
    }

    private sealed class World : IAsyncDisposable
    {
        private readonly string _folder;
        private readonly SqliteLedger _ledger;
        private readonly IngestionOptions _options;

        private World(DovecotServer dovecot, AzuriteServer azurite, string folder, SqliteLedger ledger, AzureBlobMessageStore store,
            AzureQueueNotifier notifier, IngestionOptions options)
        {
            Dovecot = dovecot;
            Azurite = azurite;
            _folder = folder;
            _ledger = ledger;
            Store = store;
            Notifier = notifier;
            _options = options;
            Inspector = new StorageInspector(azurite);
        }

        public DovecotServer Dovecot { get; }

        public AzuriteServer Azurite { get; }

        public AzureBlobMessageStore Store { get; }

        public AzureQueueNotifier Notifier { get; }

        public StorageInspector Inspector { get; }

        public static async Task<World> StartAsync(int blockSize, int groupCommitSize = 64)
        {
            var dovecot = await DovecotServer.StartAsync(new DovecotServerOptions { Users = [("alice", "s3cret")] });
            var azurite = await AzuriteServer.StartAsync();
            var folder = Directory.CreateTempSubdirectory("p3i-azure-run-").FullName;
            var ledger = new SqliteLedger($"Data Source={Path.Combine(folder, "ledger.db")}");
            await ledger.MigrateAsync(CancellationToken.None);
            var connection = StorageConnectionString.Parse(azurite.ConnectionString);
            var settings = AzuriteFixture.FastRetries with { BlockSize = blockSize };
            var store = new AzureBlobMessageStore(StorageEndpoint.Blob(connection), Container, settings, NullLogger.Instance);
            var notifier = new AzureQueueNotifier(StorageEndpoint.Queue(connection), Queue, QueueMessageEncoding.Base64, settings, NullLogger.Instance);
            await store.InitializeAsync(CancellationToken.None);
            await notifier.InitializeAsync(CancellationToken.None);
            // Uploads overlap, as the worker sets them up for the Azure store.
            var options = new IngestionOptions
            {
                GroupCommitSize = groupCommitSize,
                GroupCommitInterval = TimeSpan.FromHours(1),
                Uploads = new UploadOverlap(MaxInFlight: 16, MaxMessageBytes: blockSize, new UploadBudget(64 * 1024 * 1024)),
            };
            return new World(dovecot, azurite, folder, ledger, store, notifier, options);
        }

        public static JsonElement Decode(string text) => JsonDocument.Parse(Convert.FromBase64String(text)).RootElement;

        public void Deliver(byte[][] messages)
        {
            foreach (var message in messages)
            {
                Dovecot.Deliver("alice", message);
            }
        }

        public async Task<RunResult> RunAsync(IMessageStore? store = null)
        {
            var runner = new IngestionRunner(_ledger, store ?? Store, Notifier, _options, TimeProvider.System, NullLogger<IngestionRunner>.Instance);
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
            return await runner.RunAsync(Account(), stopping: timeout.Token);
        }

        /// <summary>
        /// The container holds exactly these messages, each once, byte for byte as POP3 sent them, with its sidecar and
        /// the metadata the store writes. Returns the .eml blobs in the order of <paramref name="messages"/>.
        /// </summary>
        public async Task<IReadOnlyList<StorageInspector.BlobItem>> AssertStoredExactlyAsync(byte[][] messages)
        {
            var landed = await AssertStoredWholeAsync(messages);
            Assert.Equal(Enumerable.Range(0, messages.Length), landed.Order());
            var blobs = await Inspector.ListBlobsAsync(Container);
            var bySha = blobs.Where(b => b.Name.EndsWith(".eml", StringComparison.Ordinal)).ToDictionary(b => b.Metadata["sha256"]);
            return [.. messages.Select(m => bySha[Convert.ToHexStringLower(SHA256.HashData(TestMessages.ToCrlf(m)))])];
        }

        /// <summary>
        /// Every message blob in the container is one of these messages, whole, byte for byte as POP3 sent it, once, with
        /// its sidecar and the metadata the store writes; with <paramref name="orphanSidecars"/>, sidecars without their
        /// blob may be there too. Returns the indexes of the messages that are there.
        /// </summary>
        public async Task<List<int>> AssertStoredWholeAsync(byte[][] messages, bool orphanSidecars = false)
        {
            var blobs = await Inspector.ListBlobsAsync(Container);
            var emls = blobs.Where(b => b.Name.EndsWith(".eml", StringComparison.Ordinal)).ToList();
            var sidecars = blobs.Where(b => b.Name.EndsWith(".json", StringComparison.Ordinal)).Select(b => b.Name).ToHashSet();
            if (orphanSidecars)
            {
                Assert.Superset(emls.Select(b => BlobNaming.SidecarOf(b.Name)).ToHashSet(), sidecars);
            }
            else
            {
                Assert.Equal(emls.Select(b => BlobNaming.SidecarOf(b.Name)).Order(), sidecars.Order());
            }

            var bySha = emls.ToDictionary(b => b.Metadata["sha256"]);
            var landed = new List<int>();
            for (var index = 0; index < messages.Length; index++)
            {
                var expected = TestMessages.ToCrlf(messages[index]);
                var sha = Convert.ToHexStringLower(SHA256.HashData(expected));
                if (!bySha.Remove(sha, out var blob))
                {
                    continue;
                }

                Assert.Equal(expected.Length, blob.Size);
                Assert.Equal("message/rfc822", blob.ContentType);
                Assert.Equal("alice", blob.Metadata["account"]);
                Assert.Equal(Path.GetFileNameWithoutExtension(blob.Name), blob.Metadata["uidlhash"]);
                Assert.Equal(expected, await Inspector.GetBlobAsync(Container, blob.Name));
                landed.Add(index);
            }

            Assert.True(bySha.Count == 0, $"blobs that hold no whole message: {string.Join(", ", bySha.Values.Select(b => $"{b.Name} ({b.Size} bytes)"))}");
            return landed;
        }

        /// <summary>One event per stored message, decodable, matching its blob; returns them by message index.</summary>
        public async Task<IReadOnlyList<(int Index, JsonElement Root)>> AssertEventsAsync(IReadOnlyList<StorageInspector.BlobItem> stored)
        {
            var received = await Inspector.ReceiveAllAsync(Queue);
            Assert.Equal(stored.Count, received.Count);
            var bySubject = received.Select(m => Decode(m.Text)).ToDictionary(e => e.GetProperty("subject").GetString()!);
            var events = new List<(int, JsonElement)>();
            for (var i = 0; i < stored.Count; i++)
            {
                var blob = stored[i];
                Assert.True(bySubject.TryGetValue(blob.Name, out var root), $"no event for {blob.Name}");
                EventSchema.AssertValid(root);
                Assert.Equal("1.0", root.GetProperty("specversion").GetString());
                Assert.Equal("pop3ingest.message.stored", root.GetProperty("type").GetString());
                Assert.Equal("/pop3ingest/accounts/alice", root.GetProperty("source").GetString());
                Assert.Equal($"alice:{Path.GetFileNameWithoutExtension(blob.Name)}", root.GetProperty("id").GetString());
                Assert.Equal("application/json", root.GetProperty("datacontenttype").GetString());
                var data = root.GetProperty("data");
                Assert.Equal(Store.LocationOf(blob.Name), data.GetProperty("blob").GetString());
                Assert.Equal(blob.Metadata["sha256"], data.GetProperty("sha256").GetString());
                Assert.Equal(blob.Size, data.GetProperty("size").GetInt64());
                Assert.Equal(BlobNaming.IdOf(data.GetProperty("uidl").GetString()!), blob.Metadata["uidlhash"]);
                Assert.False(data.GetProperty("truncated").GetBoolean());
                events.Add((i, root));
            }

            return events;
        }

        public async ValueTask DisposeAsync()
        {
            await Azurite.DisposeAsync();
            await Dovecot.DisposeAsync();
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(_folder, recursive: true);
        }

        private AccountSettings Account() => new()
        {
            Name = "alice",
            Client = new Pop3ClientOptions
            {
                Host = Dovecot.Host,
                Port = Dovecot.Port,
                Security = Pop3Security.None,
                AllowInsecureAuth = true,
                Timeout = TimeSpan.FromSeconds(20),
            },
            Credentials = _ => ValueTask.FromResult(Pop3Credentials.FromPassword("alice", "s3cret")),
        };
    }

    /// <summary>Passes everything to the real store, and stops Azurite while the n-th message is being uploaded.</summary>
    private sealed class OutageStore(IMessageStore inner, int putNumber, long afterBytes, Func<Task> outage) : IMessageStore
    {
        private int _puts;

        public bool Fired { get; private set; }

        public string Kind => inner.Kind;

        public Task InitializeAsync(CancellationToken cancellationToken) => inner.InitializeAsync(cancellationToken);

        public Task PingAsync(CancellationToken cancellationToken) => inner.PingAsync(cancellationToken);

        public Task<string> CheckAsync(CancellationToken cancellationToken) => inner.CheckAsync(cancellationToken);

        public Task<PutResult> PutAsync(string blobName, Stream content, BlobProperties properties, Func<PutResult, byte[]>? sidecar, CancellationToken cancellationToken) =>
            inner.PutAsync(blobName, ++_puts == putNumber ? new TriggerStream(content, afterBytes, FireAsync) : content, properties, sidecar, cancellationToken);

        public Task FlushAsync(string account, CancellationToken cancellationToken) => inner.FlushAsync(account, cancellationToken);

        public string LocationOf(string blobName) => inner.LocationOf(blobName);

        public Task<Stream?> OpenReadAsync(string blobName, CancellationToken cancellationToken) => inner.OpenReadAsync(blobName, cancellationToken);

        public IAsyncEnumerable<StoredBlob> ListAsync(string account, CancellationToken cancellationToken) => inner.ListAsync(account, cancellationToken);

        private async Task FireAsync()
        {
            Fired = true;
            await outage();
        }
    }

    private sealed class TriggerStream(Stream inner, long afterBytes, Func<Task> trigger) : Stream
    {
        private long _read;
        private bool _fired;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => _read; set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (!_fired && _read >= afterBytes)
            {
                _fired = true;
                await trigger();
            }

            var read = await inner.ReadAsync(buffer, cancellationToken);
            _read += read;
            return read;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("async only");

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
