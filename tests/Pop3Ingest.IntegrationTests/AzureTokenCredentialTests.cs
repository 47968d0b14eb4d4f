using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Identity;
using Microsoft.Extensions.Logging.Abstractions;
using Pop3Ingest.Ingestion.Azure;
using Pop3Ingest.Ingestion.Events;
using Pop3Ingest.Ingestion.Notifications;
using Pop3Ingest.Ingestion.Notifications.AzureQueue;
using Pop3Ingest.Ingestion.Storage;
using Pop3Ingest.Ingestion.Storage.AzureBlob;
using Pop3Ingest.IntegrationTests.Support;

namespace Pop3Ingest.IntegrationTests;

/// <summary>
/// Token credentials (what a managed or workload identity hands the SDK through Azure.Identity) against Azurite over
/// HTTPS in its OAuth mode (<c>--oauth basic</c>): a token for Azure Storage works for blobs and the queue, one for
/// another audience is refused as a token, and a credential that cannot get a token says so. Bearer tokens are only
/// ever sent over TLS, so this needs Azurite's HTTPS.
/// </summary>
public sealed class AzureTokenCredentialTests(AzuriteOAuthFixture fixture) : IClassFixture<AzuriteOAuthFixture>
{
    private const string BlobName = "alice/2026/11/23/0123456789abcdef0123456789abcdef.eml";
    private static readonly BlobProperties s_properties = new("alice", "0123456789abcdef0123456789abcdef");
    private readonly AzuriteServer _azurite = fixture.Server;

    [Fact]
    public async Task A_storage_token_writes_blobs_and_events_over_https()
    {
        var credential = new FakeTokenCredential("https://storage.azure.com");
        var (container, queue) = (AzuriteFixture.NewName("c"), AzuriteFixture.NewName("q"));
        var settings = Settings() with { BlockSize = 64 * 1024 };
        var store = new AzureBlobMessageStore(new StorageEndpoint(_azurite.BlobEndpoint, StorageCredential.Token(credential)), container, settings, NullLogger.Instance);
        var notifier = new AzureQueueNotifier(new StorageEndpoint(_azurite.QueueEndpoint, StorageCredential.Token(credential)), queue,
            QueueMessageEncoding.Base64, settings, NullLogger.Instance);

        Assert.Contains("does not exist", await store.CheckAsync(CancellationToken.None), StringComparison.Ordinal);
        await store.InitializeAsync(CancellationToken.None);
        await notifier.InitializeAsync(CancellationToken.None);
        await store.PingAsync(CancellationToken.None);
        await notifier.PingAsync(CancellationToken.None);
        var small = RandomNumberGenerator.GetBytes(1_000);
        var large = RandomNumberGenerator.GetBytes(200_000); // staged in blocks
        var largeName = BlobName.Replace("0123", "4567", StringComparison.Ordinal);
        Assert.True((await store.PutAsync(BlobName, new MemoryStream(small), s_properties, _ => "{}"u8.ToArray(), CancellationToken.None)).Created);
        Assert.True((await store.PutAsync(largeName, new MemoryStream(large), s_properties, null, CancellationToken.None)).Created);
        Assert.False((await store.PutAsync(BlobName, new MemoryStream(small), s_properties, null, CancellationToken.None)).Created);
        await notifier.PublishAsync(new MessageEventData
        {
            Account = "alice", Uidl = "u1", Blob = store.LocationOf(BlobName), BlobName = BlobName, Size = small.Length,
            Sha256 = Convert.ToHexStringLower(SHA256.HashData(small)), Stored = DateTimeOffset.UtcNow,
        }, CancellationToken.None);

        Assert.StartsWith($"https://127.0.0.1:{_azurite.BlobPort}/", store.LocationOf(BlobName), StringComparison.Ordinal);
        await using (var read = await store.OpenReadAsync(largeName, CancellationToken.None))
        {
            using var copy = new MemoryStream();
            await read!.CopyToAsync(copy);
            Assert.Equal(large, copy.ToArray());
        }

        var listed = new List<StoredBlob>();
        await foreach (var blob in store.ListAsync("alice", CancellationToken.None))
        {
            listed.Add(blob);
        }

        Assert.Equal([BlobName, largeName], listed.Select(b => b.BlobName).Order(StringComparer.Ordinal));
        var inspector = new StorageInspector(_azurite, Transport());
        var message = Assert.Single(await inspector.ReceiveAllAsync(queue));
        Assert.Equal("alice:" + BlobNaming.IdOf("u1"), JsonDocument.Parse(Convert.FromBase64String(message.Text)).RootElement.GetProperty("id").GetString());
        Assert.True(credential.Requests > 0);
        Assert.All(credential.Scopes, scope => Assert.Equal("https://storage.azure.com/.default", scope));
    }

