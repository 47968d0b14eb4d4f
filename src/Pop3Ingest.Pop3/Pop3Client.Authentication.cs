using System.Globalization;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;

namespace Pop3Ingest.Pop3;

/// <summary>Authentication (RFC 1939 §7 USER/PASS and APOP, RFC 5034 SASL PLAIN and XOAUTH2): choosing a method and running it, secrets redacted from traces.</summary>
public sealed partial class Pop3Client
{
    /// <summary>
    /// Authenticates. An encrypted connection is required for any secret unless
    /// <see cref="Pop3ClientOptions.AllowInsecureAuth"/> is set. Rejected credentials raise
    /// <see cref="Pop3AuthenticationException"/>; a locked or delayed maildrop raises
    /// <see cref="Pop3CommandException"/> with its response code.
    /// </summary>
    public async Task AuthenticateAsync(Pop3Credentials credentials, Pop3AuthMethod method = Pop3AuthMethod.Auto, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(credentials);
        EnsureIdle(Pop3SessionState.Authorization);
        EnsureNoLineBreaks(credentials.UserName, "user name");
        if (!IsEncrypted && !_options.AllowInsecureAuth)
        {
            throw Connection.Break(new Pop3SecurityException(
                $"Refusing to send credentials to {_options.Host}:{_options.EffectivePort} over an unencrypted connection; " +
                "use TLS or STLS, or allow it explicitly with AllowInsecureAuth."));
        }

        AddSecret(credentials.Password);
        AddSecret(credentials.AccessToken);
        method = method == Pop3AuthMethod.Auto ? ChooseMethod(credentials) : method;
        if (method != Pop3AuthMethod.XOAuth2 && credentials.Password is null)
        {
            throw new ArgumentException($"{method} needs a password.", nameof(credentials));
        }

        if (method == Pop3AuthMethod.XOAuth2 && credentials.AccessToken is null)
        {
            throw new ArgumentException("XOAUTH2 needs an access token.", nameof(credentials));
        }

        switch (method)
        {
            case Pop3AuthMethod.UserPass:
                await UserPassAsync(credentials.UserName, credentials.Password!, cancellationToken).ConfigureAwait(false);
                break;
            case Pop3AuthMethod.Apop:
                await ApopAsync(credentials.UserName, credentials.Password!, cancellationToken).ConfigureAwait(false);
                break;
            case Pop3AuthMethod.Plain:
                EnsureNoNul(credentials.UserName, credentials.Password!);
                var plain = Encoding.UTF8.GetBytes("\0" + credentials.UserName + "\0" + credentials.Password);
                await SaslAsync("PLAIN", [plain], initialResponse: true, cancellationToken).ConfigureAwait(false);
                break;
            case Pop3AuthMethod.Login:
                await SaslAsync("LOGIN",
                    [Encoding.UTF8.GetBytes(credentials.UserName), Encoding.UTF8.GetBytes(credentials.Password!)],
                    initialResponse: false, cancellationToken).ConfigureAwait(false);
                break;
            case Pop3AuthMethod.XOAuth2:
                var token = Encoding.UTF8.GetBytes($"user={credentials.UserName}\u0001auth=Bearer {credentials.AccessToken}\u0001\u0001");
                await SaslAsync("XOAUTH2", [token], initialResponse: true, cancellationToken).ConfigureAwait(false);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(method), method, "Unknown authentication method.");
        }

        _state = Pop3SessionState.Transaction;

