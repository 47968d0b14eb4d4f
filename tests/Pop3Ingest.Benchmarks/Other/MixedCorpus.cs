using System.Globalization;
using System.Text;

namespace Pop3Ingest.Benchmarks.Other;

/// <summary>
/// A deterministic mailbox of everyday mail: mostly 2-20 KB text, 10% 100 KB-1 MB with a base64 attachment, and a
/// few of several MB. CRLF throughout, so what RETR returns is what was generated.
/// (The drain scenario has its own seeder; the two are to be unified.)
/// </summary>
internal static class MixedCorpus
{
    public static List<byte[]> Generate(int count, int seed = 8)
    {
        var random = new Random(seed);
        var messages = new List<byte[]>(count);
        // A few multi-MB messages: one per 1,000, at least three.
        var huge = new HashSet<int>(Enumerable.Range(0, Math.Max(3, count / 1000)).Select(_ => random.Next(count)));
        for (var i = 0; i < count; i++)
        {
            var size = huge.Contains(i) ? random.Next(2_000_000, 6_000_000)
                : random.NextDouble() < 0.10 ? random.Next(100_000, 1_000_000)
                : random.Next(2_000, 20_000);
            messages.Add(Create(i, size, random));
        }

        return messages;
    }

    private static byte[] Create(int index, int size, Random random)
    {
        var builder = new StringBuilder(Math.Min(size + 1024, 64 * 1024));
        builder.Append(CultureInfo.InvariantCulture, $"Received: from mx{index % 7}.example.org by mail.example.net; Mon, 23 Nov 2026 08:{index / 60 % 60:D2}:{index % 60:D2} +0000\r\n");
        builder.Append(CultureInfo.InvariantCulture, $"From: \"Sender {index % 113}\" <sender{index % 113}@example.org>\r\nTo: mailbox@example.net\r\n");
        builder.Append(CultureInfo.InvariantCulture, $"Subject: =?UTF-8?Q?Nachricht_{index}_=E2=80=93_Gr=C3=BC=C3=9Fe?=\r\nDate: Mon, 23 Nov 2026 08:00:00 +0000\r\n");
        builder.Append(CultureInfo.InvariantCulture, $"Message-ID: <corpus-{index}@example.org>\r\nMIME-Version: 1.0\r\n");
        if (size < 50_000)
        {
            builder.Append("Content-Type: text/plain; charset=utf-8\r\n\r\n");
            while (builder.Length < size)
            {
                builder.Append(CultureInfo.InvariantCulture, $"Line {builder.Length}: the quick brown fox jumps over the lazy dog, {random.Next()}.\r\n");
            }

            return Encoding.ASCII.GetBytes(builder.ToString());
        }

        builder.Append("Content-Type: multipart/mixed; boundary=\"mix\"\r\n\r\n--mix\r\nContent-Type: text/plain\r\n\r\nSee the attachment.\r\n");
        builder.Append(CultureInfo.InvariantCulture, $"--mix\r\nContent-Type: application/octet-stream; name=\"data-{index}.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n");
        var raw = new byte[Math.Max(1, (size - builder.Length - 16) * 57 / 78)];
        random.NextBytes(raw);
        builder.Append(Convert.ToBase64String(raw, Base64FormattingOptions.InsertLineBreaks)).Append("\r\n--mix--\r\n");
        return Encoding.ASCII.GetBytes(builder.ToString());
    }
}
