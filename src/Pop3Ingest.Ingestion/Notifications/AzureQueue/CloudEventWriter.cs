using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Pop3Ingest.Ingestion.Events;
using Pop3Ingest.Ingestion.Storage;

namespace Pop3Ingest.Ingestion.Notifications.AzureQueue;

/// <summary>
/// The notification of a stored message as a CloudEvents 1.0 event in JSON (structured mode), with exactly the
/// attributes of README.md, "The event": <c>specversion</c>, <c>type</c>, <c>source</c>, <c>id</c>, <c>time</c>,
/// <c>datacontenttype</c>, <c>subject</c>, and <c>data</c> as <see cref="EventDataWriter"/> writes it. For a queue, the
/// encoded text must fit in 64 KiB: lists, then texts, are cut as in <see cref="EventDataWriter.ToJson"/>, and
/// <c>data.truncated</c> says so.
/// </summary>
public static class CloudEventWriter
{
    public const string SpecVersion = "1.0";

    public const string EventType = "pop3ingest.message.stored";

    /// <summary>The Queue service's limit on a message's text, in UTF-8 bytes (Put Message).</summary>
    public const int MaxQueueMessageBytes = 64 * 1024;

    private static readonly JsonWriterOptions s_options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary><c>/pop3ingest/accounts/{account}</c>.</summary>
    public static string SourceOf(string account) => $"/pop3ingest/accounts/{account.ToLowerInvariant()}";

    /// <summary>The event's JSON without any size limit.</summary>
    public static byte[] ToJson(MessageEventData data)
    {
        ArgumentNullException.ThrowIfNull(data);
        return Write(data, new EventDataWriter.Limits(int.MaxValue, int.MaxValue), truncated: false);
    }

    /// <summary>
    /// The event's JSON for a queue message, cut until its text inside <c>&lt;MessageText&gt;</c> (Base64, or the
    /// XML-escaped JSON) takes at most <paramref name="maxBytes"/> UTF-8 bytes; with that length, and whether it was cut.
    /// </summary>
    internal static (byte[] Json, int EncodedBytes, bool Truncated) ToQueueMessage(MessageEventData data, QueueMessageEncoding encoding, int maxBytes = MaxQueueMessageBytes)
    {
        ArgumentNullException.ThrowIfNull(data);
        var (json, cut) = EventDataWriter.WriteToFit(
            (limits, truncated) => Write(data, limits, truncated),
            candidate => EncodedBytes(candidate, encoding) <= maxBytes);
        var bytes = EncodedBytes(json, encoding);
        if (bytes > maxBytes)
        {
            throw new NotifierException(
                $"The event {BlobNaming.EventIdOf(data.Account, data.Uidl, data.Generation)} takes {bytes} bytes even with every list and text cut; a queue message holds {maxBytes}.");
        }

        return (json, bytes, cut);
    }

    /// <summary>The queue message's text as it goes inside <c>&lt;MessageText&gt;</c>: Base64, or the XML-escaped JSON.</summary>
    internal static (string Text, bool Truncated) ToQueueMessageText(MessageEventData data, QueueMessageEncoding encoding, int maxBytes = MaxQueueMessageBytes)
    {
        var (json, _, truncated) = ToQueueMessage(data, encoding, maxBytes);
        return (Encode(json, encoding), truncated);
    }

    private static int EncodedBytes(byte[] json, QueueMessageEncoding encoding) => Encoding.UTF8.GetByteCount(Encode(json, encoding));

    /// <summary>Base64, or the JSON with the three characters XML text cannot hold escaped.</summary>
    internal static string Encode(byte[] json, QueueMessageEncoding encoding) => encoding switch
    {
        QueueMessageEncoding.Base64 => Convert.ToBase64String(json),
        // The JSON writer escapes control characters and non-characters, so what remains is valid XML text once
        // '&', '<' and '>' are escaped.
        QueueMessageEncoding.None => Encoding.UTF8.GetString(json)
            .Replace("&", "&amp;", StringComparison.Ordinal)
            .Replace("<", "&lt;", StringComparison.Ordinal)
            .Replace(">", "&gt;", StringComparison.Ordinal),
        _ => throw new ArgumentOutOfRangeException(nameof(encoding), encoding, "Unknown queue message encoding."),
    };

    private static byte[] Write(MessageEventData data, EventDataWriter.Limits limits, bool truncated)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, s_options))
        {
            writer.WriteStartObject();
            writer.WriteString("specversion", SpecVersion);
            writer.WriteString("type", EventType);
            writer.WriteString("source", SourceOf(data.Account));
            writer.WriteString("id", BlobNaming.EventIdOf(data.Account, data.Uidl, data.Generation));
            writer.WriteString("time", data.Stored.UtcDateTime);
            writer.WriteString("datacontenttype", "application/json");
            writer.WriteString("subject", data.BlobName);
            writer.WritePropertyName("data");
            EventDataWriter.WriteObject(writer, data, limits, truncated);
            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }
}
