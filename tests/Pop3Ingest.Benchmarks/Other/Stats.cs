using System.Globalization;

namespace Pop3Ingest.Benchmarks.Other;

internal static class Stats
{
    public static double Median(IReadOnlyCollection<double> values)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0)
        {
            return double.NaN;
        }

        var middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }

    public static string F(double value, string format = "0.00") => value.ToString(format, CultureInfo.InvariantCulture);

    public static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    public static string Met(bool met) => met ? "met" : "**missed**";

    public static string List(IEnumerable<double> values, string format = "0.00") => string.Join(", ", values.Select(v => F(v, format)));
}
