using System.Diagnostics;

namespace Pop3Ingest.Benchmarks.Other;

/// <summary>
/// Completes waits at their due <see cref="Stopwatch"/> timestamps from a thread of its own that sleeps until the
/// earliest one. A timed sleep on Linux wakes about 0.1 ms late; Task.Delay's timer queue fired 1-3 ms late (2 ms at
/// the median) on the 2-core reference machine, which would have added some 4 ms to every 20 ms round trip.
/// </summary>
internal sealed class DelayClock : IDisposable
{
    private readonly object _gate = new();
    private readonly PriorityQueue<TaskCompletionSource, long> _waits = new();
    private readonly Thread _thread;
    private bool _stopped;

    public DelayClock()
    {
        _thread = new Thread(Run) { IsBackground = true, Name = "delay clock" };
        _thread.Start();
    }

    /// <summary>A task that completes (on the thread pool) once <see cref="Stopwatch.GetTimestamp"/> reaches <paramref name="due"/>.</summary>
    public Task WaitUntilAsync(long due, CancellationToken cancellationToken)
    {
        if (due <= Stopwatch.GetTimestamp())
        {
            return Task.CompletedTask;
        }

        var wait = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_stopped, this);
            _waits.Enqueue(wait, due);
            if (_waits.Peek() == wait)
            {
                // A new earliest wait: the clock thread sleeps towards a later one.
                Monitor.Pulse(_gate);
            }
        }

        // A cancelled wait stays queued until it is due and is completed then, unobserved.
        return wait.Task.WaitAsync(cancellationToken);
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _stopped = true;
            Monitor.Pulse(_gate);
        }

        _thread.Join();
    }

    private void Run()
    {
        lock (_gate)
        {
            while (!_stopped)
            {
                if (!_waits.TryPeek(out var next, out var due))
                {
                    Monitor.Wait(_gate);
                    continue;
                }

                var remaining = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
                if (remaining > TimeSpan.Zero)
                {
                    // Whole milliseconds, rounded up: late by less than one, never early.
                    Monitor.Wait(_gate, (int)Math.Ceiling(remaining.TotalMilliseconds));
                    continue;
                }

                _waits.Dequeue();
                next.TrySetResult();
            }

            while (_waits.TryDequeue(out var left, out _))
            {
                left.TrySetCanceled();
            }
        }
    }
}
