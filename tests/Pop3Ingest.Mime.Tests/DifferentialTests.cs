using System.Text;
using MimeKit;
using MimeKit.IO;
using Pop3Ingest.Mime.Tests.Support;
using Xunit.Abstractions;

namespace Pop3Ingest.Mime.Tests;

/// <summary>
/// The streaming reader against MimeKit's <see cref="MimeParser"/> over a seekable copy of the same message: every
/// field the sidecar carries must agree, or <see cref="s_onPurpose"/> names the field and why ours differs. MimeKit is
/// given the parser options the reader uses, and its tree is judged by the reader's attachment rule (documented on
/// <see cref="MessageMetadataReader"/>), so what is compared is framing and values, not policy. Generated headers stay
/// under the reader's cap, so the comparison is about answers, not limits.
/// </summary>
public sealed class DifferentialTests(ITestOutputHelper output)
{
    /// <summary>(message, field) pairs where the answers differ by design, with the reason.</summary>
    private static readonly Dictionary<(string Message, string Field), string> s_onPurpose = new()
    {
        // The reader's limits are the subject of these fixtures; MimeKit has none of them.
        [("limits-boundary.eml", "attachments")] = "a boundary longer than the reader's MaxBoundaryLength leaves the multipart unexamined",
        [("limits-depth.eml", "attachments")] = "nesting deeper than the reader's MaxDepth is not examined",
        [("limits-parts.eml", "attachments")] = "parts past the reader's MaxParts are not examined",
        [("body-only.eml", "message")] = "MimeKit refuses a message that starts with an indented line (no header); the reader reads it as a body without a header",
        [("limits-header.eml", "attachments")] = "a header block past MaxHeaderBytes loses its Content-Disposition with the rest of it",

        // Values MimeKit's parsers answer wrongly; the reader corrects them (HeaderValueTests has the cases).
        [("broken-encodings", "date")] = "fractional seconds: MimeKit alone loses the time of day (23:00Z the day before); the reader drops the fraction",
        [("broken-encodings", "from")] = "a B word without its padding: MimeKit alone drops the last character; the reader pads it",
        [("broken-encodings", "to")] = "a us-ascii word holding 8-bit bytes: MimeKit alone gives '?'; the reader decodes them with the fallback",
    };

    private static readonly string[] s_charsets =
    [
        "utf-8", "iso-8859-1", "iso-8859-2", "iso-8859-5", "iso-8859-7", "iso-8859-15", "windows-1250", "windows-1251",
        "windows-1252", "koi8-r", "gb2312", "gbk", "gb18030", "big5", "shift_jis", "euc-jp", "euc-kr", "iso-2022-jp",
    ];

    private static readonly string[] s_samples =
    [
        "Grüße", "Zażółć gęślą", "Привет", "Καλημέρα", "€uro", "Dobrý den", "Москва", "Café", "Здравствуйте",
        "你好世界", "喆镕", "中文𠀀", "繁體中文", "日本語テキスト", "日本語", "안녕하세요", "こんにちは",
    ];

