namespace Pop3Ingest.Mime;

/// <summary>Content-Transfer-Encoding (RFC 2045 §6) as far as measuring a body needs it.</summary>
internal enum TransferEncoding
{
    /// <summary>7bit, 8bit, binary, or anything unknown: the body is its own decoded form.</summary>
    Identity,

    /// <summary>RFC 2045 §6.8.</summary>
    Base64,

    /// <summary>RFC 2045 §6.7.</summary>
    QuotedPrintable,
}
