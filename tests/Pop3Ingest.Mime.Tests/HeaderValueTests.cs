using System.Globalization;
using System.Text;
using static Pop3Ingest.Mime.Tests.Support.Mailbox;

namespace Pop3Ingest.Mime.Tests;

/// <summary>
/// Header values as the reader reports them, one field per message: addresses, dates, encoded words, file names
/// and boundaries. MimeKit parses these values (see <c>HeaderValues</c>); the cases are the ones the hand-written
/// parsers were held to, and an expectation that MimeKit changed says so beside it.
/// </summary>
public sealed class HeaderValueTests
{
    public static TheoryData<string, MailboxAddress[]> Addresses => new()
    {
        { "", [] },
        { "   ", [] },
        { "user@example.com", [Of("user@example.com")] },
        { "<user@example.com>", [Of("user@example.com")] },
        { "User Name <user@example.com>", [Of("User Name", "user@example.com")] },
        { "\"Name, With Comma\" <a@b.c>, d@e.f", [Of("Name, With Comma", "a@b.c"), Of("d@e.f")] },
        { "a@b.c (Legacy Name)", [Of("Legacy Name", "a@b.c")] },
        { "Name (comment) <a@b.c> (trailing)", [Of("Name", "a@b.c")] },
        { "<@r1.example,@r2.example:route@example.com>", [Of("route@example.com")] },
        { "Group: a@b.c, <d@e.f>;", [Of("a@b.c"), Of("d@e.f")] },
        { "Empty group:;, x@y.z", [Of("x@y.z")] },
        { "A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;", [Of("Ed Jones", "c@a.test"), Of("joe@where.test"), Of("John", "jdoe@one.test")] },
        { "=?utf-8?Q?J=C3=B6rg?= <j@example.de>", [Of("Jörg", "j@example.de")] },
        { "\"=?utf-8?B?SsO2cmc=?=\" <j@example.de>", [Of("Jörg", "j@example.de")] },
        { "\"\" <empty@name.test>", [Of("empty@name.test")] },
        { "<>", [] },
        { "just words without address", [] },
        { "postmaster", [Of("postmaster")] },
        { "\"quoted local\"@example.com", [Of("\"quoted local\"@example.com")] },
        { "\"plain\"@example.com", [Of("\"plain\"@example.com")] }, // MimeKit keeps the quotes it was given (was plain@example.com)
        { "user@[IPv6:2001:db8::1]", [Of("user@[IPv6:2001:db8::1]")] },
        { "Unclosed <a@b.c, next@d.e", [Of("Unclosed", "a@b.c"), Of("next@d.e")] },
        { "\"Unterminated quote <a@b.c>", [Of("Unterminated quote", "a@b.c")] }, // MimeKit recovers the mailbox (was none)
        { "(unterminated comment a@b.c", [] },
        { ",,, a@b.c ,,", [Of("a@b.c")] }, // MimeKit alone refuses a list that starts with empty elements
        { " , a@b.c, ,d@e.f, ", [Of("a@b.c"), Of("d@e.f")] },
        { "=?utf-8?B?SsO2cmc?= <j@example.de>", [Of("Jörg", "j@example.de")] }, // unpadded B word
        { "Jürgen <j@ü.example>", [Of("Jürgen", "j@ü.example")] },
    };

    private static MessageMetadata Read(string header) => MessageMetadataReader.Read(Encoding.UTF8.GetBytes(header + "\r\n\r\nbody\r\n"));

    [Theory]
    [MemberData(nameof(Addresses))]
    public void Addresses_are_parsed(string value, MailboxAddress[] expected) => Assert.Equal(expected, Read("To: " + value).To);

