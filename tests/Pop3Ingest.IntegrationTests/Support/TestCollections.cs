namespace Pop3Ingest.IntegrationTests.Support;

/// <summary>Tests that measure memory or kill processes run alone, so that nothing else skews them.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialCollection
{
    public const string Name = "Serial";
}
