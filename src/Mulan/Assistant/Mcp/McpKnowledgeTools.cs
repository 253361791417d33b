using System.Globalization;
using System.Text;
using Microsoft.Extensions.Options;
using ModelContextProtocol.Protocol;
using Mulan.Knowledge;
using Mulan.Knowledge.Answering;
using Mulan.Knowledge.Retrieval;
using static Mulan.Knowledge.KnowledgeEndpoints;

namespace Mulan.Assistant.Mcp;

/// <summary>
/// <c>knowledge_bases</c>, <c>search</c> and <c>ask</c> over the knowledge bases of the key's workspace: the same
/// lookup, retrieval and answering as <c>/api/knowledge-bases/{id}/search|ask</c>, so an agent gets what the API gives.
/// </summary>
public sealed class McpKnowledgeTools(IKnowledgeStore store, KnowledgeSearch search, ExtractiveAnswerer extractive, GroundedAnswerer grounded,
    IOptions<KnowledgeOptions> options)
{
    public const string List = "knowledge_bases";
    public const string Search = "search";
    public const string Ask = "ask";
    public const int MaxTopK = 20;
    public const int MaxQueryLength = 4_000;
    private const int MaxNameLength = 200;
    private const int NamesInDescription = 20;

    public async Task<IReadOnlyList<Tool>> ToolsAsync(McpCaller caller, CancellationToken ct)
    {
        var kbs = await store.ListKnowledgeBasesAsync(caller.Key.WorkspaceId, ct);
        var names = kbs.Count == 0 ? "none yet"
            : string.Join(", ", kbs.Take(NamesInDescription).Select(k => k.Name)) + (kbs.Count > NamesInDescription ? $" and {kbs.Count - NamesInDescription} more" : "");
        return
        [
            McpSchemas.Tool(List, "List the knowledge bases this key may search: id, name and description.", "{}", []),
            McpSchemas.Tool(Search, $"Search a knowledge base and return its best passages, each with its document and score. Knowledge bases: {names}.",
                $$"""
                {
                  "knowledge_base": { "type": "string", "maxLength": {{MaxNameLength}}, "description": "the knowledge base's name or id" },
                  "query": { "type": "string", "maxLength": {{MaxQueryLength}}, "description": "what to look for" },
                  "top_k": { "type": "integer", "minimum": 1, "maximum": {{MaxTopK}}, "description": "how many passages (default {{DefaultTopK}})" }
                }
                """, ["knowledge_base", "query"]),
            McpSchemas.Tool(Ask, $"Answer a question from a knowledge base only, citing the passages used as [n]; says so when the knowledge base does not hold the answer. Knowledge bases: {names}.",
                $$"""
                {
                  "knowledge_base": { "type": "string", "maxLength": {{MaxNameLength}}, "description": "the knowledge base's name or id" },
                  "question": { "type": "string", "maxLength": {{MaxQueryLength}} },
                  "model": { "type": "string", "maxLength": {{MaxNameLength}}, "description": "a chat model of the gateway to write the answer (billed to this key); without one, the answer is the best matching sentence, free" }
                }
                """, ["knowledge_base", "question"]),
        ];
    }

    private int DefaultTopK => Math.Min(options.Value.DefaultTopK, MaxTopK);

    public async Task<CallToolResult> ListAsync(McpCaller caller, McpArguments _, CancellationToken ct)
    {
        var kbs = await store.ListKnowledgeBasesAsync(caller.Key.WorkspaceId, ct);
        var text = kbs.Count == 0 ? "This key's workspace has no knowledge bases."
            : string.Join("\n", kbs.Select(k => $"- {k.Name} (id {k.Id}){(string.IsNullOrWhiteSpace(k.Description) ? "" : ": " + k.Description)}"));
        return McpSchemas.Result(text, new { knowledgeBases = kbs.Select(k => new { id = k.Id, name = k.Name, description = k.Description }) });
    }

    public async Task<CallToolResult> SearchAsync(McpCaller caller, McpArguments args, CancellationToken ct)
    {
        var kb = await FindAsync(caller, args, ct);
        var query = args.Text("query", MaxQueryLength);
        var topK = args.OptionalInteger("top_k", 1, MaxTopK) ?? DefaultTopK;
        var outcome = await search.SearchAsync(kb, query, topK, null, null, ct);
        var text = new StringBuilder();
        if (outcome.Results.Count == 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"Nothing in '{kb.Name}' matches.");
        }
        for (var i = 0; i < outcome.Results.Count; i++)
        {
            var r = outcome.Results[i];
            text.Append(CultureInfo.InvariantCulture, $"[{i + 1}] {Place(r.Chunk)} (score {r.Score:0.####})\n{r.Chunk.Text}\n\n");
        }
        AppendWarning(text, outcome.Warning);
        var view = new SearchView([.. outcome.Results.Select(ToView)], outcome.Mode.ToString().ToLowerInvariant(), outcome.Warning);
        return McpSchemas.Result(text.ToString().TrimEnd(), view);
    }

    public async Task<CallToolResult> AskAsync(McpCaller caller, McpArguments args, CancellationToken ct)
    {
        var kb = await FindAsync(caller, args, ct);
        var question = args.Text("question", MaxQueryLength);
        var model = args.OptionalText("model", MaxNameLength);
        var results = (await search.SearchAsync(kb, question, Math.Max(5, options.Value.DefaultTopK), null, null, ct)).Results;
        Answer answer;
        try
        {
            // A written answer is a call of the gateway on this key, metered and limited like any of its calls.
            answer = model is null ? extractive.Answer(question, results) : await grounded.AnswerAsync(question, results, model, caller.Bearer, ct);
        }
        catch (GatewayCallException e)
        {
            return McpSchemas.Error($"The chat model could not answer: {e.Message}");
        }
        answer = answer.Grounded(question);
        var text = new StringBuilder(answer.Text);
        if (answer.Citations.Count > 0)
        {
            text.Append("\n\nSources:");
            foreach (var c in answer.Citations)
            {
                text.Append(CultureInfo.InvariantCulture, $"\n[{c.Marker}] {Place(c.Chunk)}: {c.Chunk.Text}");
            }
        }
        AppendWarning(text, answer.Warning);
        var view = new AnswerView(answer.Text, answer.Found,
            [.. answer.Citations.Select(c => new CitationView(c.Marker, c.Chunk.Id, c.Chunk.DocumentId, c.Chunk.Title, c.Chunk.Text, c.Chunk.Section, c.Chunk.Page))],
            answer.Mode, answer.Warning);
        return McpSchemas.Result(text.ToString(), view);
    }

    /// <summary>The knowledge base of the key's workspace by name or id; another workspace's is exactly as absent as a missing one.</summary>
    private async Task<KnowledgeBase> FindAsync(McpCaller caller, McpArguments args, CancellationToken ct)
    {
        var name = args.Text("knowledge_base", MaxNameLength);
        return await store.FindKnowledgeBaseAsync(name, caller.Key.WorkspaceId, ct)
            ?? throw new McpToolInputException($"No knowledge base '{name}'. Call {List} for the ones this key may use.");
    }

    private static string Place(IndexedChunk chunk)
    {
        var where = new StringBuilder(chunk.Title);
        if (chunk.Section is { Length: > 0 } section)
        {
            where.Append(" § ").Append(section);
        }
        if (chunk.Page is { } page)
        {
            where.Append(CultureInfo.InvariantCulture, $", page {page}");
        }
        return where.ToString();
    }

    private static void AppendWarning(StringBuilder text, string? warning)
    {
        if (warning is not null)
        {
            text.Append("\n\nNote: ").Append(warning);
        }
    }
}
