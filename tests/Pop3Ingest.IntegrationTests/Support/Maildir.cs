using System.Globalization;

namespace Pop3Ingest.IntegrationTests.Support;

/// <summary>A Maildir (cur, new, tmp) filled the way an MDA does it: write into tmp, rename into new.</summary>
internal sealed class Maildir(string path, SystemAccount owner)
{
    private readonly Lock _lock = new();
    private long _lastMicroseconds;
    private int _sequence;

    public string Path { get; } = path;

    public void Create()
    {
        foreach (var directory in new[] { Path, System.IO.Path.Combine(Path, "cur"), System.IO.Path.Combine(Path, "new"), System.IO.Path.Combine(Path, "tmp") })
        {
            Directory.CreateDirectory(directory);
            Posix.SetMode(directory, "700");
            Posix.Chown(directory, owner);
        }
    }

    public async Task DeliverAsync(byte[] message, CancellationToken cancellationToken)
    {
        var name = NextFileName();
        var temporary = System.IO.Path.Combine(Path, "tmp", name);
        await File.WriteAllBytesAsync(temporary, message, cancellationToken);
        Posix.SetMode(temporary, "600");
        Posix.Chown(temporary, owner);
        File.Move(temporary, System.IO.Path.Combine(Path, "new", name));
    }

    public int Count() => new[] { "new", "cur" }
        .Select(sub => System.IO.Path.Combine(Path, sub))
        .Where(Directory.Exists)
        .Sum(directory => Directory.EnumerateFiles(directory).Count());

    private string NextFileName()
    {
        long microseconds;
        int sequence;
        lock (_lock)
        {
            // Strictly increasing, so that servers that order new mail by name or time keep delivery order.
            microseconds = Math.Max(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000, _lastMicroseconds + 1);
            _lastMicroseconds = microseconds;
            sequence = ++_sequence;
        }

        return string.Create(CultureInfo.InvariantCulture,
            $"{microseconds / 1_000_000}.M{microseconds % 1_000_000:D6}P{Environment.ProcessId}Q{sequence}.p3i-test");
    }
}
