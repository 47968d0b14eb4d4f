using System.Diagnostics;
using System.Text;
using MimeKit;
using Pop3Ingest.Mime;

namespace Pop3Ingest.Benchmarks.Other;

/// <summary>
/// The metadata reader alone, in memory, fed in 64 KiB chunks as <c>MessageTap</c> feeds it from RETR.
/// A ~130 MB multipart (text, a nested multipart/alternative, 16 base64 and 4 quoted-printable attachments with file
/// names, a message/rfc822 part) for GB/s and allocations per pass; a 10 KB everyday message for messages/s.
/// MimeKit's <see cref="MimeReader"/> reads the same messages from a non-seekable stream beside it (part content
/// counted, not decoded), so the choice to keep the framing our own stays measured.
/// </summary>
internal sealed class ReaderScenario : IScenario
{
    private const int ChunkSize = 64 * 1024;
    private const int WarmUpPasses = 3;
    private const int TimedPasses = 9;
    private const double TargetGBps = 1.0;
    private const double TargetSmallPerSecond = 10_000;

    public string Name => "reader";

    public string Description => "metadata reader throughput: ~130 MB multipart in 64 KiB chunks, and a 10 KB message; MimeKit's MimeReader beside it";

    public int Order => 5;

    public Task RunAsync(BenchOptions options, Report report, CancellationToken cancellationToken)
    {
        report.Line($"Before: {Load.Now()}.");
        var (message, expected) = LargeMessage.Build();
        report.Line($"Large message: {Stats.N(message.Length)} bytes, {expected.Count} attachments expected; {WarmUpPasses} warm-up passes, {TimedPasses} timed, chunks of {ChunkSize / 1024} KiB.");

        var seconds = new List<double>();
        var allocated = new List<long>();
        var firstPass = 0.0;
        for (var pass = 0; pass < WarmUpPasses + TimedPasses; pass++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var before = GC.GetAllocatedBytesForCurrentThread();
            var watch = Stopwatch.StartNew();
            var metadata = ReadChunked(message);
            watch.Stop();
            var bytes = GC.GetAllocatedBytesForCurrentThread() - before;
            Check(metadata, expected);
            if (pass == 0)
            {
                firstPass = watch.Elapsed.TotalSeconds;
            }

            if (pass >= WarmUpPasses)
            {
                seconds.Add(watch.Elapsed.TotalSeconds);
                allocated.Add(bytes);
            }
        }

        var gbps = seconds.Select(s => message.Length / s / 1e9).ToList();
        var median = Stats.Median(gbps);

        var (small, smallExpectedSubject) = SmallMessage.Build();
        var (smallMedian, smallAllocated) = MessagesPerSecond(() =>
        {
            var metadata = ReadChunked(small);
            if (metadata.Subject != smallExpectedSubject || metadata.To.Count != 4 || metadata.Attachments.Count != 1)
            {
                throw new InvalidOperationException($"Small message read wrong: subject '{metadata.Subject}', {metadata.To.Count} To, {metadata.Attachments.Count} attachments.");
            }
        }, cancellationToken);
        var mimeKit = MeasureMimeKit(message, expected.Count, cancellationToken);
        var mimeKitSmall = MessagesPerSecond(() => MimeKitCounter.Read(small, cancellationToken), cancellationToken);
        report.Table(
            ["figure", "value", "target", "result", "how measured"],
            [
                ["large multipart, median throughput", $"{Stats.F(median)} GB/s", $">= {Stats.F(TargetGBps, "0.0")} GB/s", Stats.Met(median >= TargetGBps),
                    $"median of {TimedPasses} passes after {WarmUpPasses} warm-up; passes: {Stats.List(gbps)} GB/s; best {Stats.F(gbps.Max())}; the target is this benchmark's own floor"],
                ["large multipart, first (cold) pass", $"{Stats.F(message.Length / firstPass / 1e9)} GB/s", "(context)", "-", "pass 1 of the process, JIT included"],
                ["allocated per large pass", $"{Stats.N((long)Stats.Median(allocated.Select(a => (double)a).ToList()))} bytes", "bounded, independent of size", Stats.Met(allocated.Max() < message.Length / 100),
                    "GC.GetAllocatedBytesForCurrentThread around one pass (reader, Write, Complete); met when under 1% of the message"],
                ["result check", $"{expected.Count} attachments, decoded sizes exact", "all right", "met", "file names, content types and decoded sizes compared with the generator's (a mismatch fails the scenario)"],
                ["10 KB message", $"{Stats.F(smallMedian, "N0")} messages/s", $">= {Stats.F(TargetSmallPerSecond, "N0")}/s", Stats.Met(smallMedian >= TargetSmallPerSecond),
                    $"{Stats.N(small.Length)}-byte message (encoded words, 6 addresses, alternative + 1 attachment) read whole in 64 KiB chunks, new reader each; median of 5 one-second rounds after one warm-up round ({Stats.F(smallMedian * small.Length / 1e6, "0")} MB/s)"],
                ["allocated per 10 KB message", $"{Stats.N(smallAllocated)} bytes", "(context)", "-", "average over the last round"],
                ["MimeKit MimeReader, large multipart", $"{Stats.F(mimeKit.MedianGBps)} GB/s, {Stats.N(mimeKit.Allocated)} bytes allocated per pass", "(context)", "-",
                    $"the same message from a non-seekable stream read in 64 KiB blocks, part content counted not decoded; median of {TimedPasses} passes after {WarmUpPasses} warm-up; ours at {Stats.F(median / mimeKit.MedianGBps, "0.00")}x its speed"],
                ["MimeKit MimeReader, 10 KB message", $"{Stats.F(mimeKitSmall.PerSecond, "N0")} messages/s, {Stats.N(mimeKitSmall.Allocated)} bytes allocated each", "(context)", "-",
                    "the same message, new reader each, median of 5 one-second rounds after one warm-up round"],
            ]);
        report.Summary(
            $"metadata reader, {Stats.F(message.Length / 1e6, "0")} MB multipart in {ChunkSize / 1024} KiB chunks",
            $"{Stats.F(median)} GB/s, {Stats.N((long)Stats.Median(allocated.Select(a => (double)a).ToList()))} bytes allocated per pass",
            $">= {Stats.F(TargetGBps, "0.0")} GB/s: {Stats.Met(median >= TargetGBps)}");
        report.Summary(
            $"metadata reader, {Stats.N(small.Length)}-byte message",
            $"{Stats.F(smallMedian, "N0")} messages/s",
            $">= {Stats.F(TargetSmallPerSecond, "N0")}/s: {Stats.Met(smallMedian >= TargetSmallPerSecond)}");
        return Task.CompletedTask;
    }

