using System.Text;

namespace Pop3Ingest.Mime;

/// <summary>
/// Splits unfolded structured header text into RFC 5322 §3.2 tokens. Lenient: an unterminated quoted string,
/// comment or domain literal runs to the end; control characters count as whitespace. Linear time, never throws.
/// </summary>
internal static class Rfc5322Tokenizer
{
    public static List<Rfc5322Token> Tokenize(string text)
    {
        var tokens = new List<Rfc5322Token>();
        var space = false;
        var i = 0;
        var builder = new StringBuilder();
        while (i < text.Length)
        {
            var c = text[i];
            if (c <= ' ' || c == '\x7F')
            {
                space = true;
                i++;
                continue;
            }

            switch (c)
            {
                case '(':
                    i = ReadComment(text, i, builder);
                    tokens.Add(new Rfc5322Token(Rfc5322TokenKind.Comment, builder.ToString(), space));
                    space = true;
                    continue;
                case '"':
                    i = ReadQuoted(text, i, builder);
                    tokens.Add(new Rfc5322Token(Rfc5322TokenKind.QuotedString, builder.ToString(), space));
                    break;
                case '[':
                    {
                        var close = text.IndexOf(']', i + 1);
                        var end = close < 0 ? text.Length : close + 1;
                        tokens.Add(new Rfc5322Token(Rfc5322TokenKind.DomainLiteral, RemoveWhitespace(text.AsSpan(i, end - i)), space));
                        i = end;
                        break;
                    }

                case '<' or '>' or ':' or ';' or '@' or ',' or '.' or ']' or '\\' or ')':
                    tokens.Add(new Rfc5322Token(Rfc5322TokenKind.Special, SpecialText(c), space));
                    i++;
                    break;
                default:
                    {
                        var start = i;
                        while (i < text.Length && IsAtomChar(text[i]))
                        {
                            i++;
                        }

                        tokens.Add(new Rfc5322Token(Rfc5322TokenKind.Atom, text[start..i], space));
                        break;
                    }
            }

            space = false;
        }

        return tokens;
    }

    /// <summary>The text without comments, each comment replaced by a space (RFC 5322 §3.2.2 CFWS).</summary>
    public static string RemoveComments(string text)
    {
        if (!text.Contains('(', StringComparison.Ordinal))
        {
            return text;
        }

        var output = new StringBuilder(text.Length);
        var scratch = new StringBuilder();
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (c == '(')
            {
                i = ReadComment(text, i, scratch);
                output.Append(' ');
            }
            else if (c == '"')
            {
                var start = i;
                i = ReadQuoted(text, i, scratch);
                output.Append(text, start, i - start);
            }
            else
            {
                output.Append(c);
                i++;
            }
        }

        return output.ToString();
    }

    public static bool IsAtomChar(char c) =>
        c > ' ' && c != '\x7F' && c is not ('(' or ')' or '<' or '>' or '[' or ']' or ':' or ';' or '@' or '\\' or ',' or '.' or '"');

    /// <summary>True when <paramref name="text"/> is a dot-atom (RFC 5322 §3.2.3) and needs no quotes.</summary>
    public static bool IsDotAtom(string text)
    {
        if (text.Length == 0 || text[0] == '.' || text[^1] == '.' || text.Contains("..", StringComparison.Ordinal))
        {
            return false;
        }

        foreach (var c in text)
        {
            if (c != '.' && !IsAtomChar(c))
            {
                return false;
            }
        }

        return true;
    }

    public static string Quote(string text)
    {
        var builder = new StringBuilder(text.Length + 2);
        builder.Append('"');
        foreach (var c in text)
        {
            if (c is '"' or '\\')
            {
                builder.Append('\\');
            }

            builder.Append(c);
        }

        return builder.Append('"').ToString();
    }

    private static string SpecialText(char c) => c switch
    {
        '<' => "<",
        '>' => ">",
        ':' => ":",
        ';' => ";",
        '@' => "@",
        ',' => ",",
        '.' => ".",
        ']' => "]",
        ')' => ")",
        _ => "\\",
    };

    private static string RemoveWhitespace(ReadOnlySpan<char> text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            if (c > ' ')
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }

    /// <summary>Reads a (possibly nested) comment starting at '('; returns the index after it.</summary>
    private static int ReadComment(string text, int i, StringBuilder content)
    {
        content.Clear();
        var depth = 0;
        while (i < text.Length)
        {
            var c = text[i++];
            if (c == '\\' && i < text.Length)
            {
                content.Append(text[i++]);
                continue;
            }

            if (c == '(')
            {
                depth++;
                if (depth == 1)
                {
                    continue;
                }
            }
            else if (c == ')')
            {
                depth--;
                if (depth == 0)
                {
                    break;
                }
            }

            content.Append(c);
        }

        return i;
    }

    /// <summary>Reads a quoted string starting at '"'; returns the index after the closing quote.</summary>
    private static int ReadQuoted(string text, int i, StringBuilder content)
    {
        content.Clear();
        i++;
        while (i < text.Length)
        {
            var c = text[i++];
            if (c == '\\' && i < text.Length)
            {
                content.Append(text[i++]);
            }
            else if (c == '"')
            {
                break;
            }
            else if (c is not ('\r' or '\n'))
            {
                content.Append(c);
            }
        }

        return i;
    }
}
