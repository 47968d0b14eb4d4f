using System.Text;

namespace Pop3Ingest.Mime;

/// <summary>
/// Parses RFC 5322 §3.4 address lists (From, To, Cc, Reply-To) leniently into mailboxes.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item><c>Name &lt;addr&gt;</c>, bare <c>addr</c>, quoted display names and local parts, comments anywhere.</item>
/// <item>Groups (<c>Team: a@x, b@y;</c>) are flattened: the members are returned, the group name is not an address.</item>
/// <item>Obsolete syntax (RFC 5322 §4.4): source routes (<c>&lt;@relay,@relay2:user@host&gt;</c>) are dropped,
/// whitespace and comments around dots and '@' are removed, empty list elements are skipped.</item>
/// <item>Display names are RFC 2047 decoded (also inside quotes, as mailers put them there). For a bare address with a
/// comment and no display name (<c>user@host (Full Name)</c>) the comment is the name.</item>
/// <item>An element with neither '@' nor angle brackets is kept only if it is a single atom (a local mailbox name).</item>
/// </list>
/// Never throws; garbage yields fewer or no mailboxes.
/// </remarks>
public static class AddressParser
{
    /// <summary>Parses an unfolded address header value.</summary>
    /// <param name="value">The header's value, for example <c>"Doe, John" &lt;john@example.com&gt;, team: a@b.c;</c>.</param>
    /// <returns>The mailboxes in order.</returns>
    public static IReadOnlyList<MailboxAddress> Parse(string value)
    {
        var result = new List<MailboxAddress>();
        Parse(value, Charsets.Windows1252, result);
        return result;
    }

    /// <summary>Parses <paramref name="value"/> and appends its mailboxes to <paramref name="into"/>.</summary>
    internal static void Parse(string value, Encoding fallback, List<MailboxAddress> into)
    {
        ArgumentNullException.ThrowIfNull(value);
        var tokens = Rfc5322Tokenizer.Tokenize(value);
        var element = new List<Rfc5322Token>();
        string? comment = null;
        var done = false;
        var inGroup = false;
        var i = 0;
        while (i < tokens.Count)
        {
            var token = tokens[i];
            if (token.Kind == Rfc5322TokenKind.Comment)
            {
                if (!string.IsNullOrWhiteSpace(token.Text))
                {
                    comment = token.Text;
                }

                i++;
                continue;
            }

            if (token.Is(',') || token.Is(';'))
            {
                EndElement(element, comment, done, fallback, into);
                element.Clear();
                comment = null;
                done = false;
                if (token.Is(';'))
                {
                    inGroup = false;
                }

                i++;
                continue;
            }

            if (done)
            {
                // Junk after "<addr>" up to the next separator.
                i++;
                continue;
            }

            if (token.Is('<'))
            {
                i = ReadAngleAddress(tokens, i + 1, out var address, ref comment);
                var name = BuildPhrase(element, fallback) ?? Decode(comment, fallback);
                if (address.Length > 0)
                {
                    into.Add(new MailboxAddress(name, address));
                }

                done = true;
                continue;
            }

            if (token.Is(':') && !inGroup)
            {
                // RFC 5322 §3.4: the display name of a group is not an address; its members follow.
                inGroup = true;
                element.Clear();
                comment = null;
                i++;
                continue;
            }

            element.Add(token);
            i++;
        }

        EndElement(element, comment, done, fallback, into);
    }

    /// <summary>Reads after '&lt;' up to and including '&gt;'. Returns the index after the address.</summary>
    private static int ReadAngleAddress(List<Rfc5322Token> tokens, int i, out string address, ref string? comment)
    {
        // RFC 5322 §4.4 obs-route: "@domain,@domain:" before the addr-spec.
        if (i < tokens.Count && tokens[i].Is('@'))
        {
            var j = i;
            while (j < tokens.Count && !tokens[j].Is(':') && !tokens[j].Is('>'))
            {
                j++;
            }

            if (j < tokens.Count && tokens[j].Is(':'))
            {
                i = j + 1;
            }
        }

        var builder = new StringBuilder();
        while (i < tokens.Count)
        {
            var token = tokens[i];
            if (token.Is('>'))
            {
                i++;
                break;
            }

            if (token.Is(',') || token.Is(';') || token.Is('<'))
            {
                // Unterminated angle address: stop at the next element.
                break;
            }

            if (token.Kind == Rfc5322TokenKind.Comment)
            {
                if (!string.IsNullOrWhiteSpace(token.Text))
                {
                    comment = token.Text;
                }
            }
            else
            {
                AppendAddressToken(builder, token);
            }

            i++;
        }

        address = builder.ToString();
        return i;
    }

    private static void EndElement(List<Rfc5322Token> element, string? comment, bool done, Encoding fallback, List<MailboxAddress> into)
    {
        if (done || element.Count == 0)
        {
            return;
        }

        var hasAt = element.Exists(token => token.Is('@'));
        if (!hasAt && (element.Count != 1 || element[0].Kind != Rfc5322TokenKind.Atom))
        {
            return;
        }

        var builder = new StringBuilder();
        foreach (var token in element)
        {
            AppendAddressToken(builder, token);
        }

        if (builder.Length > 0)
        {
            into.Add(new MailboxAddress(Decode(comment, fallback), builder.ToString()));
        }
    }

    private static void AppendAddressToken(StringBuilder builder, Rfc5322Token token)
    {
        if (token.Kind == Rfc5322TokenKind.QuotedString)
        {
            builder.Append(Rfc5322Tokenizer.IsDotAtom(token.Text) ? token.Text : Rfc5322Tokenizer.Quote(token.Text));
        }
        else
        {
            builder.Append(token.Text);
        }
    }

    /// <summary>Joins the words of a display name with the spacing they had, then decodes encoded words.</summary>
    private static string? BuildPhrase(List<Rfc5322Token> element, Encoding fallback)
    {
        if (element.Count == 0)
        {
            return null;
        }

        var builder = new StringBuilder();
        foreach (var token in element)
        {
            if (builder.Length > 0 && token.SpaceBefore)
            {
                builder.Append(' ');
            }

            builder.Append(token.Text);
        }

        return Decode(builder.ToString(), fallback);
    }

    private static string? Decode(string? text, Encoding fallback)
    {
        if (text is null)
        {
            return null;
        }

        var decoded = EncodedWordDecoder.Decode(text, fallback).Trim();
        return decoded.Length == 0 ? null : decoded;
    }
}
