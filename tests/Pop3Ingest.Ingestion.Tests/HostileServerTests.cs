using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Pop3Ingest.Ingestion.Ledger;
using Pop3Ingest.Ingestion.Pipeline;
using Pop3Ingest.Ingestion.Storage;
using Pop3Ingest.Ingestion.Tests.Support;
using Pop3Ingest.Pop3;
using Pop3Ingest.Pop3.Tests.Support;

namespace Pop3Ingest.Ingestion.Tests;

/// <summary>
/// A maildrop that misbehaves in many ways, each with its expected outcome. In every case: no exception escapes,
/// the run ends within its timeouts, no file lands outside the store, and no message is DELEted unless stored.
/// </summary>
public sealed class HostileServerTests
{
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(20);

    private sealed record Case(
        Action<FakeMailbox> Setup,
        RunOutcome Outcome,
        FailureKind Kind,
        Action<RunResult, FakeMailbox, IngestionHarness>? Check = null,
        Func<AccountSettings, AccountSettings>? Account = null);

    private static string Mail(int i, string body = "") => $"Subject: {i}\r\nFrom: a@example.org\r\n\r\nbody {i}{body}\r\n";

    private static Func<string, ScriptedConnection, Task<bool>> On(string verb, Func<ScriptedConnection, Task> answer) =>
        async (line, c) =>
        {
            if (!line.StartsWith(verb, StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }

            await answer(c);
            return true;
        };

    private const string Secret = "hunter2-secret";

    private static AccountSettings WithSecret(AccountSettings account) =>
        account with { Credentials = _ => ValueTask.FromResult(Pop3Credentials.FromPassword("u", Secret)) };

    /// <summary>Wherever server text goes: the run's error (once's table, /status), every log line (the wire trace too), the ledger's last errors.</summary>
    private static void AssertSecretAbsent(RunResult? result, IngestionHarness harness)
    {
        Assert.DoesNotContain(Secret, result?.Error ?? string.Empty, StringComparison.Ordinal);
        Assert.DoesNotContain(harness.Log.Entries, e => e.Message.Contains(Secret, StringComparison.Ordinal));
        Assert.Contains(harness.Log.Entries, e => e.Message.Contains("********", StringComparison.Ordinal));
        var rows = harness.Ledger.GetAccountAsync("acct", CancellationToken.None).GetAwaiter().GetResult();
        Assert.DoesNotContain(rows, r => (r.LastError ?? string.Empty).Contains(Secret, StringComparison.Ordinal));
    }

    private static readonly Dictionary<string, Case> s_cases = new()
    {
        ["silent_server_never_greets"] = new(m => m.Greeting = null, RunOutcome.Failed, FailureKind.Connection,
            Account: a => a with { Client = a.Client with { Timeout = TimeSpan.FromMilliseconds(400) } }),
        ["garbage_greeting"] = new(m => m.Greeting = "220 smtp.example.com ESMTP", RunOutcome.Failed, FailureKind.Protocol),
        ["err_greeting"] = new(m => m.Greeting = "-ERR [SYS/TEMP] overloaded", RunOutcome.Failed, FailureKind.Server),
        ["nul_bytes_in_greeting"] = new(m => m.Greeting = "\0\0\0", RunOutcome.Failed, FailureKind.Protocol),
        ["invalid_utf8_in_greeting_is_harmless"] = new(m => m.Greeting = "+OK \u00ff\u00fe\u00c3 ready", RunOutcome.Succeeded, FailureKind.None,
            (r, _, _) => Assert.Equal(3, r.Stored)),
        ["overlong_greeting_without_line_end"] = new(m => m.Greeting = "+OK " + new string('x', 200_000), RunOutcome.Failed, FailureKind.Protocol),
        ["capa_listing_never_ends"] = new(m => m.Intercept = On("CAPA", async c =>
        {
            await c.SendLineAsync("+OK");
            for (var i = 0; i < 100_000; i++)
            {
                await c.SendLineAsync("X-PADDING " + new string('p', 100));
            }
        }), RunOutcome.Failed, FailureKind.Protocol, Account: a => a with { Client = a.Client with { MaxListingBytes = 256 * 1024 } }),
        ["capa_trickles_forever"] = new(m => m.Intercept = On("CAPA", async c =>
        {
            await c.SendLineAsync("+OK");
            for (var i = 0; i < 1000; i++)
            {
                await c.SendLineAsync("X-SLOW");
                await Task.Delay(100);
            }
        }), RunOutcome.Failed, FailureKind.Connection, Account: a => a with { Client = a.Client with { Timeout = TimeSpan.FromMilliseconds(800) } }),
        ["garbage_answer_to_pass"] = new(m => m.Intercept = On("PASS", c => c.SendLineAsync("HTTP/1.1 400 Bad Request")), RunOutcome.Failed, FailureKind.Protocol),
        ["sasl_continuation_to_uidl"] = new(m => m.Intercept = On("UIDL", c => c.SendLineAsync("+ ")), RunOutcome.Failed, FailureKind.Protocol),
        ["malformed_uidl_line"] = new(m => m.UidlLines = _ => ["1 a", "two b", "3 c"], RunOutcome.Failed, FailureKind.Protocol),
        ["message_number_zero_in_uidl"] = new(m => m.UidlLines = _ => ["0 zero", "1 a"], RunOutcome.Failed, FailureKind.Protocol),
        ["negative_list_size"] = new(m => m.ListSize = u => u == "uid-2" ? -5 : null, RunOutcome.Failed, FailureKind.Protocol),
        ["absurd_list_size_with_a_limit_is_left_on_the_server"] = new(m => m.ListSize = u => u == "uid-2" ? 99_999_999_999_999 : null,
            RunOutcome.Succeeded, FailureKind.None, (r, m, _) =>
            {
                Assert.Equal(1, r.Oversize);
                Assert.Contains(m.Live, x => x.Uidl == "uid-2");
            }, a => a with { MaxMessageBytes = 10_000_000 }),
        ["absurd_list_size_without_a_limit_stores_what_arrives"] = new(m => m.ListSize = u => u == "uid-2" ? 99_999_999_999_999 : null,
            RunOutcome.Succeeded, FailureKind.None, (r, m, h) => Assert.Equal(m.Messages[1].Content, h.ReadStored("uid-2"))),
        ["retr_longer_than_list_said"] = new(m => m.ListSize = _ => 3, RunOutcome.Succeeded, FailureKind.None,
            (r, m, h) => Assert.Equal(m.Messages[0].Content, h.ReadStored("uid-1"))),
        ["retr_shorter_than_list_said"] = new(m => m.ListSize = _ => 10_000_000, RunOutcome.Succeeded, FailureKind.None,
            (r, m, h) => Assert.Equal(m.Messages[2].Content, h.ReadStored("uid-3"))),
        ["duplicate_uidls"] = new(m => m.UidlLines = n => n.Select(x => $"{x.Number} same"), RunOutcome.Succeeded, FailureKind.None,
            (r, m, _) =>
            {
                Assert.Equal(0, r.Stored);
                Assert.Equal(3, m.Live.Count);
            }),
        ["uidl_with_spaces"] = new(m => m.Messages[0] = new FakeMessage("a b c", m.Messages[0].Content), RunOutcome.Succeeded, FailureKind.None,
            (r, _, _) => Assert.Equal(3, r.Stored)),
        ["uidl_with_slashes_and_dots"] = new(m => m.Messages[0] = new FakeMessage("../../../etc/passwd", m.Messages[0].Content),
            RunOutcome.Succeeded, FailureKind.None, (r, _, _) => Assert.Equal(3, r.Stored)),
        ["uidl_with_control_characters"] = new(m => m.Messages[0] = new FakeMessage("\u0001\u001b[2J\u007f", m.Messages[0].Content),
            RunOutcome.Succeeded, FailureKind.None, (r, _, _) => Assert.Equal(3, r.Stored)),
        ["very_long_uidl"] = new(m => m.Messages[0] = new FakeMessage(new string('u', 4000), m.Messages[0].Content),
            RunOutcome.Succeeded, FailureKind.None, (r, _, _) => Assert.Equal(3, r.Stored)),
        ["uidl_number_that_retr_refuses"] = new(m => m.RetrRefused = u => u == "uid-2", RunOutcome.Succeeded, FailureKind.None,
            (r, m, _) =>
            {
                Assert.Equal(1, r.Failed);
                Assert.Equal(["uid-2"], m.Live.Select(x => x.Uidl));
            }),
        ["uidl_number_missing_from_list"] = new(m => m.UidlLines = n => n.Select(x => $"{x.Number} {x.Message.Uidl}").Append("9 ghost"),
            RunOutcome.Succeeded, FailureKind.None, (r, _, _) =>
            {
                Assert.Equal(3, r.Stored);
                Assert.Equal(1, r.Failed);
            }),
        ["server_answers_before_the_command"] = new(m => m.Intercept = On("PASS", async c =>
        {
            await c.SendAsync("+OK logged in\r\n+OK extra\r\n");
        }), RunOutcome.Failed, FailureKind.Protocol),
        ["reset_mid_retr"] = new(m => m.RetrDropAfter = u => u == "uid-2" ? 20 : null, RunOutcome.Failed, FailureKind.Connection,
            (_, m, _) => Assert.Equal(3, m.Live.Count)),
        ["retr_that_never_ends"] = new(m => m.Intercept = On("RETR 2", async c =>
        {
            await c.SendAsync("+OK\r\nSubject: endless\r\n\r\n");
            await Task.Delay(TimeSpan.FromSeconds(30));
        }), RunOutcome.Failed, FailureKind.Connection, Account: a => a with { Client = a.Client with { Timeout = TimeSpan.FromMilliseconds(500) } }),
        ["status_line_without_crlf_then_stall"] = new(m => m.Intercept = On("UIDL", async c =>
        {
            await c.SendAsync("+OK");
            await Task.Delay(TimeSpan.FromSeconds(30));
        }), RunOutcome.Failed, FailureKind.Connection, Account: a => a with { Client = a.Client with { Timeout = TimeSpan.FromMilliseconds(500) } }),
        ["slow_drip_feed_past_the_session_deadline"] = new(m => m.Intercept = On("RETR 1", async c =>
        {
            await c.SendAsync("+OK\r\n");
            for (var i = 0; i < 10_000; i++)
            {
                await c.SendAsync("x");
                await Task.Delay(50);
            }
        }), RunOutcome.Failed, FailureKind.Connection,
            Account: a => a with { Client = a.Client with { Timeout = TimeSpan.FromSeconds(1), SessionTimeout = TimeSpan.FromSeconds(3) } }),
        ["reset_after_dele"] = new(m => m.Intercept = On("DELE", c =>
        {
            c.Reset();
            return Task.CompletedTask;
        }), RunOutcome.Failed, FailureKind.Connection, (_, m, _) => Assert.Equal(3, m.Live.Count)),
        ["err_on_quit"] = new(m => m.QuitError = true, RunOutcome.Failed, FailureKind.Server, (_, m, _) => Assert.Equal(3, m.Live.Count)),
        ["err_on_dele"] = new(m => m.DeleRefused = _ => true, RunOutcome.Succeeded, FailureKind.None, (r, m, _) =>
        {
            Assert.Equal(0, r.Deleted);
            Assert.Equal(3, m.Live.Count);
        }),
        ["one_megabyte_line_in_a_body"] = new(m => m.Messages[1] = new FakeMessage("uid-2", Encoding.ASCII.GetBytes(Mail(2, new string('L', 1_000_000)))),
            RunOutcome.Succeeded, FailureKind.None, (_, m, h) => Assert.Equal(m.Messages[1].Content, h.ReadStored("uid-2"))),
        ["nul_and_high_bytes_in_a_body"] = new(m => m.Messages[1] = new FakeMessage("uid-2", [.. Encoding.ASCII.GetBytes("Subject: x\r\n\r\n"), 0, 0xFF, 0x80, 0, 13, 10]),
            RunOutcome.Succeeded, FailureKind.None, (_, m, h) => Assert.Equal(m.Messages[1].Content, h.ReadStored("uid-2"))),
        ["empty_message"] = new(m => m.Messages[1] = new FakeMessage("uid-2", []), RunOutcome.Succeeded, FailureKind.None,
            (_, _, h) => Assert.Equal("\r\n"u8.ToArray(), h.ReadStored("uid-2"))),
        ["message_of_dot_lines"] = new(m => m.Messages[1] = new FakeMessage("uid-2", Encoding.ASCII.GetBytes(".\r\n..\r\n...\r\n. \r\n.x\r\n")),
            RunOutcome.Succeeded, FailureKind.None, (_, m, h) => Assert.Equal(m.Messages[1].Content, h.ReadStored("uid-2"))),
        ["in_use_at_login"] = new(m => m.PassError = "-ERR [IN-USE] locked", RunOutcome.Busy, FailureKind.Busy),
        ["server_echoes_the_password_at_login"] = new(m => m.PassError = $"-ERR [AUTH] invalid login for password '{Secret}'", RunOutcome.Failed,
            FailureKind.Authentication, (r, _, h) => AssertSecretAbsent(r, h), WithSecret),
        ["server_echoes_the_password_refusing_a_message"] = new(m => m.Intercept = On("RETR 2", c => c.SendLineAsync($"-ERR cannot open mailbox of u/{Secret}")),
            RunOutcome.Succeeded, FailureKind.None, (r, _, h) =>
            {
                Assert.Equal(1, r.Failed);
                AssertSecretAbsent(r, h);
            }, WithSecret),
        ["server_echoes_the_password_quitting"] = new(m => m.Intercept = On("QUIT", c => c.SendLineAsync($"-ERR [SYS/TEMP] {Secret}")),
            RunOutcome.Failed, FailureKind.Server, (r, _, h) => AssertSecretAbsent(r, h), WithSecret),
        ["uidl_with_terminal_escapes_is_escaped_in_every_log_line"] = new(m =>
            {
                m.Messages[0] = new FakeMessage("evil\u001b[2J\rok", m.Messages[0].Content);
                m.RetrRefused = u => u.StartsWith("evil", StringComparison.Ordinal);
            },
            RunOutcome.Succeeded, FailureKind.None, (r, _, h) =>
            {
                Assert.Equal(1, r.Failed);
                Assert.Contains(h.Log.Entries, e => e.Id.Id == 3005 && e.Message.Contains("evil\\x1B[2J\\x0Dok", StringComparison.Ordinal));
                Assert.DoesNotContain(h.Log.Entries, e => e.Message.Any(c => c is '\u001b' or '\r'));
            }),
        ["no_uidl_support"] = new(m => m.NoUidl = true, RunOutcome.Failed, FailureKind.NoUidl, (_, m, _) => Assert.Equal(0, m.RetrCount)),
    };

    public static TheoryData<string> Cases() => [.. s_cases.Keys];

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Hostile_server(string name)
    {
        var hostile = s_cases[name];
        await using var mailbox = new FakeMailbox();
        for (var i = 1; i <= 3; i++)
        {
            mailbox.Add($"uid-{i}", Mail(i));
        }

        hostile.Setup(mailbox);
        await using var harness = await IngestionHarness.CreateAsync();
        var account = harness.Account(mailbox, a => a with { Client = a.Client with { Timeout = TimeSpan.FromSeconds(2), SessionTimeout = TimeSpan.FromSeconds(10) } });
        if (hostile.Account is not null)
        {
            account = hostile.Account(account);
        }

        var watch = Stopwatch.StartNew();
        var result = await harness.RunAsync(account);
        watch.Stop();

        Assert.True(watch.Elapsed < s_bound, $"the run took {watch.Elapsed}");
        Assert.True(hostile.Outcome == result.Outcome && hostile.Kind == result.FailureKind,
            $"expected {hostile.Outcome}/{hostile.Kind}, got {result.Outcome}/{result.FailureKind}: {result.Error}");
        if (result.IsFailure)
        {
            Assert.False(string.IsNullOrWhiteSpace(result.Error));
        }

        var stored = harness.StoredFiles().Select(f => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(f)))).ToHashSet(StringComparer.Ordinal);
        foreach (var deleted in mailbox.DeleRequested)
        {
            var content = deleted.Content.Length == 0 || deleted.Content[^1] != '\n' ? [.. deleted.Content, 13, 10] : deleted.Content;
            Assert.True(stored.Contains(Convert.ToHexStringLower(SHA256.HashData(content))) || stored.Contains(Convert.ToHexStringLower(SHA256.HashData(deleted.Content))),
                $"DELE was sent for {deleted.Uidl}, which is not in the store");
        }

        Assert.All(Directory.EnumerateFileSystemEntries(harness.Root), p =>
            Assert.True(p == harness.StoreRoot || Path.GetFileName(p).StartsWith("ledger.db", StringComparison.Ordinal), $"unexpected {p}"));
        StoreFolder.AssertNoPartialFiles(harness.StoreRoot);
        hostile.Check?.Invoke(result, mailbox, harness);
    }
}
