using System.Text;
using System.Text.Json;
using System.Xml;
using Pop3Ingest.Ingestion.Notifications.AzureQueue;
using Pop3Ingest.Ingestion.Events;
using Pop3Ingest.Ingestion.Pipeline;
using Pop3Ingest.Ingestion.Storage;
using Pop3Ingest.Mime;

namespace Pop3Ingest.Ingestion.Tests.Notifications;

public sealed class CloudEventWriterTests
{
    private static readonly DateTimeOffset s_stored = new(2026, 11, 23, 7, 30, 15, 120, TimeSpan.Zero);

    private static MessageEventData Data(MessageMetadata? metadata = null)
    {
        const string uidl = "00000001\u00e9abc";
        var blobName = BlobNaming.BlobNameOf("Alice", uidl, s_stored);
        return new MessageEventData
        {
            Account = "alice",
            Uidl = uidl,
            Blob = "http://127.0.0.1:10000/devstoreaccount1/mail/" + blobName,
            BlobName = blobName,
            Size = 1234,
            Sha256 = new string('a', 64),
            Stored = s_stored,
            Metadata = metadata ?? new MessageMetadata
            {
                MessageId = "<m1@example.org>",
                Subject = "Pr\u00fcfung <&> \"quoted\"",
                From = [new MailboxAddress("Sender", "sender@example.org")],
                To = [new MailboxAddress(null, "to@example.net")],
                Date = new MessageDate(s_stored, "Mon, 23 Nov 2026 08:30:15 +0100"),
                Attachments = [new AttachmentInfo("a.pdf", "application/pdf", 5000)],
            },
        };
    }

    [Fact]
    public void The_envelope_has_exactly_the_attributes_of_the_architecture()
    {
        var data = Data();
        using var json = JsonDocument.Parse(CloudEventWriter.ToJson(data));
        var root = json.RootElement;

        Assert.Equal(
            ["specversion", "type", "source", "id", "time", "datacontenttype", "subject", "data"],
            root.EnumerateObject().Select(p => p.Name));
        Assert.Equal("1.0", root.GetProperty("specversion").GetString());
        Assert.Equal("pop3ingest.message.stored", root.GetProperty("type").GetString());
        Assert.Equal("/pop3ingest/accounts/alice", root.GetProperty("source").GetString());
        Assert.Equal(BlobNaming.EventIdOf("alice", data.Uidl), root.GetProperty("id").GetString());
        Assert.Matches("^alice:[0-9a-f]{32}$", root.GetProperty("id").GetString());
        Assert.Equal(s_stored, root.GetProperty("time").GetDateTimeOffset());
        Assert.EndsWith("Z", root.GetProperty("time").GetString(), StringComparison.Ordinal);
        Assert.Equal("application/json", root.GetProperty("datacontenttype").GetString());
        Assert.Equal(data.BlobName, root.GetProperty("subject").GetString());
        Assert.Matches("^alice/2026/11/23/[0-9a-f]{32}\\.eml$", root.GetProperty("subject").GetString());

        // data is byte for byte what the sidecar holds.
        Assert.Equal(Encoding.UTF8.GetString(EventDataWriter.ToJson(data)), root.GetProperty("data").GetRawText());
        Assert.Equal(data.Uidl, root.GetProperty("data").GetProperty("uidl").GetString());
        Assert.False(root.GetProperty("data").GetProperty("truncated").GetBoolean());
    }

    [Fact]
    public void Base64_decodes_to_the_event()
    {
        var data = Data();
        var (text, truncated) = CloudEventWriter.ToQueueMessageText(data, QueueMessageEncoding.Base64);
        Assert.False(truncated);
        Assert.Equal(CloudEventWriter.ToJson(data), Convert.FromBase64String(text));
    }

