namespace Pop3Ingest.Pop3;

/// <summary>The session states of RFC 1939 §3, plus the client's own.</summary>
public enum Pop3SessionState
{
    /// <summary>Not connected yet.</summary>
    Disconnected,

    /// <summary>Greeted; not yet authenticated.</summary>
    Authorization,

    /// <summary>Authenticated; the maildrop is locked.</summary>
    Transaction,

    /// <summary>QUIT was answered; the connection is closed.</summary>
    Closed,

    /// <summary>An I/O or protocol error closed the connection; deletions were not committed.</summary>
    Broken,
}
