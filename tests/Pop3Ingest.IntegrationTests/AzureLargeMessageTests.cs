using System.Diagnostics;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging.Abstractions;
using Pop3Ingest.Ingestion.Azure;
using Pop3Ingest.Ingestion.Ledger.Sqlite;
using Pop3Ingest.Ingestion.Notifications.AzureQueue;
using Pop3Ingest.Ingestion.Pipeline;
using Pop3Ingest.Ingestion.Storage;
using Pop3Ingest.Ingestion.Storage.AzureBlob;
using Pop3Ingest.IntegrationTests.Support;
using Pop3Ingest.Pop3;
using Xunit.Abstractions;

namespace Pop3Ingest.IntegrationTests;

/// <summary>Memory: a 100 MB message goes from Dovecot to Azurite as staged 4 MiB blocks through one pooled buffer.</summary>
[Collection(SerialCollection.Name)]
public sealed class AzureLargeMessageTests(ITestOutputHelper output)
{
    private const int BlockSize = 4 * 1024 * 1024;

    [Fact]
    public async Task A_100_mb_message_goes_up_as_blocks_in_bounded_memory()
    {
        await using var dovecot = await DovecotServer.StartAsync(new DovecotServerOptions { Users = [("big", "pw")] });
        await using var azurite = await AzuriteServer.StartAsync();
        var folder = Directory.CreateTempSubdirectory("p3i-azure-big-").FullName;
        try
        {
            const int size = 100 * 1024 * 1024;
            var expected = TestMessages.ToCrlf(TestMessages.Create(1, size));
            dovecot.Deliver("big", expected);
            var expectedSha = Convert.ToHexStringLower(SHA256.HashData(expected));
            var expectedLength = expected.Length;
            expected = null;

            var connection = StorageConnectionString.Parse(azurite.ConnectionString);
            var settings = new AzureStorageSettings { BlockSize = BlockSize };
            var store = new AzureBlobMessageStore(StorageEndpoint.Blob(connection), "mail", settings, NullLogger.Instance);
            var notifier = new AzureQueueNotifier(StorageEndpoint.Queue(connection), "events", QueueMessageEncoding.Base64, settings, NullLogger.Instance);
            await store.InitializeAsync(CancellationToken.None);
            await notifier.InitializeAsync(CancellationToken.None);
            var ledger = new SqliteLedger($"Data Source={Path.Combine(folder, "ledger.db")}");
            await ledger.MigrateAsync(CancellationToken.None);
            var measured = new HeapSamplingStore(store);
            var runner = new IngestionRunner(ledger, measured, notifier, new IngestionOptions(), TimeProvider.System, NullLogger<IngestionRunner>.Instance);
            var account = new AccountSettings
            {
                Name = "big",
                Client = new Pop3ClientOptions { Host = dovecot.Host, Port = dovecot.Port, Security = Pop3Security.None, AllowInsecureAuth = true },
                Credentials = _ => ValueTask.FromResult(Pop3Credentials.FromPassword("big", "pw")),
            };

            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            var heapBefore = GC.GetTotalMemory(forceFullCollection: true);
            var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
            var watch = Stopwatch.StartNew();

            var result = await runner.RunAsync(account, stopping: CancellationToken.None);

            watch.Stop();
            var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
            var heapGrowth = measured.PeakHeap - heapBefore;
            Assert.True(result.Outcome == RunOutcome.Succeeded, $"{result.FailureKind}: {result.Error}");
            Assert.Equal((1, 1, 1), (result.Stored, result.Notified, result.Deleted));

            var inspector = new StorageInspector(azurite);
            var blob = Assert.Single(await inspector.ListBlobsAsync("mail"), b => b.Name.EndsWith(".eml", StringComparison.Ordinal));
            Assert.Equal(expectedLength, blob.Size);
            Assert.Equal(expectedSha, blob.Metadata["sha256"]);
            Assert.Equal((expectedLength + BlockSize - 1) / BlockSize, await inspector.CommittedBlockCountAsync("mail", blob.Name));
            await using (var stored = await store.OpenReadAsync(blob.Name, CancellationToken.None))
            {
                Assert.Equal(expectedSha, Convert.ToHexStringLower(await SHA256.HashDataAsync(stored!)));
            }

            output.WriteLine($"{expectedLength:N0} bytes in {watch.Elapsed.TotalSeconds:0.00} s " +
                $"({expectedLength / 1048576.0 / watch.Elapsed.TotalSeconds:0.0} MiB/s, Dovecot to Azurite); " +
                $"allocated {allocated:N0} bytes; heap grew by at most {heapGrowth:N0} bytes ({measured.Samples} samples)");
            Assert.True(measured.Samples >= 90, $"only {measured.Samples} heap samples");
            Assert.True(heapGrowth < size / 10, $"heap grew by {heapGrowth} bytes");
            Assert.True(allocated < size / 10, $"allocated {allocated} bytes for a {expectedLength}-byte message");
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>Samples the managed heap after every MiB the store reads.</summary>
    private sealed class HeapSamplingStore(IMessageStore inner) : IMessageStore
    {
        public long PeakHeap { get; private set; }

        public int Samples { get; private set; }

        public string Kind => inner.Kind;

        public Task InitializeAsync(CancellationToken cancellationToken) => inner.InitializeAsync(cancellationToken);

        public Task PingAsync(CancellationToken cancellationToken) => inner.PingAsync(cancellationToken);

        public Task<string> CheckAsync(CancellationToken cancellationToken) => inner.CheckAsync(cancellationToken);

        public Task<PutResult> PutAsync(string blobName, Stream content, BlobProperties properties, Func<PutResult, byte[]>? sidecar, CancellationToken cancellationToken) =>
            inner.PutAsync(blobName, new SamplingStream(content, this), properties, sidecar, cancellationToken);

        public Task FlushAsync(string account, CancellationToken cancellationToken) => inner.FlushAsync(account, cancellationToken);

        public string LocationOf(string blobName) => inner.LocationOf(blobName);

        public Task<Stream?> OpenReadAsync(string blobName, CancellationToken cancellationToken) => inner.OpenReadAsync(blobName, cancellationToken);

        public IAsyncEnumerable<StoredBlob> ListAsync(string account, CancellationToken cancellationToken) => inner.ListAsync(account, cancellationToken);

        private void Sample()
        {
            Samples++;
            PeakHeap = Math.Max(PeakHeap, GC.GetTotalMemory(forceFullCollection: false));
        }

        private sealed class SamplingStream(Stream source, HeapSamplingStore owner) : Stream
        {
            private long _read;

            public override bool CanRead => true;

            public override bool CanSeek => false;

            public override bool CanWrite => false;

            public override long Length => throw new NotSupportedException();

            public override long Position { get => _read; set => throw new NotSupportedException(); }

            public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
            {
                var read = await source.ReadAsync(buffer, cancellationToken);
                if ((_read >> 20) != ((_read + read) >> 20))
                {
                    owner.Sample();
                }

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
}
