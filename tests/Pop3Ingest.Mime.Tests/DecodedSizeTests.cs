using System.Text;

namespace Pop3Ingest.Mime.Tests;

/// <summary>Decoded sizes, measured through the reader, for a body that ends at a boundary and one that ends the input.</summary>
public sealed class DecodedSizeTests
{
    private static long SizeBeforeBoundary(string encoding, string body)
    {
        var message = "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nbody\r\n--b\r\n"
            + $"Content-Type: application/octet-stream; name=x\r\nContent-Transfer-Encoding: {encoding}\r\n\r\n{body}\r\n--b--\r\n";
        return Assert.Single(MessageMetadataReader.Read(Encoding.Latin1.GetBytes(message)).Attachments).Size;
    }

    private static long SizeAtEndOfInput(string encoding, string body)
    {
        var message = $"Content-Type: application/octet-stream; name=x\r\nContent-Transfer-Encoding: {encoding}\r\n\r\n{body}";
        return Assert.Single(MessageMetadataReader.Read(Encoding.Latin1.GetBytes(message)).Attachments).Size;
    }

    [Theory]
    [InlineData("", 0)]
    [InlineData("QQ==", 1)]
    [InlineData("QUI=", 2)]
    [InlineData("QUJD", 3)]
    [InlineData("QUJDRA==", 4)]
    [InlineData("Q", 0)]
    [InlineData("QU", 1)]
    [InlineData("QUJ", 2)]
    [InlineData("QQ==QQ==", 2)] // two padded groups, as a lenient decoder sees them
    [InlineData("Q U J D", 3)]
    [InlineData("QU!J\tD", 3)]
    [InlineData("QUJD\r\nQUJD\r\n\r\nQUJD", 9)]
    [InlineData("QUJD\nQUJD", 6)]
    [InlineData("====", 0)]
    public void Base64(string body, long expected)
    {
        Assert.Equal(expected, SizeBeforeBoundary("base64", body));
        Assert.Equal(expected, SizeAtEndOfInput("base64", body));
    }

    [Theory]
    [InlineData("", 0, 0)]
    [InlineData("abc", 3, 3)]
    [InlineData("abc  \t", 3, 3)] // RFC 2045 §6.7 rule 3: trailing whitespace is not data
    [InlineData("a b", 3, 3)]
    [InlineData("abc=\r\ndef", 6, 6)] // soft line break
    [InlineData("abc=  \r\ndef", 6, 6)] // soft line break followed by whitespace
    [InlineData("abc  =\r\ndef", 8, 8)] // whitespace before a soft break is data
    [InlineData("a=3Db", 3, 3)]
    [InlineData("a=3db", 3, 3)] // lower-case hex, leniently
    [InlineData("a=ZZb", 5, 5)] // not an escape: literal
    [InlineData("a=3", 3, 3)] // cut-off escape: literal
    [InlineData("a==3D", 3, 3)] // a literal '=' then an escape
    [InlineData("a = b", 5, 5)]
    [InlineData("a=", 1, 1)] // soft break at the very end
    [InlineData("line1\r\nline2", 12, 12)]
    [InlineData("line1\nline2", 11, 11)]
    [InlineData("line1\r\n", 7, 7)] // only the line break right before the boundary belongs to it
    [InlineData("line1\r\n\r\n", 9, 9)]
    [InlineData("x=\r\n\r\n", 3, 3)]
    [InlineData("=4\r\nx", 5, 5)]
    public void Quoted_printable(string body, long beforeBoundary, long atEnd)
    {
        Assert.Equal(beforeBoundary, SizeBeforeBoundary("quoted-printable", body));
        Assert.Equal(atEnd, SizeAtEndOfInput("quoted-printable", body));
    }

    [Theory]
    [InlineData("", 0, 0)]
    [InlineData("abc", 3, 3)]
    [InlineData("abc\r\n", 5, 5)]
    [InlineData("a\r\nb", 4, 4)]
    [InlineData("a\nb\r", 4, 4)]
    public void Identity_is_the_raw_byte_count(string body, long beforeBoundary, long atEnd)
    {
        Assert.Equal(beforeBoundary, SizeBeforeBoundary("7bit", body));
        Assert.Equal(atEnd, SizeAtEndOfInput("binary", body));
    }
}
