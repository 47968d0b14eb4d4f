using System.Text;

namespace Pop3Ingest.Pop3.Tests.Support;

/// <summary>
/// A dialog as data. Lines starting "S: " are server lines (sent with CRLF), "L: " server lines sent with a bare
/// LF, "C: " commands the client must send. Anything else is a comment.
/// </summary>
internal static class Dialog
{
    public static IReadOnlyList<Exchange> Load(string server, string step) =>
        Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Dialogs", server, step + ".txt")));

    public static IReadOnlyList<Exchange> Parse(string text)
    {
        var exchanges = new List<Exchange>();
        string? command = null;
        var response = new List<byte>();
        var started = false;
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.StartsWith("C: ", StringComparison.Ordinal) || line == "C:")
            {
                if (started)
                {
                    exchanges.Add(new Exchange(command, response.ToArray()));
                }

                command = line.Length > 3 ? line[3..] : string.Empty;
                response.Clear();
                started = true;
            }
            else if (line.StartsWith("S: ", StringComparison.Ordinal) || line == "S:")
            {
                started = true;
                response.AddRange(Encoding.Latin1.GetBytes((line.Length > 3 ? line[3..] : string.Empty) + "\r\n"));
            }
            else if (line.StartsWith("L: ", StringComparison.Ordinal) || line == "L:")
            {
                started = true;
                response.AddRange(Encoding.Latin1.GetBytes((line.Length > 3 ? line[3..] : string.Empty) + "\n"));
            }
        }

        if (started)
        {
            exchanges.Add(new Exchange(command, response.ToArray()));
        }

        return exchanges;
    }

    /// <summary>A server that plays a dialog file (see <see cref="Dialog"/>), asserting each command.</summary>
    public static ScriptedPop3Server Serve(IReadOnlyList<Exchange> exchanges) => ScriptedPop3Server.Start(async connection =>
    {
        foreach (var exchange in exchanges)
        {
            if (exchange.Command is not null)
            {
                await connection.ExpectAsync(exchange.Command);
            }

            await connection.SendRawAsync(exchange.Response);
        }
    });

    public static Pop3ClientOptions Options(IPop3Trace? trace = null) => new()
    {
        Host = "replay.test",
        Security = Pop3Security.None,
        AllowInsecureAuth = true,
        Timeout = TimeSpan.FromSeconds(5),
        Trace = trace,
    };
}
