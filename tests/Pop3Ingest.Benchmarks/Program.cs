using System.Reflection;
using Pop3Ingest.Benchmarks;

// Pop3Ingest's benchmark program (issue 8): scenarios run real servers on loopback and print Markdown tables.
// Usage: Pop3Ingest.Benchmarks [scenario ...] [--runs N] [--messages N] [--work DIR] [--results FILE]
// With no scenario, all of them run in order. `--list` names them.
var scenarios = typeof(Program).Assembly.GetTypes()
    .Where(t => !t.IsAbstract && typeof(IScenario).IsAssignableFrom(t))
    .Select(t => (IScenario)Activator.CreateInstance(t)!)
    .OrderBy(s => s.Order)
    .ToList();

BenchOptions options;
List<string> names;
try
{
    (options, names) = BenchOptions.Parse(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}

if (options.List)
{
    foreach (var s in scenarios)
    {
        Console.WriteLine($"{s.Name,-12} {s.Description}");
    }

    return 0;
}

// Scenarios with a negative Order (tools such as `serve`) run only when named.
var selected = names.Count == 0 ? scenarios.Where(s => s.Order >= 0).ToList() : [];
foreach (var name in names)
{
    var match = scenarios.FirstOrDefault(s => string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase));
    if (match is null)
    {
        Console.Error.WriteLine($"Unknown scenario '{name}'. Known: {string.Join(", ", scenarios.Select(s => s.Name))}.");
        return 2;
    }

    selected.Add(match);
}

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};

Directory.CreateDirectory(options.WorkDirectory);
var report = new Report(options.ResultsFile);
report.Line($"# Pop3Ingest benchmark, {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC");
report.Line($"Machine: {Environment.ProcessorCount} cores, {Machine.MemoryGiB():0} GiB, {Machine.Kernel()}, .NET {Environment.Version}; " +
            $"commit {Machine.Commit()}; runs per case: {options.Runs}.");
var failed = 0;
foreach (var scenario in selected)
{
    report.Line();
    report.Line($"## {scenario.Name}: {scenario.Description}");
    try
    {
        await scenario.RunAsync(options, report, cancel.Token);
    }
    catch (Exception e) when (e is not OperationCanceledException || !cancel.IsCancellationRequested)
    {
        failed++;
        report.Line($"FAILED: {e.GetType().Name}: {e.Message}");
        Console.Error.WriteLine(e);
    }
}

return failed == 0 ? 0 : 1;

/// <summary>Marker for the top-level program's type.</summary>
internal sealed partial class Program;

namespace Pop3Ingest.Benchmarks
{
    /// <summary>One benchmark scenario; found by reflection, run in <see cref="Order"/>.</summary>
    internal interface IScenario
    {
        string Name { get; }

        string Description { get; }

        int Order { get; }

        Task RunAsync(BenchOptions options, Report report, CancellationToken cancellationToken);
    }

    internal sealed record BenchOptions(int Runs, int Messages, string WorkDirectory, string? ResultsFile, bool List)
    {
        public static (BenchOptions Options, List<string> Scenarios) Parse(string[] args)
        {
            var runs = 3;
            var messages = 5000;
            var work = Path.Combine(Path.GetTempPath(), "pop3ingest-bench");
            string? results = null;
            var list = false;
            var names = new List<string>();
            for (var i = 0; i < args.Length; i++)
            {
                string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
                switch (args[i])
                {
                    case "--runs":
                        runs = int.Parse(Value(), System.Globalization.CultureInfo.InvariantCulture);
                        break;
                    case "--messages":
                        messages = int.Parse(Value(), System.Globalization.CultureInfo.InvariantCulture);
                        break;
                    case "--work":
                        work = Path.GetFullPath(Value());
                        break;
                    case "--results":
                        results = Path.GetFullPath(Value());
                        break;
                    case "--list":
                        list = true;
                        break;
                    default:
                        if (args[i].StartsWith('-'))
                        {
                            throw new ArgumentException($"Unknown option {args[i]}.");
                        }

                        names.Add(args[i]);
                        break;
                }
            }

            if (runs < 1 || messages < 1)
            {
                throw new ArgumentException("--runs and --messages must be at least 1.");
            }

            return (new BenchOptions(runs, messages, work, results, list), names);
        }
    }

    /// <summary>Writes to the console and, when asked, appends the same Markdown to a results file.</summary>
    internal sealed class Report(string? file)
    {
        private readonly Lock _lock = new();

        public void Line(string text = "")
        {
            lock (_lock)
            {
                Console.WriteLine(text);
                if (file is not null)
                {
                    File.AppendAllText(file, text + Environment.NewLine);
                }
            }
        }

        /// <summary>Prints a Markdown table.</summary>
        public void Table(IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string>> rows)
        {
            Line("| " + string.Join(" | ", header) + " |");
            Line("|" + string.Concat(header.Select(_ => "---|")));
            foreach (var row in rows)
            {
                Line("| " + string.Join(" | ", row) + " |");
            }
        }
    }

    internal static class Machine
    {
        public static double MemoryGiB()
        {
            var line = File.ReadLines("/proc/meminfo").FirstOrDefault(l => l.StartsWith("MemTotal:", StringComparison.Ordinal));
            return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) / 1024.0 / 1024.0;
        }

        public static string Kernel() => File.Exists("/proc/sys/kernel/osrelease") ? "Linux " + File.ReadAllText("/proc/sys/kernel/osrelease").Trim() : Environment.OSVersion.ToString();

        public static string Commit()
        {
            try
            {
                using var git = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("git", "rev-parse --short HEAD")
                {
                    RedirectStandardOutput = true,
                    RedirectStandardError = true,
                    WorkingDirectory = AppContext.BaseDirectory,
                })!;
                var sha = git.StandardOutput.ReadToEnd().Trim();
                git.WaitForExit();
                return git.ExitCode == 0 ? sha : "unknown";
            }
            catch (System.ComponentModel.Win32Exception)
            {
                return "unknown";
            }
        }
    }
}
