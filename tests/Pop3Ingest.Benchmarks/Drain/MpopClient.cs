using Pop3Ingest.Benchmarks.Common;

namespace Pop3Ingest.Benchmarks.Drain;

/// <summary>mpop delivering to a Maildir in keep mode, UIDLs in the run folder, no TLS, USER/PASS, pipelining auto.</summary>
internal sealed class MpopClient(DrainTarget target) : DrainClient(target)
{
    public const string Binary = "/usr/bin/mpop";

    public override string Name => "mpop";

    public override async Task<DrainRun> RunAsync(DrainMailbox mailbox, string runDirectory, CancellationToken cancellationToken)
    {
        var maildir = CreateMaildir(Path.Combine(runDirectory, "Maildir"));
        var rc = WritePrivateFile(Path.Combine(runDirectory, "mpoprc"), $"""
            account bench
            host {mailbox.Host}
            port {mailbox.Port}
            tls off
            auth user
            user {mailbox.User}
            password {mailbox.Password}
            uidls_file {Path.Combine(runDirectory, "uidls")}
            delivery maildir {maildir}
            keep on
            pipelining auto
            """ + "\n");
        var measured = await Measured.RunAsync(Binary, ["-C", rc, "--keep=on", "--quiet", "bench"], runDirectory, null, RunTimeout, cancellationToken);
        return DrainRun.From(measured, Check(measured, measured.ExitCode == 0, CountMaildir(maildir), mailbox.Corpus.Count));
    }
}
