using System.Net;
using System.Security.Cryptography;
using System.Text;
using Azure.Core.Pipeline;
using Azure.Storage.Blobs;
using Pop3Ingest.Ingestion.Azure;
using Pop3Ingest.Ingestion.Notifications;
using Pop3Ingest.Ingestion.Storage;
using Pop3Ingest.IntegrationTests.Support;

namespace Pop3Ingest.IntegrationTests;

/// <summary>
/// What only the Azure Blob store does, against a real Azurite (which verifies every Shared Key signature and SAS): one
/// Put Blob or staged blocks, its metadata and content types, paging, the conditional commit racing another writer,
/// Azurite's 409 for staged blocks, credentials, an unreachable or busy service. What every store promises is in
/// MessageStoreContractTests (AzureBlobMessageStoreContractTests).
/// </summary>
public sealed class AzureBlobMessageStoreTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private const string BlobName = "alice/2026/11/23/0123456789abcdef0123456789abcdef.eml";
    private const string SidecarName = "alice/2026/11/23/0123456789abcdef0123456789abcdef.json";
    private static readonly BlobProperties s_properties = new("alice", "0123456789abcdef0123456789abcdef");
    private static readonly AzureStorageSettings s_smallBlocks = AzuriteFixture.FastRetries with { BlockSize = 64 * 1024 };

    private static byte[] Content(int size, int seed)
    {
        var bytes = new byte[size];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    private static Func<PutResult, byte[]> Sidecar(List<PutResult> calls) => result =>
    {
        calls.Add(result);
        return Encoding.UTF8.GetBytes($"{{\"created\":{(result.Created ? "true" : "false")},\"sha256\":\"{result.ExistingSha256}\"}}");
    };

    private async Task<Ingestion.Storage.AzureBlob.AzureBlobMessageStore> NewStoreAsync(AzureStorageSettings? settings = null)
    {
        var store = azurite.Store(AzuriteFixture.NewName("c"), settings);
        await store.InitializeAsync(CancellationToken.None);
        return store;
    }

    [Fact]
    public async Task Ping_says_which_container_is_missing_and_initialize_creates_it()
    {
        var store = azurite.Store(AzuriteFixture.NewName("c"));
        var missing = await Assert.ThrowsAsync<StoreException>(() => store.PingAsync(CancellationToken.None));
        Assert.Contains("does not exist", missing.Message, StringComparison.Ordinal);
        Assert.Contains("ContainerNotFound", missing.Message, StringComparison.Ordinal);
        Assert.False(await azurite.Inspector.ContainerExistsAsync(store.Container));

        await store.InitializeAsync(CancellationToken.None);
        Assert.True(await azurite.Inspector.ContainerExistsAsync(store.Container));
        Assert.Empty(await azurite.Inspector.ListBlobsAsync(store.Container));
    }

    [Fact]
    public async Task A_small_message_is_one_put_blob_with_its_type_and_metadata_and_a_json_sidecar()
    {
        var store = await NewStoreAsync();
        var content = Content(10_000, 1);

        await store.PutAsync(BlobName, new MemoryStream(content), s_properties, Sidecar([]), CancellationToken.None);

        var blobs = (await azurite.Inspector.ListBlobsAsync(store.Container)).ToDictionary(b => b.Name);
        Assert.Equal([BlobName, SidecarName], blobs.Keys.Order(StringComparer.Ordinal));
        var eml = blobs[BlobName];
        Assert.Equal("message/rfc822", eml.ContentType);
        Assert.Equal("alice", eml.Metadata["account"]);
        Assert.Equal(s_properties.UidlHash, eml.Metadata["uidlhash"]);
        Assert.Equal(Sha256(content), eml.Metadata["sha256"]);
        Assert.Equal(0, await azurite.Inspector.CommittedBlockCountAsync(store.Container, BlobName));
        Assert.Equal(content, await azurite.Inspector.GetBlobAsync(store.Container, BlobName));
        Assert.Equal("application/json", blobs[SidecarName].ContentType);
        Assert.Equal("{\"created\":true,\"sha256\":\"\"}", Encoding.UTF8.GetString(await azurite.Inspector.GetBlobAsync(store.Container, SidecarName)));
        Assert.Equal($"{azurite.Server.BlobEndpoint}/{store.Container}/{BlobName}", store.LocationOf(BlobName));
    }

    [Fact]
    public async Task Listing_an_account_pages_through_its_message_blobs_with_their_hashes()
    {
        var store = await NewStoreAsync();
        store.ListPageSize = 2;
        var expected = new Dictionary<string, byte[]>();
        for (var i = 0; i < 5; i++)
        {
            var name = $"alice/2026/11/{20 + i}/{BlobNaming.IdOf($"u{i}")}.eml";
            expected[name] = Content(100 + i, i);
            await store.PutAsync(name, new MemoryStream(expected[name]), s_properties, Sidecar([]), CancellationToken.None);
        }

        var listed = new List<StoredBlob>();
        await foreach (var blob in store.ListAsync("alice", CancellationToken.None))
        {
            listed.Add(blob);
        }

        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), listed.Select(b => b.BlobName).Order(StringComparer.Ordinal));
        Assert.All(listed, b => Assert.Equal(Sha256(expected[b.BlobName]), b.Sha256));
    }

    [Fact]
    public async Task A_large_message_is_staged_in_blocks_and_visible_only_once_committed()
    {
        var store = await NewStoreAsync(s_smallBlocks);
        var content = Content(1_000_000, 2);
        var visibleMidway = true;
        var stream = new CallbackStream(content, 300_000, async () =>
            visibleMidway = (await azurite.Inspector.ListBlobsAsync(store.Container)).Count > 0);

        var result = await store.PutAsync(BlobName, stream, s_properties, null, CancellationToken.None);

        Assert.True(result.Created);
        Assert.False(visibleMidway, "staged blocks must not be visible before Put Block List");
        Assert.Equal(16, await azurite.Inspector.CommittedBlockCountAsync(store.Container, BlobName)); // 1,000,000 / 65,536
        Assert.Equal(content, await azurite.Inspector.GetBlobAsync(store.Container, BlobName));
        var eml = Assert.Single(await azurite.Inspector.ListBlobsAsync(store.Container));
        Assert.Equal("message/rfc822", eml.ContentType);
        Assert.Equal(Sha256(content), eml.Metadata["sha256"]);
    }

    [Fact]
    public async Task The_conditional_block_list_loses_to_a_blob_created_meanwhile()
    {
        var store = await NewStoreAsync(s_smallBlocks);
        var winner = Content(5_000, 5);
        var content = Content(400_000, 6);
        var stream = new CallbackStream(content, 200_000, async () =>
            Assert.True((await azurite.Store(store.Container).PutAsync(BlobName, new MemoryStream(winner), s_properties, null, CancellationToken.None)).Created));

        var result = await store.PutAsync(BlobName, stream, s_properties, null, CancellationToken.None);

        Assert.Equal(new PutResult(false, Sha256(winner), winner.Length), result);
        Assert.Equal(winner, await azurite.Inspector.GetBlobAsync(store.Container, BlobName));
    }

    [Fact]
    public async Task A_single_put_succeeds_where_an_abandoned_staged_upload_left_blocks()
    {
        // Azurite answers Put Blob's If-None-Match with 409 when blocks are staged under the name, though no blob exists.
        var store = await NewStoreAsync(s_smallBlocks);
        var broken = new CallbackStream(Content(500_000, 10), 200_000, () => throw new IOException("connection to the POP3 server lost"));
        await Assert.ThrowsAsync<IOException>(() => store.PutAsync(BlobName, broken, s_properties, null, CancellationToken.None));

        var small = Content(20_000, 11);
        Assert.True((await store.PutAsync(BlobName, new MemoryStream(small), s_properties, null, CancellationToken.None)).Created);
        Assert.Equal(small, await azurite.Inspector.GetBlobAsync(store.Container, BlobName));
        Assert.Equal(Sha256(small), Assert.Single(await azurite.Inspector.ListBlobsAsync(store.Container)).Metadata["sha256"]);

        // And it stays create-if-absent.
        Assert.Equal(new PutResult(false, Sha256(small), small.Length),
            await store.PutAsync(BlobName, new MemoryStream(Content(20_000, 12)), s_properties, null, CancellationToken.None));
    }

    [Theory]
    [InlineData("alice//x.eml")]
    [InlineData("alice/x.eml\n")]
    public async Task Names_that_are_no_plain_path_in_a_container_are_refused(string name)
    {
        var store = azurite.Store(AzuriteFixture.NewName("c"));
        var error = await Assert.ThrowsAsync<StoreException>(() => store.PutAsync(name, new MemoryStream([1]), s_properties, null, CancellationToken.None));
        Assert.False(error.IsTransient);
    }

    [Fact]
    public async Task A_wrong_account_key_is_a_clear_authentication_error_that_shows_no_secret()
    {
        var wrongKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(64));
        var connectionString = azurite.Server.ConnectionString.Replace(AzuriteServer.AccountKey, wrongKey, StringComparison.Ordinal);

        var store = azurite.Store(AzuriteFixture.NewName("c"), connectionString: connectionString);
        var error = await Assert.ThrowsAsync<StoreException>(() => store.InitializeAsync(CancellationToken.None));
        Assert.Contains("the account key or SAS is wrong", error.Message, StringComparison.Ordinal);
        Assert.Contains("HTTP 403", error.Message, StringComparison.Ordinal);
        Assert.False(error.IsTransient);
        Assert.DoesNotContain(wrongKey[..16], error.ToString(), StringComparison.Ordinal);

        // A large message starts with Get Blob Properties, a HEAD without an error body: still named for what it is.
        var staged = azurite.Store(store.Container, s_smallBlocks, connectionString);
        var headError = await Assert.ThrowsAsync<StoreException>(() => staged.PutAsync(BlobName, new MemoryStream(Content(200_000, 13)), s_properties, null, CancellationToken.None));
        Assert.Contains("Get Blob Properties", headError.Message, StringComparison.Ordinal);
        Assert.Contains("the account key or SAS is wrong", headError.Message, StringComparison.Ordinal);

        var notifier = azurite.Notifier(AzuriteFixture.NewName("q"), connectionString: connectionString);
        var queueError = await Assert.ThrowsAsync<NotifierException>(() => notifier.InitializeAsync(CancellationToken.None));
        Assert.Contains("the account key or SAS is wrong", queueError.Message, StringComparison.Ordinal);
        Assert.False(queueError.IsTransient);
    }

    [Fact]
    public async Task A_sas_connection_string_works_and_a_wrong_or_expired_one_is_refused()
    {
        var sas = AccountSas.Create("rwdlacup", "bq", "sco", DateTimeOffset.UtcNow.AddHours(1));
        var connectionString = AccountSas.ConnectionString(azurite.Server, sas);
        var container = AzuriteFixture.NewName("c");
        var store = azurite.Store(container, connectionString: connectionString);
        await store.InitializeAsync(CancellationToken.None);
        var content = Content(100_000, 8);
        Assert.True((await store.PutAsync(BlobName, new MemoryStream(content), s_properties, null, CancellationToken.None)).Created);
        Assert.Equal(content, await azurite.Inspector.GetBlobAsync(container, BlobName));
        Assert.DoesNotContain("sig=", store.LocationOf(BlobName), StringComparison.Ordinal);

        var queue = AzuriteFixture.NewName("q");
        var notifier = azurite.Notifier(queue, connectionString: connectionString);
        await notifier.InitializeAsync(CancellationToken.None);
        Assert.True(await azurite.Inspector.QueueExistsAsync(queue));

        var otherKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(64));
        foreach (var bad in new[]
                 {
                     AccountSas.Create("rwdlacup", "bq", "sco", DateTimeOffset.UtcNow.AddHours(1), accountKey: otherKey),
                     AccountSas.Create("rwdlacup", "bq", "sco", DateTimeOffset.UtcNow.AddHours(-1)),
                 })
        {
            var refused = azurite.Store(container, connectionString: AccountSas.ConnectionString(azurite.Server, bad));
            var error = await Assert.ThrowsAsync<StoreException>(() => refused.PutAsync(BlobName.Replace("0123", "4567", StringComparison.Ordinal),
                new MemoryStream(content), s_properties, null, CancellationToken.None));
            Assert.Contains("the account key or SAS is wrong", error.Message, StringComparison.Ordinal);
            Assert.False(error.IsTransient);
            Assert.DoesNotContain(bad[(bad.IndexOf("sig=", StringComparison.Ordinal) + 4)..][..10], error.ToString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_read_only_sas_cannot_create_the_container_and_writing_says_what_is_missing()
    {
        var container = AzuriteFixture.NewName("c");
        await azurite.Store(container).InitializeAsync(CancellationToken.None);
        var readOnly = azurite.Store(container, connectionString: AccountSas.ConnectionString(azurite.Server,
            AccountSas.Create("rl", "b", "sco", DateTimeOffset.UtcNow.AddHours(1))));

        // Creating is not permitted: logged, and the container is assumed to exist.
        await readOnly.InitializeAsync(CancellationToken.None);
        var error = await Assert.ThrowsAsync<StoreException>(() => readOnly.PutAsync(BlobName, new MemoryStream([1, 2, 3]), s_properties, null, CancellationToken.None));
        Assert.Contains("is not allowed to do this", error.Message, StringComparison.Ordinal);
        Assert.Contains("HTTP 403", error.Message, StringComparison.Ordinal);
        Assert.False(error.IsTransient);
    }

    [Fact]
    public async Task An_unreachable_service_is_a_transient_error_naming_the_endpoint()
    {
        var port = FreePort();
        var connectionString = $"AccountName={AzuriteServer.AccountName};AccountKey={AzuriteServer.AccountKey};BlobEndpoint=http://127.0.0.1:{port}/{AzuriteServer.AccountName}";
        var store = azurite.Store(AzuriteFixture.NewName("c"), connectionString: connectionString);

        var error = await Assert.ThrowsAsync<StoreException>(() => store.PutAsync(BlobName, new MemoryStream([1]), s_properties, null, CancellationToken.None));

        Assert.True(error.IsTransient);
        Assert.Contains($"http://127.0.0.1:{port}/{AzuriteServer.AccountName}", error.Message, StringComparison.Ordinal);
        Assert.Contains("cannot connect after 3 tries", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Busy_answers_are_retried_and_reported_when_they_persist()
    {
        var container = AzuriteFixture.NewName("c");
        await azurite.Store(container).InitializeAsync(CancellationToken.None);
        var content = Content(300_000, 9);

        using var twice = new FaultHandler(failures: 2, path => path.Contains("comp=block", StringComparison.Ordinal));
        var store = azurite.Store(container, s_smallBlocks with { Transport = new HttpClientTransport(new HttpClient(twice)) });
        Assert.True((await store.PutAsync(BlobName, new MemoryStream(content), s_properties, null, CancellationToken.None)).Created);
        Assert.Equal(2, twice.Faults);
        Assert.Equal(content, await azurite.Inspector.GetBlobAsync(container, BlobName));

        using var always = new FaultHandler(failures: int.MaxValue, path => path.Contains("comp=block", StringComparison.Ordinal));
        var failing = azurite.Store(container, s_smallBlocks with { Transport = new HttpClientTransport(new HttpClient(always)) });
        var error = await Assert.ThrowsAsync<StoreException>(() => failing.PutAsync(BlobName.Replace("0123", "9999", StringComparison.Ordinal),
            new MemoryStream(content), s_properties, null, CancellationToken.None));
        Assert.True(error.IsTransient);
        Assert.Contains("busy or failing", error.Message, StringComparison.Ordinal);
        Assert.Contains("HTTP 503 ServerBusy", error.Message, StringComparison.Ordinal);
        Assert.Equal(3, always.Faults); // the first try and two retries
    }

    [Fact]
    public async Task The_sdk_default_service_version_is_refused_by_azurite_and_the_pinned_one_is_not()
    {
        // Azure.Storage.Blobs 12.30 calls with 2026-10-06 unless told otherwise; Azurite 3.35 knows versions up to 2025-11-05.
        var newest = azurite.Store(AzuriteFixture.NewName("c"), AzuriteFixture.FastRetries with { BlobServiceVersion = BlobClientOptions.ServiceVersion.V2026_10_06 });
        var error = await Assert.ThrowsAsync<StoreException>(() => newest.InitializeAsync(CancellationToken.None));
        Assert.Contains("HTTP 400 InvalidHeaderValue", error.Message, StringComparison.Ordinal);
        Assert.False(error.IsTransient);

        var pinned = azurite.Store(AzuriteFixture.NewName("c"));
        await pinned.InitializeAsync(CancellationToken.None);
        Assert.Equal(BlobClientOptions.ServiceVersion.V2025_11_05, new AzureStorageSettings().BlobServiceVersion);
    }

    private static int FreePort()
    {
        var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>Hands out the content and runs a callback once, when a read crosses the trigger offset.</summary>
    private sealed class CallbackStream(byte[] content, int trigger, Func<Task> callback) : MemoryStream(content, writable: false)
    {
        private bool _fired;

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (!_fired && Position >= trigger)
            {
                _fired = true;
                await callback();
            }

            return await base.ReadAsync(buffer[..Math.Min(buffer.Length, 16 * 1024)], cancellationToken);
        }
    }

    /// <summary>Answers matching requests with 503 ServerBusy a number of times, as Azure Storage does under load.</summary>
    private sealed class FaultHandler(int failures, Func<string, bool> match) : DelegatingHandler(new SocketsHttpHandler())
    {
        private int _faults;

        public int Faults => _faults;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (match(request.RequestUri!.PathAndQuery) && _faults < failures)
            {
                Interlocked.Increment(ref _faults);
                var response = new HttpResponseMessage(HttpStatusCode.ServiceUnavailable)
                {
                    Content = new StringContent("<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>ServerBusy</Code><Message>The server is busy.</Message></Error>",
                        Encoding.UTF8, "application/xml"),
                };
                response.Headers.Add("x-ms-error-code", "ServerBusy");
                return response;
            }

            return await base.SendAsync(request, cancellationToken);
        }
    }
}
