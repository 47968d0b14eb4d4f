namespace Pop3Ingest.Pop3;

/// <summary>One line of a UIDL response.</summary>
/// <param name="Number">The message number in this session (it changes between sessions).</param>
/// <param name="Uid">
/// The unique id, each received byte mapped to the code point of the same value (ISO-8859-1), so any byte a
/// server sends survives the round trip. Servers should send 0x21-0x7E only (RFC 1939 §7); hostile ones may not.
/// </param>
public readonly record struct Pop3UidlEntry(int Number, string Uid);
