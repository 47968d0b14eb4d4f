using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace Pop3Ingest.Pop3;

/// <summary>Parsers for status lines and listings. No I/O: they take the bytes of one line.</summary>
internal static class Pop3ResponseParser
{
    private const int MaxDisplayLength = 300;

    /// <summary>
    /// RFC 1939 §3: a status line starts with "+OK" or "-ERR" (matched case-insensitively, as lenient clients do),
    /// followed by a space or the end of the line. RFC 2449 §8: a response code may follow in brackets.
    /// </summary>
    public static Pop3Status ParseStatus(ReadOnlySpan<byte> line)
    {
        if (StartsWithToken(line, "+OK"u8))
        {
            return WithText(Pop3StatusKind.Ok, line[3..]);
        }

        if (StartsWithToken(line, "-ERR"u8))
        {
            return WithText(Pop3StatusKind.Err, line[4..]);
        }

        // RFC 5034 §4: "+" SP base64 (or a bare "+" for an empty challenge).
        if (line.Length >= 1 && line[0] == (byte)'+' && (line.Length == 1 || line[1] == (byte)' '))
        {
            return new Pop3Status(Pop3StatusKind.Continuation, Encoding.Latin1.GetString(line.Length > 2 ? line[2..] : []), null);
        }

        return new Pop3Status(Pop3StatusKind.Garbage, Sanitize(line), null);
    }

    private static bool StartsWithToken(ReadOnlySpan<byte> line, ReadOnlySpan<byte> token)
    {
        if (line.Length < token.Length)
        {
            return false;
        }

        for (var i = 0; i < token.Length; i++)
        {
            if ((line[i] | 0x20) != (token[i] | 0x20))
            {
                return false;
            }
        }

        return line.Length == token.Length || line[token.Length] == (byte)' ';
    }

    private static Pop3Status WithText(Pop3StatusKind kind, ReadOnlySpan<byte> rest)
    {
        rest = rest.TrimStart((byte)' ');
        Pop3ResponseCode? code = null;
        if (rest.Length > 1 && rest[0] == (byte)'[')
        {
            var close = rest.IndexOf((byte)']');
            if (close > 1 && close < 128)
            {
                var value = rest[1..close];
                if (IsResponseCode(value))
                {
                    code = new Pop3ResponseCode(Encoding.ASCII.GetString(value).ToUpperInvariant());
                    rest = rest[(close + 1)..].TrimStart((byte)' ');
                }
            }
        }

        return new Pop3Status(kind, Sanitize(rest), code);
    }

    // RFC 2449 §8: resp-code = "[" resp-level *("/" resp-level) "]", resp-level = 1*<any CHAR except "/" and "]">.
    private static bool IsResponseCode(ReadOnlySpan<byte> value)
    {
        foreach (var b in value)
        {
            if (b is <= 0x20 or >= 0x7F)
            {
                return false;
            }
        }

        return value[0] != (byte)'/' && value[^1] != (byte)'/';
    }

    /// <summary>RFC 1939 §7: the APOP timestamp is the msg-id in angle brackets in the greeting.</summary>
    public static string? ExtractApopTimestamp(ReadOnlySpan<byte> greeting)
    {
        var open = greeting.IndexOf((byte)'<');
        if (open < 0)
        {
            return null;
        }

        var close = greeting[open..].IndexOf((byte)'>');
        if (close < 2)
        {
            return null;
        }

        var stamp = greeting.Slice(open, close + 1);
        foreach (var b in stamp)
        {
            if (b is < 0x21 or > 0x7E)
            {
                return null;
            }
        }

        return stamp.Contains((byte)'@') ? Encoding.ASCII.GetString(stamp) : null;
    }

    /// <summary>RFC 2449 §5: one capability per line, a name and optional space-separated arguments.</summary>
    public static Pop3Capabilities ParseCapabilities(IReadOnlyList<string> lines, bool apop)
    {
        var flags = Pop3CapabilityFlags.Capa;
        var sasl = new List<string>();
        TimeSpan? loginDelay = null;
        string? expire = null;
        string? implementation = null;
        foreach (var line in lines)
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 0)
            {
                continue;
            }

