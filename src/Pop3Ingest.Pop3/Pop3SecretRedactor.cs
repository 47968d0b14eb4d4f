using System.Text;

namespace Pop3Ingest.Pop3;

/// <summary>
/// What a session sent that must never come back out of it. Secrets are kept in the form
/// <see cref="Pop3ResponseParser.Sanitize"/> gives server text (each byte of its UTF-8 as one character), so that a
/// server quoting one back (<c>-ERR invalid password 'pw'</c>) never puts it into an exception, and from there into
/// logs, the ledger or a status page. Shared by the POP3 and the POP1 client.
/// </summary>
internal sealed class Pop3SecretRedactor
{
    public const string Redacted = "********";

    private readonly List<string> _secrets = [];

    public void Add(string? secret)
    {
        if (!string.IsNullOrEmpty(secret))
        {
            _secrets.Add(Pop3ResponseParser.Sanitize(Encoding.UTF8.GetBytes(secret), int.MaxValue));
        }
    }

    /// <summary>Server text with every secret this session sent replaced by <c>********</c>.</summary>
    public string Redact(string text)
    {
        foreach (var secret in _secrets)
        {
            text = text.Replace(secret, Redacted, StringComparison.Ordinal);

            // Server text is cut for display ("…"): a long token quoted at the end would leave its first part.
            if (text.EndsWith('…'))
            {
                for (var length = Math.Min(secret.Length, text.Length - 1); length >= Math.Min(8, secret.Length); length--)
                {
                    if (text.AsSpan(0, text.Length - 1).EndsWith(secret.AsSpan(0, length), StringComparison.Ordinal))
                    {
                        text = string.Concat(text.AsSpan(0, text.Length - 1 - length), Redacted, "…");
                        break;
                    }
                }
            }
        }

        return text;
    }
}
