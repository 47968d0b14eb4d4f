namespace Pop3Ingest.Benchmarks.Common;

/// <summary>Summary statistics over a handful of runs.</summary>
internal static class Stats
{
    /// <summary>The median; the mean of the two middle values for an even count. NaN when empty.</summary>
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Where(v => !double.IsNaN(v)).Order().ToArray();
        if (sorted.Length == 0)
        {
            return double.NaN;
        }

        var middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }

    /// <summary>Formats a number for a table cell; "n/a" for NaN.</summary>
    public static string Cell(double value, string format) =>
        double.IsNaN(value) || double.IsInfinity(value) ? "n/a" : value.ToString(format, System.Globalization.CultureInfo.InvariantCulture);
}
