namespace Pop3Ingest.Pop3;

/// <summary>Receives the protocol trace. Implementations must be cheap; they are called on the I/O path.</summary>
public interface IPop3Trace
{
    /// <summary>True when tracing is on; when false, the client builds no trace text.</summary>
    bool IsEnabled { get; }

    /// <summary>A line the client sent (secrets already replaced by <c>********</c>), without CRLF.</summary>
    void Sent(string line);

    /// <summary>A status or listing line the server sent, without CRLF, control characters escaped.</summary>
    void Received(string line);
}
