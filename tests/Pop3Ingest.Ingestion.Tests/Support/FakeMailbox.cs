using System.Globalization;
using System.Text;
using Pop3Ingest.Pop3.Tests.Support;

namespace Pop3Ingest.Ingestion.Tests.Support;

/// <summary>A message in the fake maildrop: its UIDL and its bytes exactly as RETR sends them (before stuffing).</summary>
internal sealed class FakeMessage(string uidl, byte[] content)
{
    public string Uidl { get; } = uidl;

    public byte[] Content { get; } = content;

    public bool Deleted { get; set; }
}

/// <summary>
/// A POP3 maildrop served over a loopback socket with the RFC 1939 state machine (deletions only on QUIT)
/// and switches for the faults a real server will not produce on demand.
/// </summary>
internal sealed class FakeMailbox : IAsyncDisposable
{
    private readonly ScriptedPop3Server _server;
    private readonly Lock _lock = new();

    public FakeMailbox()
    {
        _server = ScriptedPop3Server.Start(ServeAsync);
    }

    public int Port => _server.Port;

    public List<FakeMessage> Messages { get; } = [];

    public bool NoUidl { get; set; }

    public bool Pipelining { get; set; } = true;

    public string? PassError { get; set; }

    public bool QuitError { get; set; }

    /// <summary>QUIT answers +OK but the marked messages stay (a server that loses its deletions).</summary>
    public bool KeepDeleted { get; set; }

    /// <summary>RETR of this UIDL answers -ERR.</summary>
    public Func<string, bool> RetrRefused { get; set; } = _ => false;

    /// <summary>RETR of this UIDL sends this many bytes, then closes the connection.</summary>
    public Func<string, int?> RetrDropAfter { get; set; } = _ => null;

    public Func<string, bool> DeleRefused { get; set; } = _ => false;

    /// <summary>UIDL listing lines as the server would send them, when a test needs to lie (duplicates, hostile ids).</summary>
    public Func<IReadOnlyList<(int Number, FakeMessage Message)>, IEnumerable<string>>? UidlLines { get; set; }

    /// <summary>The size LIST announces for a UIDL (null: the true size). Real servers may count differently.</summary>
    public Func<string, long?> ListSize { get; set; } = _ => null;

    /// <summary>The greeting line (CRLF added); a test may make it anything.</summary>
    public string? Greeting { get; set; } = "+OK fake maildrop ready <1.2@fake.test>";

    /// <summary>
    /// Sees every command first; returns true when it answered (or broke) the session itself. The session ends
    /// when it throws or closes the connection.
    /// </summary>
    public Func<string, ScriptedConnection, Task<bool>>? Intercept { get; set; }

    /// <summary>Every message a client sent DELE for (committed or not), for "never DELE an unstored message".</summary>
    public List<FakeMessage> DeleRequested { get; } = [];

    public int RetrCount { get; private set; }

    public int Sessions { get; private set; }

    public IReadOnlyList<string> Commands => [.. _server.Commands];

    public FakeMessage Add(string uidl, string text)
    {
        var message = new FakeMessage(uidl, Encoding.UTF8.GetBytes(text));
        Messages.Add(message);
        return message;
    }

    public IReadOnlyList<FakeMessage> Live
    {
        get
        {
            lock (_lock)
            {
                return [.. Messages.Where(m => !m.Deleted)];
            }
        }
    }

    public ValueTask DisposeAsync() => _server.DisposeAsync();

