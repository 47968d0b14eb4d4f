using System.Diagnostics;
using System.Text;
using Xunit.Abstractions;

namespace Pop3Ingest.Mime.Tests;

/// <summary>Memory use must not depend on body size: bodies are scanned, never buffered.</summary>
public sealed class MemoryTests(ITestOutputHelper output)
{
    private const int ChunkSize = 64 * 1024;
    private const int LineLength = 78; // 76 base64 characters and CRLF
    private const long FiftyMegabytes = 50L * 1024 * 1024;

    /// <summary>A repeating body of whole lines, readable as 64 KiB windows starting anywhere in the pattern.</summary>
    private sealed class RepeatingBody
    {
        private readonly byte[] _ring;

        public RepeatingBody(byte[] pattern)
        {
            Pattern = pattern.Length;
            _ring = new byte[pattern.Length + ChunkSize];
            for (var i = 0; i < _ring.Length; i++)
            {
                _ring[i] = pattern[i % pattern.Length];
            }
        }

        public int Pattern { get; }

        public void Feed(MessageMetadataReader reader, long length)
        {
            for (long fed = 0; fed < length;)
            {
                var take = (int)Math.Min(ChunkSize, length - fed);
                reader.Write(_ring.AsSpan((int)(fed % Pattern), take));
                fed += take;
            }
        }
    }

    private static RepeatingBody Base64Lines(int lines, out int decodedPerPattern)
    {
        var random = new Random(7);
        var pattern = new StringBuilder();
        decodedPerPattern = 0;
        for (var i = 0; i < lines; i++)
        {
            var bytes = new byte[57];
            random.NextBytes(bytes);
            pattern.Append(Convert.ToBase64String(bytes)).Append("\r\n");
            decodedPerPattern += 57;
        }

        return new RepeatingBody(Encoding.ASCII.GetBytes(pattern.ToString()));
    }

    [Fact]
    public void Fifty_megabyte_base64_body_allocates_nothing_per_byte()
    {
        var body = Base64Lines(100, out var decodedPerPattern);
        var patterns = FiftyMegabytes / body.Pattern;
        var reader = new MessageMetadataReader();
        reader.Write("Subject: big\r\nContent-Type: application/octet-stream; name=big.bin\r\nContent-Transfer-Encoding: base64\r\n\r\n"u8);

        var before = GC.GetAllocatedBytesForCurrentThread();
        body.Feed(reader, patterns * body.Pattern);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        var m = reader.Complete();

        Assert.True(allocated < 16 * 1024, $"{allocated} bytes allocated while reading the body");
        Assert.Equal(patterns * decodedPerPattern, Assert.Single(m.Attachments).Size);
    }

    [Fact]
    public void Fifty_megabytes_of_base64_parts_in_a_multipart_allocate_per_part_not_per_byte()
    {
        const int parts = 50;
        var body = Base64Lines(100, out var decodedPerPattern);
        var patternsPerPart = FiftyMegabytes / parts / body.Pattern;
        var reader = new MessageMetadataReader();
        var before = GC.GetAllocatedBytesForCurrentThread();
        var watch = Stopwatch.StartNew();
        long total = 0;

        reader.Write("Subject: many\r\nContent-Type: multipart/mixed; boundary=\"=_boundary_0123456789\"\r\n\r\n"u8);
        for (var i = 0; i < parts; i++)
        {
            var header = Encoding.ASCII.GetBytes($"--=_boundary_0123456789\r\nContent-Type: application/pdf; name=\"p{i}.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n");
            reader.Write(header);
            body.Feed(reader, patternsPerPart * body.Pattern);
            total += header.Length + (patternsPerPart * body.Pattern);
        }

        reader.Write("--=_boundary_0123456789--\r\n"u8);
        var m = reader.Complete();
        watch.Stop();
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(parts, m.Attachments.Count);
        Assert.All(m.Attachments, a => Assert.Equal(patternsPerPart * decodedPerPattern, a.Size));
        Assert.True(allocated < 1024 * 1024, $"{allocated} bytes allocated for {total} bytes of input");
        output.WriteLine($"{total / 1e6:F1} MB in {watch.Elapsed.TotalMilliseconds:F0} ms: {total / 1e6 / watch.Elapsed.TotalSeconds:F0} MB/s, {allocated} bytes allocated");
    }

    [Theory]
    [InlineData("quoted-printable")]
    [InlineData("7bit")]
    public void Text_bodies_with_dash_lines_allocate_nothing_per_byte(string encoding)
    {
        // Lines that start with "--" make the reader look for boundaries on every one of them.
        var pattern = Encoding.ASCII.GetBytes("--=_boundary_01234567 almost\r\nCaf=C3=A9 soft break =\r\nplain line of text  \r\n-\r\n\r\n");
        var body = new RepeatingBody(pattern);
        var patterns = 10L * 1024 * 1024 / pattern.Length;
        var reader = new MessageMetadataReader();
        reader.Write(Encoding.ASCII.GetBytes(
            $"Content-Type: multipart/mixed; boundary=\"=_boundary_0123456789\"\r\n\r\n--=_boundary_0123456789\r\nContent-Type: text/plain; name=t.txt\r\nContent-Transfer-Encoding: {encoding}\r\n\r\n"));

        var before = GC.GetAllocatedBytesForCurrentThread();
        body.Feed(reader, patterns * pattern.Length);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        reader.Write("x\r\n--=_boundary_0123456789--\r\n"u8);
        var m = reader.Complete();

        Assert.True(allocated < 16 * 1024, $"{allocated} bytes allocated while reading the body");
        var expected = encoding == "7bit"
            ? (patterns * pattern.Length) + 1
            : (patterns * (pattern.Length - "=C3=A9".Length + 2 - "=\r\n".Length - "  ".Length)) + 1;
        Assert.Equal(expected, Assert.Single(m.Attachments).Size);
    }

    [Fact]
    public void A_body_without_line_breaks_allocates_nothing_per_byte()
    {
        var body = new RepeatingBody(Encoding.ASCII.GetBytes("-abcdefghijklmnopqrstuvwxyz-"));
        var reader = new MessageMetadataReader();
        reader.Write("Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: application/octet-stream; name=x\r\n\r\n"u8);

        var before = GC.GetAllocatedBytesForCurrentThread();
        body.Feed(reader, 20L * 1024 * 1024);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        reader.Write("\r\n--b--\r\n"u8);

        Assert.True(allocated < 16 * 1024, $"{allocated} bytes allocated while reading the body");
        Assert.Equal(20L * 1024 * 1024, Assert.Single(reader.Complete().Attachments).Size);
    }
}