    [Fact]
    public void None_is_xml_escaped_json_that_reads_back_from_the_request_body()
    {
        var data = Data(new MessageMetadata { Subject = "a < b && c > d \u00e9\uFFFE\u0001 \U0001F600" });
        var (text, _) = CloudEventWriter.ToQueueMessageText(data, QueueMessageEncoding.None);
        Assert.Contains("&lt; b &amp;&amp; c &gt;", text, StringComparison.Ordinal);
        Assert.DoesNotContain("<", text, StringComparison.Ordinal);

        var body = $"<?xml version=\"1.0\" encoding=\"utf-8\"?><QueueMessage><MessageText>{text}</MessageText></QueueMessage>";
        using var reader = XmlReader.Create(new StringReader(body), new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit });
        reader.ReadToFollowing("MessageText");
        var read = reader.ReadElementContentAsString();
        Assert.Equal(Encoding.UTF8.GetString(CloudEventWriter.ToJson(data)), read);
        using var json = JsonDocument.Parse(read);
        Assert.Equal(data.Metadata!.Subject, json.RootElement.GetProperty("data").GetProperty("subject").GetString());
    }

    [Theory]
    [InlineData(QueueMessageEncoding.Base64)]
    [InlineData(QueueMessageEncoding.None)]
    public void A_huge_header_set_is_cut_to_fit_64_KiB_and_says_so(QueueMessageEncoding encoding)
    {
        // '&' grows fivefold when XML-escaped; Base64 grows every byte by a third.
        var metadata = new MessageMetadata
        {
            Subject = string.Concat(Enumerable.Repeat("&<>", 2000)),
            To = [.. Enumerable.Range(0, 5000).Select(i => new MailboxAddress($"R&D person {i}", $"person{i}@example.org"))],
            Cc = [.. Enumerable.Range(0, 500).Select(i => new MailboxAddress(null, $"cc{i}@example.org"))],
            References = [.. Enumerable.Range(0, 2000).Select(i => $"<ref{i}@example.org>")],
            Attachments = [.. Enumerable.Range(0, 3000).Select(i => new AttachmentInfo($"file{i}.bin", "application/octet-stream", i))],
        };
        var data = Data(metadata);
        Assert.True(CloudEventWriter.ToJson(data).Length > 200_000);

        var (text, truncated) = CloudEventWriter.ToQueueMessageText(data, encoding);

        Assert.True(truncated);
        var encodedBytes = Encoding.UTF8.GetByteCount(text);
        Assert.InRange(encodedBytes, 1, CloudEventWriter.MaxQueueMessageBytes);
        var json = encoding == QueueMessageEncoding.Base64
            ? Convert.FromBase64String(text)
            : Encoding.UTF8.GetBytes(text.Replace("&lt;", "<", StringComparison.Ordinal).Replace("&gt;", ">", StringComparison.Ordinal).Replace("&amp;", "&", StringComparison.Ordinal));
        if (encoding == QueueMessageEncoding.Base64)
        {
            Assert.InRange(json.Length, 1, 48 * 1024);
        }

        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        Assert.Equal(BlobNaming.EventIdOf("alice", data.Uidl), root.GetProperty("id").GetString());
        Assert.Equal(data.BlobName, root.GetProperty("subject").GetString());
        var payload = root.GetProperty("data");
        Assert.True(payload.GetProperty("truncated").GetBoolean());
        Assert.InRange(payload.GetProperty("to").GetArrayLength(), 0, 64);
        Assert.InRange(payload.GetProperty("attachments").GetArrayLength(), 0, 64);
        Assert.Equal(data.Sha256, payload.GetProperty("sha256").GetString());
        Assert.Equal(data.Blob, payload.GetProperty("blob").GetString());
    }

    [Fact]
    public void The_cut_takes_as_little_as_needed()
    {
        // 400 recipients of ~60 bytes of JSON each: over 20 KB; with a 16 KiB budget, the list is halved, not emptied.
        var metadata = new MessageMetadata
        {
            To = [.. Enumerable.Range(0, 400).Select(i => new MailboxAddress($"Recipient number {i}", $"recipient{i}@example.org"))],
        };
        var data = Data(metadata);
        var (text, truncated) = CloudEventWriter.ToQueueMessageText(data, QueueMessageEncoding.Base64, maxBytes: 16 * 1024);
        Assert.True(truncated);
        using var document = JsonDocument.Parse(Convert.FromBase64String(text));
        Assert.Equal(64, document.RootElement.GetProperty("data").GetProperty("to").GetArrayLength());
    }

    [Fact]
    public void Long_texts_with_surrogate_pairs_are_cut_into_valid_json()
    {
        var data = Data(new MessageMetadata { Subject = "x" + string.Concat(Enumerable.Repeat("\U0001F600", 30_000)) });
        var (text, truncated) = CloudEventWriter.ToQueueMessageText(data, QueueMessageEncoding.Base64);
        Assert.True(truncated);
        using var document = JsonDocument.Parse(Convert.FromBase64String(text));
        var subject = document.RootElement.GetProperty("data").GetProperty("subject").GetString()!;
        Assert.StartsWith("x\U0001F600", subject, StringComparison.Ordinal);
        Assert.True(subject.Length <= 4096);
    }
}
