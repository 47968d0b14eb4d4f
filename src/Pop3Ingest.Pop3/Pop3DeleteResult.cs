namespace Pop3Ingest.Pop3;

/// <summary>The answer to one DELE: null error means marked for deletion (committed only by QUIT).</summary>
public readonly record struct Pop3DeleteResult(int Number, Pop3CommandException? Error)
{
    /// <summary>True when the server answered +OK.</summary>
    public bool Marked => Error is null;
}
