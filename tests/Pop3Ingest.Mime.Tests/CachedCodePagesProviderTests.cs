using System.Text;

namespace Pop3Ingest.Mime.Tests;

/// <summary>The cached code-page provider gives what <see cref="CodePagesEncodingProvider"/> gives, for every code page.</summary>
public sealed class CachedCodePagesProviderTests
{
    private static readonly byte[] Sample = [0x41, 0x80, 0x9F, 0xA4, 0xC3, 0xA9, 0xE9, 0xFE, 0xFF, 0x1B, 0x24, 0x42, 0x30, 0x21];

    [Fact]
    public void Every_code_page_is_answered_as_CodePagesEncodingProvider_answers_it()
    {
        for (var codePage = 0; codePage <= 65535; codePage++)
        {
            var expected = CodePagesEncodingProvider.Instance.GetEncoding(codePage);
            var actual = CachedCodePagesProvider.Instance.GetEncoding(codePage);
            Assert.Equal(expected is null, actual is null);
            if (expected is not null)
            {
                Assert.Equal(expected.CodePage, actual!.CodePage);
                Assert.Equal(expected.WebName, actual.WebName);
                Assert.Equal(expected.GetString(Sample), actual.GetString(Sample));
            }
        }
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(65536)]
    [InlineData(int.MaxValue)]
    public void Numbers_that_are_no_code_page_give_nothing(int codePage) =>
        Assert.Null(CachedCodePagesProvider.Instance.GetEncoding(codePage));

    [Fact]
    public void A_code_page_it_does_not_have_is_remembered_and_left_to_the_built_in_encodings()
    {
        Charsets.EnsureRegistered();
        Assert.Null(CachedCodePagesProvider.Instance.GetEncoding(65001));
        Assert.Null(CachedCodePagesProvider.Instance.GetEncoding(65001));
        Assert.Same(Encoding.UTF8, Encoding.GetEncoding(65001));
    }

    [Theory]
    [InlineData("iso-2022-jp")]
    [InlineData("koi8-r")]
    [InlineData("gb18030")]
    [InlineData("windows-1252")]
    [InlineData("shift_jis")]
    [InlineData("no-such-charset")]
    public void Names_and_fallbacks_are_answered_as_CodePagesEncodingProvider_answers_them(string name)
    {
        Assert.Equal(CodePagesEncodingProvider.Instance.GetEncoding(name)?.CodePage, CachedCodePagesProvider.Instance.GetEncoding(name)?.CodePage);

        var fallbackE = new EncoderReplacementFallback("?");
        var fallbackD = new DecoderReplacementFallback("?");
        var codePage = CodePagesEncodingProvider.Instance.GetEncoding(name)?.CodePage ?? 1;
        var expected = CodePagesEncodingProvider.Instance.GetEncoding(codePage, fallbackE, fallbackD);
        var actual = CachedCodePagesProvider.Instance.GetEncoding(codePage, fallbackE, fallbackD);
        Assert.Equal(expected?.CodePage, actual?.CodePage);
        Assert.Same(expected?.DecoderFallback, actual?.DecoderFallback);
        Assert.Same(expected?.EncoderFallback, actual?.EncoderFallback);

        // The fallbacks apply to a copy: the cached encoding keeps its own.
        Assert.NotSame(fallbackD, CachedCodePagesProvider.Instance.GetEncoding(codePage)?.DecoderFallback);
    }

    [Fact]
    public void The_encodings_listed_are_those_of_CodePagesEncodingProvider() =>
        Assert.Equal(
            CodePagesEncodingProvider.Instance.GetEncodings().Select(e => e.CodePage).Order(),
            CachedCodePagesProvider.Instance.GetEncodings().Select(e => e.CodePage).Order());
}
