using System.Text;
using System.Text.Unicode;

namespace Pop3Ingest.Mime;

/// <summary>
/// The MIME header fields of one entity (the message, a body part, or an embedded message) that decide how its
/// body is read: Content-Type (RFC 2045 §5), Content-Transfer-Encoding (RFC 2045 §6) and Content-Disposition (RFC 2183).
/// </summary>
internal sealed class EntityHeaders
{
    private EntityHeaders(string contentType, byte[]? boundary, TransferEncoding encoding, string? disposition, string? fileName)
    {
        ContentType = contentType;
        Boundary = boundary;
        Encoding = encoding;
        Disposition = disposition;
        FileName = fileName;
    }

    /// <summary>Lower-case <c>type/subtype</c>.</summary>
    public string ContentType { get; }

    /// <summary>The boundary of a multipart, as bytes, trailing whitespace removed; <see langword="null"/> when absent.</summary>
    public byte[]? Boundary { get; }

    public TransferEncoding Encoding { get; }

    /// <summary>Lower-case disposition type (<c>inline</c>, <c>attachment</c>), or <see langword="null"/>.</summary>
    public string? Disposition { get; }

    /// <summary>Content-Disposition <c>filename</c>, else Content-Type <c>name</c>; decoded; <see langword="null"/> when absent or empty.</summary>
    public string? FileName { get; }

    public bool IsMultipart => ContentType.StartsWith("multipart/", StringComparison.Ordinal);

    public bool IsDigest => ContentType == "multipart/digest";

    /// <summary>An encapsulated message (RFC 2046 §5.2.1; RFC 6532 §3.7 message/global).</summary>
    public bool IsMessage => ContentType is "message/rfc822" or "message/global";

    /// <summary>
    /// Reads the entity's MIME fields; when <paramref name="topLevel"/> is given, also hands every field to it.
    /// RFC 2045 §5.2: no (or an unusable) Content-Type means text/plain; RFC 2046 §5.1.5: inside multipart/digest,
    /// message/rfc822.
    /// </summary>
    public static EntityHeaders Parse(HeaderBlock.FieldEnumerator fields, bool inDigest, HeaderValueContext context, MessageMetadataBuilder? topLevel)
    {
        ContentField? contentType = null;
        ContentField? disposition = null;
        TransferEncoding? encoding = null;
        var seenContentType = false;
        var seenDisposition = false;
        var contentTypeIsUtf8 = true;
        while (fields.MoveNext())
        {
            var name = fields.Name;
            if (!seenContentType && Ascii.EqualsIgnoreCase(name, "content-type"u8))
            {
                seenContentType = true;
                contentTypeIsUtf8 = Utf8.IsValid(fields.Value);
                contentType = HeaderValues.ContentType(fields.Value, context.Options);
            }
            else if (!seenDisposition && Ascii.EqualsIgnoreCase(name, "content-disposition"u8))
            {
                seenDisposition = true;
                disposition = HeaderValues.ContentDisposition(fields.Value, context.Options);
            }
            else if (encoding is null && Ascii.EqualsIgnoreCase(name, "content-transfer-encoding"u8))
            {
                encoding = HeaderValues.TransferEncoding(fields.Value, context.Fallback);
            }
            else
            {
                topLevel?.AddField(name, fields.Value, context);
            }
        }

        var mediaType = contentType?.Value ?? (inDigest ? "message/rfc822" : "text/plain");
        var boundary = contentType?.First?.TrimEnd(' ', '\t');
        var dispositionType = string.IsNullOrEmpty(disposition?.Value) ? null : disposition.Value.Value;
        var fileName = Clean(disposition?.First) ?? Clean(contentType?.Second);
        byte[]? boundaryBytes = null;
        if (!string.IsNullOrEmpty(boundary))
        {
            boundaryBytes = contentTypeIsUtf8 ? System.Text.Encoding.UTF8.GetBytes(boundary) : context.Fallback.GetBytes(boundary);
        }

        return new EntityHeaders(mediaType, boundaryBytes, encoding ?? TransferEncoding.Identity, dispositionType, fileName);
    }

    private static string? Clean(string? value)
    {
        var trimmed = value?.Trim();
        return string.IsNullOrEmpty(trimmed) ? null : trimmed;
    }
}
