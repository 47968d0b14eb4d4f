using static Pop3Ingest.Mime.Tests.Support.Mailbox;

namespace Pop3Ingest.Mime.Tests;

public sealed class AddressParserTests
{
    public static TheoryData<string, MailboxAddress[]> Cases => new()
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
        { "\"plain\"@example.com", [Of("plain@example.com")] },
        { "user@[IPv6:2001:db8::1]", [Of("user@[IPv6:2001:db8::1]")] },
        { "Unclosed <a@b.c, next@d.e", [Of("Unclosed", "a@b.c"), Of("next@d.e")] },
        { "\"Unterminated quote <a@b.c>", [] },
        { "(unterminated comment a@b.c", [] },
        { ",,, a@b.c ,,", [Of("a@b.c")] },
        { "Jürgen <j@ü.example>", [Of("Jürgen", "j@ü.example")] },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Parses(string value, MailboxAddress[] expected) => Assert.Equal(expected, AddressParser.Parse(value));
}
