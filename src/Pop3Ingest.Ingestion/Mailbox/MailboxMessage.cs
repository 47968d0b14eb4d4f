namespace Pop3Ingest.Ingestion.Mailbox;

/// <summary>
/// One retrieved message: a stream to read to its end before the next message is asked for, or the server's refusal
/// to send it. Reading the stream throws <see cref="MailboxException"/> when the session fails under it.
/// </summary>
public sealed class MailboxMessage
{
    public MailboxMessage(int number, Stream? content, string? refusal)
    {
        if ((content is null) == (refusal is null))
        {
            throw new ArgumentException("A retrieved message has either content or a refusal.");
        }

        Number = number;
        Content = content;
        Refusal = refusal;
    }

    /// <summary>The message number in this session (POP1: its position in the mailbox, from 1).</summary>
    public int Number { get; }

    /// <summary>The message, when the server sent it.</summary>
    public Stream? Content { get; }

    /// <summary>The server's refusal, when it did not.</summary>
    public string? Refusal { get; }

    /// <summary>Reads what is left of the message, to keep the session in step after a consumer stopped reading it.</summary>
    public async Task DrainAsync(CancellationToken cancellationToken)
    {
        if (Content is not null)
        {
            await Content.CopyToAsync(Stream.Null, cancellationToken).ConfigureAwait(false);
        }
    }
}
