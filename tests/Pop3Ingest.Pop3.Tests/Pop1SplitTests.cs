using System.Text;
using Pop3Ingest.Pop3.Tests.Support;

namespace Pop3Ingest.Pop3.Tests;

/// <summary>
/// The mbox split, checked against a plain reading of the rule over the whole data, whatever the read sizes:
/// with a chunk boundary at every offset, one octet per read, and seeded random chunkings.
/// </summary>
public sealed class Pop1SplitTests
{
    public static TheoryData<string> Mailboxes() =>
    [
        "",
        "From a\n",
        "From a",
        "no separator\nat all\n",
        "From a@b Mon Jan 1\nSubject: one\n\nbody\n>From quoted\n\nFrom b@c\nSubject: two\n\n\nFrom c\nx",
        "From a\r\nSubject: one\r\n\r\nbody\r\n>From x\r\n\r\nFrom b\r\nSubject: two\r\n\r\nlast\r\n\r\n",
        "preamble\nFrom a\nm1\n\n\nFrom b\n\nFrom c\n",
        "\nFrom a\nm\n",
        "\r\nFrom a\r\nm\r\nFrom b\r\n",
        "From a\nline From b\nFrom\n Fromage\nFrom c\r\r\nFrom d\n",
        "From a\n\r\n\nFrom b\nx\r\nFrom c\ny\n\r\nFrom d\n",
    ];

    [Theory]
    [MemberData(nameof(Mailboxes))]
    public async Task Split_is_the_same_for_every_chunk_boundary(string text)
    {
        var data = Encoding.UTF8.GetBytes(text);
        var expected = Oracle(data);
        var header = Preamble(data.Length).Length;
        for (var cut = 0; cut <= header + data.Length; cut++)
        {
            var at = cut;
            var actual = await SplitAsync(data, (offset, max) => offset < at ? (int)Math.Min(max, at - offset) : max, bufferSize: 4096);
            AssertSame(expected, actual, $"cut at {cut}");
        }

        AssertSame(expected, await SplitAsync(data, (_, _) => 1, bufferSize: 1), "one octet per read");
    }

    [Theory]
    [MemberData(nameof(Mailboxes))]
    public async Task Split_is_the_same_for_random_chunkings(string text)
    {
        var data = Encoding.UTF8.GetBytes(text);
        var expected = Oracle(data);
        for (var seed = 0; seed < 200; seed++)
        {
            var random = new Random(seed);
            var actual = await SplitAsync(data, (_, max) => random.Next(1, 12), bufferSize: random.Next(1, 9));
            AssertSame(expected, actual, $"seed {seed}");
        }
    }

    [Fact]
    public async Task Random_mailboxes_split_as_the_rule_says()
    {
        // Built from the pieces that matter: separators, empty lines in both endings, quoted and near-miss lines.
        string[] pieces = ["From x\n", "From y\r\n", "\n", "\r\n", ">From q\n", "From", " ", "text", "\r", "Fro", "m "];
        for (var seed = 0; seed < 300; seed++)
        {
            var random = new Random(seed);
            var builder = new StringBuilder();
            for (var i = random.Next(0, 14); i > 0; i--)
            {
                builder.Append(pieces[random.Next(pieces.Length)]);
            }

            var data = Encoding.UTF8.GetBytes(builder.ToString());
            var actual = await SplitAsync(data, (_, _) => random.Next(1, 9), bufferSize: random.Next(1, 6));
            AssertSame(Oracle(data), actual, $"seed {seed}: '{builder.ToString().ReplaceLineEndings("|")}'");
        }
    }

    [Fact]
    public async Task A_message_is_the_same_octets_whether_it_ends_the_data_or_mail_was_appended_after_it()
    {
        // A delivery agent ends every message with an empty line; the last one's must go too, or the same message
        // would be stored again (another SHA-256) once more mail arrives behind it.
        var one = Encoding.ASCII.GetBytes("From a\nSubject: one\n\nbody\n\n");
        var two = Encoding.ASCII.GetBytes("From a\nSubject: one\n\nbody\n\nFrom b\nSubject: two\n\nx\n\n");
        var alone = await SplitAsync(one, (_, max) => max, bufferSize: 4096);
        var followed = await SplitAsync(two, (_, max) => max, bufferSize: 4096);
        Assert.Equal("Subject: one\n\nbody\n"u8.ToArray(), alone.Single());
        Assert.Equal(alone[0], followed[0]);
        Assert.Equal("Subject: two\n\nx\n"u8.ToArray(), followed[1]);
    }

