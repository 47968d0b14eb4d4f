namespace Pop3Ingest.Mime;

/// <summary>
/// What <see cref="MessageMetadataReader"/> learned about one message: the routing headers of the top-level
/// header block and the attachments found anywhere in the MIME tree (embedded messages included).
/// </summary>
/// <remarks>
/// Single-valued headers (Message-ID, Date, Subject, In-Reply-To, References) come from their first occurrence;
/// repeated address headers (From, To, Cc, Reply-To) are concatenated in order.
/// </remarks>
public sealed record MessageMetadata
{
    /// <summary>
    /// The Message-ID in its RFC 5322 form, <c>&lt;id@host&gt;</c>: the first angle-bracketed id with comments and
    /// whitespace removed. A value without brackets gets them added, so ids compare equal to those in References.
    /// </summary>
    public string? MessageId { get; init; }

    /// <summary>The Date header, parsed to UTC when possible, always with its raw text.</summary>
    public MessageDate? Date { get; init; }

    /// <summary>The From mailboxes.</summary>
    public IReadOnlyList<MailboxAddress> From { get; init; } = [];

    /// <summary>The To mailboxes; group members are listed, group names are not.</summary>
    public IReadOnlyList<MailboxAddress> To { get; init; } = [];

    /// <summary>The Cc mailboxes; group members are listed, group names are not.</summary>
    public IReadOnlyList<MailboxAddress> Cc { get; init; } = [];

    /// <summary>The Reply-To mailboxes.</summary>
    public IReadOnlyList<MailboxAddress> ReplyTo { get; init; } = [];

    /// <summary>The Subject, unfolded, RFC 2047 decoded and trimmed.</summary>
    public string? Subject { get; init; }

    /// <summary>The first message id in In-Reply-To, in the same form as <see cref="MessageId"/>.</summary>
    public string? InReplyTo { get; init; }

    /// <summary>The message ids in References, in order, each as <c>&lt;id@host&gt;</c>.</summary>
    public IReadOnlyList<string> References { get; init; } = [];

    /// <summary>
    /// The attachments, in the order their parts appear. See <see cref="MessageMetadataReader"/> for the rule
    /// that decides what counts as an attachment.
    /// </summary>
    public IReadOnlyList<AttachmentInfo> Attachments { get; init; } = [];

    /// <summary>Whether a bound of <see cref="MimeReaderOptions"/> was hit; <see cref="Problems"/> says which.</summary>
    public bool LimitsExceeded { get; init; }

    /// <summary>
    /// Human-readable notes about limits hit and malformed structure (for example an unterminated multipart).
    /// They never quote message content.
    /// </summary>
    public IReadOnlyList<string> Problems { get; init; } = [];

    /// <summary>Entities examined: the message, its body parts and embedded messages. At most <see cref="MimeReaderOptions.MaxParts"/>.</summary>
    public int PartCount { get; init; }

    /// <summary>The deepest nesting of containers (multiparts and embedded messages) examined. At most <see cref="MimeReaderOptions.MaxDepth"/>.</summary>
    public int NestingDepth { get; init; }
}
