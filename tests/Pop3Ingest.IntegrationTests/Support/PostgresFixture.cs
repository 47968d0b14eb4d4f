namespace Pop3Ingest.IntegrationTests.Support;

/// <summary>One PostgreSQL for a test class (initdb takes seconds); each test has a database of its own.</summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    public PostgresServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await PostgresServer.StartAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();
}
