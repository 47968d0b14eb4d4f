using Pop3Ingest.Benchmarks.Common;

namespace Pop3Ingest.Benchmarks.Drain;

/// <summary>
/// fetchmail in keep mode (<c>keep fetchall</c>, no limits) delivering to a Maildir through an MDA. fetchmail has no
/// Maildir writer of its own: it hands each message to an SMTP listener or to an MDA. With no MTA installed, the honest
/// equivalent of the usual procmail/maildrop setup is a minimal /bin/sh MDA that writes the message to tmp/ and renames
/// it into new/ (one sh, cat and mv per message); that per-message process is how fetchmail delivers.
/// </summary>
internal sealed class FetchmailClient(DrainTarget target) : DrainClient(target)
{
    public const string Binary = "/usr/bin/fetchmail";

    private const string MdaScript = """
        #!/bin/sh
        # Maildir delivery for fetchmail: stdin to $1/tmp/<unique>, then rename into $1/new (the Maildir protocol).
        set -e
        f="$$"
        while [ -e "$1/tmp/$f" ] || [ -e "$1/new/$f" ]; do f="$f.x"; done
        cat > "$1/tmp/$f"
        mv "$1/tmp/$f" "$1/new/$f"

        """;

    public override string Name => "fetchmail";

    public override async Task<DrainRun> RunAsync(DrainMailbox mailbox, string runDirectory, CancellationToken cancellationToken)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("The benchmark runs on Linux.");
        }

        var maildir = CreateMaildir(Path.Combine(runDirectory, "Maildir"));
        var home = Directory.CreateDirectory(Path.Combine(runDirectory, "fetchmail")).FullName;
        File.SetUnixFileMode(home, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var mda = Path.Combine(runDirectory, "maildir-mda.sh");
        File.WriteAllText(mda, MdaScript);
        File.SetUnixFileMode(mda, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        // sslproto "" turns off opportunistic STLS (Dovecot offers it); limit/fetchlimit/batchlimit/fetchsizelimit 0: no limits.
        var rc = WritePrivateFile(Path.Combine(home, "fetchmailrc"), $"""
            set no syslog
            set no bouncemail
            poll {mailbox.Host} protocol POP3 port {mailbox.Port} auth password
              user "{mailbox.User}" there with password "{mailbox.Password}" is root here
              keep fetchall no rewrite
              sslproto ""
              limit 0 fetchlimit 0 batchlimit 0 fetchsizelimit 0
              mda "/bin/sh {mda} {maildir}"
            """ + "\n");
        var environment = new Dictionary<string, string> { ["FETCHMAILHOME"] = home, ["HOME"] = home };
        var measured = await Measured.RunAsync(
            Binary,
            ["-f", rc, "--idfile", Path.Combine(home, "fetchids"), "--pidfile", Path.Combine(home, "fetchmail.pid"), "--silent", "--keep", "--fetchall", "--nodetach"],
            runDirectory, environment, RunTimeout, cancellationToken);

        // fetchmail(1) EXIT CODES: 0 messages retrieved; 1 no mail waiting (wrong here: the mailbox is never empty).
        return DrainRun.From(measured, Check(measured, measured.ExitCode == 0, CountMaildir(maildir), mailbox.Corpus.Count));
    }
}