    [Theory]
    [InlineData("#abc")]
    [InlineData("#-5")]
    [InlineData("#")]
    [InlineData("# 12")]
    [InlineData("+OK 12")]
    public async Task A_malformed_size_breaks_the_session(string answer)
    {
        byte[][] answers = [Line("+OK"), Line("+OK"), Line("+OK"), Line(answer)];
        var transport = new Pop1TestTransport(answers, (_, max) => max);
        await using var client = new Pop1Client(Options(), transport);
        await client.ConnectAsync();
        await client.AuthenticateAsync(Pop3Credentials.FromPassword("fred", "pw"));
        var error = await Assert.ThrowsAsync<Pop3ProtocolException>(() => client.OpenAsync("inbox", delete: false));
        Assert.Contains("RETR inbox", error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<Pop3ConnectionException>(() => client.NoopAsync());
    }

    private static Pop3ClientOptions Options() => new()
    {
        Host = "pop1.test",
        Port = 1109,
        Security = Pop3Security.None,
        AllowInsecureAuth = true,
        ReceiveBufferSize = 1024,
    };

    private static byte[] Line(string text) => Encoding.ASCII.GetBytes(text + "\r\n");

    private static byte[] Preamble(int size) =>
        [.. Line("+OK"), .. Line("+OK"), .. Line("+OK"), .. Line($"#{size}")];

    private static async Task<List<byte[]>> SplitAsync(byte[] data, Func<long, int, int> nextRead, int bufferSize)
    {
        List<byte[]> answers = [Line("+OK"), Line("+OK"), Line("+OK"), Line($"#{data.Length}")];
        if (data.Length > 0)
        {
            answers.Add(data);
        }

        answers.Add(Line("+OK"));
        var transport = new Pop1TestTransport(answers, nextRead);
        await using var client = new Pop1Client(Options(), transport);
        await client.ConnectAsync();
        await client.AuthenticateAsync(Pop3Credentials.FromPassword("fred", "pw"));
        Assert.Equal(data.Length, await client.OpenAsync("inbox", delete: true));
        var mailbox = await client.ReceiveAsync();
        var messages = new List<byte[]>();
        var buffer = new byte[bufferSize];
        while (await mailbox.NextMessageAsync() is { } message)
        {
            using var copy = new MemoryStream();
            int read;
            while ((read = await message.ReadAsync(buffer)) > 0)
            {
                copy.Write(buffer, 0, read);
            }

            Assert.Equal(copy.Length, message.Size);
            messages.Add(copy.ToArray());
        }

        Assert.True(mailbox.IsComplete);
        Assert.True(await client.ConfirmAsync());
        return messages;
    }

    /// <summary>The rule read plainly over the whole data: find the separators, cut between them.</summary>
    private static List<byte[]> Oracle(byte[] data)
    {
        var separators = new List<int>();
        for (var i = 0; i < data.Length; i++)
        {
            if ((i == 0 || data[i - 1] == (byte)'\n') && data.AsSpan(i).StartsWith("From "u8))
            {
                separators.Add(i);
            }
        }

        var messages = new List<byte[]>();
        if (data.Length == 0)
        {
            return messages;
        }

        var starts = new List<(int Start, int End)>();
        if (separators.Count == 0 || separators[0] != 0)
        {
            starts.Add((0, separators.Count > 0 ? separators[0] : data.Length));
        }

        for (var s = 0; s < separators.Count; s++)
        {
            var lf = Array.IndexOf(data, (byte)'\n', separators[s]);
            var start = lf < 0 ? data.Length : lf + 1;
            starts.Add((start, s + 1 < separators.Count ? separators[s + 1] : data.Length));
        }

        foreach (var (start, end) in starts)
        {
            var content = data.AsSpan(start, end - start);
            // The one empty line right before the next separator, or at the end of the data, is dropped.
            if (content.EndsWith("\r\n"u8) && (content.Length == 2 || content[^3] == (byte)'\n'))
            {
                content = content[..^2];
            }
            else if (content.EndsWith("\n"u8) && (content.Length == 1 || content[^2] == (byte)'\n'))
            {
                content = content[..^1];
            }

            messages.Add(content.ToArray());
        }

        return messages;
    }

    private static void AssertSame(List<byte[]> expected, List<byte[]> actual, string what)
    {
        Assert.True(expected.Count == actual.Count, $"{what}: expected {expected.Count} messages, got {actual.Count}");
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.True(expected[i].AsSpan().SequenceEqual(actual[i]),
                $"{what}: message {i + 1} expected '{Encoding.UTF8.GetString(expected[i])}', got '{Encoding.UTF8.GetString(actual[i])}'");
        }
    }
}
