using System.Diagnostics;
using System.Text;
using Xunit.Abstractions;

namespace Pop3Ingest.Mime.Tests;

/// <summary>
/// MimeKit parses the header values, and MimeKit's whole-message parsers are quadratic on a huge folded header.
/// Its value parsers get at most one header block (<see cref="MimeReaderOptions.MaxHeaderBytes"/>); these tests hold
/// them to linear cost on hostile values just under that cap: allocations grow with the value, not its square.
/// </summary>
public sealed class HostileValueTests(ITestOutputHelper output)
{
    private const int Cap = 256 * 1024;

    // A field of about this many bytes, folded into lines of about 76, leaving room for the rest of the block.
    private const int Large = Cap - 4096;
    private const int Small = Large / 4;

    public static TheoryData<string> Kinds => new() { "addresses", "encoded-words", "continuations", "comments", "quotes", "groups", "dates" };

    /// <summary>A header block with one hostile field of about <paramref name="size"/> bytes, and what it must yield.</summary>
    private static (byte[] Message, Action<MessageMetadata> Check) Build(string kind, int size)
    {
        var field = new StringBuilder();
        var line = 0;
        void Add(string piece)
        {
            // RFC 5322 §2.2.3 folding: a line break before whitespace.
            if (line + piece.Length > 76)
            {
                field.Append("\r\n");
                line = 0;
            }

            field.Append(piece);
            line += piece.Length;
        }

        var count = 0;
        switch (kind)
        {
            case "addresses":
                field.Append("To:");
                while (field.Length < size)
                {
                    Add($" \"Name {count}\" <user{count}@example.com>,");
                    count++;
                }

                return (Message(field), m => Assert.Equal(count, m.To.Count));
            case "encoded-words":
                field.Append("Subject:");
                while (field.Length < size)
                {
                    Add(" =?utf-8?B?w6k=?=");
                    count++;
                }

                // RFC 2047 §6.2: the whitespace between adjacent encoded words goes.
                return (Message(field), m => Assert.Equal(new string('é', count), m.Subject));
            case "continuations":
                field.Append("Content-Type: application/octet-stream\r\nContent-Disposition: attachment;");
                while (field.Length < size)
                {
                    Add($" filename*{count}*={(count == 0 ? "utf-8''" : string.Empty)}%C3%A9;");
                    count++;
                }

                return (Message(field), m => Assert.Equal(new string('é', count), Assert.Single(m.Attachments).FileName));
            case "comments":
                // Nested comments that never close.
                field.Append("From: a@example.com ");
                while (field.Length < size)
                {
                    Add(" (((((((((((((((((((");
                }

                return (Message(field), _ => { });
            case "quotes":
                field.Append("Cc: \"");
                while (field.Length < size)
                {
                    Add(" \\\" unterminated <x@y>,");
                }

                return (Message(field), _ => { });
            case "groups":
                field.Append("To:");
                while (field.Length < size)
                {
                    Add($" g{count}: m{count}@example.com;");
                    count++;
                }

                return (Message(field), m => Assert.Equal(count, m.To.Count));
            default:
                field.Append("Date: Fri, 21 Nov 1997 09:55:06 -0600");
                while (field.Length < size)
                {
                    Add(" (comment 21 Nov 1997)");
                }

                return (Message(field), m => Assert.NotNull(m.Date));
        }
    }

    private static byte[] Message(StringBuilder field) => Encoding.UTF8.GetBytes(field + "\r\n\r\nbody\r\n");

    private static (long Allocated, TimeSpan Elapsed, MessageMetadata Result) Measure(byte[] message)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        var watch = Stopwatch.StartNew();
        var m = MessageMetadataReader.Read(message);
        watch.Stop();
        return (GC.GetAllocatedBytesForCurrentThread() - before, watch.Elapsed, m);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void A_hostile_value_at_the_cap_costs_linear_time_and_memory(string kind)
    {
        var (small, _) = Build(kind, Small);
        var (large, check) = Build(kind, Large);
        // Not the parsers' cost: the JIT's first pass, and the shared array pool filling its buckets.
        _ = Measure(small);
        _ = Measure(large);

        var a = Measure(small);
        var b = Measure(large);

        Assert.True(large.Length < Cap, $"{large.Length} bytes: over the cap, the comparison would be about limits");
        check(b.Result);
        Assert.False(b.Result.LimitsExceeded);
        Assert.DoesNotContain(b.Result.Problems, p => p.StartsWith("Internal error", StringComparison.Ordinal));
        output.WriteLine($"{kind}: {small.Length} B -> {a.Allocated} B allocated, {a.Elapsed.TotalMilliseconds:F1} ms; {large.Length} B -> {b.Allocated} B, {b.Elapsed.TotalMilliseconds:F1} ms");

        // Four times the input: linear work allocates about four times as much, quadratic sixteen.
        Assert.True(b.Allocated < 6 * a.Allocated, $"{kind}: {a.Allocated} B for {small.Length} B of input but {b.Allocated} B for {large.Length} B");

        // And a constant bound per byte of input: the value, its unfolded copy, decoded strings and the objects per element.
        Assert.True(b.Allocated < 64L * large.Length, $"{kind}: {b.Allocated} B allocated for {large.Length} B of input");
        Assert.True(b.Elapsed < TimeSpan.FromSeconds(2), $"{kind}: {b.Elapsed.TotalMilliseconds:F0} ms for {large.Length} B");
    }
}
