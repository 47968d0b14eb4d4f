using System.Text;
using Pop3Ingest.Mime.Tests.Support;
using static Pop3Ingest.Mime.Tests.Support.Mailbox;

namespace Pop3Ingest.Mime.Tests;

/// <summary>What each fixture must yield, spelled out.</summary>
public sealed class FixtureTests
{
    private static DateTimeOffset Utc(int year, int month, int day, int hour, int minute, int second) =>
        new(year, month, day, hour, minute, second, TimeSpan.Zero);

    private static void AssertClean(MessageMetadata m)
    {
        Assert.False(m.LimitsExceeded);
        Assert.Empty(m.Problems);
    }

    [Fact]
    public void Simple_message_yields_every_routing_header()
    {
        var m = Fixture.Read("simple.eml");

        Assert.Equal([Of("John Doe", "jdoe@machine.example")], m.From);
        Assert.Equal([Of("Mary Smith", "mary@example.net")], m.To);
        Assert.Equal([Of("boss@example.net")], m.Cc);
        Assert.Equal([Of("Support Desk", "support@example.org")], m.ReplyTo);
        Assert.Equal("Saying Hello", m.Subject);
        Assert.Equal(new MessageDate(Utc(1997, 11, 21, 15, 55, 6), "Fri, 21 Nov 1997 09:55:06 -0600"), m.Date);
        Assert.Equal("<1234@local.machine.example>", m.MessageId);
        Assert.Equal("<3456@example.net>", m.InReplyTo);
        Assert.Equal(["<1111@example.net>", "<3456@example.net>"], m.References);
        Assert.Empty(m.Attachments);
        Assert.Equal(1, m.PartCount);
        Assert.Equal(0, m.NestingDepth);
        AssertClean(m);
    }

    [Fact]
    public void Folded_headers_are_unfolded()
    {
        var m = Fixture.Read("folding.eml");

        Assert.Equal([Of("John Doe", "jdoe@machine.example")], m.From);
        Assert.Equal(
            [Of("Mary Smith", "mary@example.net"), Of("Joe Q. Public", "joe@example.com"), Of("Doe, Jane", "jane@example.com")],
            m.To);
        Assert.Equal("This is a test  of a folded\tsubject line", m.Subject);
        Assert.Equal(new MessageDate(Utc(1969, 2, 14, 3, 2, 0), "Thu,      13 Feb 1969      23:32      -0330"), m.Date);
        Assert.Equal("<folded@example.com>", m.MessageId);
        Assert.Equal(["<a@example.com>", "<b@example.com>", "<c@example.com>"], m.References);
        AssertClean(m);
    }

    [Fact]
    public void Duplicates_take_the_first_single_value_and_concatenate_address_lists()
    {
        var m = Fixture.Read("duplicates.eml");

        Assert.Equal("First subject", m.Subject);
        Assert.Equal("<first@example.com>", m.MessageId);
        Assert.Equal([Of("one@example.com"), Of("Two", "two@example.com"), Of("three@example.com")], m.To);
        Assert.Equal([Of("c1@example.com"), Of("c2@example.com")], m.Cc);
        Assert.Equal([Of("sender@example.com")], m.From);
        Assert.Equal(Utc(2006, 1, 2, 22, 4, 5), m.Date?.Utc);
        AssertClean(m);
    }

    [Fact]
    public void Obsolete_syntax_is_understood()
    {
        var m = Fixture.Read("obsolete.eml");

        // "From :" (space before the colon), an obs-phrase with a comment, and a source route. MimeKit keeps the
        // comment inside the display name.
        Assert.Equal([Of("John (the man) . Doe", "john.doe@example.com")], m.From);

        // CFWS around dots and '@', and empty list elements.
        Assert.Equal([Of("john.doe@example.com"), Of("Mary", "mary@example.net")], m.To);

        // RFC 5322 Appendix A.5.
        Assert.Equal([Of("Pete", "pete@silly.test")], m.Cc);
        Assert.Equal("obsolete header name spacing", m.Subject);
        Assert.Equal(Utc(1997, 11, 21, 14, 55, 6), m.Date?.Utc);
        // MimeKit drops the whitespace around an obsolete comment inside the id but keeps the comment.
        Assert.Equal("<obs.id(comment)@example.com>", m.MessageId);
        AssertClean(m);
    }

