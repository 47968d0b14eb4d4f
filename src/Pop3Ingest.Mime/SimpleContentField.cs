using System.Buffers;
using System.Text;

namespace Pop3Ingest.Mime;

/// <summary>
/// Reads the plain Content-Type and Content-Disposition values most parts carry (<c>text/plain; charset=utf-8</c>,
/// <c>attachment; filename="scan.pdf"</c>) without MimeKit, and refuses everything else, which then goes to
/// MimeKit's <c>ContentType.TryParse</c> and <c>ContentDisposition.TryParse</c> as before.
/// </summary>
/// <remarks>
/// Measured with the benchmark's reader scenario (<c>GC.GetAllocatedBytesForCurrentThread</c> around one pass over the
/// 133 MB multipart, 26 header blocks): MimeKit's <c>ContentType</c> and <c>ContentDisposition</c> objects, their
/// parameter lists and strings cost about 1.4 KB per value, and took the pass from 58,448 bytes (the hand-written
/// parsers before MimeKit) to 76,568. See src/Pop3Ingest.Mime/README.md for the figures with this path.
/// Plain means: printable ASCII and spaces only; <c>token "/" token</c> (or one token for a disposition); then
/// <c>; name=token</c> or <c>; name="text"</c>. Anything MimeKit would have to interpret is refused: RFC 2231
/// (<c>*</c>), RFC 2047 (<c>=?</c>), comments, quoted pairs, tabs, 8-bit bytes, a trailing or doubled <c>;</c>, a space after an unquoted parameter value, a
/// parameter asked for given twice. <c>SimpleContentFieldTests</c> checks the answers against MimeKit's on generated values.
/// </remarks>
internal static class SimpleContentField
{
    // RFC 2045 §5.1: token := 1*<any (US-ASCII) CHAR except SPACE, CTLs, or tspecials>.
    private static readonly SearchValues<byte> s_token =
        SearchValues.Create("!#$%&'*+-.0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ^_`abcdefghijklmnopqrstuvwxyz{|}~"u8);

    // MimeKit refuses a '.' in the type (and in a disposition type), though RFC 2045 allows it: left to MimeKit.
    private static readonly SearchValues<byte> s_typeToken =
        SearchValues.Create("!#$%&'*+-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ^_`abcdefghijklmnopqrstuvwxyz{|}~"u8);

    /// <summary>
    /// The value when it is plain; <paramref name="hasSubtype"/> for Content-Type. <see langword="false"/> when
    /// MimeKit has to read it.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> value, bool hasSubtype, ReadOnlySpan<byte> firstName, ReadOnlySpan<byte> secondName, out ContentField field)
    {
        field = default;
        if (value.ContainsAnyExceptInRange((byte)' ', (byte)'~') || value.IndexOf("=?"u8) >= 0 || value.Contains((byte)'*')
            || value.Contains((byte)'(') || value.Contains((byte)'\\'))
        {
            return false;
        }

        var position = 0;
        var type = Token(value, ref position, s_typeToken);
        if (type.Length == 0 || (position < value.Length && value[position] == (byte)'.'))
        {
            return false;
        }

        var subtype = default(ReadOnlySpan<byte>);
        if (hasSubtype)
        {
            if (position == value.Length || value[position] != (byte)'/')
            {
                return false;
            }

            position++;
            subtype = Token(value, ref position);
            if (subtype.Length == 0)
            {
                return false;
            }
        }

        // Kept on the stack while lower-cased; a longer type is MimeKit's to read.
        if (type.Length + subtype.Length > 200)
        {
            return false;
        }

        Range? first = null;
        Range? second = null;
        SkipSpaces(value, ref position);
        while (position < value.Length)
        {
            if (value[position] != (byte)';')
            {
                return false;
            }

            position++;
            SkipSpaces(value, ref position);
            var name = Token(value, ref position);
            SkipSpaces(value, ref position);
            if (name.Length == 0 || position == value.Length || value[position] != (byte)'=')
            {
                return false;
            }

            position++;
            SkipSpaces(value, ref position);
            Range parameter;
            if (position < value.Length && value[position] == (byte)'"')
            {
                var close = value[(position + 1)..].IndexOf((byte)'"');
                if (close < 0)
                {
                    return false;
                }

                parameter = (position + 1)..(position + 1 + close);
                position += close + 2;
            }
            else
            {
                var start = position;
                if (Token(value, ref position).Length == 0)
                {
                    return false;
                }

                // MimeKit keeps the spaces between a token value and the next ';' in the value: left to it.
                if (position < value.Length && value[position] == (byte)' ')
                {
                    return false;
                }

                parameter = start..position;
            }

            SkipSpaces(value, ref position);
            if (Ascii.EqualsIgnoreCase(name, firstName))
            {
                if (first is not null)
                {
                    return false;
                }

                first = parameter;
            }
            else if (Ascii.EqualsIgnoreCase(name, secondName))
            {
                if (second is not null)
                {
                    return false;
                }

                second = parameter;
            }
        }

        field = new ContentField(Lower(type, subtype), Text(value, first), Text(value, second));
        return true;
    }

    private static ReadOnlySpan<byte> Token(ReadOnlySpan<byte> value, scoped ref int position, SearchValues<byte>? characters = null)
    {
        var length = value[position..].IndexOfAnyExcept(characters ?? s_token);
        var token = length < 0 ? value[position..] : value.Slice(position, length);
        position += token.Length;
        return token;
    }

    private static void SkipSpaces(ReadOnlySpan<byte> value, ref int position)
    {
        while (position < value.Length && value[position] == (byte)' ')
        {
            position++;
        }
    }

    private static string? Text(ReadOnlySpan<byte> value, Range? range) => range is { } r ? Encoding.ASCII.GetString(value[r]) : null;

    /// <summary>The lower-case type, or <c>type/subtype</c>; the common ones without a new string.</summary>
    private static string Lower(ReadOnlySpan<byte> type, ReadOnlySpan<byte> subtype)
    {
        var length = type.Length + (subtype.IsEmpty ? 0 : 1 + subtype.Length);
        Span<byte> lower = stackalloc byte[length];
        Ascii.ToLower(type, lower, out _);
        if (!subtype.IsEmpty)
        {
            lower[type.Length] = (byte)'/';
            Ascii.ToLower(subtype, lower[(type.Length + 1)..], out _);
        }

        return lower switch
        {
            _ when lower.SequenceEqual("text/plain"u8) => "text/plain",
            _ when lower.SequenceEqual("text/html"u8) => "text/html",
            _ when lower.SequenceEqual("multipart/mixed"u8) => "multipart/mixed",
            _ when lower.SequenceEqual("multipart/alternative"u8) => "multipart/alternative",
            _ when lower.SequenceEqual("multipart/related"u8) => "multipart/related",
            _ when lower.SequenceEqual("message/rfc822"u8) => "message/rfc822",
            _ when lower.SequenceEqual("application/pdf"u8) => "application/pdf",
            _ when lower.SequenceEqual("application/octet-stream"u8) => "application/octet-stream",
            _ when lower.SequenceEqual("attachment"u8) => "attachment",
            _ when lower.SequenceEqual("inline"u8) => "inline",
            _ => Encoding.ASCII.GetString(lower),
        };
    }
}
