namespace Pop3Ingest.Mime.Tests.Support;

/// <summary>Short constructors for expected values.</summary>
internal static class Mailbox
{
    public static MailboxAddress Of(string address) => new(null, address);

    public static MailboxAddress Of(string name, string address) => new(name, address);

    public static AttachmentInfo Attachment(string? fileName, string contentType, long size) => new(fileName, contentType, size);
}