    [Fact]
    public void Eight_bit_headers_in_utf8_are_decoded()
    {
        var m = Fixture.Read("eightbit-utf8.eml");

        Assert.Equal([Of("Jürgen Müller", "juergen@example.de")], m.From);
        Assert.Equal([Of("Zoë Ångström", "zoe@example.se")], m.To);
        Assert.Equal("Grüße aus Köln – 日本語", m.Subject);
        Assert.Equal(Utc(2022, 1, 1, 9, 0, 0), m.Date?.Utc);
        AssertClean(m);
    }

    [Fact]
    public void Eight_bit_headers_that_are_not_utf8_use_the_fallback()
    {
        var m = Fixture.Read("eightbit-latin1.eml");

        Assert.Equal([Of("Jürgen Müller", "juergen@example.de")], m.From);
        Assert.Equal("Grüße – “quoted” café", m.Subject);
        Assert.Empty(m.To); // a group without members
        AssertClean(m);
    }

    [Fact]
    public void Configured_fallback_is_used_for_eight_bit_headers()
    {
        var bytes = Encoding.Latin1.GetBytes("Subject: caf\u00e9\r\n\r\n");
        Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);
        var options = new MimeReaderOptions { FallbackEncoding = Encoding.GetEncoding("iso-8859-5") };

