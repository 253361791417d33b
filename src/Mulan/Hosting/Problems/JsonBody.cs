using System.Text.Json;
using System.Text.Json.Nodes;

namespace Mulan.Hosting.Problems;

/// <summary>A <c>/api</c> request body that must be one JSON object, or the 400 problem saying why it is not.</summary>
public static class JsonBody
{
    /// <param name="what">what the object is, for the error (e.g. "the app definition").</param>
    /// <param name="optional">an empty body is then an empty object (bodies like <c>{reason?}</c>).</param>
    public static async Task<(JsonObject? Body, IResult? Problem)> ReadObjectAsync(HttpRequest request, CancellationToken ct, string? what = null,
        int maxDepth = 32, bool optional = false)
    {
        if (optional && request.ContentLength is null or 0 && !request.Headers.TransferEncoding.Any())
        {
            return (new JsonObject(), null);
        }
        try
        {
            var node = await JsonNode.ParseAsync(request.Body, documentOptions: new JsonDocumentOptions { MaxDepth = maxDepth }, cancellationToken: ct);
            return node is JsonObject o
                ? (o, null)
                : (null, TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["$"] = [what is null ? "the body must be a JSON object" : $"the body must be a JSON object ({what})"] }));
        }
        catch (JsonException e)
        {
            // The position, not the text around it: a secret in a malformed body stays out of the answer.
            return (null, TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                [e.Path ?? "$"] = [$"not valid JSON (line {e.LineNumber + 1}, position {e.BytePositionInLine})"],
            }));
        }
    }
}
