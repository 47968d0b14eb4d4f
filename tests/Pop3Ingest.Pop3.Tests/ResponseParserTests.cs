using System.Text;

namespace Pop3Ingest.Pop3.Tests;

public sealed class ResponseParserTests
{
    [Theory]
    [InlineData("+OK", "Ok", "", null)]
    [InlineData("+OK ready", "Ok", "ready", null)]
    [InlineData("+ok lower case", "Ok", "lower case", null)]
    [InlineData("-ERR", "Err", "", null)]
    [InlineData("-ERR [IN-USE] Mailbox locked", "Err", "Mailbox locked", "IN-USE")]
    [InlineData("-ERR [LOGIN-DELAY] wait", "Err", "wait", "LOGIN-DELAY")]
    [InlineData("-ERR [SYS/TEMP] try later", "Err", "try later", "SYS/TEMP")]
    [InlineData("-ERR [SYS/PERM] gone", "Err", "gone", "SYS/PERM")]
    [InlineData("-ERR [AUTH] bad password", "Err", "bad password", "AUTH")]
    [InlineData("-ERR [not a code] text", "Err", "[not a code] text", null)]
    [InlineData("+ ", "Continuation", "", null)]
    [InlineData("+ dGVzdA==", "Continuation", "dGVzdA==", null)]
    [InlineData("+OKAY", "Garbage", "+OKAY", null)]
    [InlineData("HTTP/1.1 200 OK", "Garbage", "HTTP/1.1 200 OK", null)]
    [InlineData("", "Garbage", "", null)]
    public void Status_lines_parse(string line, string kind, string text, string? code)
    {
        var status = Pop3ResponseParser.ParseStatus(Encoding.Latin1.GetBytes(line));
        Assert.Equal(kind, status.Kind.ToString());
        Assert.Equal(text, status.Text);
        Assert.Equal(code, status.Code?.Value);
    }

    [Fact]
    public void Control_characters_in_server_text_are_escaped_and_long_text_is_cut()
    {
        var status = Pop3ResponseParser.ParseStatus("-ERR bad\0\u001b[31m"u8);
        Assert.Equal("bad\\x00\\x1B[31m", status.Text);
        var longLine = Encoding.ASCII.GetBytes("-ERR " + new string('x', 1000));
        Assert.True(Pop3ResponseParser.ParseStatus(longLine).Text.Length <= 301);
    }

    [Fact]
    public void Response_code_hierarchy_matches_parents()
    {
        Assert.True(new Pop3ResponseCode("SYS/TEMP").Is(new Pop3ResponseCode("SYS")));
        Assert.True(new Pop3ResponseCode("sys/temp").Is(Pop3ResponseCode.SysTemp));
        Assert.False(new Pop3ResponseCode("SYSTEM").Is(new Pop3ResponseCode("SYS")));
        Assert.False(Pop3ResponseCode.InUse.Is(Pop3ResponseCode.LoginDelay));
    }

    [Theory]
    [InlineData("+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>", "<1896.697170952@dbc.mtview.ca.us>")]
    [InlineData("+OK Dovecot ready.", null)]
    [InlineData("+OK <no-at-sign>", null)]
    [InlineData("+OK <>", null)]
    [InlineData("+OK <a b@c>", null)]
    public void Apop_timestamp_comes_from_the_greeting(string greeting, string? expected) =>
        Assert.Equal(expected, Pop3ResponseParser.ExtractApopTimestamp(Encoding.Latin1.GetBytes(greeting)));

