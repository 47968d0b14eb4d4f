namespace Pop3Ingest.Mime;

/// <summary>The Date header.</summary>
/// <param name="Utc">The instant in UTC (offset zero) when the text could be parsed (RFC 5322 §3.3, including the
/// obsolete forms of §4.3); otherwise <see langword="null"/>.</param>
/// <param name="Raw">The header's text, unfolded and trimmed, always present.</param>
public sealed record MessageDate(DateTimeOffset? Utc, string Raw);
