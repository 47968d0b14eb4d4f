using System.Text;

namespace Pop3Ingest.IntegrationTests.Support;

/// <summary>Deterministic test mail: headers, lines that start with dots, base64 bodies of chosen sizes.</summary>
internal static class TestMessages
{
    /// <summary>A message of roughly <paramref name="size"/> bytes with LF line endings, as a Maildir holds it.</summary>
    public static byte[] Create(int index, int size, int seed = 0)
    {
        var random = new Random(HashCode.Combine(index, seed));
        var builder = new StringBuilder(size + 512);
        builder.Append("From: \"Sender ").Append(index).Append("\" <sender").Append(index).Append("@example.org>\n");
        builder.Append("To: recipient@example.net\n");
        builder.Append("Subject: =?utf-8?B?").Append(Convert.ToBase64String(Encoding.UTF8.GetBytes($"Prüfung {index}"))).Append("?=\n");
        builder.Append("Message-ID: <msg").Append(index).Append('.').Append(seed).Append("@example.org>\n");
        builder.Append("Date: Mon, 23 Nov 2026 08:00:00 +0100\n");
        builder.Append("MIME-Version: 1.0\n");
        builder.Append("Content-Type: multipart/mixed; boundary=\"b").Append(index).Append("\"\n\n");
        builder.Append("--b").Append(index).Append("\nContent-Type: text/plain; charset=utf-8\n\n");
        builder.Append(".a line that starts with a dot\n..two dots\n.\n");
        builder.Append("Hello ").Append(index).Append('\n');
        builder.Append("--b").Append(index).Append("\nContent-Type: application/octet-stream; name=\"data").Append(index).Append(".bin\"\n");
        builder.Append("Content-Disposition: attachment; filename=\"data").Append(index).Append(".bin\"\nContent-Transfer-Encoding: base64\n\n");
        var payload = new byte[Math.Max(0, (size - builder.Length) * 3 / 4)];
        random.NextBytes(payload);
        var base64 = Convert.ToBase64String(payload);
        for (var i = 0; i < base64.Length; i += 76)
        {
            builder.Append(base64.AsSpan(i, Math.Min(76, base64.Length - i))).Append('\n');
        }

        builder.Append("--b").Append(index).Append("--\n");
        return Encoding.UTF8.GetBytes(builder.ToString());
    }

    /// <summary>What a POP3 server sends for a Maildir file: every bare LF as CRLF.</summary>
    public static byte[] ToCrlf(byte[] lf)
    {
        // Count first, then fill an exact array: the 100 MB tests call this too.
        var bare = 0;
        for (var i = 0; i < lf.Length; i++)
        {
            if (lf[i] == (byte)'\n' && (i == 0 || lf[i - 1] != (byte)'\r'))
            {
                bare++;
            }
        }

        var output = new byte[lf.Length + bare];
        var o = 0;
        for (var i = 0; i < lf.Length; i++)
        {
            if (lf[i] == (byte)'\n' && (i == 0 || lf[i - 1] != (byte)'\r'))
            {
                output[o++] = (byte)'\r';
            }

            output[o++] = lf[i];
        }

        return output;
    }

    /// <summary>Mixed sizes: mostly small, some medium, a few large.</summary>
    public static int SizeFor(int index) => (index % 50) switch
    {
        0 => 300_000 + (index * 997 % 200_000),
        < 5 => 40_000 + (index * 131 % 60_000),
        _ => 2_000 + (index * 379 % 18_000),
    };
}
