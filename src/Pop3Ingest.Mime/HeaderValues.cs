using System.Buffers;
using System.Text;
using MimeKit;
using MimeKit.Utils;

namespace Pop3Ingest.Mime;

/// <summary>
/// Parses the values of header fields with MimeKit: address lists and groups (RFC 5322 §3.4), dates (§3.3 and the
/// obsolete forms of §4.3), message ids (§3.6.4), RFC 2047 encoded words, and Content-Type and Content-Disposition
/// with their RFC 2231 parameters. The reader hands over only values it has already bounded
/// (<see cref="MimeReaderOptions.MaxHeaderBytes"/>): MimeKit's parsers of whole messages grow their header buffer in
/// small steps, which is quadratic on a huge folded header, but its value parsers are linear in the value they get.
/// </summary>
/// <remarks>
/// Values arrive as raw bytes with the folding LFs of <see cref="HeaderBlock"/> still inside. They are unfolded
/// (RFC 5322 §2.2.3: the line breaks go, the whitespace after them stays) into one pooled buffer and parsed from
/// bytes, so MimeKit decodes 8-bit text itself: UTF-8 when valid, else <see cref="ParserOptions.CharsetEncoding"/>.
/// </remarks>
internal static class HeaderValues
{
    /// <summary>The parser options for a reader's fallback charset; the legacy code pages are registered first.</summary>
    public static ParserOptions CreateOptions(Encoding fallback)
    {
        // Without the code-page provider MimeKit cannot find ISO-2022-JP, KOI8-R, GB18030 and the like and
        // silently decodes their bytes as something else.
        Charsets.EnsureRegistered();
        return new ParserOptions
        {
            AddressParserComplianceMode = RfcComplianceMode.Loose,
            ParameterComplianceMode = RfcComplianceMode.Loose,
            Rfc2047ComplianceMode = RfcComplianceMode.Loose,

            // A bare local name ("postmaster") is an address on the machine that delivered the mail.
            AllowAddressesWithoutDomain = true,
            CharsetEncoding = fallback,
        };
    }

    /// <summary>Appends the mailboxes of an address list; the members of groups are listed, group names are not.</summary>
    public static void AddAddresses(ReadOnlySpan<byte> raw, ParserOptions options, List<MailboxAddress> into)
    {
        using var value = Unfolded.From(raw, repairEncodedWords: true);

        // Empty elements at either end (",,, a@b.c ,,") make MimeKit refuse the whole list; RFC 5322 §4.4 allows them
        // (obs-addr-list), so they are cut off first. Those in the middle MimeKit skips itself.
        var first = value.Span.IndexOfAnyExcept(" \t,"u8);
        var last = value.Span.LastIndexOfAnyExcept(" \t,"u8);
        if (first >= 0 && InternetAddressList.TryParse(options, value.Buffer, first, last - first + 1, out var list))
        {
            Flatten(list, into);
        }
    }

    /// <summary>The Date field: the instant in UTC when the text gives it for certain (see <see cref="DateText"/>), and the text itself.</summary>
    public static MessageDate Date(ReadOnlySpan<byte> raw, Encoding fallback)
    {
        using var value = Unfolded.From(raw);
        var text = Charsets.DecodeUnlabelled(value.Span, fallback).Trim();
        return new MessageDate(text.Length > 0 ? DateText.ToUtc(text) : null, text);
    }

    /// <summary>Unstructured text (Subject): unfolded, RFC 2047 decoded, trimmed.</summary>
    public static string Text(ReadOnlySpan<byte> raw, ParserOptions options)
    {
        using var value = Unfolded.From(raw, repairEncodedWords: true);
        return Rfc2047.DecodeText(options, value.Buffer, 0, value.Length).Trim();
    }

    /// <summary>
    /// The Message-ID, as <c>&lt;id@host&gt;</c>; <see langword="null"/> when there is none. MimeKit also takes an id
    /// written without its angle brackets here.
    /// </summary>
    public static string? MessageId(ReadOnlySpan<byte> raw)
    {
        using var value = Unfolded.From(raw);
        var id = value.Length > 0 ? MimeUtils.ParseMessageId(value.Buffer, 0, value.Length) : null;
        return string.IsNullOrEmpty(id) ? null : "<" + id + ">";
    }

    /// <summary>
    /// The message ids of References or In-Reply-To in order, each as <c>&lt;id@host&gt;</c>, at most
    /// <paramref name="max"/>. RFC 5322 §4.5.4: the obsolete forms put phrases between them, which are skipped.
    /// </summary>
    public static List<string> MessageIds(ReadOnlySpan<byte> raw, int max = int.MaxValue)
    {
        using var value = Unfolded.From(raw);
        var ids = new List<string>();
        if (value.Length > 0)
        {
            foreach (var id in MimeUtils.EnumerateReferences(value.Buffer, 0, value.Length))
            {
                if (ids.Count == max)
                {
                    break;
                }

                ids.Add("<" + id + ">");
            }
        }

        return ids;
    }

