using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Pop3Ingest.IntegrationTests.Support;

/// <summary>
/// Account SAS tokens for the tests, per https://learn.microsoft.com/rest/api/storageservices/create-account-sas
/// (version 2020-12-06 and later: the string to sign ends with the encryption scope and a newline).
/// </summary>
internal static class AccountSas
{
    public const string Version = "2021-12-02";

    /// <param name="permissions">For example "rwdlacup".</param>
    /// <param name="services">"b" blob, "q" queue.</param>
    /// <param name="resourceTypes">"s" service, "c" container/queue, "o" object/message.</param>
    /// <param name="expiry">When the token stops working.</param>
    public static string Create(string permissions, string services, string resourceTypes, DateTimeOffset expiry,
        string accountName = AzuriteServer.AccountName, string accountKey = AzuriteServer.AccountKey)
    {
        var se = expiry.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        var stringToSign = $"{accountName}\n{permissions}\n{services}\n{resourceTypes}\n\n{se}\n\nhttps,http\n{Version}\n\n";
        var signature = Convert.ToBase64String(HMACSHA256.HashData(Convert.FromBase64String(accountKey), Encoding.UTF8.GetBytes(stringToSign)));
        return $"sv={Version}&ss={services}&srt={resourceTypes}&sp={permissions}&se={Uri.EscapeDataString(se)}&spr=https,http&sig={Uri.EscapeDataString(signature)}";
    }

    /// <summary>A SAS connection string with explicit endpoints (no account key in it).</summary>
    public static string ConnectionString(AzuriteServer azurite, string sas) =>
        $"BlobEndpoint={azurite.BlobEndpoint};QueueEndpoint={azurite.QueueEndpoint};SharedAccessSignature={sas}";
}
