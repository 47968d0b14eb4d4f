using System.Buffers;
using System.Text;

namespace Pop3Ingest.Mime;

/// <summary>
/// Rewrites the RFC 2047 encoded words that MimeKit decodes worse than mail needs, before it sees them. Values without
/// such a word are left alone and cost no allocation.
/// </summary>
internal static class EncodedWordRepair
{
    private static readonly SearchValues<byte> s_base64 =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"u8);

    /// <summary>The value with its encoded words repaired, or <see langword="null"/> when none needed it.</summary>
    public static byte[]? Repair(ReadOnlySpan<byte> value)
    {
        ArrayBufferWriter<byte>? output = null;
        var copied = 0;
        var start = value.IndexOf("=?"u8);
        while (start >= 0)
        {
            var word = value[start..];
            var end = ParseWord(word, out var charset, out var payload, out var isBase64);
            if (end < 0)
            {
                var next = value[(start + 2)..].IndexOf("=?"u8);
                start = next < 0 ? -1 : start + 2 + next;
                continue;
            }

            // Real mail has B words without their "=" padding ("=?utf-8?B?w6k?="); MimeKit drops the incomplete
            // last quantum, which loses the character ("" instead of "é"). RFC 4648 §3.2: the padding is implied.
            var padding = isBase64 && payload.Length % 4 is 2 or 3 && !payload.ContainsAnyExcept(s_base64) ? 4 - (payload.Length % 4) : 0;

            // "us-ascii" words that hold 8-bit bytes ("=?us-ascii?Q?caf=E9?=") are mislabelled; MimeKit trusts the label
            // and gives "caf?". As an unknown charset they get the reader's fallback: UTF-8 when valid, else the
            // fallback charset, as for unlabelled 8-bit text. ASCII decodes the same either way.
            var language = charset.IndexOf((byte)'*');
            var relabel = Ascii.EqualsIgnoreCase(language < 0 ? charset : charset[..language], "us-ascii"u8);
            if (padding > 0 || relabel)
            {
                output ??= new ArrayBufferWriter<byte>(value.Length + 16);
                output.Write(value[copied..start]);
                output.Write("=?"u8);
                output.Write(relabel ? "unknown-8bit"u8 : charset);
                output.Write(word[(2 + charset.Length)..(end - 2)]);
                output.Write("=="u8[..padding]);
                output.Write("?="u8);
                copied = start + end;
            }

            var after = value[(start + end)..].IndexOf("=?"u8);
            start = after < 0 ? -1 : start + end + after;
        }

        if (output is null)
        {
            return null;
        }

        output.Write(value[copied..]);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>
    /// RFC 2047 §2 <c>"=?" charset "?" encoding "?" encoded-text "?="</c> at the start of <paramref name="word"/>,
    /// without white space; its length, or -1.
    /// </summary>
    private static int ParseWord(ReadOnlySpan<byte> word, out ReadOnlySpan<byte> charset, out ReadOnlySpan<byte> payload, out bool isBase64)
    {
        charset = payload = default;
        isBase64 = false;
        var rest = word[2..];
        var question = rest.IndexOf((byte)'?');
        if (question <= 0 || rest.Length < question + 3 || rest[question + 2] != (byte)'?')
        {
            return -1;
        }

        charset = rest[..question];
        var encoding = rest[question + 1];
        var text = rest[(question + 3)..];
        var close = text.IndexOf("?="u8);
        if (close < 0 || encoding is not ((byte)'B' or (byte)'b' or (byte)'Q' or (byte)'q')
            || charset.IndexOfAny(" \t\r\n"u8) >= 0 || text[..close].IndexOfAny(" \t\r\n?"u8) >= 0)
        {
            return -1;
        }

        payload = text[..close];
        isBase64 = encoding is (byte)'B' or (byte)'b';
        return 2 + question + 3 + close + 2;
    }
}
