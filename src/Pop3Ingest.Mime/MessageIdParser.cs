using System.Text;

namespace Pop3Ingest.Mime;

/// <summary>
/// Extracts RFC 5322 §3.6.4 message ids (Message-ID, In-Reply-To, References) in the form <c>&lt;id@host&gt;</c>,
/// with comments and whitespace removed (RFC 5322 §4.5.4 obs-id-left/right allow CFWS inside).
/// </summary>
internal static class MessageIdParser
{
    /// <summary>
    /// Every angle-bracketed id in order. When there is none and the whole value is a single word
    /// (a Message-ID written without brackets), that word, bracketed. Phrases (RFC 5322 §4.5.4) are ignored.
    /// </summary>
    public static List<string> ParseAll(string value, int max = int.MaxValue)
    {
        var ids = new List<string>();
        var tokens = Rfc5322Tokenizer.Tokenize(value);
        var builder = new StringBuilder();
        var i = 0;
        while (i < tokens.Count && ids.Count < max)
        {
            if (!tokens[i].Is('<'))
            {
                i++;
                continue;
            }

            builder.Clear();
            i++;
            while (i < tokens.Count && !tokens[i].Is('>') && !tokens[i].Is('<'))
            {
                var token = tokens[i];
                if (token.Kind == Rfc5322TokenKind.QuotedString)
                {
                    builder.Append(Rfc5322Tokenizer.IsDotAtom(token.Text) ? token.Text : Rfc5322Tokenizer.Quote(token.Text));
                }
                else if (token.Kind != Rfc5322TokenKind.Comment)
                {
                    builder.Append(token.Text);
                }

                i++;
            }

            if (i < tokens.Count && tokens[i].Is('>'))
            {
                i++;
            }

            if (builder.Length > 0)
            {
                ids.Add("<" + builder + ">");
            }
        }

        if (ids.Count == 0)
        {
            var bare = Rfc5322Tokenizer.RemoveComments(value).Trim();
            if (bare.Length > 0 && !bare.AsSpan().ContainsAny(" \t\r\n<>\"(),;"))
            {
                ids.Add("<" + bare + ">");
            }
        }

        return ids;
    }

    /// <summary>The first id, or <see langword="null"/>.</summary>
    public static string? ParseFirst(string value)
    {
        var ids = ParseAll(value, 1);
        return ids.Count == 0 ? null : ids[0];
    }
}
