using System.Diagnostics;
using Pop3Ingest.Pop3;

namespace Pop3Ingest.IntegrationTests.Support;

/// <summary><see cref="DovecotServer"/> in the shape of <see cref="IPop3TestServer"/>: one user, STLS and pop3s, APOP on.</summary>
internal sealed class DovecotTestServer : IPop3TestServer
{
    private const string UserName = "alice";
    private readonly DovecotServer _server;

    private DovecotTestServer(DovecotServer server, string password, string version)
    {
        _server = server;
        Password = password;
        Version = version;
    }

    public string Name => "dovecot";

    public string Package => "dovecot-pop3d";

    public string Version { get; }

    public string Host => _server.Host;

    public int Port => _server.Port;

    public int? TlsPort => _server.TlsPort;

    public bool OffersStls => true;

    public string? CertificateSha256 => _server.CertificateSha256;

    public string User => UserName;

    public string Password { get; }

    public string? ApopSecret => Password;

    public Pop3CapabilityFlags ExpectedCapabilities =>
        Pop3CapabilityFlags.Capa | Pop3CapabilityFlags.Top | Pop3CapabilityFlags.Uidl | Pop3CapabilityFlags.RespCodes |
        Pop3CapabilityFlags.Pipelining | Pop3CapabilityFlags.AuthRespCode | Pop3CapabilityFlags.User | Pop3CapabilityFlags.Sasl |
        Pop3CapabilityFlags.Stls;

    public IReadOnlyList<string> ExpectedSaslMechanisms => ["PLAIN", "LOGIN"];

    /// <summary>Starts Dovecot with its default bad-password delay (auth_failure_delay, 2 s).</summary>
    public static async Task<DovecotTestServer> StartAsync(CancellationToken cancellationToken = default)
    {
        var password = "Pw-" + Guid.NewGuid().ToString("N")[..12];
        var server = await DovecotServer.StartAsync(new DovecotServerOptions { Users = [(UserName, password)] }, cancellationToken);
        try
        {
            return new DovecotTestServer(server, password, await PackageVersionAsync(cancellationToken));
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    public Task DeliverAsync(byte[] message, CancellationToken cancellationToken = default)
    {
        _server.Deliver(UserName, message);
        return Task.CompletedTask;
    }

    public Task<int> MessageCountAsync(CancellationToken cancellationToken = default) => Task.FromResult(_server.MessageCount(UserName));

    public string DiagnosticsTail(int lines = 40) => _server.DiagnosticsTail(lines);

    public ValueTask DisposeAsync() => _server.DisposeAsync();

    private static async Task<string> PackageVersionAsync(CancellationToken cancellationToken)
    {
        var startInfo = new ProcessStartInfo("dpkg-query") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "-W", "-f=${Version}", "dovecot-pop3d" })
        {
            startInfo.ArgumentList.Add(argument);
        }

        using var process = Process.Start(startInfo) ?? throw new InvalidOperationException("dpkg-query did not start.");
        var version = await process.StandardOutput.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        return process.ExitCode == 0 && version.Length > 0 ? version.Trim() : "unknown";
    }
}
