namespace Pop3Ingest.Ingestion.Pipeline;

/// <summary>How a run ended.</summary>
public enum RunOutcome
{
    /// <summary>The run did its work; messages left by policy, oversize or quarantined are reported, not failures.</summary>
    Succeeded,

    /// <summary>The maildrop was busy (IN-USE, LOGIN-DELAY): nothing was done; the next run tries again.</summary>
    Busy,

    /// <summary>The run failed; nothing unsafe happened, and the next run recovers.</summary>
    Failed,
}

/// <summary>Why a run failed, for logs, health and metrics.</summary>
public enum FailureKind
{
    None,
    Connection,
    Protocol,
    Authentication,
    Security,
    Busy,
    NoUidl,
    Store,
    Queue,
    Ledger,
    Cancelled,
    Server,

    /// <summary>A mailbox deleted whole or not at all (POP1) held a message larger than MaxMessageBytes: nothing was deleted.</summary>
    Oversize,
}

/// <summary>What one run did.</summary>
public sealed record RunResult
{
    public required string Account { get; init; }

    public required RunOutcome Outcome { get; init; }

    public FailureKind FailureKind { get; init; }

    public string? Error { get; init; }

    public DateTimeOffset Started { get; init; }

    public TimeSpan Elapsed { get; init; }

    /// <summary>Messages on the server at the start.</summary>
    public int Listed { get; init; }

    /// <summary>Messages downloaded and stored in this run.</summary>
    public int Stored { get; init; }

    public long StoredBytes { get; init; }

    /// <summary>Downloads that found their blob already stored (after a crash).</summary>
    public int AlreadyStored { get; init; }

    public int Notified { get; init; }

    /// <summary>Messages whose deletion the server committed (QUIT +OK).</summary>
    public int Deleted { get; init; }

    /// <summary>Messages kept on the server by the delete policy or the run limits.</summary>
    public int Waiting { get; init; }

    /// <summary>Messages whose download or storing failed in this run (retried later).</summary>
    public int Failed { get; init; }

    /// <summary>Messages quarantined (now or before) and left on the server.</summary>
    public int Quarantined { get; init; }

    public int Oversize { get; init; }

    public int Duplicates { get; init; }

    public bool IsFailure => Outcome != RunOutcome.Succeeded;
}
