using System.Collections.Concurrent;
using System.Globalization;

namespace Pop3Ingest.Worker.Cli;

/// <summary>One status line, rewritten in place, for attended runs in a terminal.</summary>
internal sealed class ConsoleProgress : IDisposable
{
    private readonly ConcurrentDictionary<string, Ingestion.Pipeline.RunProgress> _accounts = new(StringComparer.Ordinal);
    private readonly Timer _timer;
    private readonly Lock _lock = new();
    private int _width;

    public ConsoleProgress()
    {
        _timer = new Timer(_ => Draw(), null, TimeSpan.FromMilliseconds(250), TimeSpan.FromMilliseconds(250));
    }

    public void Report(Ingestion.Pipeline.RunProgress progress) => _accounts[progress.Account] = progress;

    public void Finish()
    {
        _timer.Change(Timeout.Infinite, Timeout.Infinite);
        Draw();
        lock (_lock)
        {
            if (_width > 0)
            {
                Console.WriteLine();
            }
        }
    }

    public void Dispose() => _timer.Dispose();

    private void Draw()
    {
        var all = _accounts.Values.ToList();
        if (all.Count == 0)
        {
            return;
        }

        var done = all.Sum(a => a.Done);
        var planned = all.Sum(a => a.Planned);
        var megabytes = all.Sum(a => a.Bytes) / 1_048_576.0;
        var line = string.Create(CultureInfo.InvariantCulture, $"{all.Count} accounts: {done}/{planned} messages, {megabytes:0.0} MB");
        lock (_lock)
        {
            Console.Write("\r" + line.PadRight(_width));
            _width = line.Length;
        }
    }
}
