// Server-backed tests must not starve each other on two cores (tests/README.md).
[assembly: CollectionBehavior(MaxParallelThreads = 2)]
