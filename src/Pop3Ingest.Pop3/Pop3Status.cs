namespace Pop3Ingest.Pop3;

/// <summary>What a status line says.</summary>
internal enum Pop3StatusKind
{
    Ok,
    Err,

    /// <summary>A SASL continuation, <c>+ challenge</c> (RFC 5034 §4).</summary>
    Continuation,
    Garbage,
}

/// <summary>A parsed status line.</summary>
internal readonly record struct Pop3Status(Pop3StatusKind Kind, string Text, Pop3ResponseCode? Code);
