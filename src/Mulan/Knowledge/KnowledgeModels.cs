namespace Mulan.Knowledge;

public sealed record KnowledgeBase(string Id, string WorkspaceId, string Name, string? Description, DateTimeOffset CreatedAt);

public enum DocumentStatus { Queued, Processing, Ready, Failed }

public sealed record KnowledgeDocument(
    string Id, string KnowledgeBaseId, string Title, string Source, string? MediaType, long Size, string Sha256,
    DocumentStatus Status, string? Error, int ChunkCount, int Attempts, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>A retrievable piece of a document. <see cref="Section"/> is the heading path joined with " › ".</summary>
public sealed record StoredChunk(long Id, string KnowledgeBaseId, string DocumentId, int Ordinal, string Text, string? Section, int? Page);

public static class DocumentStatusNames
{
    public static string Of(DocumentStatus s) => s switch
    {
        DocumentStatus.Queued => "queued",
        DocumentStatus.Processing => "processing",
        DocumentStatus.Ready => "ready",
        _ => "failed",
    };

    public static DocumentStatus Parse(string s) => s switch
    {
        "queued" => DocumentStatus.Queued,
        "processing" => DocumentStatus.Processing,
        "ready" => DocumentStatus.Ready,
        _ => DocumentStatus.Failed,
    };
}