    /// <summary>
    /// Content-Type (RFC 2045 §5.1): the lower-case <c>type/subtype</c>, the boundary and the name;
    /// <see langword="null"/> when it cannot be parsed or its type or subtype is not a token.
    /// </summary>
    public static ContentField? ContentType(ReadOnlySpan<byte> raw, ParserOptions options)
    {
        using var value = Unfolded.From(raw, repairEncodedWords: true);
        if (value.Length == 0)
        {
            return null;
        }

        if (SimpleContentField.TryParse(value.Span, hasSubtype: true, "boundary"u8, "name"u8, out var simple))
        {
            return simple;
        }

        return ContentTypeByMimeKit(value.Buffer, value.Length, options);
    }

    /// <summary>An unfolded Content-Type value read by MimeKit, whatever its form.</summary>
    internal static ContentField? ContentTypeByMimeKit(byte[] buffer, int length, ParserOptions options)
    {
        var parsed = ParseKeepingGoodParameters<ContentType>(MimeKit.ContentType.TryParse, buffer, length, options);
        if (parsed is null || !IsToken(parsed.MediaType) || !IsToken(parsed.MediaSubtype))
        {
            return null;
        }

        // One lower-case string from the two parts: MimeType would build "type/subtype" on every call.
        var mediaType = string.Create(parsed.MediaType.Length + 1 + parsed.MediaSubtype.Length, parsed, static (span, type) =>
        {
            type.MediaType.AsSpan().ToLowerInvariant(span);
            span[type.MediaType.Length] = '/';
            type.MediaSubtype.AsSpan().ToLowerInvariant(span[(type.MediaType.Length + 1)..]);
        });
        return new ContentField(mediaType, parsed.Boundary, parsed.Name);
    }

    /// <summary>
    /// Content-Disposition (RFC 2183): the lower-case disposition type and the file name;
    /// <see langword="null"/> when it cannot be parsed.
    /// </summary>
    public static ContentField? ContentDisposition(ReadOnlySpan<byte> raw, ParserOptions options)
    {
        using var value = Unfolded.From(raw, repairEncodedWords: true);
        if (value.Length == 0)
        {
            return null;
        }

        if (SimpleContentField.TryParse(value.Span, hasSubtype: false, "filename"u8, default, out var simple))
        {
            return simple;
        }

        return ContentDispositionByMimeKit(value.Buffer, value.Length, options);
    }

    /// <summary>An unfolded Content-Disposition value read by MimeKit, whatever its form.</summary>
    internal static ContentField? ContentDispositionByMimeKit(byte[] buffer, int length, ParserOptions options)
    {
        var parsed = ParseKeepingGoodParameters<ContentDisposition>(MimeKit.ContentDisposition.TryParse, buffer, length, options);
        return parsed is null ? null : new ContentField(parsed.Disposition?.ToLowerInvariant() ?? string.Empty, parsed.FileName, null);
    }

    /// <summary>RFC 2045 §5.1: a type or subtype is a token.</summary>
    private static bool IsToken(string value)
    {
        if (value.Length == 0)
        {
            return false;
        }

        foreach (var c in value)
        {
            if (c <= ' ' || c >= '\x7F' || c is '(' or ')' or '<' or '>' or '@' or ',' or ';' or ':' or '\\' or '"' or '/' or '[' or ']' or '?' or '=')
            {
                return false;
            }
        }

        return true;
    }

    private delegate bool TryParser<T>(ParserOptions options, byte[] buffer, int startIndex, int length, out T? value)
        where T : class;

    /// <summary>
    /// A Content-Type or Content-Disposition value; when MimeKit refuses it whole, the type and the parameters it
    /// accepts one by one. One bad RFC 2231 section name (<c>attachment; filename*0=a; filename*x=b</c>) makes MimeKit
    /// refuse the field, and the part would lose its disposition, its file name, or a multipart its boundary.
    /// </summary>
    private static T? ParseKeepingGoodParameters<T>(TryParser<T> tryParse, byte[] buffer, int length, ParserOptions options)
        where T : class
    {
        if (tryParse(options, buffer, 0, length, out var whole))
        {
            return whole;
        }

        var segments = ParameterSegments(buffer.AsSpan(0, length));
        var type = buffer.AsSpan(0, length)[segments[0]];
        var kept = new List<byte>(length);
        kept.AddRange(type);
        foreach (var segment in segments.Skip(1))
        {
            var candidate = new List<byte>(type.Length + 1 + (segment.End.Value - segment.Start.Value));
            candidate.AddRange(type);
            candidate.Add((byte)';');
            candidate.AddRange(buffer.AsSpan(0, length)[segment]);
            var alone = candidate.ToArray();
            if (tryParse(options, alone, 0, alone.Length, out _))
            {
                kept.Add((byte)';');
                kept.AddRange(buffer.AsSpan(0, length)[segment]);
            }
        }

        var rebuilt = kept.ToArray();
        return tryParse(options, rebuilt, 0, rebuilt.Length, out var parsed) ? parsed : null;
    }