    [Theory]
    [InlineData("Fri, 21 Nov 1997 09:55:06 -0600", "1997-11-21T15:55:06Z")]
    [InlineData("Tue, 1 Jul 2003 10:52:37 +0200", "2003-07-01T08:52:37Z")]
    [InlineData("Thu, 13 Feb 1969 23:32:54 -0330", "1969-02-14T03:02:54Z")]
    [InlineData("21 Nov 97 09:55:06 GMT", "1997-11-21T09:55:06Z")]
    [InlineData("21 Nov 05 09:55 GMT", "2005-11-21T09:55:00Z")]
    [InlineData("21 Nov 105 09:55 GMT", null)] // three-digit year: MimeKit refuses it (was 2005-11-21)
    [InlineData("Fri,21 Nov 1997 09:55:06 -0600", "1997-11-21T15:55:06Z")]
    [InlineData("Friday, 21 November 1997 09:55:06 -0600", "1997-11-21T15:55:06Z")]
    [InlineData("Fri 21 Nov 1997 09:55:06 -0600", "1997-11-21T15:55:06Z")]
    [InlineData("fri, 21 nov 1997 09:55:06 -0600", "1997-11-21T15:55:06Z")]
    [InlineData("Fri, 21 Nov 1997 09:55:06 EST", "1997-11-21T14:55:06Z")]
    [InlineData("Fri, 21 Nov 1997 09:55:06 EDT", "1997-11-21T13:55:06Z")]
    [InlineData("Fri, 21 Nov 1997 09:55:06 CST", "1997-11-21T15:55:06Z")]
    [InlineData("Fri, 21 Nov 1997 09:55:06 PDT", "1997-11-21T16:55:06Z")]
    [InlineData("Fri, 21 Nov 1997 09:55:06 UT", "1997-11-21T09:55:06Z")]
    [InlineData("Fri, 21 Nov 1997 09:55:06 Z", "1997-11-21T09:55:06Z")]
    [InlineData("Fri, 21 Nov 1997 09:55:06 A", "1997-11-21T09:55:06Z")] // military letters mean -0000 (RFC 5322 §4.3); MimeKit alone reads A as +0100
    [InlineData("Fri, 21 Nov 1997 09:55:06 XYZT", "1997-11-21T09:55:06Z")]
    [InlineData("Fri, 21 Nov 1997 09:55:06", "1997-11-21T09:55:06Z")] // no zone
    [InlineData("Fri, 21 Nov 1997 09:55:06 +0000 (UTC)", "1997-11-21T09:55:06Z")]
    [InlineData("Fri, 21 Nov 1997 09:55:06 +02:00", "1997-11-21T07:55:06Z")] // MimeKit alone ignores a zone with a colon
    [InlineData("Fri, 21 Nov 1997 09:55:06.123 +0100", "1997-11-21T08:55:06Z")] // MimeKit alone loses the time to the fraction
    [InlineData("Fri, 21 Nov 1997 09:55:06-0600", "1997-11-21T15:55:06Z")] // MimeKit alone reads a glued zone as +0600
    [InlineData("Fri, 21 Nov 1997 09:55:06 +0100 (CET)", "1997-11-21T08:55:06Z")]
    [InlineData("Fri, 21 Nov 1997 09:55:06 +2500", null)] // no such offset
    [InlineData("Mon Jan  2 15:04:05 2006", "2006-01-02T15:04:05Z")] // asctime
    [InlineData("Mon, 2 Jan 2006 15:04:05 CEST", "2006-01-02T13:04:05Z")] // MimeKit alone knows no CEST and counts it as UTC
    [InlineData("Mon, 2 Jan 2006 15:04:05 JST", "2006-01-02T06:04:05Z")]
    [InlineData("Sat, 31 Dec 2016 23:59:60 +0000", "2016-12-31T23:59:59Z")] // leap second
    [InlineData("1 Jan 0001 00:30:00 +0100", null)] // MimeKit alone reads year 0001 as 2001
    [InlineData("1 Jan 55 00:30:00 +0000", null)] // RFC 5322 §4.3 says 1955, MimeKit alone 2055: refused rather than guessed
    [InlineData("Fri, 30 Feb 1997 09:55:06 -0600", null)]
    [InlineData("Fri, 21 Foo 1997 09:55:06 -0600", null)]
    [InlineData("Fri, 21 Nov 1997 25:55:06 -0600", null)] // MimeKit alone keeps the date at midnight
    [InlineData("Fri, 21 Nov 1997 09:61:06 -0600", null)]
    [InlineData("Fri, 21 Nov 1997", null)] // no time, so no instant; MimeKit alone takes midnight UTC
    [InlineData("", null)]
    [InlineData("garbage", null)]
    [InlineData("1997-11-21T09:55:06Z", null)]
    public void Dates_are_parsed_to_utc(string text, string? expected)
    {
        var date = Read("Date: " + text).Date;

        Assert.Equal(expected is null ? null : DateTimeOffset.Parse(expected, CultureInfo.InvariantCulture), date?.Utc);
        Assert.Equal(TimeSpan.Zero, date?.Utc?.Offset ?? TimeSpan.Zero);
    }

