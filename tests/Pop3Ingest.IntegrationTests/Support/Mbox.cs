using System.Text;

namespace Pop3Ingest.IntegrationTests.Support;

/// <summary>Writes and counts mbox spool files the way a local delivery agent does.</summary>
internal static class Mbox
{
    private static readonly byte[] s_separator = Encoding.ASCII.GetBytes("From MAILER-DAEMON Mon Nov 23 08:00:00 2026\n");

    /// <summary>
    /// One mbox entry: the "From " separator line, the message with every line matching /^&gt;*From / quoted by one
    /// more "&gt;" (mboxrd, which readers of mboxo and mboxrd both accept), and the empty line that ends an entry.
    /// </summary>
    public static byte[] Entry(byte[] message)
    {
        using var output = new MemoryStream(message.Length + 128);
        output.Write(s_separator);
        var lineStart = 0;
        while (lineStart < message.Length)
        {
            var end = Array.IndexOf(message, (byte)'\n', lineStart);
            var next = end < 0 ? message.Length : end + 1;
            var line = message.AsSpan(lineStart, next - lineStart);
            if (IsFromLine(line))
            {
                output.WriteByte((byte)'>');
            }

            output.Write(line);
            lineStart = next;
        }

        if (message.Length > 0 && message[^1] != (byte)'\n')
        {
            output.WriteByte((byte)'\n');
        }

        output.WriteByte((byte)'\n');
        return output.ToArray();
    }

    /// <summary>Entries in an mbox file: "From " lines at the start of the file or after an empty line.</summary>
    public static int Count(string path)
    {
        if (!File.Exists(path))
        {
            return 0;
        }

        var bytes = File.ReadAllBytes(path);
        var count = 0;
        var previousEmpty = true;
        var lineStart = 0;
        while (lineStart < bytes.Length)
        {
            var end = Array.IndexOf(bytes, (byte)'\n', lineStart);
            var next = end < 0 ? bytes.Length : end + 1;
            var line = bytes.AsSpan(lineStart, next - lineStart);
            if (previousEmpty && line.StartsWith("From "u8))
            {
                count++;
            }

            previousEmpty = line is [(byte)'\n'] or [(byte)'\r', (byte)'\n'];
            lineStart = next;
        }

        return count;
    }

    /// <summary>True for a line that an mboxrd writer quotes: any number of "&gt;" then "From ".</summary>
    public static bool IsFromLine(ReadOnlySpan<byte> line)
    {
        var i = 0;
        while (i < line.Length && line[i] == (byte)'>')
        {
            i++;
        }

        return line[i..].StartsWith("From "u8);
    }
}