    [Fact]
    public void Capabilities_parse_into_flags_and_values()
    {
        var caps = Pop3ResponseParser.ParseCapabilities(
            ["TOP", "USER", "SASL PLAIN LOGIN xoauth2", "RESP-CODES", "LOGIN-DELAY 900", "PIPELINING", "EXPIRE NEVER", "UIDL",
             "IMPLEMENTATION Shlemazle-Plotz-v302", "STLS", "AUTH-RESP-CODE", "UTF8 USER", "X-UNKNOWN"], apop: true);
        Assert.True(caps.Has(Pop3CapabilityFlags.Capa | Pop3CapabilityFlags.Top | Pop3CapabilityFlags.User |
                             Pop3CapabilityFlags.Sasl | Pop3CapabilityFlags.RespCodes | Pop3CapabilityFlags.LoginDelay |
                             Pop3CapabilityFlags.Pipelining | Pop3CapabilityFlags.Expire | Pop3CapabilityFlags.Uidl |
                             Pop3CapabilityFlags.Implementation | Pop3CapabilityFlags.Stls | Pop3CapabilityFlags.AuthRespCode |
                             Pop3CapabilityFlags.Utf8 | Pop3CapabilityFlags.Apop));
        Assert.True(caps.SupportsSasl("XOAUTH2"));
        Assert.True(caps.SupportsSasl("plain"));
        Assert.False(caps.SupportsSasl("CRAM-MD5"));
        Assert.Equal(TimeSpan.FromSeconds(900), caps.LoginDelay);
        Assert.Equal("NEVER", caps.Expire);
        Assert.Equal("Shlemazle-Plotz-v302", caps.Implementation);
    }

    [Fact]
    public void Baseline_without_capa_assumes_the_rfc1939_optional_commands()
    {
        var caps = Pop3ResponseParser.Baseline(apop: false);
        Assert.False(caps.Has(Pop3CapabilityFlags.Capa));
        Assert.True(caps.Has(Pop3CapabilityFlags.User | Pop3CapabilityFlags.Uidl | Pop3CapabilityFlags.Top));
        Assert.False(caps.Has(Pop3CapabilityFlags.Pipelining));
    }

    [Theory]
    [InlineData("1 whqtswO00WBw418f9t5JxYwZ", 1, "whqtswO00WBw418f9t5JxYwZ")]
    [InlineData("12  spaced", 12, "spaced")]
    [InlineData("3 ../../x", 3, "../../x")]
    [InlineData("4 a b", 4, "a b")]
    public void Uidl_lines_parse(string line, int number, string uid)
    {
        Assert.True(Pop3ResponseParser.TryParseUidl(Encoding.Latin1.GetBytes(line), out var entry));
        Assert.Equal(new Pop3UidlEntry(number, uid), entry);
    }

    [Fact]
    public void Uidl_keeps_every_byte_as_latin1()
    {
        Assert.True(Pop3ResponseParser.TryParseUidl([(byte)'7', (byte)' ', 0xFF, 0x00, 0x80], out var entry));
        Assert.Equal("\u00FF\u0000\u0080", entry.Uid);
    }

    [Theory]
    [InlineData("")]
    [InlineData("x abc")]
    [InlineData("0 abc")]
    [InlineData("-1 abc")]
    [InlineData("1")]
    [InlineData("1 ")]
    [InlineData("99999999999 abc")]
    public void Bad_uidl_lines_are_refused(string line) =>
        Assert.False(Pop3ResponseParser.TryParseUidl(Encoding.Latin1.GetBytes(line), out _));

    [Theory]
    [InlineData("1 120", 1, 120L)]
    [InlineData("2 98 extra words", 2, 98L)]
    [InlineData("3 99999999999", 3, 99999999999L)]
    public void List_lines_parse(string line, int number, long size)
    {
        Assert.True(Pop3ResponseParser.TryParseList(Encoding.Latin1.GetBytes(line), out var entry));
        Assert.Equal(new Pop3ListEntry(number, size), entry);
    }

    [Theory]
    [InlineData("1 -5")]
    [InlineData("1 abc")]
    [InlineData("1 99999999999999999999999")]
    [InlineData("1")]
    [InlineData("one 5")]
    public void Bad_list_lines_are_refused(string line) =>
        Assert.False(Pop3ResponseParser.TryParseList(Encoding.Latin1.GetBytes(line), out _));
}
