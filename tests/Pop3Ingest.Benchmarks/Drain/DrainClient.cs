using Pop3Ingest.Benchmarks.Common;

namespace Pop3Ingest.Benchmarks.Drain;

/// <summary>Where a client writes the mail it drains.</summary>
internal enum DrainTarget
{
    /// <summary>A folder under the work directory on the root file system.</summary>
    Disk,

    /// <summary>A tmpfs mounted for the scenario.</summary>
    Tmpfs,

    /// <summary>Nothing is stored (the raw reader counts and discards).</summary>
    None,
}

/// <summary>The POP3 mailbox every client drains: plain POP3 with USER/PASS on loopback, kept on the server.</summary>
internal sealed record DrainMailbox(string Host, int Port, string User, string Password, Corpus Corpus);

/// <summary>One run of one client.</summary>
internal sealed record DrainRun(TimeSpan Wall, double PeakRssMiB, double CpuSeconds, double UserSeconds, double SystemSeconds, string? Failure)
{
    public bool Succeeded => Failure is null;

    public static DrainRun From(Measured measured, string? failure) =>
        new(measured.Wall, measured.PeakRssMiB, measured.CpuSeconds, measured.UserSeconds, measured.SystemSeconds, failure);
}

/// <summary>A POP3 client under test. Each run gets a fresh, empty folder on its target: no state from earlier runs.</summary>
internal abstract class DrainClient(DrainTarget target)
{
    /// <summary>Longest a single drain may take before it is killed and reported as failed.</summary>
    protected static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(20);

    public abstract string Name { get; }

    public DrainTarget Target { get; } = target;

    /// <summary>A folder-safe name for the run folders.</summary>
    public string Slug => string.Concat((Name + "-" + Target).Select(c => char.IsAsciiLetterOrDigit(c) ? char.ToLowerInvariant(c) : '-'));

    /// <summary>Drains the whole mailbox once into <paramref name="runDirectory"/> (empty) and checks that all of it arrived.</summary>
    public abstract Task<DrainRun> RunAsync(DrainMailbox mailbox, string runDirectory, CancellationToken cancellationToken);

    /// <summary>Messages in a Maildir: files in new and cur.</summary>
    protected static int CountMaildir(string maildir) =>
        new[] { "new", "cur" }
            .Select(sub => Path.Combine(maildir, sub))
            .Where(Directory.Exists)
            .Sum(folder => Directory.EnumerateFiles(folder).Count());

    /// <summary>Creates an empty Maildir (cur, new, tmp).</summary>
    protected static string CreateMaildir(string path)
    {
        foreach (var sub in new[] { "cur", "new", "tmp" })
        {
            Directory.CreateDirectory(Path.Combine(path, sub));
        }

        return path;
    }

    /// <summary>Writes a file only its owner may read (the clients refuse configuration files with passwords otherwise).</summary>
    protected static string WritePrivateFile(string path, string content)
    {
        File.WriteAllText(path, content);
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("The benchmark runs on Linux.");
        }

        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return path;
    }

    /// <summary>The failure text for a run that exited badly or stored the wrong number of messages; null when it is fine.</summary>
    protected static string? Check(Measured measured, bool exitOk, int stored, int expected)
    {
        if (exitOk && stored == expected)
        {
            return null;
        }

        return FormattableString.Invariant($"exit code {measured.ExitCode}, stored {stored} of {expected} messages; output tail:\n{measured.OutputTail}");
    }
}
