using System.Text.Encodings.Web;
using System.Text.Json;
using Pop3Ingest.Mime;

namespace Pop3Ingest.Ingestion.Events;

/// <summary>
/// Writes <see cref="MessageEventData"/> as JSON. With a byte limit (a queue message has 64 KiB), address and
/// attachment lists are cut, then long texts, until it fits; <c>truncated</c> says so.
/// </summary>
public static class EventDataWriter
{
    private static readonly JsonWriterOptions s_options = new()
    {
        // Escape only what JSON requires plus HTML-sensitive characters, and keep non-ASCII text readable.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static byte[] ToJson(MessageEventData data, int maxBytes = int.MaxValue) =>
        WriteToFit((limits, truncated) => Write(data, limits, truncated), json => json.Length <= maxBytes).Output;

    /// <summary>
    /// The cutting ladder: writes with no limits; if that does not fit, halves the lists (64 items down to none),
    /// then the texts (4096 characters down to 16), and returns the first output that fits, or the smallest one.
    /// <c>Cut</c> says whether anything was cut.
    /// </summary>
    internal static (T Output, bool Cut) WriteToFit<T>(Func<Limits, bool, T> write, Func<T, bool> fits)
    {
        ArgumentNullException.ThrowIfNull(write);
        ArgumentNullException.ThrowIfNull(fits);
        var output = write(new Limits(int.MaxValue, int.MaxValue), false);
        if (fits(output))
        {
            return (output, false);
        }

        for (var items = 64; items >= 0; items = items == 0 ? -1 : items / 2)
        {
            output = write(new Limits(items, int.MaxValue), true);
            if (fits(output))
            {
                return (output, true);
            }
        }

        for (var text = 4096; text >= 16; text /= 2)
        {
            output = write(new Limits(0, text), true);
            if (fits(output))
            {
                return (output, true);
            }
        }

        return (output, true);
    }

    /// <summary>Writes the data object into an open writer (the CloudEvent envelope uses this).</summary>
    internal static void WriteObject(Utf8JsonWriter writer, MessageEventData data, Limits limits, bool truncated)
    {
        var m = data.Metadata;
        writer.WriteStartObject();
        writer.WriteString("account", data.Account);
        writer.WriteString("uidl", data.Uidl);
        writer.WriteString("blob", data.Blob);
        writer.WriteNumber("size", data.Size);
        writer.WriteString("sha256", data.Sha256);
        writer.WriteString("stored", data.Stored.UtcDateTime);
        writer.WriteString("messageId", Cut(m?.MessageId, limits.Text));
        if (m?.Date is { } date)
        {
            writer.WriteStartObject("date");
            if (date.Utc is { } utc)
            {
                writer.WriteString("utc", utc.UtcDateTime);
            }
            else
            {
                writer.WriteNull("utc");
            }

            writer.WriteString("raw", Cut(date.Raw, limits.Text));
            writer.WriteEndObject();
        }
        else
        {
            writer.WriteNull("date");
        }

        WriteAddresses(writer, "from", m?.From, limits);
        WriteAddresses(writer, "to", m?.To, limits);
        WriteAddresses(writer, "cc", m?.Cc, limits);
        WriteAddresses(writer, "replyTo", m?.ReplyTo, limits);
        writer.WriteString("subject", Cut(m?.Subject, limits.Text));
        writer.WriteString("inReplyTo", Cut(m?.InReplyTo, limits.Text));
        writer.WriteStartArray("references");
        foreach (var reference in (m?.References ?? []).Take(limits.Items))
        {
            writer.WriteStringValue(Cut(reference, limits.Text));
        }

        writer.WriteEndArray();
        writer.WriteStartArray("attachments");
        foreach (var attachment in (m?.Attachments ?? []).Take(limits.Items))
        {
            writer.WriteStartObject();
            writer.WriteString("fileName", Cut(attachment.FileName, limits.Text));
            writer.WriteString("contentType", Cut(attachment.ContentType, limits.Text));
            writer.WriteNumber("size", attachment.Size);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        var wasCut = truncated || limits.Items < int.MaxValue;
        writer.WriteBoolean("truncated", wasCut);
        if (m is { } meta && (meta.LimitsExceeded || meta.Problems.Count > 0))
        {
            writer.WriteStartArray("problems");
            foreach (var problem in meta.Problems.Take(Math.Max(limits.Items, 1)))
            {
                writer.WriteStringValue(Cut(problem, Math.Min(limits.Text, 500)));
            }

            writer.WriteEndArray();
        }

        writer.WriteEndObject();
    }

    private static byte[] Write(MessageEventData data, Limits limits, bool truncated)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, s_options))
        {
            WriteObject(writer, data, limits, truncated);
        }

        return buffer.ToArray();
    }

    private static void WriteAddresses(Utf8JsonWriter writer, string name, IReadOnlyList<MailboxAddress>? addresses, Limits limits)
    {
        writer.WriteStartArray(name);
        foreach (var address in (addresses ?? []).Take(limits.Items))
        {
            writer.WriteStartObject();
            writer.WriteString("name", Cut(address.Name, limits.Text));
            writer.WriteString("address", Cut(address.Address, limits.Text));
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }

    private static string? Cut(string? text, int max) =>
        text is null || text.Length <= max ? text : text[..max];

    internal readonly record struct Limits(int Items, int Text);
}
