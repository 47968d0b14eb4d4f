using System.Text;
using System.Text.Json;
using Pop3Ingest.Ingestion.Notifications;
using Pop3Ingest.Ingestion.Notifications.AzureQueue;
using Pop3Ingest.Ingestion.Events;
using Pop3Ingest.Ingestion.Pipeline;
using Pop3Ingest.Ingestion.Storage;
using Pop3Ingest.IntegrationTests.Support;
using Pop3Ingest.Mime;

namespace Pop3Ingest.IntegrationTests;

/// <summary>The Azure Queue notifier against a real Azurite, which refuses messages over 64 KiB.</summary>
public sealed class AzureQueueNotifierTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    private static MessageEventData Data(int index, MessageMetadata? metadata = null)
    {
        var uidl = $"UID{index:D8}";
        var blobName = BlobNaming.BlobNameOf("alice", uidl, new DateTimeOffset(2026, 11, 23, 8, 0, 0, TimeSpan.Zero));
        return new MessageEventData
        {
            Account = "alice",
            Uidl = uidl,
            Blob = $"http://127.0.0.1:1/devstoreaccount1/mail/{blobName}",
            BlobName = blobName,
            Size = 1000 + index,
            Sha256 = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(BitConverter.GetBytes(index))),
            Stored = DateTimeOffset.UtcNow,
            Metadata = metadata ?? new MessageMetadata { Subject = $"Subject {index} <&>", MessageId = $"<m{index}@example.org>" },
        };
    }

    private async Task<AzureQueueNotifier> NewNotifierAsync(QueueMessageEncoding encoding = QueueMessageEncoding.Base64)
    {
        var notifier = azurite.Notifier(AzuriteFixture.NewName("q"), encoding);
        await notifier.InitializeAsync(CancellationToken.None);
        return notifier;
    }

    [Fact]
    public async Task Initialize_creates_the_queue_once_and_ping_answers()
    {
        var notifier = azurite.Notifier(AzuriteFixture.NewName("q"));
        var missing = await Assert.ThrowsAsync<NotifierException>(() => notifier.PingAsync(CancellationToken.None));
        Assert.Contains("QueueNotFound", missing.Message, StringComparison.Ordinal);

        await notifier.InitializeAsync(CancellationToken.None);
        await notifier.InitializeAsync(CancellationToken.None);
        await notifier.PingAsync(CancellationToken.None);
        Assert.True(await azurite.Inspector.QueueExistsAsync(notifier.Queue));
    }

    [Fact]
    public async Task Events_are_base64_cloud_events_that_never_expire()
    {
        var notifier = await NewNotifierAsync();
        var published = Enumerable.Range(1, 3).Select(i => Data(i)).ToList();
        foreach (var data in published)
        {
            await notifier.PublishAsync(data, CancellationToken.None);
        }

        var received = await azurite.Inspector.ReceiveAllAsync(notifier.Queue);

        Assert.Equal(3, received.Count);
        Assert.All(received, m => Assert.Equal(9999, m.Expires.UtcDateTime.Year)); // messagettl=-1
        var byId = received.Select(m => Convert.FromBase64String(m.Text)).ToDictionary(json => JsonDocument.Parse(json).RootElement.GetProperty("id").GetString()!);
        foreach (var data in published)
        {
            Assert.Equal(CloudEventWriter.ToJson(data), byId[BlobNaming.EventIdOf(data.Account, data.Uidl)]);
        }
    }

    [Fact]
    public async Task Encoding_none_puts_the_json_itself()
    {
        var notifier = await NewNotifierAsync(QueueMessageEncoding.None);
        var data = Data(7);
        await notifier.PublishAsync(data, CancellationToken.None);

        var message = Assert.Single(await azurite.Inspector.ReceiveAllAsync(notifier.Queue));
        Assert.Equal(Encoding.UTF8.GetString(CloudEventWriter.ToJson(data)), message.Text);
        using var json = JsonDocument.Parse(message.Text);
        Assert.Equal("Subject 7 <&>", json.RootElement.GetProperty("data").GetProperty("subject").GetString());
    }

    [Theory]
    [InlineData(QueueMessageEncoding.Base64)]
    [InlineData(QueueMessageEncoding.None)]
    public async Task A_huge_event_is_cut_to_what_the_queue_accepts(QueueMessageEncoding encoding)
    {
        var notifier = await NewNotifierAsync(encoding);
        var data = Data(9, new MessageMetadata
        {
            Subject = string.Concat(Enumerable.Repeat("Gr\u00fc\u00dfe & <Tsch\u00fcss> ", 400)),
            To = [.. Enumerable.Range(0, 3000).Select(i => new MailboxAddress($"R&D \u00e9quipe {i}", $"r{i}@example.org"))],
            Attachments = [.. Enumerable.Range(0, 2000).Select(i => new AttachmentInfo($"scan{i}.pdf", "application/pdf", i * 1000))],
        });
        Assert.True(CloudEventWriter.ToJson(data).Length > 64 * 1024);

        await notifier.PublishAsync(data, CancellationToken.None);

        var message = Assert.Single(await azurite.Inspector.ReceiveAllAsync(notifier.Queue));
        var json = encoding == QueueMessageEncoding.Base64 ? Convert.FromBase64String(message.Text) : Encoding.UTF8.GetBytes(message.Text);
        using var document = JsonDocument.Parse(json);
        var payload = document.RootElement.GetProperty("data");
        Assert.True(payload.GetProperty("truncated").GetBoolean());
        Assert.InRange(payload.GetProperty("to").GetArrayLength(), 0, 64);
        Assert.Equal(data.Sha256, payload.GetProperty("sha256").GetString());
    }

    [Fact]
    public async Task A_stopped_queue_service_is_a_clear_error()
    {
        await using var own = await AzuriteServer.StartAsync();
        var notifier = new AzureQueueNotifier(
            Ingestion.Azure.StorageEndpoint.Queue(Ingestion.Azure.StorageConnectionString.Parse(own.ConnectionString)),
            "events", QueueMessageEncoding.Base64, AzuriteFixture.FastRetries, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        await notifier.InitializeAsync(CancellationToken.None);
        await own.StopAsync();

        var error = await Assert.ThrowsAsync<NotifierException>(() => notifier.PublishAsync(Data(1), CancellationToken.None));

        Assert.Contains($"Azure Queue Storage at {own.QueueEndpoint}", error.Message, StringComparison.Ordinal);
        Assert.Contains("cannot connect after 3 tries", error.Message, StringComparison.Ordinal);
        Assert.True(error.IsTransient);
    }
}
