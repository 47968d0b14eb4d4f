using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Pop3Ingest.Benchmarks.Common;

/// <summary>What <see cref="CorpusSeeder"/> wrote.</summary>
/// <param name="Count">Messages written.</param>
/// <param name="MessageBytes">Sum of the messages' sizes as RETR delivers them (CRLF line ends, dot-unstuffed).</param>
/// <param name="Small">2-20 KB text messages.</param>
/// <param name="Medium">100 KB-1 MB multipart/mixed messages with a base64 attachment.</param>
/// <param name="Large">5-10 MB multipart/mixed messages.</param>
/// <param name="DotLines">Body lines that start with '.', which the server dot-stuffs (RFC 1939 §3).</param>
internal sealed record Corpus(int Count, long MessageBytes, int Small, int Medium, int Large, int DotLines);

/// <summary>
/// Writes a deterministic mail corpus (fixed-seed <see cref="Random"/>) straight into a Maildir's cur folder,
/// owned by the mail user with mode 600, the way an MDA would have left it. Much faster than delivering one by one.
/// </summary>
internal static class CorpusSeeder
{
    private static readonly string[] s_words =
    [
        "invoice", "meeting", "quarterly", "report", "shipment", "delayed", "please", "review", "attached", "numbers",
        "customer", "support", "ticket", "resolved", "server", "mailbox", "delivery", "schedule", "update", "thanks",
        "regards", "the", "a", "of", "and", "to", "in", "for", "on", "with", "we", "you", "is", "are", "will",
    ];

