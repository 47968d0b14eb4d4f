namespace Pop3Ingest.Pop3.Tests.Support;

/// <summary>Building blocks for scripted sessions.</summary>
internal static class Scripts
{
    public const string Greeting = "+OK scripted ready <42.1700000000@scripted.test>";

    public static readonly string[] DefaultCapa = ["TOP", "UIDL", "RESP-CODES", "PIPELINING", "USER", "SASL PLAIN LOGIN XOAUTH2"];

    /// <summary>Greeting, CAPA, USER/PASS, CAPA again.</summary>
    public static async Task LoginAsync(ScriptedConnection c, string[]? capa = null)
    {
        capa ??= DefaultCapa;
        await c.SendLineAsync(Greeting);
        await c.ExpectAsync("CAPA");
        await SendCapaAsync(c, capa);
        await c.ExpectAsync("USER u");
        await c.SendLineAsync("+OK");
        await c.ExpectAsync("PASS p");
        await c.SendLineAsync("+OK logged in");
        await c.ExpectAsync("CAPA");
        await SendCapaAsync(c, capa);
    }

    public static async Task SendCapaAsync(ScriptedConnection c, string[] capa) =>
        await c.SendAsync("+OK\r\n" + string.Concat(capa.Select(l => l + "\r\n")) + ".\r\n");

    public static async Task<Pop3Client> ConnectAsync(ScriptedPop3Server server, Action<Pop3ClientOptionsBuilder>? configure = null)
    {
        var client = new Pop3Client(server.Options(configure));
        await client.ConnectAsync();
        await client.AuthenticateAsync(Pop3Credentials.FromPassword("u", "p"), Pop3AuthMethod.UserPass);
        return client;
    }

    /// <summary>A stuffed multi-line body for the given message text.</summary>
    public static string Stuff(string message)
    {
        var lines = message.Split("\r\n");
        var body = string.Join("\r\n", lines.Take(lines.Length - 1).Select(l => l.StartsWith('.') ? "." + l : l));
        return body + "\r\n.\r\n";
    }
}
