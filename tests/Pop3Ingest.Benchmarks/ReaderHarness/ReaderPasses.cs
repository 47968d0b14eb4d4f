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
