namespace Pop3Ingest.Pop3;

/// <summary>What the client authenticates with: a password, or an OAuth 2 access token.</summary>
public sealed class Pop3Credentials
{
    private Pop3Credentials(string userName, string? password, string? accessToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(userName);
        UserName = userName;
        Password = password;
        AccessToken = accessToken;
    }

    /// <summary>The mailbox user name.</summary>
    public string UserName { get; }

    /// <summary>The password, when authenticating with one.</summary>
    public string? Password { get; }

    /// <summary>The OAuth 2 access token, when authenticating with XOAUTH2.</summary>
    public string? AccessToken { get; }

    /// <summary>Credentials made of a user name and a password.</summary>
    public static Pop3Credentials FromPassword(string userName, string password)
    {
        ArgumentNullException.ThrowIfNull(password);
        return new Pop3Credentials(userName, password, null);
    }

    /// <summary>Credentials made of a user name and an OAuth 2 access token (XOAUTH2).</summary>
    public static Pop3Credentials FromAccessToken(string userName, string accessToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(accessToken);
        return new Pop3Credentials(userName, null, accessToken);
    }

    /// <summary>Never shows the secret.</summary>
    public override string ToString() => $"{UserName} (secret redacted)";
}
