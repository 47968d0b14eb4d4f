using System.Text;
using Pop3Ingest.Pop3.Tests.Support;

namespace Pop3Ingest.Pop3.Tests;

/// <summary>Recorded dialogs replayed through a stream, whole, one byte per read, and split at every offset.</summary>
public sealed class ReplayTests
{
    private static readonly byte[] s_stuffedMessage = Encoding.ASCII.GetBytes(
        "From: a@example.com\r\nSubject: dots\r\n\r\n.leading dot\r\n..\r\n.\r\n not the end\r\nlast\r\n");

    private static IReadOnlyList<Exchange> Concat(params IReadOnlyList<Exchange>[] parts) => parts.SelectMany(p => p).ToList();

    private static async Task<(byte[] Message, bool Committed, ReplayStream Stream)> RunRetrAsync(
        IReadOnlyList<Exchange> dialog, int maxRead = int.MaxValue, int? splitAt = null)
    {
        var stream = new ReplayStream(dialog, maxRead, splitAt);
        await using var client = new Pop3Client(Dialog.Options(), stream);
        await client.ConnectAsync();
        await client.AuthenticateAsync(Pop3Credentials.FromPassword("alice", "secret-pw"), Pop3AuthMethod.UserPass);
        await using var message = await client.RetrieveAsync(1);
        var copy = new MemoryStream();
        await message.CopyToAsync(copy);
        Assert.True(message.IsCompleted);
        var committed = await client.QuitAsync();
        return (copy.ToArray(), committed, stream);
    }

    [Fact]
    public async Task Stuffed_message_is_unstuffed_whole()
    {
        var dialog = Concat(Dialog.Load("dovecot", "login"), Dialog.Load("dovecot", "retr-stuffed"));
        var (message, committed, stream) = await RunRetrAsync(dialog);
        Assert.Equal(s_stuffedMessage, message);
        Assert.True(committed);
        Assert.True(stream.AllConsumed);
    }

    [Fact]
    public async Task Stuffed_message_is_unstuffed_one_byte_per_read()
    {
        var dialog = Concat(Dialog.Load("dovecot", "login"), Dialog.Load("dovecot", "retr-stuffed"));
        var (message, _, _) = await RunRetrAsync(dialog, maxRead: 1);
        Assert.Equal(s_stuffedMessage, message);
    }

    [Fact]
    public async Task Stuffed_message_is_unstuffed_at_every_split_offset()
    {
        var dialog = Concat(Dialog.Load("dovecot", "login"), Dialog.Load("dovecot", "retr-stuffed"));
        var total = dialog.Sum(e => e.Response.Length);
        for (var split = 0; split <= total; split++)
        {
            var (message, committed, _) = await RunRetrAsync(dialog, splitAt: split);
            Assert.True(s_stuffedMessage.AsSpan().SequenceEqual(message), $"split at {split}");
            Assert.True(committed);
        }
    }

    [Fact]
    public async Task Bare_lf_responses_and_terminator_are_accepted_at_every_split()
    {
        var dialog = Concat(Dialog.Load("dovecot", "login"), Dialog.Load("dovecot", "retr-bare-lf"));
        var total = dialog.Sum(e => e.Response.Length);
        for (var split = 0; split <= total; split++)
        {
            var (message, committed, _) = await RunRetrAsync(dialog, splitAt: split);
            Assert.Equal("Subject: lf\n\n.x\nbody\n", Encoding.ASCII.GetString(message));
            Assert.True(committed);
        }
    }

    [Fact]
    public async Task Listing_is_read_and_pipelined_when_advertised()
    {
        var dialog = Concat(Dialog.Load("dovecot", "login"), Dialog.Load("dovecot", "listing"));
        for (var maxRead = 1; maxRead <= 64; maxRead *= 4)
        {
            var stream = new ReplayStream(dialog, maxRead);
            await using var client = new Pop3Client(Dialog.Options(), stream);
            await client.ConnectAsync();
            await client.AuthenticateAsync(Pop3Credentials.FromPassword("alice", "secret-pw"), Pop3AuthMethod.UserPass);
            Assert.True(client.IsPipelining);
            var (uidls, sizes) = await client.GetUidlsAndSizesAsync();
            Assert.Equal(["00000001562f1a2b", "00000002562f1a2b", "00000003562f1a2b"], uidls.Select(u => u.Uid));
            Assert.Equal([120L, 98L, 4021L], sizes.Select(s => s.Size));
            Assert.True(stream.AllConsumed);
        }
    }

