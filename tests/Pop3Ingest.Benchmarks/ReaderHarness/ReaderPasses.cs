using System.Diagnostics;
using Pop3Ingest.Mime;

namespace Pop3Ingest.Benchmarks.ReaderHarness;

/// <summary>
/// The measured loops: the metadata reader fed in 64 KiB chunks as <c>MessageTap</c> feeds it from RETR, and MimeKit's
/// <see cref="MimeKit.MimeReader"/> on the same messages beside it. Natively compiled there is no tier-up to wait for:
/// the warm-up passes only touch the memory and caches the timed ones use.
/// </summary>
internal static class ReaderPasses
{
    public const int ChunkSize = 64 * 1024;
    public const int WarmUpPasses = 3;
    public const int TimedPasses = 9;

    /// <summary>Every pass of the large message in order (warm-up first): seconds and bytes allocated on this thread.</summary>
    public static List<(double Seconds, long Allocated)> Large(byte[] message, IReadOnlyList<AttachmentInfo> expected)
    {
        var passes = new List<(double, long)>();
        for (var pass = 0; pass < WarmUpPasses + TimedPasses; pass++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            var watch = Stopwatch.StartNew();
            var metadata = ReadChunked(message);
            watch.Stop();
            var bytes = GC.GetAllocatedBytesForCurrentThread() - before;
            Check(metadata, expected);
            passes.Add((watch.Elapsed.TotalSeconds, bytes));
        }

        return passes;
    }

    /// <summary>MimeKit's MimeReader over the large message: every pass's seconds and bytes allocated (warm-up first).</summary>
    public static List<(double Seconds, long Allocated)> MimeKitLarge(byte[] message, int attachments)
    {
        var passes = new List<(double, long)>();
        for (var pass = 0; pass < WarmUpPasses + TimedPasses; pass++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            var watch = Stopwatch.StartNew();
            var reader = MimeKitCounter.Read(message, CancellationToken.None);
            watch.Stop();
            var bytes = GC.GetAllocatedBytesForCurrentThread() - before;

            // 20 attachments, the text and HTML alternatives, and the embedded message's body: every leaf seen.
            if (reader.Parts < attachments + 2)
            {
                throw new InvalidOperationException($"MimeKit's MimeReader saw {reader.Parts} parts.");
            }

            passes.Add((watch.Elapsed.TotalSeconds, bytes));
        }

        return passes;
    }

    public const int HostileRounds = 15;

    /// <summary>
    /// Each hostile shape at a quarter of the cap and at the cap, read alternately (one warm-up round, then
    /// <see cref="HostileRounds"/> timed): per size, the message's bytes and every timed read's seconds and bytes allocated.
    /// </summary>
    public static List<(string Kind, int Bytes, List<(double Seconds, long Allocated)> Reads)> Hostile()
    {
        var results = new List<(string, int, List<(double, long)>)>();
        foreach (var kind in HostileMessage.Kinds)
        {
            var sizes = new[] { HostileMessage.Small, HostileMessage.Large }.Select(size => HostileMessage.Build(kind, size)).ToList();
            if (sizes[^1].Message.Length >= HostileMessage.Cap)
            {
                throw new InvalidOperationException($"The hostile '{kind}' message has {sizes[^1].Message.Length} bytes: over the cap, the figure would be about the cap, not the parsers.");
            }

            var reads = sizes.Select(_ => new List<(double, long)>()).ToList();
            for (var round = 0; round <= HostileRounds; round++)
            {
                for (var i = 0; i < sizes.Count; i++)
                {
                    var before = GC.GetAllocatedBytesForCurrentThread();
                    var watch = Stopwatch.StartNew();
                    var metadata = ReadChunked(sizes[i].Message);
                    watch.Stop();
                    var bytes = GC.GetAllocatedBytesForCurrentThread() - before;
                    sizes[i].Check(metadata);
                    if (round > 0)
                    {
                        // Round 0 is the warm-up: MimeKit's first calls (its static tables, the code pages) and the array pool filling.
                        reads[i].Add((watch.Elapsed.TotalSeconds, bytes));
                    }
                }
            }

            for (var i = 0; i < sizes.Count; i++)
            {
                results.Add((kind, sizes[i].Message.Length, reads[i]));
            }
        }

        return results;
    }

    /// <summary>Reads one message over and over: the rates of 5 one-second rounds after one warm-up round, and the bytes allocated per read in the last.</summary>
    public static (List<double> PerSecond, long Allocated) MessagesPerSecond(Action read)
    {
        var perSecond = new List<double>();
        long allocated = 0;
        for (var round = 0; round < 6; round++)
        {
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

        return (perSecond, allocated);
    }

    public static MessageMetadata ReadChunked(byte[] message)
    {
        var reader = new MessageMetadataReader();
        for (var offset = 0; offset < message.Length; offset += ChunkSize)
        {
            reader.Write(message.AsSpan(offset, Math.Min(ChunkSize, message.Length - offset)));
        }

        return reader.Complete();
    }

    public static void Check(MessageMetadata metadata, IReadOnlyList<AttachmentInfo> expected)
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
}