    [Theory]
    [InlineData("plain text", "plain text")]
    [InlineData("=?utf-8?B?w6k=?=", "é")]
    [InlineData("=?UTF-8?b?w6k=?=", "é")] // lower-case b
    [InlineData("=?UTF-8?b?w6k?=", "é")] // padding missing, as real mail has it: MimeKit alone drops the incomplete quantum
    [InlineData("=?utf-8?B?SsO2cmc?= =?utf-8?B?w6k?=", "Jörgé")]
    [InlineData("=?iso-8859-1?q?caf=E9_cr=E8me?=", "café crème")]
    [InlineData("=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=", "ab")] // RFC 2047 §8 examples
    [InlineData("=?ISO-8859-1?Q?a?=  =?ISO-8859-1?Q?b?=", "ab")]
    [InlineData("=?ISO-8859-1?Q?a?=\r\n  =?ISO-8859-1?Q?b?=", "ab")]
    [InlineData("=?ISO-8859-1?Q?a_b?=", "a b")]
    [InlineData("=?ISO-8859-1?Q?a?= =?ISO-8859-2?Q?_b?=", "a b")]
    [InlineData("(=?ISO-8859-1?Q?a?= b)", "(a b)")]
    [InlineData("x =?utf-8?Q?y?= z", "x y z")]
    [InlineData("=?utf-8*en-us?Q?lang?=", "lang")] // RFC 2231 §5
    [InlineData("=?utf-8?Q??=", "")]
    [InlineData("prefix=?utf-8?Q?glued?=suffix", "prefixgluedsuffix")]
    [InlineData("=?utf-8?Q?a=?=", "a")] // MimeKit drops a dangling "=" (was "a=")
    [InlineData("=?utf-8?Q?=ZZ?=", "=ZZ")]
    [InlineData("=?utf-8?Q?no end", "=?utf-8?Q?no end")]
    [InlineData("=?utf-8?Z?abc?=", "=?utf-8?Z?abc?=")]
    [InlineData("=??Q?abc?=", "=??Q?abc?=")]
    [InlineData("=?utf-8?B?w6k!=?=", "é")] // MimeKit skips what is not base64 (was left encoded)
    [InlineData("=?utf-8?Q?a b?=", "a b")] // MimeKit decodes a word with a space in it (was left encoded)
    [InlineData("=?", "=?")]
    [InlineData("=?utf-8", "=?utf-8")]
    [InlineData("=?utf-8?", "=?utf-8?")]
    [InlineData("=?utf-8?Q", "=?utf-8?Q")]
    [InlineData("=?utf-8?Q?", "=?utf-8?Q?")]
    [InlineData("=?x-unknown?Q?caf=C3=A9?=", "café")] // unknown charset, bytes are UTF-8
    [InlineData("=?x-unknown?Q?caf=E9?=", "café")] // unknown charset, not UTF-8: windows-1252
    [InlineData("=?us-ascii?Q?caf=E9?=", "café")] // mislabelled 8-bit "ASCII": the fallback, where MimeKit alone trusts the label ("caf?")
    [InlineData("=?US-ASCII?B?Y2Fmw6k=?=", "café")]
    [InlineData("=?utf-7?Q?abc?=", "abc")] // refused by .NET: treated as unknown
    public void Encoded_words_are_decoded(string input, string expected) => Assert.Equal(expected.Trim(), Read("Subject: " + input).Subject);

    [Theory]
    [InlineData("koi8-r", "Здравствуйте")]
    [InlineData("iso-8859-2", "Zażółć")]
    [InlineData("iso-8859-5", "Привет")]
    [InlineData("iso-8859-7", "Καλημέρα")]
    [InlineData("iso-8859-15", "€")]
    [InlineData("windows-1250", "Dobrý")]
    [InlineData("windows-1251", "Москва")]
    [InlineData("windows-1252", "“quoted”")]
    [InlineData("gb2312", "你好")]
    [InlineData("gbk", "喆")]
    [InlineData("gb18030", "𠀀")]
    [InlineData("big5", "繁體")]
    [InlineData("shift_jis", "日本語")]
    [InlineData("euc-kr", "안녕")]
    [InlineData("iso-2022-jp", "こんにちは")]
    [InlineData("euc-jp", "日本")]
    [InlineData("ks_c_5601-1987", "한국")]
    [InlineData("x-gbk", "中文")]
    [InlineData("cp-850", "ü")]
    public void Legacy_charsets_round_trip_through_both_encodings(string charset, string text)
    {
        Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);
        var encoding = Encoding.GetEncoding(charset switch { "x-gbk" => "gbk", "cp-850" => "ibm850", _ => charset });
        var bytes = encoding.GetBytes(text);
        var b = $"=?{charset}?B?{Convert.ToBase64String(bytes)}?=";
        var q = $"=?{charset}?Q?{string.Concat(bytes.Select(x => $"={x:X2}"))}?=";

