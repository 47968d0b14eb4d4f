using System.Text;
using static Pop3Ingest.Mime.Tests.Support.Mailbox;

namespace Pop3Ingest.Mime.Tests;

/// <summary>Small messages written inline, for cases that need no fixture file.</summary>
public sealed class ReaderEdgeCaseTests
{
    private static MessageMetadata Read(string message, MimeReaderOptions? options = null) =>
        MessageMetadataReader.Read(Encoding.UTF8.GetBytes(message), options);

    [Fact]
    public void A_broken_field_name_does_not_end_the_header_section()
    {
        var m = Read("X-T\u00e4st: 8-bit name\r\nSubject: still a header\r\n\r\nbody");

        Assert.Equal("still a header", m.Subject);
    }

    [Fact]
    public void An_outer_boundary_closes_an_inner_multipart_left_open()
    {
        var m = Read(
            "Content-Type: multipart/mixed; boundary=outer\r\n\r\n--outer\r\nContent-Type: multipart/mixed; boundary=inner\r\n\r\n"
            + "--inner\r\nContent-Type: text/plain\r\n\r\ntext\r\n--inner\r\nContent-Type: image/png; name=a.png\r\n\r\nPNG\r\n"
            + "--outer\r\nContent-Type: application/pdf; name=b.pdf\r\n\r\nPDF\r\n--outer--\r\n");

        Assert.Equal([Attachment("a.png", "image/png", 3), Attachment("b.pdf", "application/pdf", 3)], m.Attachments);
        Assert.Equal(["The multipart of part 2 was not closed by its final boundary."], m.Problems);
        Assert.False(m.LimitsExceeded);
    }

    [Fact]
    public void A_multipart_without_a_boundary_is_a_problem_not_a_crash()
    {
        var m = Read("Content-Type: multipart/mixed\r\n\r\n--x\r\nContent-Type: application/pdf; name=a.pdf\r\n\r\nx\r\n--x--\r\n");

        Assert.Empty(m.Attachments);
        Assert.Equal(["Part 1 is multipart/mixed without a boundary; its content was not examined."], m.Problems);
    }

    [Fact]
    public void An_invalid_content_type_means_text_plain()
    {
        var m = Read("Content-Type: garbage\r\n\r\nbody");

        Assert.Empty(m.Attachments);
        Assert.Empty(m.Problems);
    }

    [Fact]
    public void A_base64_encoded_embedded_message_is_a_leaf()
    {
        var m = Read(
            "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\ntext\r\n--b\r\nContent-Type: message/rfc822\r\n"
            + "Content-Transfer-Encoding: base64\r\n\r\nU3ViamVjdDogeA0KDQpib2R5\r\n--b--\r\n");

        Assert.Equal([Attachment(null, "message/rfc822", 18)], m.Attachments);
    }

    [Fact]
    public void A_top_level_embedded_message_is_descended_into()
    {
        const string inner = "Subject: inner\r\nContent-Type: multipart/mixed; boundary=i\r\n\r\n"
            + "--i\r\n\r\nbody\r\n--i\r\nContent-Type: image/gif; name=g.gif\r\n\r\nGIF\r\n--i--\r\n";
        var m = Read("Subject: outer\r\nContent-Type: message/rfc822; name=inner.eml\r\n\r\n" + inner);

        Assert.Equal("outer", m.Subject);
        Assert.Equal(
            [Attachment("inner.eml", "message/rfc822", inner.Length), Attachment("g.gif", "image/gif", 3)],
            m.Attachments);
        Assert.Equal(2, m.NestingDepth);
    }

    [Fact]
    public void Out_of_range_options_are_brought_into_range()
    {
        var options = new MimeReaderOptions { MaxParts = 0, MaxDepth = -1, MaxHeaderBytes = int.MaxValue, MaxBoundaryLength = int.MaxValue, FallbackEncoding = null! };
        var m = Read("From: a@b.c\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nx\r\n--b--\r\n", options);

        Assert.Equal([Of("a@b.c")], m.From);
        Assert.True(m.LimitsExceeded);
        Assert.Equal(0, m.NestingDepth);
        Assert.Equal(1, m.PartCount);
    }

    [Fact]
    public void A_boundary_line_at_the_end_of_input_without_a_line_break_counts()
    {
        var m = Read("Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nx\r\n--b\r\nContent-Type: image/gif\r\n\r\nGIF\r\n--b--");

        Assert.Equal([Attachment(null, "image/gif", 3)], m.Attachments);
        Assert.Empty(m.Problems);
    }

    [Fact]
    public void Boundaries_compare_case_sensitively_and_allow_transport_padding()
    {
        var m = Read(
            "Content-Type: multipart/mixed; boundary=\"Abc \"\r\n\r\n--Abc \t \r\n\r\nx\r\n--ABC\r\n--Abc\r\nContent-Type: image/gif\r\n\r\nGIF\r\n--Abc-- \r\n");

        Assert.Equal([Attachment(null, "image/gif", 3)], m.Attachments);
        Assert.Empty(m.Problems);
    }

    [Fact]
    public void Indented_text_before_any_field_is_body()
    {
        var m = Read("  indented first line\r\nSubject: body text, not a header\r\n");

        Assert.Null(m.Subject);
        Assert.Equal(1, m.PartCount);
    }
}
