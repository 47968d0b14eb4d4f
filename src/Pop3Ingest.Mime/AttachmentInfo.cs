namespace Pop3Ingest.Mime;

/// <summary>One attachment, as described by its part's headers and measured as its body streamed past.</summary>
/// <param name="FileName">The file name from Content-Disposition <c>filename</c> or, failing that, Content-Type
/// <c>name</c>; RFC 2231 continuations and charsets and RFC 2047 encoded words decoded. <see langword="null"/> when the part has none.</param>
/// <param name="ContentType">The media type, lower case <c>type/subtype</c>, without parameters.</param>
/// <param name="Size">The decoded size in bytes: base64 and quoted-printable bodies as they decode; any other
/// transfer encoding as the raw byte count of the body, excluding the line break that belongs to the next boundary.</param>
public sealed record AttachmentInfo(string? FileName, string ContentType, long Size);
