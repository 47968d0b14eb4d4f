namespace Pop3Ingest.Ingestion.Pipeline;

/// <summary>The credentials could not be obtained (a secret file is unreadable, a token request failed).</summary>
public sealed class CredentialsUnavailableException(string message, Exception? innerException = null) : Exception(message, innerException);
