using Pop3Ingest.Pop3;

namespace Pop3Ingest.IntegrationTests.Support;

/// <summary>
/// popa3d run inetd style: socat accepts on the loopback port and runs one popa3d per connection. popa3d has
/// /var/mail and /var/lib/popa3d compiled in and authenticates through PAM (/etc/pam.d/other, pam_unix): inside a
/// private mount namespace those paths, and /etc/shadow, are covered by this instance's own files.
/// </summary>
internal sealed class Popa3dServer : NamespacedPop3Server
{
    private const string PackageName = "popa3d";
    private readonly string _binary;

    private Popa3dServer()
        : base("popa3d", PackageName)
    {
        _binary = UnpackedServers.File(PackageName, "usr/sbin/popa3d");
        SystemAccount.Require("popa3d");
    }

    public override bool OffersStls => false;

    public override string? ApopSecret => null;

    // No CAPA at all (RFC 1939 only).
    public override Pop3CapabilityFlags ExpectedCapabilities => Pop3CapabilityFlags.None;

    public override IReadOnlyList<string> ExpectedSaslMechanisms => [];

    private string SpoolDirectory => Path.Combine(RootDirectory, "mail");

    private string MailboxPath => Path.Combine(SpoolDirectory, User);

    public static async Task<Popa3dServer> StartAsync(CancellationToken cancellationToken = default)
    {
        var server = new Popa3dServer();
        await server.StartInstanceAsync(cancellationToken);
        return server;
    }

    public override async Task DeliverAsync(byte[] message, CancellationToken cancellationToken = default)
    {
        await using var file = new FileStream(MailboxPath, FileMode.Append, FileAccess.Write);
        await file.WriteAsync(Mbox.Entry(message), cancellationToken);
    }

    public override Task<int> MessageCountAsync(CancellationToken cancellationToken = default) => Task.FromResult(Mbox.Count(MailboxPath));

    protected override async Task PrepareAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(SpoolDirectory);
        Posix.SetMode(SpoolDirectory, "1777");
        await Posix.WriteFileAsync(MailboxPath, string.Empty, "600", MailUser, cancellationToken);

        // popa3d chroots its unprivileged half into an empty /var/lib/popa3d.
        var chroot = Path.Combine(RootDirectory, "chroot");
        Directory.CreateDirectory(chroot);
        Posix.SetMode(chroot, "755");

        var hash = await Posix.CryptAsync(Password, cancellationToken);
        await Posix.WriteFileAsync(Path.Combine(PrivateDirectory, "shadow"), Posix.ShadowWithPassword(User, hash), "640", null, cancellationToken);
    }

    protected override string BuildStartScript(int port) => $"""
        mount --bind {Quote(SpoolDirectory)} /var/mail
        mount --bind {Quote(Path.Combine(RootDirectory, "chroot"))} /var/lib/popa3d
        mount --bind {Quote(Path.Combine(PrivateDirectory, "shadow"))} /etc/shadow
        exec socat TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork EXEC:{_binary},nofork
        """;
}
