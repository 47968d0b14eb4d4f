// Server-backed tests must not starve each other on two cores (ARCHITECTURE.md §9).
[assembly: CollectionBehavior(MaxParallelThreads = 2)]
