namespace Pop3Ingest.IntegrationTests.Support;

/// <summary>One Azurite over HTTPS in its OAuth mode for a test class; tests keep apart through their own containers and queues.</summary>
public sealed class AzuriteOAuthFixture : IAsyncLifetime
{
    public AzuriteServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await AzuriteServer.StartWithOAuthAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();
}