    [Fact]
    public async Task Quit_refused_reports_nothing_committed()
    {
        var dialog = Concat(Dialog.Load("dovecot", "login"), Dialog.Load("dovecot", "quit-err"));
        await using var client = new Pop3Client(Dialog.Options(), new ReplayStream(dialog));
        await client.ConnectAsync();
        await client.AuthenticateAsync(Pop3Credentials.FromPassword("alice", "secret-pw"), Pop3AuthMethod.UserPass);
        await client.DeleteAsync(1);
        Assert.False(await client.QuitAsync());
        Assert.Equal(Pop3SessionState.Closed, client.State);
    }

    [Fact]
    public async Task Early_end_of_stream_mid_message_is_an_error_never_a_short_message()
    {
        var dialog = Concat(Dialog.Load("dovecot", "login"), Dialog.Parse("C: RETR 1\nS: +OK\nS: Subject: cut\nS:\nS: half a bo"));
        await using var client = new Pop3Client(Dialog.Options(), new ReplayStream(dialog));
        await client.ConnectAsync();
        await client.AuthenticateAsync(Pop3Credentials.FromPassword("alice", "secret-pw"), Pop3AuthMethod.UserPass);
        var message = await client.RetrieveAsync(1);
        var error = await Assert.ThrowsAsync<Pop3ConnectionException>(() => message.CopyToAsync(Stream.Null));
        Assert.Contains("before the end of the message", error.Message, StringComparison.Ordinal);
        Assert.Equal(Pop3SessionState.Broken, client.State);
    }

    [Fact]
    public async Task Trace_shows_commands_but_never_secrets()
    {
        var trace = new RecordingTrace();
        var dialog = Concat(Dialog.Load("dovecot", "login"));
        await using var client = new Pop3Client(Dialog.Options(trace), new ReplayStream(dialog));
        await client.ConnectAsync();
        await client.AuthenticateAsync(Pop3Credentials.FromPassword("alice", "secret-pw"), Pop3AuthMethod.UserPass);
        Assert.Contains("USER alice", trace.Sent);
        Assert.Contains("PASS ********", trace.Sent);
        Assert.DoesNotContain(trace.Sent.Concat(trace.Received), l => l.Contains("secret-pw", StringComparison.Ordinal));
        Assert.Contains("+OK Logged in.", trace.Received);
    }
}

internal sealed class RecordingTrace : IPop3Trace
{
    public List<string> Sent { get; } = [];

    public List<string> Received { get; } = [];

    public bool IsEnabled => true;

    void IPop3Trace.Sent(string line) => Sent.Add(line);

    void IPop3Trace.Received(string line) => Received.Add(line);
}

/// <summary>The same recorded dialogs, served over a real loopback socket.</summary>
public sealed class ServedDialogTests
{
    [Fact]
    public async Task Recorded_dovecot_dialog_over_a_socket_gives_the_same_message()
    {
        var dialog = Dialog.Load("dovecot", "login").Concat(Dialog.Load("dovecot", "retr-stuffed")).ToList();
        await using var server = Dialog.Serve(dialog);
        await using var client = new Pop3Client(server.Options());
        await client.ConnectAsync();
        await client.AuthenticateAsync(Pop3Credentials.FromPassword("alice", "secret-pw"), Pop3AuthMethod.UserPass);
        await using var message = await client.RetrieveAsync(1);
        var copy = new MemoryStream();
        await message.CopyToAsync(copy);
        Assert.Equal("From: a@example.com\r\nSubject: dots\r\n\r\n.leading dot\r\n..\r\n.\r\n not the end\r\nlast\r\n", Encoding.ASCII.GetString(copy.ToArray()));
        Assert.True(await client.QuitAsync());
        Assert.Empty(server.Failures);
    }
}
