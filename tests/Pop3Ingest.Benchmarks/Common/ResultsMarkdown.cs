using System.Text.RegularExpressions;

namespace Pop3Ingest.Benchmarks.Common;

/// <summary>
/// The text edits behind the results the benchmark writes into the repository, without I/O: a block between
/// <c>&lt;!-- bench:{key}:begin --&gt;</c> and <c>&lt;!-- bench:{key}:end --&gt;</c> is replaced whole, and the root
/// README's short table keeps the rows of the scenarios that did not run. Shared with the integration tests as a
/// linked file.
/// </summary>
internal static class ResultsMarkdown
{
    /// <summary>The header of the short table in the root README.</summary>
    public static readonly IReadOnlyList<string> SummaryHeader = ["scenario", "figure", "latest", "target"];

    public static string Begin(string key) => $"<!-- bench:{key}:begin -->";

    public static string End(string key) => $"<!-- bench:{key}:end -->";

    /// <summary>The text between the block's markers, or null when the document has no such block.</summary>
    public static string? ReadBlock(string document, string key)
    {
        var (start, end) = Find(document, key);
        return start < 0 ? null : document[start..end];
    }

    /// <summary>
    /// Replaces the text between the block's markers with <paramref name="content"/> (the markers stay, each on a line
    /// of its own). A missing block is appended at the end when <paramref name="appendIfMissing"/>; otherwise the
    /// document comes back unchanged and <paramref name="found"/> is false.
    /// </summary>
    public static string ReplaceBlock(string document, string key, string content, bool appendIfMissing, out bool found)
    {
        var newLine = document.Contains("\r\n", StringComparison.Ordinal) ? "\r\n" : "\n";
        var body = newLine + content.ReplaceLineEndings(newLine).Trim('\r', '\n') + newLine;
        var (start, end) = Find(document, key);
        found = start >= 0;
        if (found)
        {
            return string.Concat(document.AsSpan(0, start), body, document.AsSpan(end));
        }

        if (!appendIfMissing)
        {
            return document;
        }

        var separator = document.Length == 0 ? string.Empty : document.EndsWith(newLine, StringComparison.Ordinal) ? newLine : newLine + newLine;
        return document + separator + Begin(key) + body + End(key) + newLine;
    }

    /// <summary>
    /// The short table after a run: the rows of every scenario in <paramref name="ran"/> are replaced by
    /// <paramref name="rows"/> (first cell: the scenario's name), the other scenarios' rows are kept, and the rows are
    /// ordered as <paramref name="order"/> names the scenarios (unknown names last, as they were).
    /// </summary>
    public static string MergeSummary(
        string? existingTable, IReadOnlyCollection<string> ran, IReadOnlyList<IReadOnlyList<string>> rows, IReadOnlyList<string> order)
    {
        var kept = ParseRows(existingTable ?? string.Empty)
            .Where(row => !ran.Contains(row[0], StringComparer.OrdinalIgnoreCase));
        var merged = kept.Concat(rows)
            .Select((row, index) => (Row: row, Index: index))
            .OrderBy(r => Rank(order, r.Row[0]))
            .ThenBy(r => r.Index)
            .Select(r => r.Row)
            .ToList();

        var lines = new List<string> { Row(SummaryHeader), "|" + string.Concat(SummaryHeader.Select(_ => "---|")) };
        lines.AddRange(merged.Select(row => Row([$"`{row[0]}`", .. row.Skip(1)])));
        return string.Join("\n", lines);
    }

    private static string Row(IEnumerable<string> cells) => "| " + string.Join(" | ", cells) + " |";

    private static int Rank(IReadOnlyList<string> order, string scenario)
    {
        for (var i = 0; i < order.Count; i++)
        {
            if (string.Equals(order[i], scenario, StringComparison.OrdinalIgnoreCase))
            {
                return i;
            }
        }

        return order.Count;
    }

    /// <summary>The table's body rows as cells (split at pipes not escaped as <c>\|</c>), the first without its backticks; header and separator skipped.</summary>
    private static IEnumerable<IReadOnlyList<string>> ParseRows(string table) =>
        table.ReplaceLineEndings("\n").Split('\n')
            .Select(line => line.Trim())
            .Where(line => line.StartsWith('|') && line.EndsWith('|') && line.Length > 1)
            .Skip(2)
            .Select(line => (IReadOnlyList<string>)[.. Regex.Split(line[1..^1], @"(?<!\\)\|").Select((cell, i) => i == 0 ? cell.Trim().Trim('`') : cell.Trim())]);

    private static (int Start, int End) Find(string document, string key)
    {
        var begin = document.IndexOf(Begin(key), StringComparison.Ordinal);
        if (begin < 0)
        {
            return (-1, -1);
        }

        var start = begin + Begin(key).Length;
        var end = document.IndexOf(End(key), start, StringComparison.Ordinal);
        return end < 0 ? throw new FormatException($"{Begin(key)} has no {End(key)} after it.") : (start, end);
    }
}
