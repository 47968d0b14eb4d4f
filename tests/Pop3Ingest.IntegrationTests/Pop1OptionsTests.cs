using Microsoft.Extensions.Configuration;
using Pop3Ingest.Ingestion.Mailbox;
using Pop3Ingest.Ingestion.Pipeline;
using Pop3Ingest.Pop3;
using Pop3Ingest.Worker.Options;

namespace Pop3Ingest.IntegrationTests;

/// <summary>A POP1 account's keys: what it needs, what it refuses when set on it, what it ignores when inherited.</summary>
public sealed class Pop1OptionsTests
{
    private static (Pop3IngestOptions Options, IReadOnlyList<string> Errors) Validate(Dictionary<string, string?> values)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(values).Build();
        var options = new Pop3IngestOptions();
        OptionsSetup.Bind(options, configuration);
        OptionsSetup.Apply(options, configuration, "/srv/pop3ingest");
        var result = new Pop3IngestOptionsValidator(configuration, null).Validate(null, options);
        return (options, result.Failed ? [.. result.Failures!] : []);
    }

    private static Dictionary<string, string?> Pop1() => new()
    {
        ["Pop3Ingest:Defaults:Interval"] = "00:05:00",
        ["Pop3Ingest:Accounts:Old:Protocol"] = "Pop1",
        ["Pop3Ingest:Accounts:Old:Host"] = "pop1.example.com",
        ["Pop3Ingest:Accounts:Old:Port"] = "1109",
        ["Pop3Ingest:Accounts:Old:Mailbox"] = "alice",
        ["Pop3Ingest:Accounts:Old:Username"] = "alice",
        ["Pop3Ingest:Accounts:Old:Password"] = "pw",
    };

    [Fact]
    public void A_pop1_account_is_valid_with_port_mailbox_and_tls()
    {
        var (options, errors) = Validate(Pop1());
        Assert.Empty(errors);
        var account = options.Accounts["old"];
        Assert.Equal(MailboxProtocol.Pop1, account.Protocol);
        Assert.Equal("alice", account.Mailbox);
        Assert.Equal(Pop3Security.Tls, account.Security);
    }

    [Theory]
    [InlineData("Port", null, "Pop3Ingest:Accounts:old:Port is required with Protocol Pop1")]
    [InlineData("Mailbox", null, "Pop3Ingest:Accounts:old:Mailbox is required with Protocol Pop1")]
    [InlineData("Mailbox", "two words", "Pop3Ingest:Accounts:old:Mailbox holds a space")]
    [InlineData("Security", "None", "Pop3Ingest:Accounts:old:Security is None, which would send the password in clear text")]
    [InlineData("Security", "StartTls", "Pop3Ingest:Accounts:old:Security StartTls cannot apply to a POP1 account")]
    [InlineData("DeletePolicy", "AfterDays", "Pop3Ingest:Accounts:old:DeletePolicy AfterDays cannot apply to a POP1 account")]
    [InlineData("DeleteAfterDays", "3", "Pop3Ingest:Accounts:old:DeleteAfterDays cannot apply to a POP1 account")]
    [InlineData("Auth", "Apop", "Pop3Ingest:Accounts:old:Auth Apop cannot apply to a POP1 account")]
    [InlineData("Pipelining", "true", "Pop3Ingest:Accounts:old:Pipelining cannot apply to a POP1 account")]
    [InlineData("AllowNoUidl", "true", "Pop3Ingest:Accounts:old:AllowNoUidl cannot apply to a POP1 account")]
    [InlineData("MaxMessagesPerRun", "10", "Pop3Ingest:Accounts:old:MaxMessagesPerRun cannot apply to a POP1 account")]
    [InlineData("MaxBytesPerRun", "1000", "Pop3Ingest:Accounts:old:MaxBytesPerRun cannot apply to a POP1 account")]
    public void A_key_pop1_cannot_honour_is_refused_when_set_on_the_account(string key, string? value, string expected)
    {
        var values = Pop1();
        values[$"Pop3Ingest:Accounts:Old:{key}"] = value;
        var (_, errors) = Validate(values);
        Assert.Contains(errors, e => e.StartsWith(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void The_same_values_inherited_from_defaults_are_ignored_for_the_pop1_account_and_kept_for_pop3()
    {
        var values = Pop1();
        values["Pop3Ingest:Defaults:DeletePolicy"] = "AfterDays";
        values["Pop3Ingest:Defaults:DeleteAfterDays"] = "7";
        values["Pop3Ingest:Defaults:Security"] = "StartTls";
        values["Pop3Ingest:Defaults:Auth"] = "Plain";
        values["Pop3Ingest:Defaults:MaxMessagesPerRun"] = "50";
        values["Pop3Ingest:Defaults:Pipelining"] = "true";
        values["Pop3Ingest:Accounts:New:Host"] = "pop3.example.com";
        values["Pop3Ingest:Accounts:New:Username"] = "bob";
        values["Pop3Ingest:Accounts:New:Password"] = "pw";
        var (options, errors) = Validate(values);
        Assert.Empty(errors);
        var pop1 = options.Accounts["old"];
        Assert.Equal(DeletePolicy.AfterStore, pop1.DeletePolicy);
        Assert.Equal(0, pop1.DeleteAfterDays);
        Assert.Equal(Pop3Security.Tls, pop1.Security);
        Assert.Equal(Pop3AuthMethod.Auto, pop1.Auth);
        Assert.Equal(0, pop1.MaxMessagesPerRun);
        Assert.False(pop1.Pipelining);
        var pop3 = options.Accounts["new"];
        Assert.Equal(DeletePolicy.AfterDays, pop3.DeletePolicy);
        Assert.Equal(Pop3Security.StartTls, pop3.Security);
        Assert.Equal(50, pop3.MaxMessagesPerRun);
    }

    [Fact]
    public void Mailbox_is_refused_on_a_pop3_account()
    {
        var values = Pop1();
        values["Pop3Ingest:Accounts:Old:Protocol"] = null;
        values["Pop3Ingest:Accounts:Old:Port"] = null;
        var (_, errors) = Validate(values);
        Assert.Contains(errors, e => e.StartsWith("Pop3Ingest:Accounts:old:Mailbox applies only to Protocol Pop1", StringComparison.Ordinal));
    }
}
