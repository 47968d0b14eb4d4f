using System.Text.RegularExpressions;
using Pop3Ingest.Pop3;

namespace Pop3Ingest.IntegrationTests.Support;

/// <summary>
/// Cyrus IMAP's POP3 server: <c>master</c> in the foreground runs pop3d on the loopback port and lmtpd on a
/// socket in this instance's folder; every <c>cmd=</c> repeats <c>-C imapd.conf</c> (master does not pass it on).
/// Users live in a private sasldb (saslpasswd2); mail is delivered with Cyrus' own <c>deliver</c> through lmtpd,
/// which autocreates the INBOX. It runs in a PID namespace so that master's children die with it.
/// </summary>
internal sealed partial class CyrusServer : NamespacedPop3Server
{
    private const string CommonPackage = "cyrus-common";
    private const string PopPackage = "cyrus-pop3d";
    private const string ServerName = "p3i-cyrus";
    private readonly string _master;
    private readonly string _lmtpd;
    private readonly string _deliver;
    private readonly string _ctlCyrusdb;
    private readonly string _mbexamine;
    private readonly string _pop3d;
    private readonly string _libraries;
    private readonly string _saslpasswd;
    private readonly SystemAccount _cyrus;
    private volatile bool _delivered;

    private CyrusServer()
        : base("cyrus", PopPackage)
    {
        _master = UnpackedServers.File(CommonPackage, "usr/lib/cyrus/bin/master");
        _lmtpd = UnpackedServers.File(CommonPackage, "usr/lib/cyrus/bin/lmtpd");
        _deliver = UnpackedServers.File(CommonPackage, "usr/lib/cyrus/bin/deliver");
        _ctlCyrusdb = UnpackedServers.File(CommonPackage, "usr/lib/cyrus/bin/ctl_cyrusdb");
        _mbexamine = UnpackedServers.File(CommonPackage, "usr/lib/cyrus/bin/mbexamine");
        _pop3d = UnpackedServers.File(PopPackage, "usr/lib/cyrus/bin/pop3d");
        _libraries = Path.GetDirectoryName(UnpackedServers.File(CommonPackage, "usr/lib/x86_64-linux-gnu/libcyrus.so.0"))!;
        _cyrus = SystemAccount.Require("cyrus");
        _saslpasswd = UnpackedServers.FindOnPath("saslpasswd2")
            ?? throw new InvalidOperationException($"saslpasswd2 (sasl2-bin) is not installed. {UnpackedServers.InstallHint}");
    }

    public override bool OffersStls => true;

    // sasldb keeps the plain password, so APOP works; the greeting carries the timestamp.
    public override string? ApopSecret => Password;

    public override Pop3CapabilityFlags ExpectedCapabilities =>
        Pop3CapabilityFlags.Capa | Pop3CapabilityFlags.Sasl | Pop3CapabilityFlags.Stls | Pop3CapabilityFlags.Expire |
        Pop3CapabilityFlags.LoginDelay | Pop3CapabilityFlags.Top | Pop3CapabilityFlags.Uidl | Pop3CapabilityFlags.Pipelining |
        Pop3CapabilityFlags.RespCodes | Pop3CapabilityFlags.AuthRespCode | Pop3CapabilityFlags.User | Pop3CapabilityFlags.Implementation;

    public override IReadOnlyList<string> ExpectedSaslMechanisms => ["PLAIN", "LOGIN"];

    private string DataDirectory => Path.Combine(RootDirectory, "cyrus");

    private string ConfigPath => Path.Combine(RootDirectory, "imapd.conf");

    private string SpoolDirectory => Path.Combine(DataDirectory, "spool");

    public static async Task<CyrusServer> StartAsync(CancellationToken cancellationToken = default)
    {
        var server = new CyrusServer();
        await server.StartInstanceAsync(cancellationToken);
        return server;
    }

    /// <summary>Delivers through lmtpd, as the MTA would: lmtpd adds Return-Path, Received, X-Cyrus-Session-Id and X-Sieve.</summary>
    public override async Task DeliverAsync(byte[] message, CancellationToken cancellationToken = default)
    {
        await RunAsCyrusAsync(_deliver, ["-C", ConfigPath, "-f", "sender@example.org", User], message, cancellationToken);
        _delivered = true;
    }

