namespace Pop3Ingest.Pop3;

/// <summary>The STAT answer: message count and total size of the maildrop (RFC 1939 §5).</summary>
public readonly record struct Pop3Stat(int Count, long Size);
