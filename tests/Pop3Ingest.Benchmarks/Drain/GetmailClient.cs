using Pop3Ingest.Benchmarks.Common;

namespace Pop3Ingest.Benchmarks.Drain;

/// <summary>
/// getmail6: SimplePOP3Retriever into a Maildir destination, <c>delete = false</c>, <c>read_all = true</c>. getmail
/// refuses to deliver as root, so it runs as the mail user through setpriv (which execs it: GNU time measures getmail).
/// getmail forks a child per delivered message and sometimes misses the child's exit (a known getmail6 bug, reported
/// upstream: https://github.com/getmail6/getmail6/issues/52 and /226), then gives up after its socket timeout ("waiting child
/// pid N timed out"); <c>timeout = 30</c> bounds such a failed run.
/// </summary>
internal sealed class GetmailClient(DrainTarget target) : DrainClient(target)
{
    public const string Binary = "/usr/bin/getmail";

    /// <summary>An unprivileged user that exists on test machines (install-test-deps.sh creates it).</summary>
    private const string RunAs = Pop3Ingest.IntegrationTests.Support.DovecotServer.MailUserName;

    public override string Name => "getmail6";

    public override async Task<DrainRun> RunAsync(DrainMailbox mailbox, string runDirectory, CancellationToken cancellationToken)
    {
        var maildir = CreateMaildir(Path.Combine(runDirectory, "Maildir"));
        var getmailDirectory = Directory.CreateDirectory(Path.Combine(runDirectory, "getmail")).FullName;
        var rc = WritePrivateFile(Path.Combine(getmailDirectory, "getmailrc"), $"""
            [retriever]
            type = SimplePOP3Retriever
            server = {mailbox.Host}
            port = {mailbox.Port}
            username = {mailbox.User}
            password = {mailbox.Password}
            timeout = 30

            [destination]
            type = Maildir
            path = {maildir}/

            [options]
            delete = false
            read_all = true
            verbose = 0
            message_log_syslog = false
            """ + "\n");
        await CorpusSeeder.ChownAsync(runDirectory, RunAs, cancellationToken);
        var measured = await Measured.RunAsync(
            "/usr/bin/setpriv",
            [$"--reuid={RunAs}", $"--regid={RunAs}", "--clear-groups", Binary, "--rcfile", rc, "--getmaildir", getmailDirectory],
            runDirectory, new Dictionary<string, string> { ["HOME"] = runDirectory }, RunTimeout, cancellationToken);
        return DrainRun.From(measured, Check(measured, measured.ExitCode == 0, CountMaildir(maildir), mailbox.Corpus.Count));
    }
}
