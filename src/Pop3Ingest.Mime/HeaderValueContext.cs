using System.Text;
using MimeKit;

namespace Pop3Ingest.Mime;

/// <summary>What parsing a header value needs from a reader's options: the fallback charset and MimeKit's options built for it once.</summary>
internal sealed class HeaderValueContext(Encoding fallback)
{
    /// <summary>For 8-bit header bytes that are not UTF-8.</summary>
    public Encoding Fallback { get; } = fallback;

    public ParserOptions Options { get; } = HeaderValues.CreateOptions(fallback);
}
