namespace Pop3Ingest.Pop3;

/// <summary>The base of every error the POP3 client raises.</summary>
public abstract class Pop3Exception : Exception
{
    private protected Pop3Exception(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }

    /// <summary>True when the same operation may succeed if tried again later.</summary>
    public abstract bool IsTransient { get; }

    /// <summary>True when the session can no longer be used (it was closed by the client).</summary>
    public abstract bool SessionBroken { get; }
}
