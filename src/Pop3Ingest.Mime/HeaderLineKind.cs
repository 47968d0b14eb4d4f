namespace Pop3Ingest.Mime;

/// <summary>How <see cref="HeaderBlock.EndLine"/> classified the line just completed.</summary>
internal enum HeaderLineKind
{
    /// <summary>The start of a header field; kept.</summary>
    Field,

    /// <summary>A folded continuation of the previous field (RFC 5322 §2.2.3); kept.</summary>
    Continuation,

    /// <summary>Ignored: an mbox "From " line at the very start of the message.</summary>
    Dropped,

    /// <summary>The empty line that ends the header section (RFC 5322 §2.1); not kept.</summary>
    Blank,

    /// <summary>Not a header line: the header section ended without its blank line and this line is body. It stays
    /// readable through <see cref="HeaderBlock.PendingLine"/> and is not part of the fields.</summary>
    NotAHeader,
}