    /// <summary>
    /// Seeds <paramref name="count"/> messages: about 10% of 100 KB-1 MB, one per thousand (at most 5, at least 1 from
    /// 20 messages on) of 5-10 MB, the rest 2-20 KB. Files use LF line ends, as Maildir files do; Dovecot sends CRLF.
    /// </summary>
    public static async Task<Corpus> SeedAsync(string maildir, int count, int seed, string owner, CancellationToken cancellationToken)
    {
        var cur = Path.Combine(maildir, "cur");
        foreach (var sub in new[] { "cur", "new", "tmp" })
        {
            Directory.CreateDirectory(Path.Combine(maildir, sub));
        }

        var random = new Random(seed);
        var large = count < 20 ? 0 : Math.Clamp(count / 1000, 1, 5);
        var largeEvery = large == 0 ? int.MaxValue : count / large;
        var baseTime = new DateTimeOffset(2026, 11, 1, 8, 0, 0, TimeSpan.Zero);
        long messageBytes = 0;
        int small = 0, medium = 0, dotLines = 0;
        var host = "bench";
        for (var i = 0; i < count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var roll = random.NextDouble();
            byte[] message;
            int dots;
            if (large > 0 && i % largeEvery == largeEvery / 2)
            {
                (message, dots) = Multipart(random, i, random.Next(5 << 20, 10 << 20), baseTime);
            }
            else if (roll < 0.10)
            {
                (message, dots) = Multipart(random, i, random.Next(100 << 10, 1 << 20), baseTime);
                medium++;
            }
            else
            {
                (message, dots) = Plain(random, i, random.Next(2 << 10, 20 << 10), baseTime);
                small++;
            }

            dotLines += dots;
            var lineFeeds = message.AsSpan().Count((byte)'\n');
            var wireSize = message.Length + lineFeeds;
            messageBytes += wireSize;

            // Dovecot's own naming: S= is the file size, W= the size with CRLF (it then needs no stat or read for LIST).
            var seconds = baseTime.ToUnixTimeSeconds() + i;
            var name = FormattableString.Invariant($"{seconds}.M{i:D6}P1Q{i}.{host},S={message.Length},W={wireSize}:2,S");
            var path = Path.Combine(cur, name);
            await File.WriteAllBytesAsync(path, message, cancellationToken);
            if (OperatingSystem.IsWindows())
            {
                throw new PlatformNotSupportedException("The benchmark runs on Linux.");
            }

            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        await ChownAsync(maildir, owner, cancellationToken);
        return new Corpus(count, messageBytes, small, medium, count - small - medium, dotLines);
    }

    private static (byte[] Message, int DotLines) Plain(Random random, int index, int size, DateTimeOffset baseTime)
    {
        var text = new StringBuilder(size + 1024);
        Headers(text, index, baseTime);
        text.Append("Content-Type: text/plain; charset=us-ascii\n\n");
        var dots = BodyText(random, text, text.Length + size);
        return (Encoding.ASCII.GetBytes(text.ToString()), dots);
    }

    private static (byte[] Message, int DotLines) Multipart(Random random, int index, int size, DateTimeOffset baseTime)
    {
        var boundary = FormattableString.Invariant($"=_bench_{index:D6}_{random.Next():x8}");
        var text = new StringBuilder(size + 4096);
        Headers(text, index, baseTime);
        text.Append("Content-Type: multipart/mixed; boundary=\"").Append(boundary).Append("\"\n\n");
        text.Append("This is a multi-part message in MIME format.\n\n");
        text.Append("--").Append(boundary).Append('\n');
        text.Append("Content-Type: text/plain; charset=us-ascii\n\n");
        var dots = BodyText(random, text, text.Length + random.Next(1024, 3072));
        text.Append("--").Append(boundary).Append('\n');
        text.Append(CultureInfo.InvariantCulture, $"Content-Type: application/octet-stream; name=\"data-{index}.bin\"\n");
        text.Append("Content-Transfer-Encoding: base64\n");
        text.Append(CultureInfo.InvariantCulture, $"Content-Disposition: attachment; filename=\"data-{index}.bin\"\n\n");
        var payload = new byte[Math.Max(1, size * 3 / 4)];
        random.NextBytes(payload);
        var base64 = Convert.ToBase64String(payload);
        for (var offset = 0; offset < base64.Length; offset += 76)
        {
            text.Append(base64.AsSpan(offset, Math.Min(76, base64.Length - offset))).Append('\n');
        }

        text.Append("--").Append(boundary).Append("--\n");
        return (Encoding.ASCII.GetBytes(text.ToString()), dots);
    }

    private static void Headers(StringBuilder text, int index, DateTimeOffset baseTime)
    {
        var date = baseTime.AddMinutes(index);
        text.Append(CultureInfo.InvariantCulture, $"Return-Path: <sender{index % 97}@example.org>\n");
        text.Append(CultureInfo.InvariantCulture, $"From: \"Sender {index % 97}\" <sender{index % 97}@example.org>\n");
        text.Append("To: \"Bench\" <bench@example.net>\n");
        text.Append(CultureInfo.InvariantCulture, $"Subject: Drain benchmark message {index}\n");
        text.Append("Date: ").Append(date.ToString("ddd, dd MMM yyyy HH:mm:ss +0000", CultureInfo.InvariantCulture)).Append('\n');
        text.Append(CultureInfo.InvariantCulture, $"Message-ID: <bench-{index}@example.org>\n");
        text.Append("MIME-Version: 1.0\n");
    }

    /// <summary>Appends lines of words up to <paramref name="end"/> characters; about 3% start with '.', some are a lone '.'.</summary>
    private static int BodyText(Random random, StringBuilder text, int end)
    {
        var dots = 0;
        while (text.Length < end)
        {
            var roll = random.Next(100);
            if (roll < 1)
            {
                text.Append(".\n");
                dots++;
                continue;
            }

            if (roll < 3)
            {
                text.Append(roll == 1 ? ".." : ".");
                dots++;
            }

            var lineEnd = text.Length + random.Next(20, 76);
            while (text.Length < lineEnd)
            {
                text.Append(s_words[random.Next(s_words.Length)]).Append(' ');
            }

            text.Append('\n');
        }

        return dots;
    }

    /// <summary><c>chown -R owner:owner path</c>.</summary>
    public static async Task ChownAsync(string path, string owner, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo("chown") { UseShellExecute = false, RedirectStandardError = true };
        foreach (var argument in new[] { "-R", $"{owner}:{owner}", path })
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException("chown did not start.");
        var error = await process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
        {
            throw new IOException($"chown -R {owner}:{owner} {path} failed: {error.Trim()}");
        }
    }
}