    [Fact]
    public async Task A_token_for_another_audience_is_refused_as_a_token_and_no_token_is_named_as_such()
    {
        var wrong = new FakeTokenCredential("https://vault.azure.net");
        var store = new AzureBlobMessageStore(new StorageEndpoint(_azurite.BlobEndpoint, StorageCredential.Token(wrong)), AzuriteFixture.NewName("c"), Settings(), NullLogger.Instance);
        var refused = await Assert.ThrowsAsync<StoreException>(() => store.InitializeAsync(CancellationToken.None));
        Assert.Contains("the token was not accepted", refused.Message, StringComparison.Ordinal);
        Assert.False(refused.IsTransient);

        var none = new AzureQueueNotifier(new StorageEndpoint(_azurite.QueueEndpoint, StorageCredential.Token(new NoTokenCredential())), AzuriteFixture.NewName("q"),
            QueueMessageEncoding.Base64, Settings(), NullLogger.Instance);
        var error = await Assert.ThrowsAsync<NotifierException>(() => none.InitializeAsync(CancellationToken.None));
        Assert.Contains("Azure.Identity could not get a token (ManagedIdentityCredential: no identity here)", error.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// The worker as configured in production: <c>ServiceUri</c>, so DefaultAzureCredential, which finds a managed
    /// identity (here App Service's protocol: <c>IDENTITY_ENDPOINT</c> and <c>IDENTITY_HEADER</c>, served by the test) and
    /// asks it for a Storage token. <c>SSL_CERT_FILE</c> makes the test certificate a trusted root for the process.
    /// </summary>
    [Fact]
    [Trait("Category", WorkerProcess.Category)]
    public async Task The_worker_stores_and_announces_with_a_managed_identity()
    {
        await using var dovecot = await DovecotServer.StartAsync(new DovecotServerOptions { Users = [("alice", "s3cret")] });
        foreach (var i in Enumerable.Range(1, 3))
        {
            dovecot.Deliver("alice", TestMessages.Create(i, 3_000));
        }

        using var identity = new ManagedIdentityEndpoint(new FakeTokenCredential("https://storage.azure.com"));
        var folder = Directory.CreateTempSubdirectory("p3i-azure-mi-").FullName;
        try
        {
            var root = new JsonObject
            {
                ["Pop3Ingest"] = new JsonObject
                {
                    ["Ledger"] = new JsonObject { ["ConnectionString"] = "Data Source=data/ledger.db" },
                    ["Storage"] = new JsonObject { ["Provider"] = "AzureBlob", ["Container"] = "mail", ["ServiceUri"] = _azurite.BlobEndpoint.AbsoluteUri },
                    ["Notifications"] = new JsonObject { ["Provider"] = "AzureQueue", ["Queue"] = "events", ["ServiceUri"] = _azurite.QueueEndpoint.AbsoluteUri },
                    ["Accounts"] = new JsonObject
                    {
                        ["alice"] = new JsonObject
                        {
                            ["Host"] = dovecot.Host, ["Port"] = dovecot.Port, ["Security"] = "None", ["AllowInsecureAuth"] = true,
                            ["Username"] = "alice", ["Password"] = "s3cret", ["Interval"] = "00:05:00",
                        },
                    },
                },
                ["Logging"] = new JsonObject { ["LogLevel"] = new JsonObject { ["Default"] = "Warning" } },
            };
            var path = Path.Combine(folder, "appsettings.json");
            await File.WriteAllTextAsync(path, root.ToJsonString());
            var environment = new Dictionary<string, string>
            {
                ["IDENTITY_ENDPOINT"] = identity.Uri,
                ["IDENTITY_HEADER"] = ManagedIdentityEndpoint.Header,
                ["SSL_CERT_FILE"] = _azurite.Certificate!.CertificatePemPath,
            };

            var (checkExit, check) = await WorkerProcess.RunAsync(folder, TimeSpan.FromMinutes(2), environment, "check", "--config", path);
            Assert.True(checkExit == 0, check);
            Assert.Contains($"container mail does not exist at {_azurite.BlobEndpoint}", check, StringComparison.Ordinal);

            var (exit, output) = await WorkerProcess.RunAsync(folder, TimeSpan.FromMinutes(2), environment, "once", "--config", path);

            Assert.True(exit == 0, output);
            Assert.Equal(0, dovecot.MessageCount("alice"));
            var inspector = new StorageInspector(_azurite, Transport());
            Assert.Equal(3, (await inspector.ListBlobsAsync("mail")).Count(b => b.Name.EndsWith(".eml", StringComparison.Ordinal)));
            Assert.Equal(3, (await inspector.ReceiveAllAsync("events")).Count);
            Assert.True(identity.Requests > 0);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(folder, recursive: true);
        }
    }

    private AzureStorageSettings Settings() => AzuriteFixture.FastRetries with { Transport = Transport() };

    /// <summary>HTTPS to Azurite, trusting exactly its test certificate.</summary>
    private HttpPipelineTransport Transport()
    {
        var pinned = _azurite.Certificate!.Sha256;
        var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                    certificate is not null && Convert.ToHexStringLower(SHA256.HashData(certificate.GetRawCertData())) == pinned,
            },
        };
        return new HttpClientTransport(new HttpClient(handler));
    }

