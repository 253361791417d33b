using System.Collections.Frozen;
using System.IO.Compression;
using System.Reflection;
using System.Security.Cryptography;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace Mulan.Console;

/// <summary>
/// The console's files (<c>Console/wwwroot/**</c>), embedded in the assembly so that <c>mulan serve</c> needs no
/// build step and no folder beside it. Read and compressed once at start (brotli and gzip, kept only when smaller),
/// then served from memory with a strong ETag per representation and <c>304 Not Modified</c> on a match.
/// </summary>
public sealed class ConsoleAssets
{
    /// <summary>The prefix of the embedded resources' logical names (see <c>Mulan.csproj</c>).</summary>
    public const string ResourcePrefix = "Mulan.Console.wwwroot/";

    // No hashed file names (there is no build step to make them), so every response is revalidated: a 304 costs
    // one round trip on a LAN, and an upgraded server never runs old modules next to new ones.
    private const string CacheControl = "no-cache";

    private readonly FrozenDictionary<string, Asset> _assets;

    public ConsoleAssets() : this(typeof(ConsoleAssets).Assembly)
    {
    }

    internal ConsoleAssets(Assembly assembly)
    {
        var assets = new Dictionary<string, Asset>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames())
        {
            // RecursiveDir carries the build machine's separator; paths here always use '/'.
            var normalized = name.Replace('\\', '/');
            if (!normalized.StartsWith(ResourcePrefix, StringComparison.Ordinal))
            {
                continue;
            }
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            var path = normalized[ResourcePrefix.Length..];
            assets[path] = Asset.Create(path, buffer.ToArray());
        }
        _assets = assets.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>Every embedded path, relative to <c>wwwroot</c> (e.g. <c>app.js</c>, <c>i18n/en.json</c>).</summary>
    public IEnumerable<string> Paths => _assets.Keys;

    /// <summary>The uncompressed bytes of a file, or null when there is none.</summary>
    public ReadOnlyMemory<byte>? Content(string path) => _assets.TryGetValue(path, out var a) ? a.Identity : null;

    public bool Contains(string path) => _assets.ContainsKey(path);

    /// <summary>
    /// Writes the file at <paramref name="path"/> (relative to <c>wwwroot</c>) with its content type, ETag and
    /// cache headers, compressed when the client accepts it, or 304 when the client's copy is current; 404 when
    /// there is no such file. Security headers are the caller's (see <see cref="ConsoleSecurity"/>).
    /// </summary>
    public Task WriteAsync(HttpContext http, string path)
    {
        var response = http.Response;
        if (!_assets.TryGetValue(path, out var asset))
        {
            response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        }
        var (body, encoding, etag) = Choose(asset, http.Request.Headers.AcceptEncoding);
        var headers = response.Headers;
        headers.ContentType = asset.ContentType;
        headers.ETag = etag;
        headers.CacheControl = CacheControl;
        if (asset.Compressible)
        {
            headers.Vary = HeaderNames.AcceptEncoding;
        }
        if (Matches(http.Request.Headers.IfNoneMatch, etag))
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return Task.CompletedTask;
        }
        if (encoding is not null)
        {
            headers.ContentEncoding = encoding;
        }
        response.ContentLength = body.Length;
        return HttpMethods.IsHead(http.Request.Method) ? Task.CompletedTask : response.Body.WriteAsync(body).AsTask();
    }

    private static (ReadOnlyMemory<byte> Body, string? Encoding, string ETag) Choose(Asset asset, StringValues acceptEncoding)
    {
        if (asset.Brotli is { } br && Accepts(acceptEncoding, "br"))
        {
            return (br, "br", asset.ETagFor("br"));
        }
        if (asset.Gzip is { } gz && Accepts(acceptEncoding, "gzip"))
        {
            return (gz, "gzip", asset.ETagFor("gz"));
        }
        return (asset.Identity, null, asset.ETagFor(null));
    }

    private static bool Accepts(StringValues acceptEncoding, string coding)
    {
        if (!StringWithQualityHeaderValue.TryParseList(acceptEncoding, out var values))
        {
            return false;
        }
        return values.Any(v => v.Value.Equals(coding, StringComparison.OrdinalIgnoreCase) && (v.Quality ?? 1) > 0);
    }

    private static bool Matches(StringValues ifNoneMatch, string etag)
    {
        foreach (var header in ifNoneMatch)
        {
            foreach (var part in (header ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                // If-None-Match uses the weak comparison (RFC 9110 13.1.2): a W/ prefix does not matter.
                var tag = part.StartsWith("W/", StringComparison.Ordinal) ? part[2..] : part;
                if (tag == "*" || string.Equals(tag, etag, StringComparison.Ordinal))
                {
                    return true;
                }
            }
        }
        return false;
    }

    private sealed record Asset(string ContentType, bool Compressible, byte[] Identity, byte[]? Brotli, byte[]? Gzip, string Hash)
    {
        public string ETagFor(string? encoding) => encoding is null ? $"\"{Hash}\"" : $"\"{Hash}-{encoding}\"";

        public static Asset Create(string path, byte[] content)
        {
            var (type, compressible) = TypeOf(path);
            var hash = Convert.ToBase64String(SHA256.HashData(content), 0, 16).TrimEnd('=').Replace('+', '-').Replace('/', '_');
            byte[]? br = null, gz = null;
            if (compressible)
            {
                br = Smaller(content, s => new BrotliStream(s, CompressionLevel.SmallestSize, leaveOpen: true));
                gz = Smaller(content, s => new GZipStream(s, CompressionLevel.SmallestSize, leaveOpen: true));
            }
            return new Asset(type, compressible, content, br, gz, hash);
        }

        private static byte[]? Smaller(byte[] content, Func<Stream, Stream> compressor)
        {
            using var output = new MemoryStream();
            using (var z = compressor(output))
            {
                z.Write(content);
            }
            return output.Length < content.Length ? output.ToArray() : null;
        }

        private static (string Type, bool Compressible) TypeOf(string path) => Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".html" => ("text/html; charset=utf-8", true),
            ".js" or ".mjs" => ("text/javascript; charset=utf-8", true),
            ".css" => ("text/css; charset=utf-8", true),
            ".json" => ("application/json; charset=utf-8", true),
            ".svg" => ("image/svg+xml", true),
            ".txt" => ("text/plain; charset=utf-8", true),
            ".png" => ("image/png", false),
            ".ico" => ("image/x-icon", false),
            ".woff2" => ("font/woff2", false),
            _ => ("application/octet-stream", false),
        };
    }
}
