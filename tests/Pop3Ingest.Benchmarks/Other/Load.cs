namespace Pop3Ingest.Benchmarks.Other;

/// <summary>The machine's load, printed beside the figures: other work on a 2-core machine moves them.</summary>
internal static class Load
{
    public static string Now() =>
        File.Exists("/proc/loadavg") ? "load average " + string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "load average unknown";
}
