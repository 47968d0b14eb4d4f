using System.Buffers;
using System.Text;

namespace Pop3Ingest.Mime;

/// <summary>
/// Decodes RFC 2047 encoded words (<c>=?charset?B?...?=</c> and <c>=?charset?Q?...?=</c>) in header text.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>Any charset .NET knows is accepted, including the legacy code pages (ISO-8859-*, Windows-125*, KOI8-R,
/// GB2312/GBK/GB18030, Big5, Shift_JIS, EUC-KR, ISO-2022-JP); an unknown charset decodes as UTF-8 when the bytes
/// are valid UTF-8, else with the fallback encoding.</item>
/// <item>RFC 2047 §6.2: whitespace between adjacent encoded words is dropped. Adjacent words in the same charset are
/// joined at the byte level first, so a character split across two words (common with multi-byte charsets) survives.</item>
/// <item>RFC 2231 §5: a language tag in the charset (<c>=?utf-8*en?Q?...?=</c>) is tolerated and ignored.</item>
/// <item>Malformed words (bad syntax, whitespace or '?' inside the encoded text, non-base64 characters in B text,
/// longer than a sane bound) are left as they are.</item>
/// </list>
/// Words embedded in other text without surrounding whitespace are decoded too, as lenient readers do. Never throws.
/// </remarks>
public static class EncodedWordDecoder
{
    // RFC 2047 §2 limits a word to 75 characters; real mail exceeds that, so allow generously but boundedly,
    // which also keeps the scan linear on hostile input.
    private const int MaxEncodedWordLength = 2048;
    private const int MaxCharsetLength = 80;

    private static readonly SearchValues<char> s_base64Text =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=");

    /// <summary>Decodes the encoded words in <paramref name="text"/>, using windows-1252 as the fallback charset.</summary>
    /// <param name="text">Unfolded header text, for example a Subject.</param>
    /// <returns>The text with every well-formed encoded word decoded.</returns>
    public static string Decode(string text) => Decode(text, Charsets.Windows1252);

    /// <summary>Decodes the encoded words in <paramref name="text"/>.</summary>
    /// <param name="text">Unfolded header text.</param>
    /// <param name="fallback">Charset for words whose charset is unknown and whose bytes are not UTF-8.</param>
    /// <returns>The text with every well-formed encoded word decoded.</returns>
    public static string Decode(string text, Encoding fallback)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(fallback);
        var next = text.IndexOf("=?", StringComparison.Ordinal);
        if (next < 0)
        {
            return text;
        }

