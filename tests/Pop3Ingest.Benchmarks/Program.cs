using Pop3Ingest.Benchmarks;
using Pop3Ingest.Benchmarks.Common;

// Pop3Ingest's benchmark program: scenarios run real servers on loopback and print Markdown tables.
// Usage: Pop3Ingest.Benchmarks [scenario ...] [--runs N] [--messages N] [--azure-delay-ms N] [--work DIR] [--repo DIR] [--no-save]
// With no scenario, all of them run in order. `--list` names them. Each scenario that completes replaces its section
// of tests/Pop3Ingest.Benchmarks/results.md and its rows of the root README's short table (ResultsFiles), unless
// --no-save is given.
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

ResultsFiles? results = null;
if (options.Save)
{
    var root = options.RepositoryRoot ?? Machine.RepositoryRootOrNull();
    if (root is null)
    {
        Console.Error.WriteLine("No repository (Pop3Ingest.sln) above the benchmark's binaries and no --repo: results are printed, not saved.");
    }
    else
    {
        results = new ResultsFiles(root, [.. scenarios.Where(s => s.Order >= 0).Select(s => s.Name)]);
    }
}

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};

Directory.CreateDirectory(options.WorkDirectory);
var report = new Report();
var commit = Machine.Commit(options.RepositoryRoot ?? AppContext.BaseDirectory);
var command = "bash deploy/local/bench.sh" + string.Concat(args.Select(a => " " + a));
report.Line($"# Pop3Ingest benchmark, {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC");
var failed = 0;
foreach (var scenario in selected)
{
    report.Line();
    report.BeginScenario(scenario.Name);
    report.Line($"## {scenario.Name}: {scenario.Description}");
    report.Line();
    report.Line($"Run {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC on {Machine.Describe()}; commit {commit}; `{command}`; runs per case: {options.Runs}.");
    report.Line();
    try
    {
        await scenario.RunAsync(options, report, cancel.Token);
        if (results is not null && scenario.Order >= 0)
        {
            // A failed scenario leaves the previous results in place; its failure is on the console.
            results.Save(scenario.Name, report.ScenarioLines, report.ScenarioSummary);
            Console.Error.WriteLine($"{scenario.Name}: results written to {results.ResultsPath}");
        }
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

    /// <param name="AzureDelayMs">The round trip the azurite scenario adds between the worker and Azurite in its second phase (0: none).</param>
    internal sealed record BenchOptions(int Runs, int Messages, int AzureDelayMs, string WorkDirectory, string? RepositoryRoot, bool Save, bool List)
    {
        public static (BenchOptions Options, List<string> Scenarios) Parse(string[] args)
        {
            var runs = 3;
            var messages = 5000;
            var azureDelayMs = 20;
            var work = Path.Combine(Path.GetTempPath(), "pop3ingest-bench");
            string? repository = null;
            var save = true;
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
                    case "--azure-delay-ms":
                        azureDelayMs = int.Parse(Value(), System.Globalization.CultureInfo.InvariantCulture);
                        break;
                    case "--work":
                        work = Path.GetFullPath(Value());
                        break;
                    case "--repo":
                        repository = Path.GetFullPath(Value());
                        break;
                    case "--no-save":
                        save = false;
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

            if (azureDelayMs < 0)
            {
                throw new ArgumentException("--azure-delay-ms must be 0 or more.");
            }

            if (repository is not null && !File.Exists(Path.Combine(repository, "Pop3Ingest.sln")))
            {
                throw new ArgumentException($"--repo {repository} holds no Pop3Ingest.sln.");
            }

            return (new BenchOptions(runs, messages, azureDelayMs, work, repository, save, list), names);
        }
    }

    /// <summary>
    /// Writes Markdown to the console and keeps what the current scenario wrote, with its rows for the root README's
    /// short table, for <see cref="ResultsFiles"/>.
    /// </summary>
    internal sealed class Report
    {
        private readonly Lock _lock = new();
        private readonly List<string> _lines = [];
        private readonly List<IReadOnlyList<string>> _summary = [];
        private string _scenario = string.Empty;

        public IReadOnlyList<string> ScenarioLines
        {
            get
            {
                lock (_lock)
                {
                    return [.. _lines];
                }
            }
        }

        public IReadOnlyList<IReadOnlyList<string>> ScenarioSummary
        {
            get
            {
                lock (_lock)
                {
                    return [.. _summary];
                }
            }
        }

        /// <summary>Starts keeping a new scenario's lines and summary rows.</summary>
        public void BeginScenario(string name)
        {
            lock (_lock)
            {
                _scenario = name;
                _lines.Clear();
                _summary.Clear();
            }
        }

        public void Line(string text = "")
        {
            lock (_lock)
            {
                Console.WriteLine(text);
                _lines.Add(text);
            }
        }

        /// <summary>Prints a Markdown table, with an empty line before and after it so that it never joins a paragraph.</summary>
        public void Table(IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string>> rows)
        {
            bool afterText;
            lock (_lock)
            {
                afterText = _lines.Count > 0 && _lines[^1].Length > 0;
            }

            if (afterText)
            {
                Line();
            }

            Line("| " + string.Join(" | ", header) + " |");
            Line("|" + string.Concat(header.Select(_ => "---|")));
            foreach (var row in rows)
            {
                Line("| " + string.Join(" | ", row) + " |");
            }

            Line();
        }

        /// <summary>
        /// One row of the root README's short table for the current scenario (no <c>|</c> in the cells): what is
        /// measured, the figure, and the target with its verdict.
        /// </summary>
        public void Summary(string figure, string latest, string target)
        {
            lock (_lock)
            {
                _summary.Add([_scenario, figure, latest, target]);
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

        /// <summary>Cores, memory, kernel and runtime, for the line at the head of each scenario's results.</summary>
        public static string Describe() =>
            FormattableString.Invariant($"{Environment.ProcessorCount} cores, {MemoryGiB():0.0} GiB, {Kernel()}, .NET {Environment.Version}");

        /// <summary>The first folder above the benchmark's binaries that holds Pop3Ingest.sln, or null.</summary>
        public static string? RepositoryRootOrNull()
        {
            try
            {
                return WorkerBinary.RepositoryRoot();
            }
            catch (InvalidOperationException)
            {
                return null;
            }
        }

        /// <summary>
        /// The short commit, marked when tracked files had changes the commit does not hold; the two files the benchmark
        /// itself rewrites do not count.
        /// </summary>
        public static string Commit(string directory)
        {
            var sha = Git(directory, "rev-parse", "--short", "HEAD");
            if (sha is null)
            {
                return "unknown";
            }

            var changes = Git(
                directory, "status", "--porcelain", "--untracked-files=no", "--", ":/",
                ":(top,exclude)README.md", ":(top,exclude)tests/Pop3Ingest.Benchmarks/results.md");
            return string.IsNullOrEmpty(changes) ? sha : sha + " with uncommitted changes";
        }

        private static string? Git(string directory, params string[] arguments)
        {
            try
            {
                var info = new System.Diagnostics.ProcessStartInfo("git")
                {
                    RedirectStandardOutput = true,
                    RedirectStandardError = true,
                    WorkingDirectory = directory,
                };
                foreach (var argument in arguments)
                {
                    info.ArgumentList.Add(argument);
                }

                using var git = System.Diagnostics.Process.Start(info)!;
                var output = git.StandardOutput.ReadToEnd().Trim();
                git.WaitForExit();
                return git.ExitCode == 0 ? output : null;
            }
            catch (System.ComponentModel.Win32Exception)
            {
                return null;
            }
        }
    }
}
