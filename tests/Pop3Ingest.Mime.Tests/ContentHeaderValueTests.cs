using System.Text;

namespace Pop3Ingest.Mime.Tests;

public sealed class ContentHeaderValueTests
{
    private static ContentHeaderValue Parse(string text) => ContentHeaderValue.Parse(text, Encoding.Latin1);

    [Fact]
    public void Main_value_is_lower_case_without_comments_or_spaces()
    {
        Assert.Equal("text/plain", Parse("Text/PLAIN (comment); charset=us-ascii").Value);
        Assert.Equal("multipart/mixed", Parse(" multipart / mixed ;boundary=x").Value);
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
    [InlineData("attachment; filename*0=a; filename*x=b", "a")]
    public void File_names(string header, string expected) => Assert.Equal(expected, Parse(header).GetParameter("filename"));

    [Theory]
    [InlineData("multipart/mixed; boundary=\"----=_Part_1\"", "----=_Part_1")]
    [InlineData("multipart/mixed; boundary=simple", "simple")]
    [InlineData("multipart/mixed;\tboundary = spaced", "spaced")]
    [InlineData("multipart/mixed; charset=x; boundary=\"b\"; boundary=\"second\"", "b")]
    public void Boundaries(string header, string expected) => Assert.Equal(expected, Parse(header).GetParameter("boundary"));

    [Theory]
    [InlineData("")]
    [InlineData(";;;")]
    [InlineData("text/plain; =novalue; name")]
    [InlineData("text/plain; name=\"unterminated")]
    [InlineData("text/plain; name*99999999999=x")]
    public void Garbage_never_throws(string header) => Assert.NotNull(Parse(header));
}
