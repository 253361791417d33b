using Microsoft.Extensions.Options;
using Mulan.Knowledge.Chunking;

namespace Mulan.Knowledge;

/// <summary>Knowledge base settings. Bound from the <c>Knowledge</c> configuration section.</summary>
public sealed class KnowledgeOptions
{
    public const string Section = "Knowledge";

    /// <summary>Ingestion workers. Default: one per processor core.</summary>
    public int Workers { get; set; } = Environment.ProcessorCount;

    /// <summary>Largest uploaded file in bytes. Default 100 MiB.</summary>
    public long MaxFileBytes { get; set; } = 100L * 1024 * 1024;

    /// <summary>Largest upload request (all files together) in bytes. Default 512 MiB.</summary>
    public long MaxUploadBytes { get; set; } = 512L * 1024 * 1024;

    /// <summary>How many times a document is tried before it is failed for good (a crash mid-way counts). Default 3.</summary>
    public int MaxAttempts { get; set; } = 3;

    /// <summary>Results returned by search when the request does not say. Default 5; at most 50.</summary>
    public int DefaultTopK { get; set; } = 5;

    /// <summary>Create the demo workspace and its handbook knowledge base on the first start. Default true.</summary>
    public bool SeedDemo { get; set; } = true;

    /// <summary>
    /// The embedding model of a new knowledge base when its creator does not name one: <c>local-minilm</c> (the
    /// bundled English encoder, run in process), the name of an embedding model in the catalog, or <c>none</c> for
    /// keyword retrieval only. Default <c>local-minilm</c>.
    /// </summary>
    public string DefaultEmbeddingModel { get; set; } = "local-minilm";

    /// <summary>Threads the local encoder uses for one batch. Default 1 (ingestion already runs one worker per core).</summary>
    public int LocalEncoderThreads { get; set; } = 1;

    /// <summary>Chunks embedded per call while ingesting or re-embedding. Default 32.</summary>
    public int EmbeddingBatchSize { get; set; } = 32;

    /// <summary>Fused candidates a rerank model reorders before the top results are taken. Default 20.</summary>
    public int RerankDepth { get; set; } = 20;

    public ChunkingOptions Chunking { get; set; } = new();

    public HybridOptions Hybrid { get; set; } = new();
}

/// <summary>Reciprocal rank fusion: score = Σ weight / (RankConstant + rank) over the keyword and vector rankings.</summary>
public sealed class HybridOptions
{
    /// <summary>Candidates taken from each retriever before fusing. Default 50.</summary>
    public int Depth { get; set; } = 50;

    /// <summary>The RRF constant k. Default 60, as in the original RRF paper.</summary>
    public double RankConstant { get; set; } = 60;

    public double KeywordWeight { get; set; } = 1;

    public double VectorWeight { get; set; } = 1;
}

internal sealed class KnowledgeOptionsValidator : IValidateOptions<KnowledgeOptions>
{
    public ValidateOptionsResult Validate(string? name, KnowledgeOptions o)
    {
        var errors = new List<string>();
        void Check(bool ok, string setting, string rule, object value)
        {
            if (!ok)
            {
                errors.Add($"{KnowledgeOptions.Section}:{setting}: {rule} (got {value})");
            }
        }
        Check(o.Workers is >= 1 and <= 64, nameof(o.Workers), "must be between 1 and 64", o.Workers);
        Check(o.MaxFileBytes is >= 1024 and <= 4L * 1024 * 1024 * 1024, nameof(o.MaxFileBytes), "must be between 1024 and 4294967296", o.MaxFileBytes);
        Check(o.MaxUploadBytes >= o.MaxFileBytes, nameof(o.MaxUploadBytes), "must be at least MaxFileBytes", o.MaxUploadBytes);
        Check(o.MaxAttempts is >= 1 and <= 20, nameof(o.MaxAttempts), "must be between 1 and 20", o.MaxAttempts);
        Check(o.DefaultTopK is >= 1 and <= 50, nameof(o.DefaultTopK), "must be between 1 and 50", o.DefaultTopK);
        Check(o.Chunking.MaxChars is >= 64 and <= 8192, "Chunking:MaxChars", "must be between 64 and 8192", o.Chunking.MaxChars);
        Check(o.Chunking.OverlapChars >= 0 && o.Chunking.OverlapChars < o.Chunking.MaxChars / 2, "Chunking:OverlapChars",
            "must be at least 0 and less than half of MaxChars", o.Chunking.OverlapChars);
        Check(o.DefaultEmbeddingModel.Length is >= 1 and <= 200, nameof(o.DefaultEmbeddingModel), "must be 'none', 'local-minilm' or a model name", o.DefaultEmbeddingModel);
        Check(o.LocalEncoderThreads is >= 1 and <= 64, nameof(o.LocalEncoderThreads), "must be between 1 and 64", o.LocalEncoderThreads);
        Check(o.EmbeddingBatchSize is >= 1 and <= 256, nameof(o.EmbeddingBatchSize), "must be between 1 and 256", o.EmbeddingBatchSize);
        Check(o.RerankDepth is >= 1 and <= 50, nameof(o.RerankDepth), "must be between 1 and 50", o.RerankDepth);
        Check(o.Hybrid.Depth is >= 1 and <= 1000, "Hybrid:Depth", "must be between 1 and 1000", o.Hybrid.Depth);
        Check(o.Hybrid.RankConstant is >= 0 and <= 1000, "Hybrid:RankConstant", "must be between 0 and 1000", o.Hybrid.RankConstant);
        Check(o.Hybrid.KeywordWeight is >= 0 and <= 100, "Hybrid:KeywordWeight", "must be between 0 and 100", o.Hybrid.KeywordWeight);
        Check(o.Hybrid.VectorWeight is >= 0 and <= 100, "Hybrid:VectorWeight", "must be between 0 and 100", o.Hybrid.VectorWeight);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
