using System.Text;

namespace Pop3Ingest.Mime.Tests;

/// <summary>
/// The reader's path for plain Content-Type and Content-Disposition values (<c>SimpleContentField</c>) against
/// MimeKit's parsers on generated values: every value it answers, it answers as MimeKit does, and every value in its
/// grammar it does answer; the values just outside it (tabs, comments, RFC 2231, encoded words, a trailing
/// semicolon, a parameter given twice) are left to MimeKit.
/// </summary>
public sealed class SimpleContentFieldTests
{
    private static readonly MimeKit.ParserOptions Options = new HeaderValueContext(Encoding.Latin1).Options;

    private const string TokenCharacters = "!#$%&'+-.0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ^_`abcdefghijklmnopqrstuvwxyz{|}~";
    private const string TypeCharacters = "!#$%&'+-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ^_`abcdefghijklmnopqrstuvwxyz{|}~";
    private const string QuotedCharacters = " !#$%&')+,-./0123456789:;<=>@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_`abcdefghijklmnopqrstuvwxyz{|}~";

    [Fact]
    public void Plain_content_types_are_read_as_MimeKit_reads_them()
    {
        var random = new Random(2045);
        for (var i = 0; i < 5000; i++)
        {
            var value = Plain(random, hasSubtype: true, ["boundary", "name", "charset", "format", "Boundary", "NAME"], out var plain);
            AssertSame(value, hasSubtype: true, plain);
        }
    }

    [Fact]
    public void Plain_content_dispositions_are_read_as_MimeKit_reads_them()
    {
        var random = new Random(2183);
        for (var i = 0; i < 5000; i++)
        {
            var value = Plain(random, hasSubtype: false, ["filename", "FileName", "size", "creation-date", "name"], out var plain);
            AssertSame(value, hasSubtype: false, plain);
        }
    }

    [Theory]
    [InlineData("text/plain;")]
    [InlineData("text/plain;; charset=utf-8")]
    [InlineData("text/plain;\tcharset=utf-8")]
    [InlineData("text/plain; charset=utf-8 (comment)")]
    [InlineData("text/plain; name*=utf-8''a%20b.txt")]
    [InlineData("text/plain; name=\"=?utf-8?Q?a=C3=A9?=\"")]
    [InlineData("text/plain; name=\"a\\\"b\"")]
    [InlineData("text/plain; name=\"unclosed")]
    [InlineData("multipart/mixed; boundary=a; boundary=b")]
    [InlineData("multipart/mixed; boundary==_x")]
    [InlineData("text")]
    [InlineData("text/")]
    [InlineData("/plain")]
    [InlineData("text/plain/x")]
    [InlineData("text/plain charset=utf-8")]
    [InlineData("text/plain; =utf-8")]
    [InlineData("text/plain; charset")]
    [InlineData("text/plain; charset=")]
    [InlineData("text/plain; charset=utf-8 ; format=flowed")]
    [InlineData("text/plain; name=caf\u00e9.txt")]
    [InlineData("te.xt/plain")]
    public void Values_outside_the_plain_grammar_are_left_to_MimeKit(string value)
    {
        var bytes = Encoding.Latin1.GetBytes(value);
        Assert.False(SimpleContentField.TryParse(bytes, hasSubtype: true, "boundary"u8, "name"u8, out _), value);
    }

    [Theory]
    [InlineData("attachment;")]
    [InlineData("attachment; filename=a; filename=b")]
    [InlineData("attachment; filename*0=a; filename*1=b")]
    [InlineData("attachment (comment); filename=a")]
    [InlineData("attachment/x")]
    [InlineData("attach.ment; filename=a")]
    [InlineData("; filename=a")]
    public void Dispositions_outside_the_plain_grammar_are_left_to_MimeKit(string value)
    {
        var bytes = Encoding.Latin1.GetBytes(value);
        Assert.False(SimpleContentField.TryParse(bytes, hasSubtype: false, "filename"u8, default, out _), value);
    }

    private static void AssertSame(string value, bool hasSubtype, bool mustBeSimple)
    {
        var bytes = Encoding.ASCII.GetBytes(value);
        var simple = hasSubtype
            ? SimpleContentField.TryParse(bytes, hasSubtype: true, "boundary"u8, "name"u8, out var field)
            : SimpleContentField.TryParse(bytes, hasSubtype: false, "filename"u8, default, out field);
        Assert.True(simple || !mustBeSimple, $"not read as plain: {value}");
        var mimeKit = hasSubtype
            ? HeaderValues.ContentTypeByMimeKit(bytes, bytes.Length, Options)
            : HeaderValues.ContentDispositionByMimeKit(bytes, bytes.Length, Options);
        Assert.True(mimeKit is not null, $"MimeKit refused: {value}");
        if (simple)
        {
            Assert.Equal(mimeKit, field);
        }
    }

    /// <summary>A value in the plain grammar: odd case, spaces around the separators, tokens and quoted strings, empty quotes.</summary>
    private static string Plain(Random random, bool hasSubtype, string[] names, out bool mustBeSimple)
    {
        mustBeSimple = true;
        var builder = new StringBuilder();
        builder.Append(Characters(random, TypeCharacters, random.Next(1, 20)));
        if (hasSubtype)
        {
            builder.Append('/').Append(Token(random));
        }

        var used = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var count = random.Next(4);
        for (var p = 0; p < count; p++)
        {
            var name = names[random.Next(names.Length)];
            if (!used.Add(name))
            {
                continue;
            }

            var before = Spaces(random);

            // Spaces after an unquoted parameter value are left to MimeKit, which keeps them in the value.
            mustBeSimple &= before.Length == 0 || p == 0 || builder[^1] == '"';
            builder.Append(before).Append(';').Append(Spaces(random)).Append(name).Append(Spaces(random)).Append('=').Append(Spaces(random));
            if (random.Next(2) == 0)
            {
                builder.Append(Token(random));
            }
            else
            {
                builder.Append('"').Append(Characters(random, QuotedCharacters, random.Next(0, 30))).Append('"');
            }
        }

        // Values reach the parsers trimmed (HeaderValues.Unfolded), so none ends in a space.
        return builder.ToString();
    }

    private static string Token(Random random) => Characters(random, TokenCharacters, random.Next(1, 20));

    private static string Spaces(Random random) => random.Next(4) == 0 ? new string(' ', random.Next(1, 3)) : "";

    private static string Characters(Random random, string alphabet, int length)
    {
        var characters = new char[length];
        for (var i = 0; i < length; i++)
        {
            characters[i] = alphabet[random.Next(alphabet.Length)];
        }

        return new string(characters);
    }
}