        Assert.Equal("caf\u0449", MessageMetadataReader.Read(bytes, options).Subject);
        Assert.Equal("caf\u00e9", MessageMetadataReader.Read(bytes).Subject);
    }

    [Fact]
    public void Headers_without_a_body()
    {
        var m = Fixture.Read("no-body.eml");

        Assert.Equal([Of("a@example.com")], m.From);
        Assert.Equal([Of("b@example.com")], m.To);
        Assert.Equal("no body here", m.Subject);

        // A single named part: an attachment (rule 2), empty.
        Assert.Equal([Attachment("x.pdf", "application/pdf", 0)], m.Attachments);
        AssertClean(m);
    }

    [Theory]
    [InlineData("no-headers.eml")]
    [InlineData("body-only.eml")]
    public void A_body_without_headers_yields_nothing(string name)
    {
        var m = Fixture.Read(name);

        Assert.Null(m.Subject);
        Assert.Empty(m.From);
        Assert.Null(m.MessageId);
        Assert.Null(m.Date);
        Assert.Empty(m.Attachments);
        Assert.Equal(1, m.PartCount);
        AssertClean(m);
    }

    [Fact]
    public void Bare_lf_line_endings_work()
    {
        var m = Fixture.Read("bare-lf.eml");

        Assert.Equal([Of("lf@example.com")], m.From);
        Assert.Equal("bare LF", m.Subject);
        Assert.Equal([Attachment("doc.pdf", "application/pdf", 777), Attachment("data.csv", "text/csv", 7)], m.Attachments);
        Assert.Equal(4, m.PartCount);
        Assert.Equal(1, m.NestingDepth);
        AssertClean(m);
    }

    [Fact]
    public void Mixed_line_endings_work()
    {
        var m = Fixture.Read("mixed-eol.eml");

        Assert.Equal("mixed", m.Subject);
        Assert.Equal([Attachment("raw.bin", "application/octet-stream", 11)], m.Attachments);
        AssertClean(m);
    }

    [Fact]
    public void Legacy_charsets_in_encoded_words_are_decoded()
    {
        var m = Fixture.Read("charsets.eml");

        string[] expected =
        [
            "José Núñez",        // iso-8859-1, B
            "Zażółć Gęślą",      // iso-8859-2, Q
            "Привет",            // iso-8859-5
            "Καλημέρα",          // iso-8859-7, Q
            "€uro Öffice",       // iso-8859-15, Q
            "Dobrý den",         // windows-1250
            "Москва",            // windows-1251
            "Café “quoted”",     // windows-1252, Q
            "Здравствуйте",      // koi8-r
            "你好世界",           // gb2312
            "喆镕",               // gbk
            "中文𠀀",             // gb18030 (four-byte sequence)
            "繁體中文",           // big5
            "日本語テキスト",      // shift_jis
            "안녕하세요",          // euc-kr
            "こんにちは",          // iso-2022-jp
        ];
        Assert.Equal(expected.Select((name, i) => Of(name, $"p{i}@example.com")), m.To);
        Assert.Equal("日本語の件名です", m.Subject); // two adjacent ISO-2022-JP words
        AssertClean(m);
    }

    [Fact]
    public void Adjacent_encoded_words_are_joined()
    {
        var m = Fixture.Read("adjacent-words.eml");

        Assert.Equal([Of("André Pirard", "pirard@example.be")], m.From);
        Assert.Equal([Of("ab", "ab@example.com"), Of("a b", "a_b@example.com")], m.To);
        Assert.Equal([Of("ab", "folded@example.com"), Of("ab", "mixed@example.com")], m.Cc);
        Assert.Equal([Of("a b", "space@example.com")], m.ReplyTo);

        // The euro sign is split across two words; joining their bytes first keeps it whole.
        Assert.Equal("Price: €5 and more text  here", m.Subject);
        AssertClean(m);
    }

    [Fact]
    public void Malformed_encoded_words_are_left_as_they_are()
    {
        var m = Fixture.Read("malformed-words.eml");

        Assert.Equal([Of("Björn", "bjorn@example.com")], m.From); // unknown charset, bytes are UTF-8
        // MimeKit decodes a Q word with a space inside; an unknown encoding letter stays as it is.
        Assert.Equal([Of("=?utf-8?X?abc?=", "x@example.com"), Of("has space", "y@example.com")], m.To);
        Assert.Equal([Of("Hello World", "lang@example.com")], m.Cc); // RFC 2231 language tag
        // MimeKit's loose mode lets a Q word run over spaces to the next "?=", so the unterminated word swallows the
        // B word after it; a B word of nothing but junk decodes to nothing. (The hand-written decoder gave
        // "=?utf-8?Q?unterminated and é =??Q?empty?= =?utf-8?B?####?= end".)
        Assert.Equal("unterminated and =?utf-8?B?w6k =??Q?empty?=  end", m.Subject);
        AssertClean(m);
    }

    [Fact]
    public void Groups_are_flattened()
    {
        var m = Fixture.Read("groups.eml");

        Assert.Equal([Of("Team Lead", "lead@example.com")], m.From);
        Assert.Equal([Of("alice@example.com"), Of("Bob", "bob@example.com"), Of("carol@example.com")], m.To);
        Assert.Empty(m.Cc);
        Assert.Equal([Of("dave@example.com")], m.ReplyTo);
        AssertClean(m);
    }

    [Fact]
    public void Comments_and_quoted_strings()
    {
        var m = Fixture.Read("comments-quoted.eml");

        Assert.Equal([Of("John Doe", "jdoe@example.com")], m.From);
        Assert.Equal(
            [Of("Doe, Jane", "jane@example.com"), Of("\"john smith\"@example.com"), Of("c@example.com")], // MimeKit: a comment before "<addr>" is no name
            m.To);
        Assert.Equal(
            [Of("Quoted \"Name\"", "q@example.com"), Of("Encoded in quotes", "e@example.com"), Of("\"odd..local\"@example.com")],
            m.Cc);
        Assert.Equal([Of("Joe (nickname) Bloggs", "joe@[192.0.2.1]")], m.ReplyTo); // MimeKit keeps a comment inside the name
        Assert.Equal("<with(comment)id@example.com>", m.MessageId); // MimeKit keeps a comment inside the id (was <withid@example.com>)
        Assert.Equal("<orig@example.com>", m.InReplyTo);
        AssertClean(m);
    }

    [Theory]
    [InlineData("date-obsolete-zone.eml", "Fri, 21 Nov 1997 09:55:06 EST", "1997-11-21T14:55:06Z")]
    [InlineData("date-no-dow.eml", "1 Jan 2000 00:00:00 +0000", "2000-01-01T00:00:00Z")]
    [InlineData("date-two-digit-year.eml", "Sun, 5 Jun 49 12:00 GMT", "2049-06-05T12:00:00Z")]
    [InlineData("date-comment.eml", "Thu, 13 Feb 1969 23:32:54 -0330 (Newfoundland Time)", "1969-02-14T03:02:54Z")]
    [InlineData("date-ut.eml", "Wed, 31 Dec 1997 23:59:60 UT", "1997-12-31T23:59:59Z")]
    [InlineData("date-invalid.eml", "sometime last week", null)]
    public void Dates_are_parsed_to_utc_and_keep_their_raw_text(string name, string raw, string? utc)
    {
        var m = Fixture.Read(name);

        Assert.NotNull(m.Date);
        Assert.Equal(raw, m.Date.Raw);
        Assert.Equal(utc is null ? null : DateTimeOffset.Parse(utc, System.Globalization.CultureInfo.InvariantCulture), m.Date.Utc);
        Assert.Equal(TimeSpan.Zero, m.Date.Utc?.Offset ?? TimeSpan.Zero);
        AssertClean(m);
    }

    [Fact]
    public void Nested_multiparts_follow_the_attachment_rule()
    {
        var m = Fixture.Read("nested-multipart.eml");

        Assert.Equal(
            [
                // The plain text (first leaf) is the body, the HTML is text, the PNG is inline: none are attachments.
                Attachment(null, "image/gif", 333),              // rule 3: not text, not first, not inline
                Attachment("report.pdf", "application/pdf", 2048), // rule 2: named
                Attachment(null, "text/plain", 5),               // rule 1: disposition attachment
            ],
            m.Attachments);
        Assert.Equal(10, m.PartCount);
        Assert.Equal(3, m.NestingDepth);
        AssertClean(m);
    }

    [Fact]
    public void Embedded_messages_are_descended_into()
    {
        var m = Fixture.Read("message-rfc822.eml");
        var text = Encoding.ASCII.GetString(Fixture.Bytes("message-rfc822.eml"));
        var start = text.IndexOf("From: Inner Sender", StringComparison.Ordinal);
        var end = text.IndexOf("\r\n--outer-b", start, StringComparison.Ordinal);

        Assert.Equal("Fwd: the forwarded one", m.Subject); // the outer message's, not the inner one's
        Assert.Equal(
            [
                Attachment("forwarded.eml", "message/rfc822", end - start),
                Attachment("archive.zip", "application/zip", 1500),
            ],
            m.Attachments);
        Assert.Equal(2362, end - start);
        Assert.Equal(8, m.PartCount);
        Assert.Equal(3, m.NestingDepth);
        AssertClean(m);
    }

    [Fact]
    public void Rfc2231_and_rfc2047_file_names_are_decoded()
    {
        var m = Fixture.Read("rfc2231.eml");

        Assert.Equal(
            [
                Attachment("日本語 report.txt", "application/octet-stream", 4),
                Attachment("Grüße.txt", "application/octet-stream", 4),
                Attachment("élève.pdf", "application/octet-stream", 4),
                Attachment("preferred.bin", "application/octet-stream", 4),
                Attachment("📎.bin", "application/octet-stream", 4),
                Attachment("part-two.jpg", "image/jpeg", 4),
            ],
            m.Attachments);
        AssertClean(m);
    }

    [Fact]
    public void Sizes_are_decoded_sizes()
    {
        var m = Fixture.Read("sizes.eml");

        Assert.Equal(
            [
                Attachment("b1000.bin", "application/octet-stream", 1000),
                Attachment("b1001.bin", "application/octet-stream", 1001),
                Attachment("b1002.bin", "application/octet-stream", 1002),
                Attachment("empty.bin", "application/octet-stream", 0),
                Attachment("junk.bin", "application/octet-stream", 300),
                Attachment("qp.txt", "text/plain", 238),
                Attachment("seven.txt", "text/plain", 16),
                Attachment("binary.bin", "application/octet-stream", 612),
            ],
            m.Attachments);
        AssertClean(m);
    }

    [Fact]
    public void Preamble_and_epilogue_are_skipped_and_near_boundaries_are_content()
    {
        var m = Fixture.Read("preamble-epilogue.eml");

        Assert.Equal([Attachment("a.bin", "application/octet-stream", 48)], m.Attachments);
        Assert.Equal(2, m.PartCount);
        AssertClean(m);
    }

    [Fact]
    public void Depth_limit_is_reported_and_reading_goes_on()
    {
        var m = Fixture.Read("limits-depth.eml");

        Assert.True(m.LimitsExceeded);
        Assert.Equal(["Part 4 is nested deeper than MaxDepth (3); its content was not examined."], m.Problems);
        Assert.Empty(m.Attachments);
        Assert.Equal(3, m.NestingDepth);
        Assert.Equal("deep", m.Subject);
    }

    [Fact]
    public void Deep_nesting_is_read_with_the_default_depth()
    {
        var m = MessageMetadataReader.Read(Fixture.Bytes("limits-depth.eml"));

        Assert.Equal([Attachment("deep.bin", "application/octet-stream", 1)], m.Attachments);
        Assert.Equal(6, m.NestingDepth);
        AssertClean(m);
    }

    [Fact]
    public void Part_limit_is_reported_and_the_rest_is_skipped()
    {
        var m = Fixture.Read("limits-parts.eml");

        Assert.True(m.LimitsExceeded);
        Assert.Equal(["The message has more than MaxParts (5) parts; the rest was not examined."], m.Problems);
        Assert.Equal(
            Enumerable.Range(0, 4).Select(i => Attachment($"f{i}.bin", "application/octet-stream", 1)),
            m.Attachments);
        Assert.Equal(5, m.PartCount);
    }

    [Fact]
    public void Header_limit_drops_the_rest_of_that_block_only()
    {
        var m = Fixture.Read("limits-header.eml");

        Assert.True(m.LimitsExceeded);
        Assert.Equal(["Header block of part 2 exceeds MaxHeaderBytes (200); the rest of it was skipped."], m.Problems);
        Assert.Equal([Of("late@example.com")], m.To);

        // Part 2 lost its Content-Disposition with the rest of its header: it is the text body now.
        Assert.Equal([Attachment("kept.pdf", "application/pdf", 4)], m.Attachments);
    }

    [Fact]
    public void Top_level_header_limit_keeps_the_fields_before_it()
    {
        var options = new MimeReaderOptions { MaxHeaderBytes = 60 };
        var m = MessageMetadataReader.Read(Fixture.Bytes("simple.eml"), options);

        Assert.True(m.LimitsExceeded);
        Assert.Equal(["Header block of part 1 exceeds MaxHeaderBytes (60); the rest of it was skipped."], m.Problems);
        Assert.Empty(m.From); // beyond the limit
        Assert.Null(m.Subject);
    }

    [Fact]
    public void Boundary_length_limit_is_reported()
    {
        var m = Fixture.Read("limits-boundary.eml");

        Assert.True(m.LimitsExceeded);
        Assert.Equal(["Part 1 has a boundary longer than MaxBoundaryLength (70); its content was not examined."], m.Problems);
        Assert.Empty(m.Attachments);
    }

    [Fact]
    public void Unterminated_multipart_is_a_problem_but_its_parts_count()
    {
        var m = Fixture.Read("unterminated.eml");

        Assert.False(m.LimitsExceeded);
        Assert.Equal(["The multipart of part 1 was not closed by its final boundary."], m.Problems);
        Assert.Equal([Attachment("partial.bin", "application/octet-stream", 10)], m.Attachments);
    }

    [Fact]
    public void Digest_parts_default_to_embedded_messages()
    {
        var m = Fixture.Read("digest.eml");

        Assert.Equal([Attachment("second.eml", "message/rfc822", 49)], m.Attachments);
        Assert.Equal(5, m.PartCount);
        Assert.Equal(2, m.NestingDepth);
        AssertClean(m);
    }

    [Fact]
    public void Mbox_from_line_is_skipped()
    {
        var m = Fixture.Read("mbox-from.eml");

        Assert.Equal([Of("Sender", "sender@example.com")], m.From);
        Assert.Equal("mbox", m.Subject);
        AssertClean(m);
    }

    [Fact]
    public void Boundary_inside_a_header_block_ends_the_part()
    {
        var m = Fixture.Read("boundary-in-headers.eml");

        Assert.Equal([Attachment("no-body.pdf", "application/pdf", 0), Attachment("last.png", "image/png", 8)], m.Attachments);
        Assert.Equal(4, m.PartCount);
        AssertClean(m);
    }

    [Fact]
    public void Boundary_right_after_the_header_block_opens_the_multipart()
    {
        var m = Fixture.Read("no-blank-line.eml");

        Assert.Equal("no blank line", m.Subject);
        Assert.Equal([Attachment("z.zip", "application/zip", 4)], m.Attachments);
        Assert.Equal(3, m.PartCount);
        AssertClean(m);
    }

    [Fact]
    public void A_single_unnamed_part_is_the_body_not_an_attachment()
    {
        Assert.Empty(Fixture.Read("single-part-pdf.eml").Attachments);
        Assert.Equal([Attachment("whole.pdf", "application/pdf", 2048)], Fixture.Read("single-part-named.eml").Attachments);
    }

    [Fact]
    public void Complete_is_idempotent_and_write_after_it_is_a_caller_bug()
    {
        var reader = new MessageMetadataReader();
        reader.Write("Subject: x\r\n\r\n"u8);
        var first = reader.Complete();

        Assert.Same(first, reader.Complete());
        Assert.Throws<InvalidOperationException>(() => reader.Write("more"u8));
    }

    [Fact]
    public void Empty_input_yields_an_empty_result()
    {
        var m = MessageMetadataReader.Read([]);

        Assert.Null(m.Subject);
        Assert.Empty(m.Attachments);
        Assert.Equal(1, m.PartCount);
        AssertClean(m);
    }
}