    /// <summary>The value split at the semicolons (RFC 2045 §5.1) outside quoted strings and comments.</summary>
    private static List<Range> ParameterSegments(ReadOnlySpan<byte> value)
    {
        var segments = new List<Range>();
        var start = 0;
        var quoted = false;
        var comment = 0;
        for (var i = 0; i < value.Length; i++)
        {
            var b = value[i];
            if (b == (byte)'\\' && (quoted || comment > 0))
            {
                i++;
            }
            else if (b == (byte)'"' && comment == 0)
            {
                quoted = !quoted;
            }
            else if (!quoted && b == (byte)'(')
            {
                comment++;
            }
            else if (!quoted && b == (byte)')' && comment > 0)
            {
                comment--;
            }
            else if (!quoted && comment == 0 && b == (byte)';')
            {
                segments.Add(start..i);
                start = i + 1;
            }
        }

        segments.Add(start..value.Length);
        return segments;
    }

    /// <summary>Content-Transfer-Encoding (RFC 2045 §6.1), as MimeKit reads it.</summary>
    public static TransferEncoding TransferEncoding(ReadOnlySpan<byte> raw, Encoding fallback)
    {
        using var value = Unfolded.From(raw);
        if (!MimeUtils.TryParse(Charsets.DecodeUnlabelled(value.Span, fallback), out ContentEncoding encoding))
        {
            return Mime.TransferEncoding.Identity;
        }

        return encoding switch
        {
            ContentEncoding.Base64 => Mime.TransferEncoding.Base64,
            ContentEncoding.QuotedPrintable => Mime.TransferEncoding.QuotedPrintable,
            _ => Mime.TransferEncoding.Identity,
        };
    }

    /// <summary>MimeKit's addresses as the reader reports them: mailboxes in order, group members in place of their group.</summary>
    internal static void Flatten(InternetAddressList list, List<MailboxAddress> into)
    {
        foreach (var address in list)
        {
            switch (address)
            {
                case MimeKit.MailboxAddress mailbox when !string.IsNullOrWhiteSpace(mailbox.Address):
                    var name = mailbox.Name?.Trim();
                    into.Add(new MailboxAddress(string.IsNullOrEmpty(name) ? null : name, mailbox.Address));
                    break;
                case GroupAddress group:
                    // RFC 5322 §3.4: a group's display name is not an address; its members are.
                    Flatten(group.Members, into);
                    break;
            }
        }
    }

    /// <summary>A field value with its folding LFs removed, in a pooled buffer (MimeKit parses from byte arrays).</summary>
    private readonly struct Unfolded : IDisposable
    {
        private readonly bool _pooled;

        private Unfolded(byte[] buffer, int length, bool pooled)
        {
            Buffer = buffer;
            Length = length;
            _pooled = pooled;
        }

        public byte[] Buffer { get; }

        public int Length { get; }

        public ReadOnlySpan<byte> Span => Buffer.AsSpan(0, Length);

        /// <summary>The unfolded value; with <paramref name="repairEncodedWords"/>, its encoded words repaired (<see cref="EncodedWordRepair"/>).</summary>
        public static Unfolded From(ReadOnlySpan<byte> raw, bool repairEncodedWords = false)
        {
            var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(raw.Length, 1));
            var length = 0;
            foreach (var b in raw)
            {
                if (b != (byte)'\n')
                {
                    buffer[length++] = b;
                }
            }

            // Trimmed like the text the other fields give (RFC 5322 §2.2: the space after the colon is not the value's).
            var trimmed = buffer.AsSpan(0, length).Trim(" \t\r"u8);
            trimmed.CopyTo(buffer);
            if (repairEncodedWords && EncodedWordRepair.Repair(buffer.AsSpan(0, trimmed.Length)) is { } repaired)
            {
                ArrayPool<byte>.Shared.Return(buffer);
                return new Unfolded(repaired, repaired.Length, pooled: false);
            }

            return new Unfolded(buffer, trimmed.Length, pooled: true);
        }

        public void Dispose()
        {
            if (_pooled)
            {
                ArrayPool<byte>.Shared.Return(Buffer);
            }
        }
    }
}