    /// <summary>
    /// "Number of Messages" of the index, from mbexamine: expunged message files stay on disk until the mailbox is
    /// next opened, so counting files would lag.
    /// </summary>
    public override async Task<int> MessageCountAsync(CancellationToken cancellationToken = default)
    {
        if (!_delivered)
        {
            return 0;
        }

        var output = await RunAsCyrusAsync(_mbexamine, ["-C", ConfigPath, "user." + User], null, cancellationToken);
        var match = MessageCount().Match(output);
        return match.Success
            ? int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)
            : throw new InvalidOperationException($"mbexamine printed no message count: {output}");
    }

    private Task<string> RunAsCyrusAsync(string binary, IEnumerable<string> arguments, byte[]? input, CancellationToken cancellationToken) =>
        Posix.RunAsync("setpriv",
            [$"--reuid={_cyrus.Uid}", $"--regid={_cyrus.Gid}", "--clear-groups", binary, .. arguments],
            input, new Dictionary<string, string> { ["LD_LIBRARY_PATH"] = _libraries }, cancellationToken);

    protected override async Task PrepareAsync(CancellationToken cancellationToken)
    {
        foreach (var directory in new[] { "config", "spool", "sieve", "socket", "tls" })
        {
            Directory.CreateDirectory(Path.Combine(DataDirectory, directory));
        }

        Certificate = await TestCertificate.CreateAsync(Path.Combine(DataDirectory, "tls"), cancellationToken);
        var sasldb = Path.Combine(DataDirectory, "sasldb2");
        await Posix.RunAsync(_saslpasswd, ["-f", sasldb, "-u", ServerName, "-c", "-p", User], Password, cancellationToken);

        await Posix.WriteFileAsync(ConfigPath, $"""
            # Generated by Pop3Ingest.IntegrationTests.Support.CyrusServer
            configdirectory: {DataDirectory}/config
            partition-default: {SpoolDirectory}
            sievedir: {DataDirectory}/sieve
            servername: {ServerName}
            admins: cyrus
            allowplaintext: yes
            allowapop: yes
            sasl_pwcheck_method: auxprop
            sasl_auxprop_plugin: sasldb
            sasl_sasldb_path: {sasldb}
            # Debian allows one POP3 login a minute; the tests log in many times.
            popminpoll: 0
            # Re-delivered mail with a known Message-ID would be dropped.
            duplicatesuppression: 0
            autocreate_post: 1
            autocreate_quota: 0
            lmtpsocket: {DataDirectory}/socket/lmtp
            idlesocket: {DataDirectory}/socket/idle
            notifysocket: {DataDirectory}/socket/notify
            tls_server_cert: {Certificate.CertificatePemPath}
            tls_server_key: {Certificate.KeyPemPath}
            unixhierarchysep: no

            """, "644", null, cancellationToken);
        Posix.ChownTree(DataDirectory, _cyrus);
    }

    protected override string BuildStartScript(int port)
    {
        var cyrusConf = Path.Combine(RootDirectory, "cyrus.conf");
        File.WriteAllText(cyrusConf, $"""
            START {"{"}
              recover cmd="{_ctlCyrusdb} -C {ConfigPath} -r"
            {"}"}
            SERVICES {"{"}
              pop3 cmd="{_pop3d} -C {ConfigPath}" listen="127.0.0.1:{port}" prefork=0
              lmtpunix cmd="{_lmtpd} -C {ConfigPath}" listen="{DataDirectory}/socket/lmtp" prefork=0
            {"}"}
            EVENTS {"{"}
            {"}"}

            """);
        return $"""
            export LD_LIBRARY_PATH={Quote(_libraries)}
            exec {_master} -C {Quote(ConfigPath)} -M {Quote(cyrusConf)} -p {Quote(Path.Combine(DataDirectory, "master.pid"))} -D
            """;
    }

    [GeneratedRegex("Number of Messages: ([0-9]+)")]
    private static partial Regex MessageCount();
}
