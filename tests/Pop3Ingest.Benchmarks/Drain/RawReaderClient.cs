using System.Diagnostics;

namespace Pop3Ingest.Benchmarks.Drain;

/// <summary>
/// <see cref="RawPipelinedReader"/> run inside the benchmark process: wall time from a stopwatch, CPU as the process's
/// CPU time difference (the benchmark is otherwise idle), peak RSS not measured (it would be the benchmark's own).
/// </summary>
internal sealed class RawReaderClient() : DrainClient(DrainTarget.None)
{
    public override string Name => "raw pipelined reader";

    public override async Task<DrainRun> RunAsync(DrainMailbox mailbox, string runDirectory, CancellationToken cancellationToken)
    {
        using var self = Process.GetCurrentProcess();
        self.Refresh();
        var user = self.UserProcessorTime;
        var system = self.PrivilegedProcessorTime;
        var stopwatch = Stopwatch.StartNew();
        string? failure = null;
        try
        {
            var (messages, _) = await RawPipelinedReader.DrainAsync(mailbox, cancellationToken);
            if (messages != mailbox.Corpus.Count)
            {
                failure = $"read {messages} of {mailbox.Corpus.Count} messages";
            }
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or System.Net.Sockets.SocketException)
        {
            failure = $"{e.GetType().Name}: {e.Message}";
        }

        stopwatch.Stop();
        self.Refresh();
        var userSeconds = (self.UserProcessorTime - user).TotalSeconds;
        var systemSeconds = (self.PrivilegedProcessorTime - system).TotalSeconds;
        return new DrainRun(stopwatch.Elapsed, double.NaN, userSeconds + systemSeconds, userSeconds, systemSeconds, failure);
    }
}
