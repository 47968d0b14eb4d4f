using Pop3Ingest.IntegrationTests.Support;
using Pop3Ingest.Pop3;

namespace Pop3Ingest.IntegrationTests.Interop;

/// <summary>One message as a server sent it with RETR: the reference a stored blob must equal.</summary>
internal sealed record RetrievedMessage(int Number, string Uidl, long ListSize, byte[] Content);

/// <summary>Opens sessions on a test server with the product's POP3 client.</summary>
internal static class Pop3Sessions
{
    public static Pop3ClientOptions PlainOptions(IPop3TestServer server, bool pipelining = true) => new()
    {
        Host = server.Host,
        Port = server.Port,
        Security = Pop3Security.None,
        AllowInsecureAuth = true,
        UsePipelining = pipelining,
        Timeout = TimeSpan.FromSeconds(30),
    };

    /// <summary>STLS with the certificate pinned when the server offers it; clear text otherwise.</summary>
    public static Pop3ClientOptions BestOptions(IPop3TestServer server) => server.OffersStls
        ? PlainOptions(server) with { Security = Pop3Security.StartTls, AllowInsecureAuth = false, CertificateSha256 = server.CertificateSha256 }
        : PlainOptions(server);

    public static async Task<Pop3Client> OpenAsync(IPop3TestServer server, Pop3ClientOptions options, Pop3AuthMethod method = Pop3AuthMethod.UserPass,
        string? password = null)
    {
        var client = new Pop3Client(options);
        try
        {
            await client.ConnectAsync();
            await client.AuthenticateAsync(Pop3Credentials.FromPassword(server.User, password ?? server.Password), method);
            return client;
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }
    }

    /// <summary>UIDL, LIST and RETR of every message, keeping them on the server (no DELE), then QUIT.</summary>
    public static async Task<IReadOnlyList<RetrievedMessage>> RecordAsync(IPop3TestServer server, bool pipelining = true)
    {
        await using var client = await OpenAsync(server, PlainOptions(server, pipelining));
        var (uidls, sizes) = await client.GetUidlsAndSizesAsync();
        var uidlOf = uidls.ToDictionary(u => u.Number, u => u.Uid);
        var messages = new List<RetrievedMessage>();
        await foreach (var item in client.RetrieveManyAsync(sizes))
        {
            Assert.Null(item.Error);
            var entry = sizes.Single(s => s.Number == item.Number);
            messages.Add(new RetrievedMessage(item.Number, uidlOf[item.Number], entry.Size, await ReadAllAsync(item.Content!)));
        }

        Assert.True(await client.QuitAsync(), $"{server.Name} refused QUIT.");
        return messages;
    }

    public static async Task<byte[]> ReadAllAsync(Stream stream)
    {
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        return copy.ToArray();
    }
}
