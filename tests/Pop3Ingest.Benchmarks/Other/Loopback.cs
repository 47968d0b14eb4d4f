using System.Diagnostics;
using Pop3Ingest.Ingestion.Pipeline;
using Pop3Ingest.Pop3;

namespace Pop3Ingest.Benchmarks.Other;

/// <summary>The product's POP3 client and account settings for the loopback Dovecot, and Maildir helpers.</summary>
internal static class Loopback
{
    public static Pop3ClientOptions ClientOptions(int port) => new()
    {
        Host = "127.0.0.1",
        Port = port,
        Security = Pop3Security.None,
        AllowInsecureAuth = true,
        Timeout = TimeSpan.FromMinutes(5),
        SessionTimeout = TimeSpan.FromHours(1),
    };

    public static AccountSettings Account(string name, int port, string user, string password) => new()
    {
        Name = name.ToLowerInvariant(),
        Client = ClientOptions(port),
        Credentials = _ => ValueTask.FromResult(Pop3Credentials.FromPassword(user, password)),
        DeletePolicy = DeletePolicy.Never,
    };

    public static async Task<Pop3Client> ConnectAsync(int port, string user, string password, CancellationToken cancellationToken)
    {
        var client = new Pop3Client(ClientOptions(port));
        try
        {
            await client.ConnectAsync(cancellationToken);
            await client.AuthenticateAsync(Pop3Credentials.FromPassword(user, password), Pop3AuthMethod.Auto, cancellationToken);
            return client;
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }
    }

    /// <summary>Hands a folder tree to Dovecot's mail user (the harness's <c>p3itest</c>).</summary>
    public static async Task ChownToMailUserAsync(string path, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("chown") { UseShellExecute = false, RedirectStandardError = true };
        foreach (var argument in new[] { "-R", $"{Pop3Ingest.IntegrationTests.Support.DovecotServer.MailUserName}:{Pop3Ingest.IntegrationTests.Support.DovecotServer.MailUserName}", path })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("chown did not start.");
        var error = await process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"chown -R {path} failed: {error}");
        }
    }
}
