namespace Pop3Ingest.Pop3;

/// <summary>
/// One message of a batch retrieval: either a stream to read to its end, or the server's refusal
/// (the session stays usable after a refusal).
/// </summary>
public sealed class Pop3Retrieval
{
    internal Pop3Retrieval(int number, Pop3MessageStream? content, Pop3CommandException? error)
    {
        Number = number;
        Content = content;
        Error = error;
    }

    /// <summary>The message number.</summary>
    public int Number { get; }

    /// <summary>The message, when the server answered +OK. Read it to its end before asking for the next one.</summary>
    public Pop3MessageStream? Content { get; }

    /// <summary>The refusal, when the server answered -ERR.</summary>
    public Pop3CommandException? Error { get; }
}
