using System.Diagnostics;
using System.Globalization;

namespace Pop3Ingest.Benchmarks.Other;

/// <summary>What GNU time reported for one process: wall, peak RSS, user and system CPU.</summary>
internal sealed record ProcessMeasurement(int ExitCode, double WallSeconds, long PeakRssKiB, double UserSeconds, double SystemSeconds, string Output)
{
    public double CpuSeconds => UserSeconds + SystemSeconds;

    public double PeakRssMiB => PeakRssKiB / 1024.0;
}

/// <summary>Runs a program under <c>/usr/bin/time -f '%e %M %U %S'</c> (its figures go to a file, not the output).</summary>
internal static class ProcessMeasure
{
    private const string TimeBinary = "/usr/bin/time";

    public static async Task<ProcessMeasurement> RunAsync(string program, IReadOnlyList<string> arguments, string workingDirectory, CancellationToken cancellationToken)
    {
        if (!File.Exists(TimeBinary))
        {
            throw new InvalidOperationException($"{TimeBinary} (GNU time) is missing; apt-get install time.");
        }

        var figures = Path.Combine(workingDirectory, $"time-{Guid.NewGuid():N}.txt");
        var start = new ProcessStartInfo(TimeBinary)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory,
        };
        foreach (var argument in new[] { "-f", "%e %M %U %S", "-o", figures, program }.Concat(arguments))
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {program}.");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        try
        {
            await process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        var output = await stdout + await stderr;
        var line = File.ReadLines(figures).LastOrDefault(l => l.Split(' ').Length == 4)
            ?? throw new InvalidOperationException($"GNU time wrote no figures for {program}: {File.ReadAllText(figures)}");
        File.Delete(figures);
        var parts = line.Split(' ');
        return new ProcessMeasurement(
            process.ExitCode,
            double.Parse(parts[0], CultureInfo.InvariantCulture),
            long.Parse(parts[1], CultureInfo.InvariantCulture),
            double.Parse(parts[2], CultureInfo.InvariantCulture),
            double.Parse(parts[3], CultureInfo.InvariantCulture),
            output);
    }

    /// <summary>
    /// User plus system CPU seconds of every process whose command line contains <paramref name="marker"/>; with
    /// <paramref name="reapedChildren"/>, plus what its children that already exited used (cutime, cstime).
    /// </summary>
    public static double CpuSecondsOfProcesses(string marker, bool reapedChildren = false)
    {
        var ticks = 100.0; // USER_HZ on Linux
        double total = 0;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out _))
            {
                continue;
            }

            try
            {
                var cmdline = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ');
                if (!cmdline.Contains(marker, StringComparison.Ordinal))
                {
                    continue;
                }

                // /proc/<pid>/stat: fields after the ")" of the command; utime and stime are fields 14 and 15.
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                total += (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / ticks;
                if (reapedChildren)
                {
                    total += (long.Parse(fields[13], CultureInfo.InvariantCulture) + long.Parse(fields[14], CultureInfo.InvariantCulture)) / ticks;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
            {
                // The process ended while we looked.
            }
        }

        return total;
    }

    /// <summary>The peak resident set of a running process so far (VmHWM in /proc/PID/status), in MiB.</summary>
    public static double PeakRssMiB(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                return long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture) / 1024.0;
            }
        }

        throw new InvalidOperationException($"/proc/{pid}/status has no VmHWM line.");
    }
}
