using System.Text;

namespace Pop3Ingest.Mime.Tests;

public sealed class EncodedWordDecoderTests
{
    [Theory]
    [InlineData("plain text", "plain text")]
    [InlineData("=?utf-8?B?w6k=?=", "é")]
    [InlineData("=?UTF-8?b?w6k?=", "é")] // lower-case b, padding missing
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
    [InlineData("=?utf-8?Q?a=?=", "a=")]
    [InlineData("=?utf-8?Q?=ZZ?=", "=ZZ")]
    [InlineData("=?utf-8?Q?no end", "=?utf-8?Q?no end")]
    [InlineData("=?utf-8?Z?abc?=", "=?utf-8?Z?abc?=")]
    [InlineData("=??Q?abc?=", "=??Q?abc?=")]
    [InlineData("=?utf-8?B?not base64!?=", "=?utf-8?B?not base64!?=")]
    [InlineData("=?utf-8?Q?a b?=", "=?utf-8?Q?a b?=")]
    [InlineData("=?", "=?")]
    [InlineData("=?utf-8", "=?utf-8")]
    [InlineData("=?utf-8?", "=?utf-8?")]
    [InlineData("=?utf-8?Q", "=?utf-8?Q")]
    [InlineData("=?utf-8?Q?", "=?utf-8?Q?")]
    [InlineData("=?x-unknown?Q?caf=C3=A9?=", "café")] // unknown charset, bytes are UTF-8
    [InlineData("=?x-unknown?Q?caf=E9?=", "café")] // unknown charset, not UTF-8: windows-1252
    [InlineData("=?us-ascii?Q?caf=E9?=", "café")] // mislabelled 8-bit "ASCII"
    [InlineData("=?utf-7?Q?abc?=", "abc")] // refused by .NET: treated as unknown
    public void Decodes(string input, string expected) => Assert.Equal(expected, EncodedWordDecoder.Decode(input));

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

        Assert.Equal(text, EncodedWordDecoder.Decode(b));
        Assert.Equal(text, EncodedWordDecoder.Decode(q));
    }

    [Fact]
    public void A_character_split_across_adjacent_words_survives()
    {
        var snowman = Encoding.UTF8.GetBytes("☃");
        var text = $"=?utf-8?B?{Convert.ToBase64String(snowman[..1])}?= =?utf-8?B?{Convert.ToBase64String(snowman[1..])}?=";

        Assert.Equal("☃", EncodedWordDecoder.Decode(text));
    }

    [Fact]
    public void Hostile_input_is_linear()
    {
        var text = string.Concat(Enumerable.Repeat("=?a?q?", 50_000));
        var watch = System.Diagnostics.Stopwatch.StartNew();

        Assert.Equal(text, EncodedWordDecoder.Decode(text));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5));
    }
}