    /// <summary>An unsigned JWT for an Entra ID tenant, as Azurite's basic OAuth mode checks it (issuer, audience, lifetime).</summary>
    private sealed class FakeTokenCredential(string audience) : TokenCredential
    {
        private int _requests;

        public int Requests => _requests;

        public List<string> Scopes { get; } = [];

        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            GetTokenAsync(requestContext, cancellationToken).AsTask().GetAwaiter().GetResult();

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _requests);
            lock (Scopes)
            {
                Scopes.AddRange(requestContext.Scopes);
            }

            var now = DateTimeOffset.UtcNow;
            var payload = JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["aud"] = audience,
                ["iss"] = "https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/",
                ["nbf"] = now.AddMinutes(-5).ToUnixTimeSeconds(),
                ["iat"] = now.AddMinutes(-5).ToUnixTimeSeconds(),
                ["exp"] = now.AddHours(1).ToUnixTimeSeconds(),
                ["oid"] = "11059fcc-5514-4800-b5f8-49808b9cfab6",
                ["tid"] = "72f988bf-86f1-41af-91ab-2d7cd011db47",
            });
            var token = $"{Base64Url("""{"alg":"RS256","typ":"JWT"}""")}.{Base64Url(payload)}.{Base64Url("not signed")}";
            return ValueTask.FromResult(new AccessToken(token, now.AddHours(1)));
        }

        private static string Base64Url(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    /// <summary>
    /// A managed identity endpoint in App Service's protocol (version 2019-08-01): GET with the <c>X-IDENTITY-HEADER</c>
    /// secret and <c>resource</c>, answered with the token as JSON.
    /// </summary>
    private sealed class ManagedIdentityEndpoint : IDisposable
    {
        public const string Header = "test-identity-header";
        private readonly HttpListener _listener = new();
        private readonly TokenCredential _tokens;
        private readonly Task _serving;
        private int _requests;

        public ManagedIdentityEndpoint(TokenCredential tokens)
        {
            _tokens = tokens;
            var port = FreePort();
            Uri = $"http://127.0.0.1:{port}/msi/token";
            _listener.Prefixes.Add($"http://127.0.0.1:{port}/msi/");
            _listener.Start();
            _serving = ServeAsync();
        }

        public string Uri { get; }

        public int Requests => _requests;

        public void Dispose()
        {
            _listener.Stop();
            _listener.Close();
            _ = _serving.ContinueWith(static _ => { }, TaskScheduler.Default);
        }

        private async Task ServeAsync()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
                }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
                {
                    return;
                }

                Interlocked.Increment(ref _requests);
                var resource = context.Request.QueryString["resource"];
                if (context.Request.Headers["X-IDENTITY-HEADER"] != Header || resource is null)
                {
                    context.Response.StatusCode = 400;
                    context.Response.Close();
                    continue;
                }

                var token = await _tokens.GetTokenAsync(new TokenRequestContext([resource + "/.default"]), CancellationToken.None);
                var body = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string>
                {
                    ["access_token"] = token.Token,
                    ["expires_on"] = token.ExpiresOn.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture),
                    ["resource"] = resource,
                    ["token_type"] = "Bearer",
                    ["client_id"] = "00000000-0000-0000-0000-000000000001",
                });
                context.Response.ContentType = "application/json";
                await context.Response.OutputStream.WriteAsync(body);
                context.Response.Close();
            }
        }

        private static int FreePort()
        {
            var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
            return port;
        }
    }

    /// <summary>What Azure.Identity throws where no identity is available.</summary>
    private sealed class NoTokenCredential : TokenCredential
    {
        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            throw new CredentialUnavailableException("ManagedIdentityCredential: no identity here");

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            throw new CredentialUnavailableException("ManagedIdentityCredential: no identity here");
    }
}
