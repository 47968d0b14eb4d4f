namespace Pop3Ingest.Pop3;

/// <summary>One line of a LIST response: message number and size in octets as the server announced it.</summary>
/// <remarks>
/// The size is a hint (RFC 1939 §11 lets servers count differently; several add or drop bytes on RETR):
/// never allocate by it.
/// </remarks>
public readonly record struct Pop3ListEntry(int Number, long Size);