    private static (double MedianGBps, long Allocated) MeasureMimeKit(byte[] message, int attachments, CancellationToken cancellationToken)
    {
        var gbps = new List<double>();
        var allocated = new List<double>();
        for (var pass = 0; pass < WarmUpPasses + TimedPasses; pass++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var before = GC.GetAllocatedBytesForCurrentThread();
            var watch = Stopwatch.StartNew();
            var reader = MimeKitCounter.Read(message, cancellationToken);
            watch.Stop();
            var bytes = GC.GetAllocatedBytesForCurrentThread() - before;

            // 20 attachments, the text and HTML alternatives, and the embedded message's body: every leaf seen.
            if (reader.Parts < attachments + 2)
            {
                throw new InvalidOperationException($"MimeKit's MimeReader saw {reader.Parts} parts.");
            }

            if (pass >= WarmUpPasses)
            {
                gbps.Add(message.Length / watch.Elapsed.TotalSeconds / 1e9);
                allocated.Add(bytes);
            }
        }

        return (Stats.Median(gbps), (long)Stats.Median(allocated));
    }

    /// <summary>Reads one message over and over: the median rate of 5 one-second rounds after one warm-up round, and the bytes allocated per read in the last.</summary>
    private static (double PerSecond, long Allocated) MessagesPerSecond(Action read, CancellationToken cancellationToken)
    {
        var perSecond = new List<double>();
        long allocated = 0;
        for (var round = 0; round < 6; round++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var count = 0;
            var before = GC.GetAllocatedBytesForCurrentThread();
            var watch = Stopwatch.StartNew();
            while (watch.Elapsed < TimeSpan.FromSeconds(1))
            {
                for (var i = 0; i < 100; i++)
                {
                    read();
                }

                count += 100;
            }

            watch.Stop();
            if (round > 0)
            {
                // Round 0 is the warm-up.
                perSecond.Add(count / watch.Elapsed.TotalSeconds);
                allocated = (GC.GetAllocatedBytesForCurrentThread() - before) / count;
            }
        }

        return (Stats.Median(perSecond), allocated);
    }

