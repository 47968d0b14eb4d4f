using System.Text.Json;
using Pop3Ingest.Ingestion.Notifications.AzureQueue;
using Pop3Ingest.Ingestion.Events;
using Pop3Ingest.Ingestion.Pipeline;
using Pop3Ingest.IntegrationTests.Support;
using Pop3Ingest.Mime;

namespace Pop3Ingest.IntegrationTests;

/// <summary>
/// The published schema of the event against what the writer produces (the real events sent to Azurite are held to it in
/// AzureIngestionTests), and proof that it rejects what breaks the contract.
/// </summary>
public sealed class EventSchemaTests
{
    private static JsonElement Event(MessageEventData data) =>
        JsonDocument.Parse(Convert.FromBase64String(CloudEventWriter.ToQueueMessageText(data, QueueMessageEncoding.Base64).Text)).RootElement;

    private static MessageEventData Data(MessageMetadata? metadata = null) => new()
    {
        Account = "acct",
        Uidl = "uid-\u00ff",
        Generation = 1,
        Blob = "http://127.0.0.1:10000/devstoreaccount1/mail/acct/2026/11/23/0123456789abcdef0123456789abcdef.eml",
        BlobName = "acct/2026/11/23/0123456789abcdef0123456789abcdef.eml",
        Size = 1234,
        Sha256 = new string('a', 64),
        Stored = new DateTimeOffset(2026, 11, 23, 8, 0, 0, TimeSpan.Zero),
        Metadata = metadata,
    };

    [Fact]
    public void An_event_without_metadata_and_one_with_problems_conform()
    {
        EventSchema.AssertValid(Event(Data()));
        EventSchema.AssertValid(Event(Data(new MessageMetadata { Problems = ["header block over 256 KiB"] })));
    }

    [Theory]
    [InlineData("\"specversion\":\"1.0\"", "\"specversion\":\"0.3\"")]
    [InlineData("\"sha256\":\"aaaa", "\"sha256\":\"AAAA")]
    [InlineData("\"size\":1234", "\"size\":-1")]
    [InlineData("\"truncated\":false", "\"truncated\":\"no\"")]
    [InlineData("\"datacontenttype\"", "\"unknown\":1,\"datacontenttype\"")]
    public void The_schema_rejects_what_breaks_the_contract(string from, string to)
    {
        var text = Event(Data()).GetRawText();
        Assert.Contains(from, text, StringComparison.Ordinal);
        using var broken = JsonDocument.Parse(text.Replace(from, to, StringComparison.Ordinal));
        Assert.NotEmpty(EventSchema.Violations(broken.RootElement));
    }
}
