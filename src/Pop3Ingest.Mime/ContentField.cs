namespace Pop3Ingest.Mime;

/// <summary>
/// What the reader keeps of a Content-Type or Content-Disposition value: the lower-case <c>type/subtype</c> or
/// disposition type, and the two parameters it asked for (<c>boundary</c> and <c>name</c>, or <c>filename</c>).
/// </summary>
internal readonly record struct ContentField(string Value, string? First, string? Second);