    private static MessageMetadata ReadChunked(byte[] message)
    {
        var reader = new MessageMetadataReader();
        for (var offset = 0; offset < message.Length; offset += ChunkSize)
        {
            reader.Write(message.AsSpan(offset, Math.Min(ChunkSize, message.Length - offset)));
        }

        return reader.Complete();
    }

    private static void Check(MessageMetadata metadata, IReadOnlyList<AttachmentInfo> expected)
    {
        var actual = metadata.Attachments;
        var problems = new List<string>();
        if (actual.Count != expected.Count)
        {
            problems.Add($"{actual.Count} attachments instead of {expected.Count}");
        }

        for (var i = 0; i < Math.Min(actual.Count, expected.Count); i++)
        {
            if (actual[i] != expected[i])
            {
                problems.Add($"attachment {i}: {actual[i]} instead of {expected[i]}");
            }
        }

        if (metadata.Problems.Count > 0)
        {
            problems.Add("reader problems: " + string.Join("; ", metadata.Problems));
        }

        if (problems.Count > 0)
        {
            throw new InvalidOperationException("The metadata reader's result is wrong: " + string.Join("; ", problems.Take(10)));
        }
    }

    /// <summary>The ~130 MB multipart and the attachments the reader should report, in document order.</summary>
    private static class LargeMessage
    {
        private const int Base64Bytes = 6_000_000;
        private const int QuotedPrintableBytes = 400_000;

