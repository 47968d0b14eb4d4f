using System.Text.Json;
using Pop3Ingest.Ingestion.Events;
using Pop3Ingest.Ingestion.Pipeline;
using Pop3Ingest.Mime;

namespace Pop3Ingest.Ingestion.Tests;

public sealed class EventDataWriterTests
{
    private static MessageEventData Data(int recipients) => new()
    {
        Account = "acct",
        Uidl = "u1",
        Blob = "acct/2026/11/23/x.eml",
        BlobName = "acct/2026/11/23/x.eml",
        Size = 10,
        Sha256 = new string('a', 64),
        Stored = new DateTimeOffset(2026, 11, 23, 8, 0, 0, TimeSpan.Zero),
        Metadata = new MessageMetadata
        {
            Subject = "Grüße <b>",
            To = [.. Enumerable.Range(0, recipients).Select(i => new MailboxAddress($"Person {i}", $"p{i}@example.org"))],
            Attachments = [.. Enumerable.Range(0, recipients).Select(i => new AttachmentInfo($"file{i}.pdf", "application/pdf", i))],
            Date = new MessageDate(new DateTimeOffset(2026, 11, 23, 7, 0, 0, TimeSpan.Zero), "Mon, 23 Nov 2026 08:00:00 +0100"),
        },
    };

    [Fact]
    public void Writes_the_schema_with_readable_unicode()
    {
        using var json = JsonDocument.Parse(EventDataWriter.ToJson(Data(2)));
        var root = json.RootElement;
        Assert.Equal("Grüße <b>", root.GetProperty("subject").GetString());
        Assert.Equal("2026-11-23T07:00:00Z", root.GetProperty("date").GetProperty("utc").GetString());
        Assert.Equal("Mon, 23 Nov 2026 08:00:00 +0100", root.GetProperty("date").GetProperty("raw").GetString());
        Assert.Equal(2, root.GetProperty("to").GetArrayLength());
        Assert.Equal("file1.pdf", root.GetProperty("attachments")[1].GetProperty("fileName").GetString());
        Assert.False(root.GetProperty("truncated").GetBoolean());
    }

    [Fact]
    public void Cuts_lists_to_fit_a_limit_and_says_so()
    {
        var full = EventDataWriter.ToJson(Data(5000));
        Assert.True(full.Length > 48 * 1024);
        var cut = EventDataWriter.ToJson(Data(5000), 48 * 1024);
        Assert.True(cut.Length <= 48 * 1024);
        using var json = JsonDocument.Parse(cut);
        Assert.True(json.RootElement.GetProperty("truncated").GetBoolean());
        Assert.True(json.RootElement.GetProperty("to").GetArrayLength() < 5000);
        Assert.Equal("u1", json.RootElement.GetProperty("uidl").GetString());
    }
}