        Assert.Equal(text, Read("Subject: " + b).Subject);
        Assert.Equal(text, Read("Subject: " + q).Subject);
    }

    [Fact]
    public void A_character_split_across_adjacent_words_survives()
    {
        var snowman = Encoding.UTF8.GetBytes("☃");
        var text = $"=?utf-8?B?{Convert.ToBase64String(snowman[..1])}?= =?utf-8?B?{Convert.ToBase64String(snowman[1..])}?=";

        Assert.Equal("☃", Read("Subject: " + text).Subject);
    }

    [Theory]
    [InlineData("attachment; filename=plain.txt", "plain.txt")]
    [InlineData("attachment; filename=\"quoted name.txt\"", "quoted name.txt")]
    [InlineData("attachment; filename=\"esc\\\"aped.txt\"", "esc\"aped.txt")]
    [InlineData("attachment; FILENAME=upper.txt", "upper.txt")]
    [InlineData("attachment; filename=unquoted with spaces.txt; size=3", "unquoted with spaces.txt")]
    [InlineData("attachment; filename*=utf-8''%E2%82%AC%20rates.txt", "€ rates.txt")]
    [InlineData("attachment; filename*=UTF-8'en'%E2%82%AC.txt", "€.txt")]
    [InlineData("attachment; filename*=\"utf-8''quoted%20ext.txt\"", "quoted ext.txt")]
    [InlineData("attachment; filename*0=\"a\"; filename*1=\"b\"; filename*2=\"c.txt\"", "abc.txt")]
    [InlineData("attachment; filename*2=\"c.txt\"; filename*0=\"a\"; filename*1=\"b\"", "abc.txt")]
    [InlineData("attachment; filename*0*=utf-8''%E2%82; filename*1*=%AC.txt", "€.txt")] // a character split across sections
    [InlineData("attachment; filename*0*=iso-8859-1''caf%E9; filename*1=\".txt\"", "café.txt")]
    [InlineData("attachment; filename*=unknown-8bit''caf%E9.txt", "café.txt")]
    [InlineData("attachment; filename=\"=?utf-8?B?w6k=?=.txt\"", "é.txt")]
    [InlineData("attachment; filename=\"old.txt\"; filename*=utf-8''new.txt", "new.txt")]
    [InlineData("attachment; filename*=utf-8''%ZZbad.txt", "%ZZbad.txt")]
    [InlineData("attachment; filename*0=a; filename*1=b", "ab")]
    public void File_names_are_decoded(string header, string expected) =>
        Assert.Equal(expected, Assert.Single(Read("Content-Type: application/octet-stream\r\nContent-Disposition: " + header).Attachments).FileName);

    [Fact]
    public void A_disposition_with_a_broken_continuation_keeps_what_parses()
    {
        // MimeKit alone refuses the whole field for one bad RFC 2231 section name; the part would lose its
        // disposition and name and, being the message's only leaf, become its body.
        var m = Read("Content-Type: application/octet-stream\r\nContent-Disposition: attachment; filename*0=a; filename*x=b");

        Assert.Equal([Attachment("a", "application/octet-stream", 6)], m.Attachments);
    }

    [Fact]
    public void A_disposition_type_survives_a_broken_parameter()
    {
        var m = Read("Content-Type: text/plain\r\nContent-Disposition: attachment; filename*x=b");

        Assert.Equal([Attachment(null, "text/plain", 6)], m.Attachments);
    }

    [Fact]
    public void A_multipart_keeps_its_boundary_beside_a_broken_parameter()
    {
        var m = MessageMetadataReader.Read(Encoding.UTF8.GetBytes(
            "Content-Type: multipart/mixed; name*x=y; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nbody\r\n--b\r\nContent-Type: application/pdf\r\n\r\n%PDF\r\n--b--\r\n"));

        Assert.Equal([Attachment(null, "application/pdf", 4)], m.Attachments);
    }

    [Theory]
    [InlineData("multipart/mixed; boundary=\"----=_Part_1\"", "----=_Part_1")]
    [InlineData("multipart/mixed; boundary=simple", "simple")]
    [InlineData("multipart/mixed;\tboundary = spaced", "spaced")]
    [InlineData("multipart/mixed; charset=x; boundary=\"b\"; boundary=\"second\"", "b")]
    public void Boundaries_are_found(string header, string boundary)
    {
        var message = $"Content-Type: {header}\r\n\r\n--{boundary}\r\nContent-Type: text/plain\r\n\r\nbody\r\n--{boundary}\r\nContent-Type: application/pdf\r\n\r\n%PDF\r\n--{boundary}--\r\n";
        var m = MessageMetadataReader.Read(Encoding.UTF8.GetBytes(message));

        Assert.Equal([Attachment(null, "application/pdf", 4)], m.Attachments);
        Assert.Equal(3, m.PartCount);
    }
}
