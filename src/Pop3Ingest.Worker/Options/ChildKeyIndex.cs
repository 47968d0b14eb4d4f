using Microsoft.Extensions.Configuration;

namespace Pop3Ingest.Worker.Options;

/// <summary>
/// A provider's child keys by parent path, built once per loaded data. <see cref="ConfigurationProvider.GetChildKeys"/>
/// scans every key the provider holds to answer one parent, and binding an account asks it for the account's own
/// children (and the binder and the validator ask again for each nested section): with N accounts of some keys each,
/// reading all of them cost N² key comparisons, about 110 s for 10,000 accounts before the host could start. With the
/// index, a question costs what its answer holds.
/// </summary>
internal sealed class ChildKeyIndex
{
    private Snapshot? _snapshot;

    /// <summary>What <see cref="ConfigurationProvider.GetChildKeys"/> answers for <paramref name="data"/>, without its scan.</summary>
    public IEnumerable<string> ChildKeys(IDictionary<string, string?> data, IEnumerable<string> earlierKeys, string? parentPath)
    {
        var snapshot = _snapshot;
        if (snapshot is null || !ReferenceEquals(snapshot.Data, data))
        {
            // A load replaces the provider's dictionary; the index of the old one is no longer true.
            snapshot = new Snapshot(data);
            _snapshot = snapshot;
        }

        var results = new List<string>(earlierKeys);
        if (snapshot.Children.TryGetValue(parentPath ?? string.Empty, out var children))
        {
            results.AddRange(children);
        }

        // The same order as the base implementation: the configuration root keeps the first of equal keys.
        results.Sort(ConfigurationKeyComparer.Instance);
        return results;
    }

    /// <summary>A key was set in place: the next question rebuilds the index.</summary>
    public void Invalidate() => _snapshot = null;

    private sealed class Snapshot
    {
        public Snapshot(IDictionary<string, string?> data)
        {
            Data = data;
            var sets = new Dictionary<string, HashSet<string>>(StringComparer.OrdinalIgnoreCase);
            foreach (var key in data.Keys)
            {
                // "a:b:c" is a child "a" of the root, "b" of "a", and "c" of "a:b".
                var start = 0;
                while (true)
                {
                    var end = key.IndexOf(ConfigurationPath.KeyDelimiter, start, StringComparison.Ordinal);
                    var parent = start == 0 ? string.Empty : key[..(start - 1)];
                    var segment = end < 0 ? key[start..] : key[start..end];
                    if (!sets.TryGetValue(parent, out var set))
                    {
                        set = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
                        sets[parent] = set;
                    }

                    set.Add(segment);
                    if (end < 0)
                    {
                        break;
                    }

                    start = end + 1;
                }
            }

            Children = sets.ToDictionary(p => p.Key, p => p.Value.ToArray(), StringComparer.OrdinalIgnoreCase);
        }

        public IDictionary<string, string?> Data { get; }

        public Dictionary<string, string[]> Children { get; }
    }
}
