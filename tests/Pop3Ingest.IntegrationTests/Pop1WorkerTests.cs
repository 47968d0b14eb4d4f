using System.Text;
using System.Text.Json.Nodes;
using Pop3Ingest.IntegrationTests.Support;
using Pop3Ingest.Pop3.Tests.Support;
using Xunit.Abstractions;

namespace Pop3Ingest.IntegrationTests;

/// <summary>
/// A POP1 (RFC 918) account through the worker process, against the scripted RFC 918 server: SIGKILLs at random
/// instants lose and duplicate nothing (RCVD deletes the whole mailbox, so it may only be sent once every message is
/// durable); <c>check</c> opens the mailbox with RETR and aborts with RSET; the verbs that need UIDLs refuse the
/// account; a key POP1 cannot honour stops the start with exit 2.
/// </summary>
[Trait("Category", WorkerProcess.Category)]
[Collection(SerialCollection.Name)]
public sealed class Pop1WorkerTests(ITestOutputHelper output) : IDisposable
{
    private const string Box = "crash";
    private static readonly TimeSpan s_timeout = TimeSpan.FromMinutes(2);
    private readonly string _folder = Directory.CreateTempSubdirectory("p3i-pop1-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string StoreRoot => Path.Combine(_folder, "data", "mail");

    private static Action<JsonObject> Pop1Account(Action<JsonObject>? more = null) => a =>
    {
        a["Protocol"] = "Pop1";
        a["Mailbox"] = Box;
        more?.Invoke(a);
    };

    /// <summary>Mail appended as an mbox delivery agent writes it: a "From " line, the message, an empty line.</summary>
    private static byte[] MboxEntry(byte[] message, int index) =>
        [.. Encoding.ASCII.GetBytes($"From sender{index}@example.org Fri Dec  4 10:00:00 2026\n"), .. message, (byte)'\n'];

    /// <summary>The messages of the mailbox as the server holds it now (the mboxo rule; test mail has no "From " lines).</summary>
    private static List<string> OnServer(ScriptedPop1Server server)
    {
        var data = Encoding.Latin1.GetString(server.Mailboxes.GetValueOrDefault(Box, []));
        var hashes = new List<string>();
        foreach (var part in data.Split("\nFrom ", StringSplitOptions.None))
        {
            var body = part.StartsWith("From ", StringComparison.Ordinal) ? part : "From " + part;
            if (body.Length <= 5)
            {
                continue;
            }

            // The split on "\nFrom " took the empty line before each separator; the one at the end of the data goes too.
            var message = body[(body.IndexOf('\n', StringComparison.Ordinal) + 1)..];
            message = message.EndsWith("\n\n", StringComparison.Ordinal) ? message[..^1] : message;
            hashes.Add(StoreInspector.Hash(Encoding.Latin1.GetBytes(message)));
        }

        return hashes;
    }

    [Fact]
    public async Task Sigkills_during_pop1_runs_lose_and_duplicate_nothing_and_a_final_run_empties_the_mailbox()
    {
        await using var server = ScriptedPop1Server.Start("fred", "s3cret-pw");
        server.Mailboxes[Box] = [];
        await using var proxy = new ThrottlingProxy(server.Port, 250_000);
        var random = new Random(918);
        var expected = new HashSet<string>(StringComparer.Ordinal);
        var next = 1;
        WorkerConfig.Write(_folder, proxy.Port, "fred", "s3cret-pw", Pop1Account(a => a["Timeout"] = "00:00:15"));

        void Deliver(int count)
        {
            for (var i = 0; i < count; i++, next++)
            {
                var message = TestMessages.Create(next, TestMessages.SizeFor(next), 918);
                server.Append(Box, MboxEntry(message, next));
                expected.Add(StoreInspector.Hash(message));
            }
        }

        const int kills = 20;
        var hits = 0;
        var emptied = 0;
        for (var round = 0; round < kills; round++)
        {
            Deliver(8);
            using var worker = WorkerProcess.Start(_folder, null, "once");
            var started = DateTime.UtcNow;
            while (!worker.HasExited && !worker.Output.Any(l => l.Contains("[3001]", StringComparison.Ordinal)) &&
                   DateTime.UtcNow - started < TimeSpan.FromSeconds(20))
            {
                await Task.Delay(5);
            }

            // Mostly in the middle of the data; one round in three late enough that RCVD was sent, or is being sent.
            await Task.Delay(random.Next(3) == 0 ? random.Next(1500, 4000) : random.Next(10, 900));
            var live = !worker.HasExited && !worker.Output.Any(l => l.Contains("[3002]", StringComparison.Ordinal));
            worker.Kill();
            hits += live ? 1 : 0;
            emptied += server.Mailboxes[Box].Length == 0 ? 1 : 0;
            AssertNothingLostOrDuplicated(server, expected, $"after kill {round + 1}");
        }

        output.WriteLine($"{kills} kills, {hits} landed in a live run, {emptied} after an RCVD; {expected.Count} messages delivered");
        Assert.True(hits * 2 >= kills, $"only {hits} of {kills} kills landed in a live run");
        Assert.True(emptied > 0, "no run got as far as RCVD: the deletion was never exercised under kills");

        WorkerConfig.Write(_folder, server.Port, "fred", "s3cret-pw", Pop1Account());
        var (code, text) = await WorkerProcess.RunAsync(_folder, TimeSpan.FromMinutes(5), null, "once");
        Assert.True(code == 0, text);
        AssertNothingLostOrDuplicated(server, expected, "after the final run");
        Assert.Empty(server.Mailboxes[Box]);
        Assert.Equal(expected.Order(StringComparer.Ordinal), StoreInspector.Hashes(StoreRoot).Order(StringComparer.Ordinal));
        Assert.Empty(server.Failures);
    }

    private void AssertNothingLostOrDuplicated(ScriptedPop1Server server, HashSet<string> expected, string when)
    {
        var stored = StoreInspector.Hashes(StoreRoot);
        Assert.True(stored.Count == stored.Distinct(StringComparer.Ordinal).Count(), $"a message was stored twice {when}");
        Assert.All(stored, h => Assert.Contains(h, expected));
        var present = OnServer(server).Concat(stored).ToHashSet(StringComparer.Ordinal);
        var lost = expected.Where(h => !present.Contains(h)).ToList();
        Assert.True(lost.Count == 0, $"{lost.Count} messages deleted on the server without being stored {when}");
    }

    [Fact]
    public async Task Check_opens_the_pop1_mailbox_with_RETR_aborts_with_RSET_and_deletes_nothing()
    {
        await using var server = ScriptedPop1Server.Start("fred", "s3cret-pw");
        var mail = MboxEntry(TestMessages.Create(1, 3000), 1);
        server.Mailboxes[Box] = mail;
        WorkerConfig.Write(_folder, server.Port, "fred", "s3cret-pw", Pop1Account());

        var (code, text) = await WorkerProcess.RunAsync(_folder, s_timeout, null, "check");

        Assert.True(code == 0, text);
        Assert.Contains("fred: pop1", text, StringComparison.Ordinal);
        Assert.Contains($"mailbox {Box}: {mail.Length} octets", text, StringComparison.Ordinal);
        Assert.Equal(["USER fred", "PASS s3cret-pw", $"RETR {Box}", "RSET", "QUIT"], server.Commands);
        Assert.Equal(mail, server.Mailboxes[Box]);
        Assert.False(Directory.Exists(StoreRoot));

        var (failed, failedText) = await WorkerProcess.RunAsync(_folder, s_timeout,
            new Dictionary<string, string> { ["Pop3Ingest__Accounts__fred__Password"] = "wrong-pw" }, "check");
        Assert.Equal(1, failed);
        Assert.Contains("FAILED", failedText, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-pw", failedText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ledger_seed_refuses_a_pop1_account_without_opening_its_mailbox()
    {
        await using var server = ScriptedPop1Server.Start("fred", "s3cret-pw");
        server.Mailboxes[Box] = MboxEntry(TestMessages.Create(1, 3000), 1);
        WorkerConfig.Write(_folder, server.Port, "fred", "s3cret-pw", Pop1Account());

        var (code, text) = await WorkerProcess.RunAsync(_folder, s_timeout, null, "ledger", "seed", "--account", "fred");

        Assert.NotEqual(0, code);
        Assert.Contains("speaks POP1 (RFC 918), which has no UIDLs", text, StringComparison.Ordinal);
        Assert.Equal(0, server.Connections);
    }

    [Fact]
    public async Task A_key_pop1_cannot_honour_on_the_account_stops_the_start_with_exit_2_and_one_line_naming_it()
    {
        await using var server = ScriptedPop1Server.Start("fred", "s3cret-pw");
        server.Mailboxes[Box] = [];
        WorkerConfig.Write(_folder, server.Port, "fred", "s3cret-pw", Pop1Account(a => a["Pipelining"] = true),
            root => root["Defaults"] = new JsonObject { ["MaxMessagesPerRun"] = 10 });

        var (code, text) = await WorkerProcess.RunAsync(_folder, s_timeout, null, "once");

        Assert.True(code == 2, text);
        var lines = text.Split('\n').Where(l => l.Contains("cannot apply to a POP1 account", StringComparison.Ordinal)).ToList();
        Assert.Single(lines);
        Assert.Contains("Accounts:fred:Pipelining", lines[0], StringComparison.Ordinal);
        Assert.Equal(0, server.Connections);
    }
}
