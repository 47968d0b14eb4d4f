namespace Pop3Ingest.Ingestion.Pipeline;

/// <summary>When a stored message is deleted on the POP3 server.</summary>
public enum DeletePolicy
{
    /// <summary>As soon as it is durably stored (and announced, when a queue is configured).</summary>
    AfterStore,

    /// <summary>Never: the mailbox is only read.</summary>
    Never,

    /// <summary>Once it has been stored for DeleteAfterDays.</summary>
    AfterDays,
}
