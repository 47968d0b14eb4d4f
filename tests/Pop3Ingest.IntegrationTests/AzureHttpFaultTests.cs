using System.Diagnostics;
using System.Net;
using System.Text;
using Azure.Core.Pipeline;
using Pop3Ingest.Ingestion.Notifications;
using Pop3Ingest.Ingestion.Notifications.AzureQueue;
using Pop3Ingest.Ingestion.Events;
using Pop3Ingest.Ingestion.Pipeline;
using Pop3Ingest.Ingestion.Storage;
using Pop3Ingest.IntegrationTests.Support;

namespace Pop3Ingest.IntegrationTests;

/// <summary>
/// HTTP faults a real Azurite will not produce on demand, injected as the SDK clients' HTTP transport, below their
/// retry policy: 500 answers (retried by the SDK, then a clear transient error) and a service that never answers (cut
/// off by the network timeout, each attempt).
/// </summary>
public sealed class AzureHttpFaultTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static readonly BlobProperties s_properties = new("alice", "0123456789abcdef0123456789abcdef");

    [Fact]
    public async Task A_store_answering_500_is_retried_then_reported_as_transient()
    {
        var container = AzuriteFixture.NewName("c");
        await azurite.Store(container).InitializeAsync(CancellationToken.None);
        using var handler = new Fault(request => request.Method == HttpMethod.Put, stall: false);
        var store = azurite.Store(container, AzuriteFixture.FastRetries with { Transport = new HttpClientTransport(new HttpClient(handler)) });

        var error = await Assert.ThrowsAsync<StoreException>(() =>
            store.PutAsync("alice/2026/11/23/0123456789abcdef0123456789abcdef.eml", new MemoryStream(Encoding.ASCII.GetBytes("Subject: x\r\n\r\nbody\r\n")),
                s_properties, null, CancellationToken.None));

        Assert.True(error.IsTransient);
        Assert.Contains("500", error.Message, StringComparison.Ordinal);
        Assert.Equal(3, handler.Faults); // the first try and two retries
        Assert.Empty(await azurite.Inspector.ListBlobsAsync(container));
    }

    [Fact]
    public async Task A_store_that_never_answers_is_cut_off_by_the_network_timeout()
    {
        var container = AzuriteFixture.NewName("c");
        await azurite.Store(container).InitializeAsync(CancellationToken.None);
        using var handler = new Fault(request => request.Method == HttpMethod.Put, stall: true);
        var store = azurite.Store(container, AzuriteFixture.FastRetries with
        {
            MaxRetries = 1,
            NetworkTimeout = TimeSpan.FromSeconds(1),
            Transport = new HttpClientTransport(new HttpClient(handler)),
        });

        var watch = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<StoreException>(() =>
            store.PutAsync("alice/2026/11/23/0123456789abcdef0123456789abcdef.eml", new MemoryStream(Encoding.ASCII.GetBytes("Subject: x\r\n\r\nbody\r\n")),
                s_properties, null, CancellationToken.None));

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(15), $"took {watch.Elapsed}");
        Assert.True(error.IsTransient);
        Assert.Equal(2, handler.Faults);
    }

    [Fact]
    public async Task A_queue_answering_500_or_never_answering_is_a_notifier_error()
    {
        var queue = AzuriteFixture.NewName("q");
        await azurite.Notifier(queue).InitializeAsync(CancellationToken.None);
        var data = new MessageEventData
        {
            Account = "alice", Uidl = "u1", Blob = "b", BlobName = "alice/2026/11/23/x.eml", Size = 1, Sha256 = new string('a', 64),
            Stored = DateTimeOffset.UtcNow,
        };

        using var failing = new Fault(request => request.Method == HttpMethod.Post, stall: false);
        var notifier = azurite.Notifier(queue, settings: AzuriteFixture.FastRetries with { Transport = new HttpClientTransport(new HttpClient(failing)) });
        var error = await Assert.ThrowsAsync<NotifierException>(() => notifier.PublishAsync(data, CancellationToken.None));
        Assert.Contains("500", error.Message, StringComparison.Ordinal);

        using var stalled = new Fault(request => request.Method == HttpMethod.Post, stall: true);
        var silent = azurite.Notifier(queue, settings: AzuriteFixture.FastRetries with
        {
            MaxRetries = 0,
            NetworkTimeout = TimeSpan.FromSeconds(1),
            Transport = new HttpClientTransport(new HttpClient(stalled)),
        });
        var watch = Stopwatch.StartNew();
        await Assert.ThrowsAsync<NotifierException>(() => silent.PublishAsync(data, CancellationToken.None));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(15), $"took {watch.Elapsed}");
        Assert.Empty(await azurite.Inspector.ReceiveAllAsync(queue));
    }

    /// <summary>Answers matching requests with 500, or holds them until the client gives up.</summary>
    private sealed class Fault(Func<HttpRequestMessage, bool> match, bool stall) : DelegatingHandler(new SocketsHttpHandler())
    {
        private int _faults;

        public int Faults => _faults;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (!match(request))
            {
                return await base.SendAsync(request, cancellationToken);
            }

            Interlocked.Increment(ref _faults);
            if (stall)
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken);
            }

            var response = new HttpResponseMessage(HttpStatusCode.InternalServerError)
            {
                Content = new StringContent("<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>InternalError</Code><Message>The server encountered an internal error.</Message></Error>",
                    Encoding.UTF8, "application/xml"),
            };
            response.Headers.Add("x-ms-error-code", "InternalError");
            return response;
        }
    }
}
