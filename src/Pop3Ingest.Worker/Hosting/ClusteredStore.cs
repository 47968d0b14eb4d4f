using System.Globalization;
using Npgsql;
using Pop3Ingest.Worker.Options;
using Quartz;

namespace Pop3Ingest.Worker.Hosting;

/// <summary>
/// Quartz's clustered ADO.NET job store on PostgreSQL (<c>Pop3Ingest:Scheduler:Clustered</c>): every instance
/// shares one schedule, each trigger is fired by one instance, <c>[DisallowConcurrentExecution]</c> holds across
/// the cluster, and the jobs of an instance that stops checking in are recovered by the others.
/// </summary>
internal static class ClusteredStore
{
    /// <summary>The cluster's name (Quartz's SCHED_NAME): every instance must use the same one to share the work.</summary>
    public const string SchedulerName = "Pop3Ingest";

    /// <summary>
    /// A trigger may be this late and still fire as scheduled. Accounts are polled every few minutes and a busy
    /// cluster (every thread running an account) makes triggers wait; a minute absorbs that without calling it a
    /// misfire. Later than that, the trigger's own misfire instruction applies: one run now, not a burst of
    /// the fires that were missed (see <see cref="Jobs.AccountScheduler"/>).
    /// </summary>
    public static readonly TimeSpan MisfireThreshold = TimeSpan.FromMinutes(1);

    public static void Configure(IQuartzBuilder quartz, Pop3IngestOptions options)
    {
        var scheduler = options.Scheduler;
        quartz.ConfigureScheduler(s =>
        {
            s.InstanceName = SchedulerName;

            // Unique per process, not per machine: several instances on one host (or a pod restarted under the same
            // name while its predecessor's row is still in QRTZ_SCHEDULER_STATE) must never share an id, or one
            // would check in for the other and a dead instance's work would never be recovered.
            s.InstanceId = CreateInstanceId();

            // How long an idle instance waits before it asks the database for due triggers again. Triggers another
            // instance scheduled reach this one only through that query, so keep it short; it is one cheap query.
            s.IdleWaitTime = TimeSpan.FromSeconds(5);
        });
        quartz.UsePersistentStore(store =>
        {
            store.UsePostgres(NpgsqlFactory.Instance, ConnectionString(options));

            // Quartz creates its own tables (QRTZ_*) when they are missing, from its own DDL; it never alters or
            // drops anything, and instances starting together find what the first one created.
            store.ProvisionSchema();
            store.UseClustering(clustering =>
            {
                // Check-in every ClusterCheckinInterval (default 15 s); another instance takes a dead one's accounts
                // over once it is ClusterCheckinMisfireThreshold (default 20 s) late: about half a minute after a
                // crash, without mistaking a garbage collection or a database blip for a death.
                clustering.CheckinInterval = scheduler.ClusterCheckinInterval;
                clustering.CheckinMisfireThreshold = scheduler.ClusterCheckinMisfireThreshold;
            });
            store.ConfigureStore(store =>
            {
                // Job data is the account name and a schedule fingerprint: strings, readable in SQL and
                // independent of any serializer's version.
                store.StoreJobDataAsStrings = true;
                store.MisfireThreshold = MisfireThreshold;
            });
        });
    }

    /// <summary>The job store's connection string, with an application name that shows in pg_stat_activity.</summary>
    public static string ConnectionString(Pop3IngestOptions options)
    {
        var builder = new NpgsqlConnectionStringBuilder(OptionsSetup.SchedulerConnectionString(options));
        if (string.IsNullOrEmpty(builder.ApplicationName))
        {
            builder.ApplicationName = "Pop3Ingest scheduler";
        }

        return builder.ConnectionString;
    }

    /// <summary>host-pid-random: readable in QRTZ_SCHEDULER_STATE and unique per process.</summary>
    public static string CreateInstanceId() =>
        string.Create(CultureInfo.InvariantCulture, $"{Environment.MachineName}-{Environment.ProcessId}-{Random.Shared.Next():x8}");
}
