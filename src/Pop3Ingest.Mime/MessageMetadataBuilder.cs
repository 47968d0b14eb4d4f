using System.Text;

namespace Pop3Ingest.Mime;

/// <summary>Accumulates what the reader learns, then builds the immutable <see cref="MessageMetadata"/>.</summary>
internal sealed class MessageMetadataBuilder
{
    private const int MaxProblems = 50;

    private readonly List<MailboxAddress> _from = [];
    private readonly List<MailboxAddress> _to = [];
    private readonly List<MailboxAddress> _cc = [];
    private readonly List<MailboxAddress> _replyTo = [];
    private readonly List<AttachmentInfo> _attachments = [];
    private readonly List<string> _problems = [];
    private List<string>? _references;
    private string? _messageId;
    private bool _messageIdSeen;
    private MessageDate? _date;
    private string? _subject;
    private string? _inReplyTo;
    private bool _inReplyToSeen;

    public bool LimitsExceeded { get; private set; }

    /// <summary>Takes one top-level header field (RFC 5322 §3.6); names are matched case-insensitively.</summary>
    public void AddField(ReadOnlySpan<byte> name, ReadOnlySpan<byte> rawValue, HeaderValueContext context)
    {
        switch (name.Length)
        {
            case 2 when Ascii.EqualsIgnoreCase(name, "to"u8):
                HeaderValues.AddAddresses(rawValue, context.Options, _to);
                break;
            case 2 when Ascii.EqualsIgnoreCase(name, "cc"u8):
                HeaderValues.AddAddresses(rawValue, context.Options, _cc);
                break;
            case 4 when Ascii.EqualsIgnoreCase(name, "from"u8):
                HeaderValues.AddAddresses(rawValue, context.Options, _from);
                break;
            case 4 when _date is null && Ascii.EqualsIgnoreCase(name, "date"u8):
                _date = HeaderValues.Date(rawValue, context.Fallback);
                break;
            case 7 when _subject is null && Ascii.EqualsIgnoreCase(name, "subject"u8):
                _subject = HeaderValues.Text(rawValue, context.Options);
                break;
            case 8 when Ascii.EqualsIgnoreCase(name, "reply-to"u8):
                HeaderValues.AddAddresses(rawValue, context.Options, _replyTo);
                break;
            case 10 when !_messageIdSeen && Ascii.EqualsIgnoreCase(name, "message-id"u8):
                _messageIdSeen = true;
                _messageId = HeaderValues.MessageId(rawValue);
                break;
            case 10 when _references is null && Ascii.EqualsIgnoreCase(name, "references"u8):
                _references = HeaderValues.MessageIds(rawValue);
                break;
            case 11 when !_inReplyToSeen && Ascii.EqualsIgnoreCase(name, "in-reply-to"u8):
                _inReplyToSeen = true;
                _inReplyTo = HeaderValues.MessageIds(rawValue, 1) is [var first] ? first : null;
                break;
        }
    }

    /// <summary>Adds an attachment and returns its index, so a size known only later can be filled in.</summary>
    public int AddAttachment(string? fileName, string contentType, long size)
    {
        _attachments.Add(new AttachmentInfo(fileName, contentType, size));
        return _attachments.Count - 1;
    }

    public void SetAttachmentSize(int index, long size) => _attachments[index] = _attachments[index] with { Size = size };

    public void AddProblem(string problem, bool limitExceeded = false)
    {
        LimitsExceeded |= limitExceeded;
        if (_problems.Count < MaxProblems)
        {
            _problems.Add(problem);
        }
        else if (_problems.Count == MaxProblems)
        {
            _problems.Add("Further problems were not listed.");
        }
    }

    public MessageMetadata Build(int partCount, int nestingDepth) => new()
    {
        MessageId = _messageId,
        Date = _date,
        From = _from.ToArray(),
        To = _to.ToArray(),
        Cc = _cc.ToArray(),
        ReplyTo = _replyTo.ToArray(),
        Subject = _subject,
        InReplyTo = _inReplyTo,
        References = _references?.ToArray() ?? [],
        Attachments = _attachments.ToArray(),
        LimitsExceeded = LimitsExceeded,
        Problems = _problems.ToArray(),
        PartCount = partCount,
        NestingDepth = nestingDepth,
    };
}