        Charsets.EnsureRegistered();
        var output = new StringBuilder(text.Length);
        var bytes = ArrayPool<byte>.Shared.Rent((int)Math.Min(((long)text.Length * 3) + 16, Array.MaxLength));
        try
        {
            var byteCount = 0;
            Encoding? pendingEncoding = null;
            var pendingLabel = string.Empty;
            var havePending = false;
            var emitted = 0;

            while (next >= 0)
            {
                if (!TryParseWord(text, next, out var label, out var isBase64, out var payloadStart, out var payloadLength))
                {
                    next = next + 1 < text.Length ? text.IndexOf("=?", next + 1, StringComparison.Ordinal) : -1;
                    continue;
                }

                var between = text.AsSpan(emitted, next - emitted);
                var adjacent = havePending && IsLinearWhitespace(between);
                var encoding = label == pendingLabel && havePending ? pendingEncoding : Charsets.TryGet(label);
                if (!adjacent || !SameCharset(encoding, label, pendingEncoding, pendingLabel))
                {
                    Flush(output, bytes, ref byteCount, pendingEncoding, fallback);
                    if (!adjacent)
                    {
                        output.Append(between);
                    }

                    pendingEncoding = encoding;
                    pendingLabel = label;
                }

                havePending = true;
                var payload = text.AsSpan(payloadStart, payloadLength);
                byteCount += isBase64
                    ? DecodeBase64(payload, bytes.AsSpan(byteCount))
                    : DecodeQ(payload, bytes.AsSpan(byteCount));
                emitted = payloadStart + payloadLength + 2;
                next = emitted < text.Length ? text.IndexOf("=?", emitted, StringComparison.Ordinal) : -1;
            }

            Flush(output, bytes, ref byteCount, pendingEncoding, fallback);
            output.Append(text.AsSpan(emitted));
            return output.ToString();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bytes);
        }
    }

    private static bool SameCharset(Encoding? encoding, string label, Encoding? pendingEncoding, string pendingLabel)
    {
        if (encoding is null || pendingEncoding is null)
        {
            return encoding is null && pendingEncoding is null && string.Equals(label, pendingLabel, StringComparison.OrdinalIgnoreCase);
        }

        return encoding.CodePage == pendingEncoding.CodePage;
    }

    private static void Flush(StringBuilder output, byte[] bytes, ref int byteCount, Encoding? encoding, Encoding fallback)
    {
        if (byteCount > 0)
        {
            output.Append(Charsets.Decode(bytes.AsSpan(0, byteCount), encoding, fallback));
            byteCount = 0;
        }
    }

    private static bool IsLinearWhitespace(ReadOnlySpan<char> text)
    {
        foreach (var c in text)
        {
            if (c is not (' ' or '\t' or '\r' or '\n'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>RFC 2047 §2: <c>"=?" charset ["*" language] "?" encoding "?" encoded-text "?="</c>.</summary>
    private static bool TryParseWord(string text, int start, out string label, out bool isBase64, out int payloadStart, out int payloadLength)
    {
        label = string.Empty;
        isBase64 = false;
        payloadStart = 0;
        payloadLength = 0;

        var charsetStart = start + 2;
        var window = text.AsSpan(charsetStart, Math.Min(text.Length - charsetStart, MaxEncodedWordLength));
        var q1 = window.IndexOf('?');
        if (q1 <= 0 || q1 > MaxCharsetLength || window[..q1].ContainsAny(" \t\r\n=\"()<>,;:"))
        {
            return false;
        }

        if (window.Length < q1 + 3 || window[q1 + 2] != '?')
        {
            return false;
        }

        var encodingChar = window[q1 + 1];
        if (encodingChar is 'B' or 'b')
        {
            isBase64 = true;
        }
        else if (encodingChar is not ('Q' or 'q'))
        {
            return false;
        }

        var rest = window[(q1 + 3)..];
        var end = rest.IndexOf("?=", StringComparison.Ordinal);
        if (end < 0 || rest[..end].ContainsAny(" \t\r\n?"))
        {
            return false;
        }

        // RFC 2047 §4.1: B text is base64; anything else in it makes the word malformed.
        if (isBase64 && rest[..end].ContainsAnyExcept(s_base64Text))
        {
            return false;
        }

        label = window[..q1].ToString();
        payloadStart = charsetStart + q1 + 3;
        payloadLength = end;
        return true;
    }

    /// <summary>Lenient base64: characters outside the alphabet are skipped, padding is optional.</summary>
    private static int DecodeBase64(ReadOnlySpan<char> payload, Span<byte> destination)
    {
        var written = 0;
        var accumulator = 0;
        var bits = 0;
        foreach (var c in payload)
        {
            int value;
            if (c is >= 'A' and <= 'Z')
            {
                value = c - 'A';
            }
            else if (c is >= 'a' and <= 'z')
            {
                value = c - 'a' + 26;
            }
            else if (c is >= '0' and <= '9')
            {
                value = c - '0' + 52;
            }
            else if (c == '+')
            {
                value = 62;
            }
            else if (c == '/')
            {
                value = 63;
            }
            else if (c == '=')
            {
                break;
            }
            else
            {
                continue;
            }

            accumulator = (accumulator << 6) | value;
            bits += 6;
            if (bits >= 8)
            {
                bits -= 8;
                destination[written++] = (byte)(accumulator >> bits);
                accumulator &= (1 << bits) - 1;
            }
        }

        return written;
    }

    /// <summary>RFC 2047 §4.2: '_' is a space, "=XX" a byte, anything else itself.</summary>
    private static int DecodeQ(ReadOnlySpan<char> payload, Span<byte> destination)
    {
        var written = 0;
        for (var i = 0; i < payload.Length; i++)
        {
            var c = payload[i];
            if (c == '_')
            {
                destination[written++] = (byte)' ';
            }
            else if (c == '=' && i + 2 < payload.Length && HexValue(payload[i + 1]) >= 0 && HexValue(payload[i + 2]) >= 0)
            {
                destination[written++] = (byte)((HexValue(payload[i + 1]) << 4) | HexValue(payload[i + 2]));
                i += 2;
            }
            else if (c <= 0xFF)
            {
                destination[written++] = (byte)c;
            }
            else
            {
                written += Encoding.UTF8.GetBytes(payload.Slice(i, char.IsHighSurrogate(c) && i + 1 < payload.Length ? 2 : 1), destination[written..]);
                if (char.IsHighSurrogate(c) && i + 1 < payload.Length)
                {
                    i++;
                }
            }
        }

        return written;
    }

    internal static int HexValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'A' and <= 'F' => c - 'A' + 10,
        >= 'a' and <= 'f' => c - 'a' + 10,
        _ => -1,
    };
}