        public static (byte[] Message, List<AttachmentInfo> Expected) Build()
        {
            var random = new Random(5);
            var expected = new List<AttachmentInfo>();
            using var output = new MemoryStream(140_000_000);
            void W(string text) => output.Write(Encoding.ASCII.GetBytes(text));

            W("Return-Path: <reports@example.org>\r\n");
            W("From: =?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <juergen.mueller@example.org>\r\n");
            W("To: \"Archive\" <archive@example.net>, Team: a@example.net, b@example.net;\r\n");
            W("Subject: =?UTF-8?B?UXVhcnRhbHNiZXJpY2h0IG1pdCBBbmjDpG5nZW4=?=\r\n");
            W("Date: Mon, 23 Nov 2026 08:00:00 +0100\r\n");
            W("Message-ID: <large-1@example.org>\r\n");
            W("MIME-Version: 1.0\r\n");
            W("Content-Type: multipart/mixed; boundary=\"=_outer_7f3a\"\r\n\r\n");
            W("This is a multi-part message in MIME format.\r\n");
            W("--=_outer_7f3a\r\nContent-Type: multipart/alternative; boundary=\"=_alt_19\"\r\n\r\n");
            W("--=_alt_19\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n");
            for (var i = 0; i < 200; i++)
            {
                W($"Zeile {i}: Gr=C3=BC=C3=9Fe aus dem Bericht, siehe Anh=C3=A4nge.\r\n");
            }

            W("--=_alt_19\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body>");
            for (var i = 0; i < 200; i++)
            {
                W($"<p>Line {i} of the report.</p>\r\n");
            }

            W("</body></html>\r\n--=_alt_19--\r\n");
            for (var n = 1; n <= 20; n++)
            {
                if (n % 5 == 0)
                {
                    var name = $"table-{n:D2}.csv";
                    W($"--=_outer_7f3a\r\nContent-Type: text/csv; charset=iso-8859-1; name=\"{name}\"\r\nContent-Disposition: attachment; filename=\"{name}\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n");
                    var decoded = QuotedPrintable(output, random, QuotedPrintableBytes);
                    expected.Add(new AttachmentInfo(name, "text/csv", decoded));
                    W("\r\n");
                }
                else
                {
                    var name = $"scan-{n:D2}.pdf";
                    W($"--=_outer_7f3a\r\nContent-Type: application/pdf; name=\"{name}\"\r\nContent-Disposition: attachment;\r\n filename=\"{name}\"\r\nContent-Transfer-Encoding: base64\r\n\r\n");
                    var raw = new byte[Base64Bytes];
                    random.NextBytes(raw);
                    var text = Convert.ToBase64String(raw, Base64FormattingOptions.InsertLineBreaks);
                    W(text);
                    W("\r\n");
                    expected.Add(new AttachmentInfo(name, "application/pdf", Base64Bytes));
                }
            }

            W("--=_outer_7f3a\r\nContent-Type: message/rfc822\r\nContent-Disposition: attachment; filename=\"forwarded.eml\"\r\n\r\n");
            var innerStart = output.Position;
            W("From: Inner <inner@example.com>\r\nTo: juergen.mueller@example.org\r\nSubject: =?ISO-8859-1?Q?Weitergeleitet_=E4?=\r\nDate: Sun, 22 Nov 2026 10:00:00 +0000\r\nMessage-ID: <inner-1@example.com>\r\n\r\n");
            for (var i = 0; i < 100; i++)
            {
                W($"Inner body line {i}.\r\n");
            }

            var innerSize = output.Position - innerStart - 2; // the last CRLF belongs to the boundary
            expected.Add(new AttachmentInfo("forwarded.eml", "message/rfc822", innerSize));
            W("--=_outer_7f3a--\r\n");
            return (output.ToArray(), expected);
        }

        /// <summary>Writes quoted-printable text (CRLF lines, escapes, soft breaks) of a given decoded size, minus the final line break that the boundary owns; returns the decoded size.</summary>
        private static long QuotedPrintable(MemoryStream output, Random random, int decodedTarget)
        {
            long decoded = 0;
            var line = new StringBuilder();
            var row = 0;
            while (decoded < decodedTarget)
            {
                // One CSV row: ASCII words, some Latin-1 letters (escaped), and a long cell that needs a soft break.
                line.Clear();
                var cells = $"{row};M=FCller;{random.Next(100000)};Stra=DFe {random.Next(1000)};" + new string('x', 90) + ";=3Dsum";
                // Soft break every 70 encoded characters, never inside an escape.
                var written = 0;
                var rowDecoded = 0;
                for (var i = 0; i < cells.Length; i++)
                {
                    var isEscape = cells[i] == '=';
                    var width = isEscape ? 3 : 1;
                    if (written + width > 72)
                    {
                        line.Append("=\r\n");
                        written = 0;
                    }

                    line.Append(cells, i, width);
                    written += width;
                    rowDecoded++;
                    i += width - 1;
                }

                line.Append("\r\n");
                rowDecoded += 2;
                output.Write(Encoding.ASCII.GetBytes(line.ToString()));
                decoded += rowDecoded;
                row++;
            }

            // The last row's CRLF is followed by the boundary's CRLF, so the body keeps it: the decoded size includes it.
            return decoded;
        }
    }

