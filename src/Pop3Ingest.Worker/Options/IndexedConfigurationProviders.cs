using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.EnvironmentVariables;
using Microsoft.Extensions.Configuration.Json;

namespace Pop3Ingest.Worker.Options;

/// <summary>The JSON file, with child keys answered from a <see cref="ChildKeyIndex"/>.</summary>
internal sealed class IndexedJsonConfigurationSource : JsonConfigurationSource
{
    public override IConfigurationProvider Build(IConfigurationBuilder builder)
    {
        EnsureDefaults(builder);
        return new Provider(this);
    }

    private sealed class Provider(JsonConfigurationSource source) : JsonConfigurationProvider(source)
    {
        private readonly ChildKeyIndex _index = new();

        public override IEnumerable<string> GetChildKeys(IEnumerable<string> earlierKeys, string? parentPath) => _index.ChildKeys(Data, earlierKeys, parentPath);

        public override void Set(string key, string? value)
        {
            base.Set(key, value);
            _index.Invalidate();
        }
    }
}

/// <summary>The environment variables, with child keys answered from a <see cref="ChildKeyIndex"/>.</summary>
internal sealed class IndexedEnvironmentVariablesConfigurationSource : IConfigurationSource
{
    public IConfigurationProvider Build(IConfigurationBuilder builder) => new Provider();

    private sealed class Provider : EnvironmentVariablesConfigurationProvider
    {
        private readonly ChildKeyIndex _index = new();

        public override IEnumerable<string> GetChildKeys(IEnumerable<string> earlierKeys, string? parentPath) => _index.ChildKeys(Data, earlierKeys, parentPath);

        public override void Set(string key, string? value)
        {
            base.Set(key, value);
            _index.Invalidate();
        }
    }
}
