using System.Collections.Concurrent;

namespace Pop3Ingest.Ingestion.Storage.FileSystem;

/// <summary>
/// A few dedicated threads, shared by every folder store of the process, for the blocking end of a write: fsync and
/// link. fsync waits for the disk; done here, several wait at once (the file system commits them together) while the
/// pipeline goes on reading the next message, and no thread-pool thread is ever blocked.
/// </summary>
internal static class FileSyncThreads
{
    private const int ThreadCount = 4;
    private static readonly BlockingCollection<Action> s_work = Start();

    /// <summary>Runs <paramref name="action"/> on one of the threads; the task carries its outcome.</summary>
    public static Task Run(Action action)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        s_work.Add(() =>
        {
            try
            {
                action();
                done.SetResult();
            }
#pragma warning disable CA1031 // The exception is handed to whoever awaits the task.
            catch (Exception e)
#pragma warning restore CA1031
            {
                done.SetException(e);
            }
        });
        return done.Task;
    }

    private static BlockingCollection<Action> Start()
    {
        var work = new BlockingCollection<Action>();
        for (var i = 0; i < ThreadCount; i++)
        {
            var thread = new Thread(() =>
            {
                foreach (var action in work.GetConsumingEnumerable())
                {
                    action();
                }
            })
            {
                IsBackground = true,
                Name = $"pop3ingest-fsync-{i}",
            };
            thread.Start();
        }

        return work;
    }
}