    public static TheoryData<string> Names
    {
        get
        {
            var data = new TheoryData<string>();
            foreach (var name in Corpus().Keys)
            {
                data.Add(name);
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void The_reader_agrees_with_MimeKit(string name)
    {
        var bytes = Corpus()[name];
        var ours = Fields(MessageMetadataReader.Read(bytes, Fixture.OptionsFor(name)));
        Dictionary<string, string> theirs;
        try
        {
            theirs = MimeKitFields(bytes);
        }
        catch (FormatException) when (s_onPurpose.ContainsKey((name, "message")))
        {
            // Then the reader must have found nothing to route by.
            Assert.All(ours, field => Assert.True(field.Value is "(none)" or "", $"{field.Key}: {field.Value}"));
            return;
        }

        Assert.False(s_onPurpose.ContainsKey((name, "message")), $"MimeKit now parses {name}");

        var differences = new List<string>();
        foreach (var (field, value) in ours)
        {
            var same = value == theirs[field];
            var purpose = s_onPurpose.TryGetValue((name, field), out var reason);
            if (!same && !purpose)
            {
                differences.Add($"{field}:\n  reader:  {value}\n  MimeKit: {theirs[field]}");
            }
            else if (same && purpose)
            {
                differences.Add($"{field} agrees, but is listed as differing on purpose ({reason})");
            }
            else if (!same)
            {
                output.WriteLine($"{field} differs on purpose: {reason}");
            }
        }

        Assert.True(differences.Count == 0, $"{name}:\n" + string.Join("\n", differences));
    }

    /// <summary>The sidecar's header and attachment fields, as comparable text.</summary>
    private static Dictionary<string, string> Fields(MessageMetadata m) => new()
    {
        ["message-id"] = m.MessageId ?? "(none)",
        ["date"] = m.Date is null ? "(none)" : $"{m.Date.Utc?.ToString("O") ?? "(unparsed)"} raw '{m.Date.Raw}'",
        ["from"] = Join(m.From),
        ["to"] = Join(m.To),
        ["cc"] = Join(m.Cc),
        ["reply-to"] = Join(m.ReplyTo),
        ["subject"] = m.Subject ?? "(none)",
        ["in-reply-to"] = m.InReplyTo ?? "(none)",
        ["references"] = string.Join(" ", m.References),
        ["attachments"] = string.Join(" | ", m.Attachments.Select(a => $"{a.FileName ?? "(unnamed)"} {a.ContentType} {a.Size}")),
    };

    private static string Join(IEnumerable<MailboxAddress> addresses) =>
        string.Join(", ", addresses.Select(a => $"{a.Name ?? "(no name)"} <{a.Address}>"));

    /// <summary>The same fields from MimeKit's parse of the whole message.</summary>
    private static Dictionary<string, string> MimeKitFields(byte[] bytes)
    {
        var options = HeaderValues.CreateOptions(Charsets.Windows1252);
        using var stream = new MemoryStream(bytes, writable: false);
        var parser = new MimeParser(options, stream, persistent: false);

        // An embedded message's size is its raw extent in the stream, as the reader measures it.
        var sizes = new Dictionary<MimeMessage, long>(ReferenceEqualityComparer.Instance);
        parser.MimeMessageEnd += (_, e) => sizes[e.Message] = e.EndOffset - e.BeginOffset;
        var message = parser.ParseMessage();

        var metadata = new MessageMetadata
        {
            MessageId = message.MessageId is null ? null : "<" + message.MessageId + ">",
            Date = DateOf(message),
            From = Flatten(message.From),
            To = Flatten(message.To),
            Cc = Flatten(message.Cc),
            ReplyTo = Flatten(message.ReplyTo),
            Subject = message.Headers.Contains(HeaderId.Subject) ? message.Subject?.Trim() : null,
            InReplyTo = message.InReplyTo is null ? null : "<" + message.InReplyTo + ">",
            References = message.References.Select(id => "<" + id + ">").ToArray(),
            Attachments = Attachments(message, sizes),
        };
        return Fields(metadata);
    }

    private static MessageDate? DateOf(MimeMessage message)
    {
        var header = message.Headers.FirstOrDefault(h => h.Id == HeaderId.Date);
        if (header is null)
        {
            return null;
        }

        var raw = Charsets.DecodeUnlabelled(header.RawValue, Charsets.Windows1252).Replace("\r", string.Empty, StringComparison.Ordinal)
            .Replace("\n", string.Empty, StringComparison.Ordinal).Trim();
        return new MessageDate(message.Date == DateTimeOffset.MinValue ? null : message.Date.ToUniversalTime(), raw);
    }

    /// <summary>The conversion from MimeKit's address types is the reader's own: the parse it converts is what is compared.</summary>
    private static List<MailboxAddress> Flatten(InternetAddressList list)
    {
        var result = new List<MailboxAddress>();
        HeaderValues.Flatten(list, result);
        return result;
    }

    /// <summary>The reader's attachment rule applied to MimeKit's tree, in document order.</summary>
    private static List<AttachmentInfo> Attachments(MimeMessage message, Dictionary<MimeMessage, long> sizes)
    {
        var result = new List<AttachmentInfo>();
        var firstLeafSeen = false;
        Walk(message.Body, ref firstLeafSeen, result, sizes);
        return result;
    }

    private static void Walk(MimeEntity? entity, ref bool firstLeafSeen, List<AttachmentInfo> into, Dictionary<MimeMessage, long> sizes)
    {
        switch (entity)
        {
            case null:
                return;
            case Multipart multipart:
                foreach (var child in multipart)
                {
                    Walk(child, ref firstLeafSeen, into, sizes);
                }

                return;
            case MessagePart { Message: not null } part:
                if (IsExplicit(part))
                {
                    into.Add(new AttachmentInfo(FileName(part), "message/rfc822", sizes[part.Message]));
                }

                var innerFirstLeafSeen = false;
                Walk(part.Message.Body, ref innerFirstLeafSeen, into, sizes);
                return;
        }

        var isFirst = !firstLeafSeen;
        firstLeafSeen = true;
        var type = entity.ContentType.MimeType.ToLowerInvariant();
        var attachment = IsExplicit(entity)
            || (entity.ContentDisposition?.Disposition.ToLowerInvariant() != "inline" && !isFirst && !type.StartsWith("text/", StringComparison.Ordinal));
        if (attachment)
        {
            into.Add(new AttachmentInfo(FileName(entity), type, Size(entity)));
        }
    }

    private static bool IsExplicit(MimeEntity entity) =>
        string.Equals(entity.ContentDisposition?.Disposition, "attachment", StringComparison.OrdinalIgnoreCase) || FileName(entity) is not null;

    private static string? FileName(MimeEntity entity)
    {
        var name = entity.ContentDisposition?.FileName?.Trim();
        if (string.IsNullOrEmpty(name))
        {
            name = entity.ContentType.Name?.Trim();
        }

        return string.IsNullOrEmpty(name) ? null : name;
    }

    private static long Size(MimeEntity entity)
    {
        if (entity is not MimePart { Content: not null } part)
        {
            return 0;
        }

        if (part.ContentTransferEncoding is ContentEncoding.Base64 or ContentEncoding.QuotedPrintable)
        {
            using var counter = new MeasuringStream();
            part.Content.DecodeTo(counter);
            return counter.Length;
        }

        return part.Content.Stream?.Length ?? 0;
    }

    /// <summary>The fixtures and generated messages, by name.</summary>
    private static Dictionary<string, byte[]> Corpus()
    {
        var corpus = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var name in Fixture.Names)
        {
            corpus[name] = Fixture.Bytes(name);
        }

        Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);
        for (var i = 0; i < s_charsets.Length; i++)
        {
            var encoding = Encoding.GetEncoding(s_charsets[i]);
            var text = s_samples[Math.Min(i, s_samples.Length - 1)];
            if (encoding.GetString(encoding.GetBytes(text)) != text)
            {
                text = "plain ascii";
            }

            var bytes = encoding.GetBytes(text);
            var b = $"=?{s_charsets[i]}?B?{Convert.ToBase64String(bytes)}?=";
            var q = $"=?{s_charsets[i]}?Q?{string.Concat(bytes.Select(x => x is >= 0x21 and < 0x7F and not (byte)'=' and not (byte)'?' and not (byte)'_' ? ((char)x).ToString() : $"={x:X2}"))}?=";
            corpus[$"charset-{s_charsets[i]}"] = Ascii(
                $"From: {b} <from@example.com>\r\nTo: {q} <to@example.com>, \"{b}\" <quoted@example.com>\r\nSubject: {q} {b}\r\n"
                + $"Content-Type: application/octet-stream; name=\"{b}.bin\"\r\n\r\nbody\r\n");
        }

        corpus["broken-encodings"] = Ascii(
            "From: =?bogus-charset?Q?Bj=C3=B6rn?= <a@example.com>, =?utf-8?B?w6k?= <b@example.com>\r\n"
            + "To: =?utf-8?X?abc?= <x@example.com>, =?utf-8?Q?has space?= <y@example.com>, =?us-ascii?Q?caf=E9?= <z@example.com>\r\n"
            + "Subject: =?utf-8?Q?unterminated and =?utf-8?B?w6k=?= =??Q?empty?= =?utf-8?B?####?= =?utf-8?Q?a=?= end\r\n"
            + "Date: Fri, 21 Nov 1997 09:55:06.123 +0100\r\n"
            + "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
            + "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nbody\r\n"
            + "--b\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\niVBO!!!Rw0K\r\nGgo=AAAA\r\n"
            + "--b\r\nContent-Type: text/plain; name=qp.txt\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nbad =ZZ escape =\r\nsoft= 3D\r\n"
            + "--b--\r\n");
        corpus["eight-bit-latin1"] = Encoding.Latin1.GetBytes(
            "From: Jürgen Müller <j@example.de>\r\nTo: \"Zoë\" <z@example.se>\r\nSubject: Grüße café\r\n"
            + "Content-Type: application/pdf; name=\"Übersicht.pdf\"\r\n\r\n%PDF\r\n");
        corpus["rfc2231"] = Ascii(
            "Subject: continuations\r\nContent-Type: multipart/mixed; boundary=\"c\"\r\n\r\n"
            + "--c\r\nContent-Type: text/plain\r\n\r\nbody\r\n"
            + "--c\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment;\r\n filename*0*=utf-8''%E6%97%A5%E6%9C%AC;\r\n filename*1*=%E8%AA%9E;\r\n filename*2=\" report.txt\"\r\n\r\nabcd\r\n"
            + "--c\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename*2=\"c.txt\"; filename*0=\"a\"; filename*1=\"b\"\r\n\r\nabcd\r\n"
            + "--c\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename*0*=iso-8859-1'fr'%E9l%E8ve; filename*1=\".pdf\"\r\n\r\nabcd\r\n"
            + "--c\r\nContent-Type: application/octet-stream; name*=utf-8''%F0%9F%93%8E.bin\r\n\r\nabcd\r\n"
            + "--c\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"old.txt\"; filename*=utf-8''new.txt\r\n\r\nabcd\r\n"
            + "--c--\r\n");
        corpus["unnamed-attachments"] = Ascii(
            "Subject: unnamed\r\nContent-Type: multipart/mixed; boundary=u\r\n\r\n"
            + "--u\r\nContent-Type: text/plain\r\n\r\nbody\r\n"
            + "--u\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4\r\n"
            + "--u\r\nContent-Type: text/csv\r\nContent-Disposition: attachment\r\n\r\na,b\r\n"
            + "--u\r\nContent-Type: image/png\r\nContent-Disposition: inline\r\n\r\nPNG\r\n"
            + "--u\r\nContent-Type: message/rfc822\r\nContent-Disposition: attachment\r\n\r\nSubject: inner\r\n\r\ninner body\r\n"
            + "--u--\r\n");
        corpus["odd-folding"] = Ascii(
            "From: \"Doe,\r\n John\" <jdoe@example.com>\r\n"
            + "To: a@example.com,\r\n\tb@example.com ,\r\n    Team:\r\n c@example.com,\r\n d@example.com;\r\n"
            + "Cc:\r\n =?utf-8?Q?J=C3=B6rg?=\r\n <j@example.de>\r\n"
            + "Subject: =?utf-8?B?w6k=?=\r\n =?utf-8?B?w6k=?=\r\n\tafter a tab\r\n"
            + "Date: Fri, 21 Nov\r\n 1997 09:55:06\r\n -0600\r\n"
            + "Message-ID:\r\n <folded@example.com>\r\n"
            + "References: <a@example.com>\r\n\t<b@example.com>\r\n <c@example.com>\r\n"
            + "In-Reply-To: Your message of\r\n Monday <b@example.com>\r\n"
            + "Reply-To : spaced@example.com\r\n"
            + "Content-Type: multipart/mixed;\r\n\tboundary=\r\n \"f\"\r\n\r\n"
            + "--f\r\nContent-Type: text/plain\r\n\r\nbody\r\n"
            + "--f\r\nContent-Type: application/zip;\r\n name=\"folded\r\n name.zip\"\r\n\r\nPK\r\n"
            + "--f--\r\n");
        for (var seed = 0; seed < 40; seed++)
        {
            var mode = (GeneratedMessage.EolMode)(seed % 3);
            corpus[$"generated-{seed}-{mode}".ToLowerInvariant()] = GeneratedMessage.Create(seed, mode).Bytes;
        }

        return corpus;
    }

    private static byte[] Ascii(string text) => Encoding.UTF8.GetBytes(text);
}
