using System.Diagnostics;
using System.Globalization;

namespace Pop3Ingest.Benchmarks.Common;

/// <summary>
/// One measured run of an external program: wall time from our own stopwatch, peak RSS and user+sys CPU from
/// GNU time (<c>/usr/bin/time -f '%e %M %U %S'</c>, %M in KiB), the exit code and the last lines it printed.
/// </summary>
internal sealed record Measured(TimeSpan Wall, double PeakRssMiB, double CpuSeconds, double UserSeconds, double SystemSeconds, int ExitCode, string OutputTail)
{
    private const string GnuTime = "/usr/bin/time";
    private const int TailLines = 30;

    public static bool GnuTimeAvailable => File.Exists(GnuTime);

    /// <summary>Runs <paramref name="program"/> under GNU time and waits for it (killing it after <paramref name="timeout"/>).</summary>
    public static async Task<Measured> RunAsync(
        string program, IEnumerable<string> arguments, string workingDirectory, IReadOnlyDictionary<string, string>? environment,
        TimeSpan timeout, CancellationToken cancellationToken)
    {
        var timeFile = Path.Combine(workingDirectory, ".gnu-time");
        var info = new ProcessStartInfo(GnuTime)
        {
            WorkingDirectory = workingDirectory,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        // Diagnostics: POP3INGEST_BENCH_WRAP="strace -c -f -o /tmp/strace-{dir}" runs every client under that command
        // ({dir} is the run folder's name). GNU time then measures the wrapper too: for profiles, not for the table.
        var wrap = (Environment.GetEnvironmentVariable("POP3INGEST_BENCH_WRAP") ?? string.Empty)
            .Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(word => word.Replace("{dir}", Path.GetFileName(workingDirectory), StringComparison.Ordinal));
        foreach (var argument in new[] { "-f", "%e %M %U %S", "-o", timeFile }.Concat(wrap).Append(program).Concat(arguments))
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        var tail = new Queue<string>();
        void Add(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (tail)
            {
                tail.Enqueue(line);
                if (tail.Count > TailLines)
                {
                    tail.Dequeue();
                }
            }
        }

        using var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => Add(e.Data);
        process.ErrorDataReceived += (_, e) => Add(e.Data);
        var stopwatch = Stopwatch.StartNew();
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        process.StandardInput.Close();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            cancellationToken.ThrowIfCancellationRequested();
            Add($"(killed after {timeout})");
        }

        stopwatch.Stop();
        string output;
        lock (tail)
        {
            output = string.Join(Environment.NewLine, tail);
        }

        var (rss, user, system) = ParseTimeFile(timeFile);
        File.Delete(timeFile);
        return new Measured(stopwatch.Elapsed, rss, user + system, user, system, process.ExitCode, output);
    }

    private static (double RssMiB, double User, double System) ParseTimeFile(string path)
    {
        // GNU time writes "Command exited with non-zero status N" before the format line when the program fails.
        var line = File.Exists(path) ? File.ReadLines(path).LastOrDefault(l => l.Length > 0) : null;
        var fields = line?.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields is not { Length: 4 })
        {
            return (double.NaN, double.NaN, double.NaN);
        }

        static double Parse(string s) => double.Parse(s, CultureInfo.InvariantCulture);
        return (Parse(fields[1]) / 1024.0, Parse(fields[2]), Parse(fields[3]));
    }
}
