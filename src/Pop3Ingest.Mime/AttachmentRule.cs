namespace Pop3Ingest.Mime;

/// <summary>
/// Decides which parts are attachments. The rule is documented on <see cref="MessageMetadataReader"/>.
/// </summary>
internal static class AttachmentRule
{
    /// <summary>For a leaf part (anything the reader does not descend into).</summary>
    public static bool IsAttachmentLeaf(EntityHeaders entity, bool isFirstLeafOfItsMessage)
    {
        if (IsExplicit(entity))
        {
            return true;
        }

        if (entity.Disposition == "inline" || isFirstLeafOfItsMessage)
        {
            return false;
        }

        return !entity.ContentType.StartsWith("text/", StringComparison.Ordinal)
            && !entity.IsMultipart;
    }

    /// <summary>For an embedded message the reader descends into: listed only when marked or named.</summary>
    public static bool IsAttachmentMessage(EntityHeaders entity) => IsExplicit(entity);

    private static bool IsExplicit(EntityHeaders entity) =>
        entity.Disposition == "attachment" || entity.FileName is not null;
}
