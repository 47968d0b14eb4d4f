using System.Text;

namespace Pop3Ingest.Mime;

/// <summary>
/// Bounds and defaults for <see cref="MessageMetadataReader"/>. Past a bound the reader notes it in
/// <see cref="MessageMetadata.LimitsExceeded"/> and <see cref="MessageMetadata.Problems"/> and goes on
/// consuming input cheaply; it never throws.
/// </summary>
public sealed class MimeReaderOptions
{
    private const int MaxBoundaryLimit = 65536;

    private HeaderValueContext? _headerValues;

    /// <summary>The defaults: 256 KiB per header block, depth 32, 1000 parts, boundaries up to 256 bytes, windows-1252.</summary>
    public static MimeReaderOptions Default { get; } = new();

    /// <summary>
    /// Most bytes buffered for one header block (the message's own, or one part's), line endings included.
    /// The rest of an oversized block is skipped up to its blank line; the field cut by the limit is dropped.
    /// </summary>
    public int MaxHeaderBytes { get; init; } = 256 * 1024;

    /// <summary>
    /// Most levels of nesting (each multipart and each message/rfc822 part adds one). A container
    /// deeper than this is treated as an opaque leaf: its inside is not examined.
    /// </summary>
    public int MaxDepth { get; init; } = 32;

    /// <summary>
    /// Most entities examined: the message itself, every body part and every embedded message count one.
    /// Past it the rest of the message is consumed without looking.
    /// </summary>
    public int MaxParts { get; init; } = 1000;

    /// <summary>
    /// Longest boundary parameter accepted (RFC 2046 §5.1.1 allows 70). A multipart with a longer one is
    /// treated as an opaque leaf. Lines that could be boundaries are buffered up to this length plus a little
    /// transport padding, never more. Values above 65536 count as 65536.
    /// </summary>
    public int MaxBoundaryLength { get; init; } = 256;

    /// <summary>
    /// Charset for 8-bit header bytes that are not valid UTF-8 and for encoded words in an unknown charset.
    /// Defaults to windows-1252, a superset of Latin-1's printable characters.
    /// </summary>
    public Encoding FallbackEncoding { get; init; } = Charsets.Windows1252;

    /// <summary>MimeKit's parser options for <see cref="FallbackEncoding"/>, made once per options instance.</summary>
    internal HeaderValueContext HeaderValues => _headerValues ??= new HeaderValueContext(FallbackEncoding);

    /// <summary>These options with out-of-range values brought into range (at least one part, 1 to 65536 boundary bytes).</summary>
    internal MimeReaderOptions Normalized()
    {
        if (MaxHeaderBytes >= 0 && MaxDepth >= 0 && MaxParts >= 1 && MaxBoundaryLength is >= 1 and <= MaxBoundaryLimit && FallbackEncoding is not null)
        {
            return this;
        }

        return new MimeReaderOptions
        {
            MaxHeaderBytes = Math.Max(0, MaxHeaderBytes),
            MaxDepth = Math.Max(0, MaxDepth),
            MaxParts = Math.Max(1, MaxParts),
            MaxBoundaryLength = Math.Clamp(MaxBoundaryLength, 1, MaxBoundaryLimit),
            FallbackEncoding = FallbackEncoding ?? Charsets.Windows1252,
        };
    }
}
