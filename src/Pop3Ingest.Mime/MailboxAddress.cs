namespace Pop3Ingest.Mime;

/// <summary>One mailbox from an address header.</summary>
/// <param name="Name">The display name, RFC 2047 decoded and unquoted; <see langword="null"/> when there is none.
/// For the legacy form <c>user@host (Full Name)</c> the comment serves as the name.</param>
/// <param name="Address">The addr-spec, <c>local@domain</c>, without angle brackets, source route or whitespace.
/// A local part that needs quoting keeps its quotes.</param>
public sealed record MailboxAddress(string? Name, string Address);