            switch (parts[0].ToUpperInvariant())
            {
                case "TOP": flags |= Pop3CapabilityFlags.Top; break;
                case "USER": flags |= Pop3CapabilityFlags.User; break;
                case "UIDL": flags |= Pop3CapabilityFlags.Uidl; break;
                case "PIPELINING": flags |= Pop3CapabilityFlags.Pipelining; break;
                case "RESP-CODES": flags |= Pop3CapabilityFlags.RespCodes; break;
                case "AUTH-RESP-CODE": flags |= Pop3CapabilityFlags.AuthRespCode; break;
                case "STLS": flags |= Pop3CapabilityFlags.Stls; break;
                case "UTF8": flags |= Pop3CapabilityFlags.Utf8; break;
                case "SASL":
                    flags |= Pop3CapabilityFlags.Sasl;
                    sasl.AddRange(parts.Skip(1).Select(m => m.ToUpperInvariant()));
                    break;
                case "LOGIN-DELAY":
                    flags |= Pop3CapabilityFlags.LoginDelay;
                    if (parts.Length > 1 && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
                    {
                        loginDelay = TimeSpan.FromSeconds(seconds);
                    }

                    break;
                case "EXPIRE":
                    flags |= Pop3CapabilityFlags.Expire;
                    expire = parts.Length > 1 ? parts[1] : null;
                    break;
                case "IMPLEMENTATION":
                    flags |= Pop3CapabilityFlags.Implementation;
                    implementation = line.Length > 15 ? line[15..].Trim() : null;
                    break;
            }
        }

        if (apop)
        {
            flags |= Pop3CapabilityFlags.Apop;
        }

        return new Pop3Capabilities(flags, sasl, loginDelay, expire, implementation, lines);
    }

    /// <summary>
    /// Baseline when CAPA is refused (RFC 1939 servers): USER, TOP and UIDL are optional commands every
    /// common server has; they are tried and a refusal is reported clearly.
    /// </summary>
    public static Pop3Capabilities Baseline(bool apop) =>
        new(Pop3CapabilityFlags.User | Pop3CapabilityFlags.Top | Pop3CapabilityFlags.Uidl |
            (apop ? Pop3CapabilityFlags.Apop : Pop3CapabilityFlags.None), [], null, null, null, []);

    /// <summary>A UIDL line: "msg SP uid" (RFC 1939 §7). The uid keeps every byte as Latin-1.</summary>
    public static bool TryParseUidl(ReadOnlySpan<byte> line, out Pop3UidlEntry entry)
    {
        entry = default;
        line = line.TrimStart((byte)' ');
        var space = line.IndexOf((byte)' ');
        if (space <= 0 || !TryParseNumber(line[..space], out var number))
        {
            return false;
        }

        var uid = line[(space + 1)..].TrimStart((byte)' ');
        uid = uid.TrimEnd((byte)' ');
        if (uid.IsEmpty)
        {
            return false;
        }

        entry = new Pop3UidlEntry(number, Encoding.Latin1.GetString(uid));
        return true;
    }

    /// <summary>A LIST line: "msg SP octets", anything after the size ignored (RFC 1939 §5 allows more).</summary>
    public static bool TryParseList(ReadOnlySpan<byte> line, out Pop3ListEntry entry)
    {
        entry = default;
        line = line.Trim((byte)' ');
        var space = line.IndexOf((byte)' ');
        if (space <= 0 || !TryParseNumber(line[..space], out var number))
        {
            return false;
        }

        var rest = line[(space + 1)..].TrimStart((byte)' ');
        var end = rest.IndexOf((byte)' ');
        var sizeText = end < 0 ? rest : rest[..end];
        if (!TryParseSize(sizeText, out var size))
        {
            return false;
        }

        entry = new Pop3ListEntry(number, size);
        return true;
    }

    /// <summary>Message numbers are positive (RFC 1939 §5), and we keep them within an int.</summary>
    public static bool TryParseNumber(ReadOnlySpan<byte> text, out int number) =>
        Utf8Parser.TryParse(text, out number, out var consumed) && consumed == text.Length && number > 0 &&
        text[0] is >= (byte)'0' and <= (byte)'9';

    public static bool TryParseSize(ReadOnlySpan<byte> text, out long size) =>
        Utf8Parser.TryParse(text, out size, out var consumed) && consumed == text.Length && size >= 0 &&
        text.Length > 0 && text[0] is >= (byte)'0' and <= (byte)'9';

    /// <summary>Server text fit for a log line: Latin-1, control characters escaped, length bounded.</summary>
    public static string Sanitize(ReadOnlySpan<byte> text, int maxLength = MaxDisplayLength)
    {
        var truncated = text.Length > maxLength;
        if (truncated)
        {
            text = text[..maxLength];
        }

        var builder = new StringBuilder(text.Length + 8);
        foreach (var b in text)
        {
            if (b is < 0x20 or 0x7F)
            {
                builder.Append(CultureInfo.InvariantCulture, $"\\x{b:X2}");
            }
            else
            {
                builder.Append((char)b);
            }
        }

        if (truncated)
        {
            builder.Append('…');
        }

        return builder.ToString();
    }

}