    private async Task ServeAsync(ScriptedConnection c)
    {
        List<FakeMessage> session;
        lock (_lock)
        {
            Sessions++;
            session = [.. Messages.Where(m => !m.Deleted)];
        }

        var marked = new HashSet<int>();
        if (Greeting is null)
        {
            // A server that accepts and never speaks.
            await c.WaitForCloseAsync();
            return;
        }

        await c.SendLineAsync(Greeting);
        while (await c.ReadCommandAsync() is { } line)
        {
            if (Intercept is { } intercept && await intercept(line, c))
            {
                continue;
            }

            var parts = line.Split(' ');
            var verb = parts[0].ToUpperInvariant();
            var arg = parts.Length > 1 && int.TryParse(parts[1], CultureInfo.InvariantCulture, out var n) ? n : 0;
            switch (verb)
            {
                case "CAPA":
                    var caps = new List<string> { "USER", "TOP", "RESP-CODES" };
                    if (!NoUidl)
                    {
                        caps.Add("UIDL");
                    }

                    if (Pipelining)
                    {
                        caps.Add("PIPELINING");
                    }

                    await c.SendAsync("+OK\r\n" + string.Concat(caps.Select(x => x + "\r\n")) + ".\r\n");
                    break;
                case "USER":
                    await c.SendLineAsync("+OK");
                    break;
                case "PASS":
                    await c.SendLineAsync(PassError ?? "+OK logged in");
                    if (PassError is not null)
                    {
                        return;
                    }

                    break;
                case "STAT":
                    await c.SendLineAsync($"+OK {session.Count} {session.Sum(m => m.Content.Length)}");
                    break;
                case "LIST":
                    var list = new StringBuilder("+OK\r\n");
                    for (var i = 0; i < session.Count; i++)
                    {
                        if (!marked.Contains(i + 1))
                        {
                            list.Append(CultureInfo.InvariantCulture, $"{i + 1} {ListSize(session[i].Uidl) ?? session[i].Content.Length}\r\n");
                        }
                    }

                    await c.SendAsync(list.Append(".\r\n").ToString());
                    break;
                case "UIDL" when NoUidl:
                    await c.SendLineAsync("-ERR command not supported");
                    break;
                case "UIDL":
                    var numbered = session.Select((m, i) => (i + 1, m)).Where(x => !marked.Contains(x.Item1)).ToList();
                    var lines = UidlLines?.Invoke(numbered) ?? numbered.Select(x => $"{x.Item1} {x.m.Uidl}");
                    await c.SendAsync("+OK\r\n" + string.Concat(lines.Select(l => l + "\r\n")) + ".\r\n");
                    break;
                case "RETR" when arg >= 1 && arg <= session.Count && !marked.Contains(arg):
                    var message = session[arg - 1];
                    RetrCount++;
                    if (RetrRefused(message.Uidl))
                    {
                        await c.SendLineAsync("-ERR [SYS/TEMP] cannot read message");
                        break;
                    }

                    var wire = Encoding.Latin1.GetBytes("+OK\r\n" + Stuff(Encoding.Latin1.GetString(message.Content)));
                    if (RetrDropAfter(message.Uidl) is { } cut)
                    {
                        await c.SendRawAsync(wire.AsMemory(0, Math.Min(cut, wire.Length)));
                        c.Reset();
                        return;
                    }

                    await c.SendRawAsync(wire);
                    break;
                case "DELE" when arg >= 1 && arg <= session.Count && !marked.Contains(arg):
                    lock (_lock)
                    {
                        DeleRequested.Add(session[arg - 1]);
                    }

                    if (DeleRefused(session[arg - 1].Uidl))
                    {
                        await c.SendLineAsync("-ERR [SYS/PERM] cannot delete");
                        break;
                    }

                    marked.Add(arg);
                    await c.SendLineAsync("+OK marked");
                    break;
                case "RSET":
                    marked.Clear();
                    await c.SendLineAsync("+OK");
                    break;
                case "NOOP":
                    await c.SendLineAsync("+OK");
                    break;
                case "QUIT":
                    if (QuitError)
                    {
                        await c.SendLineAsync("-ERR [SYS/TEMP] some deleted messages not removed");
                        return;
                    }

                    lock (_lock)
                    {
                        foreach (var number in marked)
                        {
                            session[number - 1].Deleted = !KeepDeleted;
                        }
                    }

                    await c.SendLineAsync("+OK bye");
                    return;
                default:
                    await c.SendLineAsync("-ERR no such message or command");
                    break;
            }
        }

        // Connection closed without QUIT: RFC 1939 §6, nothing is deleted.
    }

    private static string Stuff(string message)
    {
        if (!message.EndsWith("\r\n", StringComparison.Ordinal))
        {
            message += "\r\n";
        }

        var lines = message[..^2].Split("\r\n");
        return string.Concat(lines.Select(l => (l.StartsWith('.') ? "." + l : l) + "\r\n")) + ".\r\n";
    }
}
