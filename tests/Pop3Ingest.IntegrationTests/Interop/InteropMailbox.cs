using System.Text;
using System.Text.RegularExpressions;
using Pop3Ingest.IntegrationTests.Support;

namespace Pop3Ingest.IntegrationTests.Interop;

/// <summary>
/// The one test mailbox every server gets: multipart messages with attachments from 2 KB to about 500 KB, lines
/// that start with dots, body lines that start with "From " (which mbox writers quote), 8-bit UTF-8 text, a long
/// line, and a tiny message. Every message has a unique Message-ID, which is how a retrieved message is matched to
/// the delivered one whatever the server added.
/// </summary>
internal static partial class InteropMailbox
{
    private const int Seed = 1939;

    public static byte[] Special { get; } = Encoding.UTF8.GetBytes(
        "From: \"Interop\" <interop@example.org>\n" +
        "To: recipient@example.net\n" +
        "Subject: From lines, dots and UTF-8\n" +
        "Message-ID: <special.1939@example.org>\n" +
        "Date: Mon, 23 Nov 2026 08:00:00 +0100\n" +
        "MIME-Version: 1.0\n" +
        "Content-Type: text/plain; charset=utf-8\n" +
        "Content-Transfer-Encoding: 8bit\n" +
        "\n" +
        "From the start of a line: mbox writers quote this one.\n" +
        ">From an already quoted line.\n" +
        ".\n" +
        "..\n" +
        ". a dot and a space\n" +
        "Grüße aus Köln – ünïcödé ✓\n" +
        new string('x', 1500) + "\n" +
        "\n" +
        "last line\n");

    public static byte[] Tiny { get; } = Encoding.ASCII.GetBytes(
        "From: tiny@example.org\n" +
        "Subject: tiny\n" +
        "Message-ID: <tiny.1939@example.org>\n" +
        "Date: Mon, 23 Nov 2026 08:00:00 +0100\n" +
        "\n" +
        "x\n");

    // After Special and Tiny: static initializers run in declaration order.
    public static IReadOnlyList<byte[]> Messages { get; } = Build();

    public static async Task DeliverAllAsync(IPop3TestServer server, CancellationToken cancellationToken = default)
    {
        foreach (var message in Messages)
        {
            await server.DeliverAsync(message, cancellationToken);
        }
    }

    /// <summary>The delivered message whose Message-ID the retrieved one carries.</summary>
    public static byte[] DeliveredFor(byte[] retrieved)
    {
        var id = MessageIdOf(retrieved) ?? throw new InvalidOperationException("The retrieved message has no Message-ID header.");
        return Messages.Single(message => MessageIdOf(message) == id);
    }

    public static string? MessageIdOf(byte[] message)
    {
        var match = MessageIdHeader().Match(Encoding.Latin1.GetString(HeaderOf(message)));
        return match.Success ? match.Groups[1].Value : null;
    }

    /// <summary>The header block including the empty line that ends it (CRLF or LF).</summary>
    public static byte[] HeaderOf(byte[] message)
    {
        var crlf = message.AsSpan().IndexOf("\r\n\r\n"u8);
        var lf = message.AsSpan().IndexOf("\n\n"u8);
        if (crlf >= 0 && (lf < 0 || crlf < lf))
        {
            return message[..(crlf + 4)];
        }

        return lf >= 0 ? message[..(lf + 2)] : message;
    }

    /// <summary>Everything after the header block.</summary>
    public static byte[] BodyOf(byte[] message) => message[HeaderOf(message).Length..];

    /// <summary>Every line matching /^&gt;*From / quoted once more, as it is in an mbox file (mboxrd).</summary>
    public static byte[] MboxQuoted(byte[] message)
    {
        var entry = Mbox.Entry(message);
        // Drop the separator line and the final empty line Mbox.Entry adds.
        var start = Array.IndexOf(entry, (byte)'\n') + 1;
        return entry[start..^1];
    }

    private static List<byte[]> Build()
    {
        var messages = new List<byte[]>();
        for (var i = 1; i <= 8; i++)
        {
            messages.Add(TestMessages.Create(i, TestMessages.SizeFor(i), Seed));
        }

        messages.Add(TestMessages.Create(50, TestMessages.SizeFor(50), Seed));
        messages.Add(Special);
        messages.Add(Tiny);
        return messages;
    }

    [GeneratedRegex(@"^Message-ID:\s*(<[^>\r\n]+>)", RegexOptions.Multiline | RegexOptions.IgnoreCase)]
    private static partial Regex MessageIdHeader();
}