        // RFC 2449 §5: capabilities may differ after login; PIPELINING in particular.
        if (_capabilities.Has(Pop3CapabilityFlags.Capa))
        {
            var before = _capabilities;
            await RefreshCapabilitiesAsync(cancellationToken).ConfigureAwait(false);
            if (!_capabilities.Has(Pop3CapabilityFlags.Capa))
            {
                _capabilities = before;
            }
        }
    }

    private Pop3AuthMethod ChooseMethod(Pop3Credentials credentials)
    {
        if (credentials.AccessToken is not null)
        {
            return Pop3AuthMethod.XOAuth2;
        }

        return _capabilities.SupportsSasl("PLAIN") ? Pop3AuthMethod.Plain : Pop3AuthMethod.UserPass;
    }

    private async Task UserPassAsync(string user, string password, CancellationToken cancellationToken)
    {
        EnsureNoLineBreaks(password, "password");
        var status = await CommandAsync("USER " + user, null, cancellationToken).ConfigureAwait(false);
        if (status.Kind != Pop3StatusKind.Ok)
        {
            throw AuthFailure("USER/PASS", status);
        }

        status = await CommandAsync("PASS " + password, "PASS " + Redacted, cancellationToken).ConfigureAwait(false);
        if (status.Kind != Pop3StatusKind.Ok)
        {
            throw AuthFailure("USER/PASS", status);
        }
    }

    private async Task ApopAsync(string user, string password, CancellationToken cancellationToken)
    {
        if (ApopTimestamp is null)
        {
            throw Connection.Break(new Pop3SecurityException(
                $"{_options.Host}:{_options.EffectivePort} sent no APOP timestamp in its greeting, so APOP is not possible."));
        }

        // RFC 1939 §7: MD5 of the timestamp followed by the shared secret, as lower-case hex.
#pragma warning disable CA5351 // APOP is defined with MD5; the connection's security does not rest on it.
        var digest = Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes(ApopTimestamp + password)));
#pragma warning restore CA5351
        var status = await CommandAsync($"APOP {user} {digest}", $"APOP {user} {Redacted}", cancellationToken).ConfigureAwait(false);
        if (status.Kind != Pop3StatusKind.Ok)
        {
            throw AuthFailure("APOP", status);
        }
    }

    /// <summary>
    /// RFC 5034: AUTH with the first response inline when the command fits in 255 octets (§4), otherwise
    /// the two-step form (Microsoft 365 needs it for its long XOAUTH2 tokens).
    /// </summary>
    private async Task SaslAsync(string mechanism, byte[][] responses, bool initialResponse, CancellationToken cancellationToken)
    {
        using var op = Connection.Begin(cancellationToken);
        foreach (var response in responses)
        {
            // A server that quotes the payload back would otherwise show the password, merely base64-encoded.
            AddSecret(Convert.ToBase64String(response));
        }

        var next = 0;
        if (initialResponse)
        {
            var first = Convert.ToBase64String(responses[0]);
            var inline = $"AUTH {mechanism} {first}";
            if (inline.Length + 2 <= 255)
            {
                await SendAsync(inline, $"AUTH {mechanism} {Redacted}", op, cancellationToken).ConfigureAwait(false);
                next = 1;
            }
            else
            {
                await SendAsync($"AUTH {mechanism}", null, op, cancellationToken).ConfigureAwait(false);
            }
        }
        else
        {
            await SendAsync($"AUTH {mechanism}", null, op, cancellationToken).ConfigureAwait(false);
        }

        while (true)
        {
            var status = await ReadStatusAsync("AUTH " + mechanism, op, cancellationToken).ConfigureAwait(false);
            switch (status.Kind)
            {
                case Pop3StatusKind.Ok:
                    return;
                case Pop3StatusKind.Err:
                    throw AuthFailure(mechanism, status);
                case Pop3StatusKind.Continuation when next < responses.Length:
                    await SendAsync(Convert.ToBase64String(responses[next++]), Redacted, op, cancellationToken).ConfigureAwait(false);
                    break;
                case Pop3StatusKind.Continuation:
                    // XOAUTH2 reports a failure as a challenge carrying JSON; an empty response ends the exchange
                    // and the server then answers -ERR. Any other mechanism: cancel (RFC 5034 §4, "*").
                    await SendAsync(mechanism == "XOAUTH2" ? string.Empty : "*", null, op, cancellationToken).ConfigureAwait(false);
                    next = int.MaxValue;
                    break;
                default:
                    throw Connection.Break(new Pop3ProtocolException($"Unexpected answer to AUTH {mechanism}: '{status.Text}'"));
            }
        }
    }

    private Pop3CommandException AuthFailure(string mechanism, Pop3Status status)
    {
        // RFC 3206 §4: IN-USE, LOGIN-DELAY and SYS/* are about the maildrop or the system, not the credentials.
        if (status.Code is { } code &&
            (code.Is(Pop3ResponseCode.InUse) || code.Is(Pop3ResponseCode.LoginDelay) || code.Is(new Pop3ResponseCode("SYS"))))
        {
            return new Pop3CommandException(mechanism, status.Text, status.Code);
        }

        return new Pop3AuthenticationException(mechanism, status.Text, status.Code);
    }
}
