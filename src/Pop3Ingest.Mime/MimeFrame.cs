namespace Pop3Ingest.Mime;

/// <summary>
/// One open container on the reader's stack: a multipart whose boundary is being looked for, or a message
/// (the top-level one, or an embedded message/rfc822) whose first leaf part is its body.
/// </summary>
internal sealed class MimeFrame
{
    private MimeFrame(int partNumber, byte[]? boundary, bool isDigest, long bodyStart, int attachmentIndex)
    {
        PartNumber = partNumber;
        Boundary = boundary;
        IsDigest = isDigest;
        BodyStart = bodyStart;
        AttachmentIndex = attachmentIndex;
    }

    /// <summary>The number of the entity this container is (1 for the message itself), for problem reports.</summary>
    public int PartNumber { get; }

    /// <summary>The boundary (without the leading "--") of a multipart; <see langword="null"/> for a message.</summary>
    public byte[]? Boundary { get; }

    public bool IsMultipart => Boundary is not null;

    /// <summary>RFC 2046 §5.1.5: in multipart/digest the default part type is message/rfc822.</summary>
    public bool IsDigest { get; }

    /// <summary>Stream offset where a message's body starts (its size is measured from here).</summary>
    public long BodyStart { get; }

    /// <summary>For an embedded message listed as an attachment, its index in the attachment list; else -1.</summary>
    public int AttachmentIndex { get; }

    /// <summary>For a message: whether its first leaf part has been seen.</summary>
    public bool FirstLeafSeen { get; set; }

    public static MimeFrame Multipart(int partNumber, byte[] boundary, bool isDigest) => new(partNumber, boundary, isDigest, 0, -1);

    public static MimeFrame Message(int partNumber, long bodyStart, int attachmentIndex) => new(partNumber, null, false, bodyStart, attachmentIndex);
}