    /// <summary>A typical 10 KB notification mail: encoded words, several addresses, text + HTML, one small PDF.</summary>
    private static class SmallMessage
    {
        public static (byte[] Message, string Subject) Build()
        {
            var random = new Random(10);
            var builder = new StringBuilder();
            builder.Append("Received: from mx1.example.org (mx1.example.org [192.0.2.1]) by mail.example.net with ESMTPS id 4Xyz; Mon, 23 Nov 2026 08:00:01 +0000\r\n");
            builder.Append("From: =?UTF-8?B?U8O2cmVuIEjDpG5zZWw=?= <soeren@example.org>\r\n");
            builder.Append("To: \"Support\" <support@example.net>, =?ISO-8859-1?Q?Ren=E9_Dupont?= <rene@example.net>,\r\n =?UTF-8?Q?Zo=C3=AB?= <zoe@example.net>, plain@example.net\r\n");
            builder.Append("Cc: Team (internal) <team@example.net>, \"Doe, Jane\" <jane.doe@example.net>\r\n");
            builder.Append("Reply-To: no-reply@example.org\r\n");
            builder.Append("Subject: =?UTF-8?Q?Re:_Bestellung_Nr._4711_=E2=80=93_Lieferung?= =?UTF-8?B?IHZlcnrDtmdlcnQ=?=\r\n");
            builder.Append("Date: Mon, 23 Nov 2026 09:00:00 +0100 (CET)\r\n");
            builder.Append("Message-ID: <20261123080000.4711@example.org>\r\n");
            builder.Append("In-Reply-To: <20261122170000.4710@example.net>\r\n");
            builder.Append("References: <20261120100000.1@example.net>\r\n <20261122170000.4710@example.net>\r\n");
            builder.Append("MIME-Version: 1.0\r\n");
            builder.Append("Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n");
            builder.Append("--b1\r\nContent-Type: multipart/alternative; boundary=\"b2\"\r\n\r\n");
            builder.Append("--b2\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n");
            for (var i = 0; i < 30; i++)
            {
                builder.Append("Sehr geehrte Damen und Herren, die Lieferung verz=C3=B6gert sich um ").Append(i).Append(" Tage.\r\n");
            }

            builder.Append("--b2\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body>\r\n");
            for (var i = 0; i < 30; i++)
            {
                builder.Append("<p>Die Lieferung verz&ouml;gert sich um ").Append(i).Append(" Tage.</p>\r\n");
            }

            builder.Append("</body></html>\r\n--b2--\r\n");
            var pdf = new byte[2400];
            random.NextBytes(pdf);
            builder.Append("--b1\r\nContent-Type: application/pdf; name=\"=?UTF-8?Q?Rechnung_M=C3=A4rz.pdf?=\"\r\nContent-Disposition: attachment;\r\n filename*=UTF-8''Rechnung%20M%C3%A4rz.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n");
            builder.Append(Convert.ToBase64String(pdf, Base64FormattingOptions.InsertLineBreaks)).Append("\r\n--b1--\r\n");
            return (Encoding.ASCII.GetBytes(builder.ToString()), "Re: Bestellung Nr. 4711 – Lieferung verzögert");
        }
    }

    /// <summary>MimeKit's push-style reader with the callbacks a metadata reader needs: headers parsed, part content counted.</summary>
    private sealed class MimeKitCounter(Stream stream) : MimeReader(stream)
    {
        public int Parts { get; private set; }

        public long ContentBytes { get; private set; }

        public static MimeKitCounter Read(byte[] message, CancellationToken cancellationToken)
        {
            using var stream = new ForwardOnlyStream(message);
            var reader = new MimeKitCounter(stream);
            reader.ReadMessage(cancellationToken);
            return reader;
        }

        protected override void OnMimePartBegin(ContentType contentType, long beginOffset, int beginLineNumber, CancellationToken cancellationToken) => Parts++;

        protected override void OnMimePartContentRead(byte[] buffer, int startIndex, int count, CancellationToken cancellationToken) => ContentBytes += count;
    }

    /// <summary>The message as RETR delivers it: read once, front to back, in blocks of at most 64 KiB, no seeking.</summary>
    private sealed class ForwardOnlyStream(byte[] data) : Stream
    {
        private int _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var take = Math.Min(Math.Min(count, ChunkSize), data.Length - _position);
            data.AsSpan(_position, take).CopyTo(buffer.AsSpan(offset));
            _position += take;
            return take;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
