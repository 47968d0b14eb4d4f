using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Pop3Ingest.Worker.Diagnostics;
using Pop3Ingest.Worker.Options;

namespace Pop3Ingest.Worker.Hosting;

/// <summary>
/// The configuration as <c>run</c> sees it now. Edits to the file are bound and validated again; a valid edit
/// replaces the current options and reschedules accounts; an invalid one is logged and ignored, so a typo never
/// stops a running service. When every problem lies inside accounts, only those accounts keep their previous settings
/// (or, when new, are not added) and the rest of the edit applies: one account's mistake does not hold back the others.
/// </summary>
internal sealed class LiveOptions : IDisposable
{
    private readonly IConfiguration _configuration;
    private readonly IValidateOptions<Pop3IngestOptions> _validator;
    private readonly ILogger<LiveOptions> _logger;
    private readonly string _baseDirectory;
    private readonly IDisposable _subscription;
    private readonly Lock _lock = new();
    private Timer? _debounce;

    public LiveOptions(IOptions<Pop3IngestOptions> initial, IConfiguration configuration, IValidateOptions<Pop3IngestOptions> validator, ILogger<LiveOptions> logger)
    {
        Current = initial.Value;
        _configuration = configuration;
        _validator = validator;
        _logger = logger;
        _baseDirectory = initial.Value.BaseDirectory;
        _subscription = ChangeToken.OnChange(configuration.GetReloadToken, ScheduleReload);
    }

    public Pop3IngestOptions Current { get; private set; }

    public event Action<Pop3IngestOptions>? Changed;

    /// <summary>Editors write files in several steps; wait for the last one.</summary>
    private void ScheduleReload()
    {
        lock (_lock)
        {
            _debounce?.Dispose();
            _debounce = new Timer(_ => Reload(), null, TimeSpan.FromMilliseconds(500), Timeout.InfiniteTimeSpan);
        }
    }

    internal void Reload()
    {
        Pop3IngestOptions next;
        try
        {
            next = new Pop3IngestOptions();
            OptionsSetup.Bind(next, _configuration);
            OptionsSetup.Apply(next, _configuration, _baseDirectory);
        }
        catch (InvalidOperationException e)
        {
            WorkerLog.ConfigurationChangeIgnored(_logger, e.Message);
            return;
        }

        var result = _validator.Validate(Microsoft.Extensions.Options.Options.DefaultName, next);
        if (result.Failed && !SkipFailingAccounts(next, result.Failures ?? []))
        {
            WorkerLog.ConfigurationChangeIgnored(_logger, result.FailureMessage);
            return;
        }

        Current = next;
        WorkerLog.ConfigurationReloaded(_logger, next.Accounts.Count);
        Changed?.Invoke(next);
    }

    /// <summary>
    /// When each failure names an account (<c>Pop3Ingest:Accounts:{name}:...</c>), puts back those accounts' current
    /// settings, or leaves them out when they are new, logs each, and returns true; false when any failure is global.
    /// </summary>
    private bool SkipFailingAccounts(Pop3IngestOptions next, IEnumerable<string> failures)
    {
        const string Prefix = Pop3IngestOptions.Section + ":Accounts:";
        var byAccount = new Dictionary<string, List<string>>(StringComparer.OrdinalIgnoreCase);
        foreach (var failure in failures)
        {
            if (!failure.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }

            var end = failure.IndexOf(':', Prefix.Length);
            var name = end < 0 ? null : failure[Prefix.Length..end];
            if (name is null || !next.Accounts.ContainsKey(name))
            {
                return false; // a key that folds into another account's name, or one not bound: not this account's alone
            }

            (byAccount.TryGetValue(name, out var list) ? list : byAccount[name] = []).Add(failure);
        }

        foreach (var (name, reasons) in byAccount)
        {
            var key = next.Accounts[name].Name;
            if (Current.Accounts.TryGetValue(key, out var previous))
            {
                next.Accounts[key] = previous;
                WorkerLog.AccountChangeIgnored(_logger, key, "its previous settings stay in force", string.Join(" ", reasons));
            }
            else
            {
                next.Accounts.Remove(key);
                WorkerLog.AccountChangeIgnored(_logger, key, "it is not added", string.Join(" ", reasons));
            }
        }

        return true;
    }

    public void Dispose()
    {
        _subscription.Dispose();
        lock (_lock)
        {
            _debounce?.Dispose();
        }
    }
}
