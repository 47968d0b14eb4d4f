namespace Pop3Ingest.Benchmarks.Drain;

/// <summary>The drain mailbox's user and corpus seed, shared by the drain scenario and the serve scenario.</summary>
internal static class DrainMailboxUser
{
    public const int Seed = 20261123;
    public const string Name = "bench";
    public const string Password = "bench-pw";
}
