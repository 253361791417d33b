using Microsoft.Extensions.Options;
using Mulan.Storage;

namespace Mulan.Knowledge.Ingestion;

/// <summary>
/// The original bytes of every document, kept in <c>DATA/documents/</c> under the document's generated id so
/// that ingestion can resume after a restart. File names from uploads are never used as paths.
/// </summary>
public sealed class DocumentFiles(IOptions<StorageOptions> storage)
{
    private readonly string _folder = Path.Combine(Path.GetFullPath(storage.Value.DataDirectory), "documents");

    /// <summary>Copies at most <paramref name="limit"/> bytes; returns null (and keeps nothing) when the content is larger.</summary>
    public async Task<(long Size, string Sha256)?> SaveAsync(string documentId, Stream content, long limit, CancellationToken ct)
    {
        Directory.CreateDirectory(_folder);
        var path = PathOf(documentId);
        var temp = path + ".part";
        using var sha = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        long size = 0;
        try
        {
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 64 * 1024, useAsync: true))
            {
                var buffer = new byte[64 * 1024];
                int n;
                while ((n = await content.ReadAsync(buffer, ct)) > 0)
                {
                    size += n;
                    if (size > limit)
                    {
                        file.Close();
                        File.Delete(temp);
                        return null;
                    }
                    sha.AppendData(buffer, 0, n);
                    await file.WriteAsync(buffer.AsMemory(0, n), ct);
                }
                await file.FlushAsync(ct);
                file.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
            return (size, Convert.ToHexStringLower(sha.GetHashAndReset()));
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    public Stream Open(string documentId) => new FileStream(PathOf(documentId), FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024);

    public bool Exists(string documentId) => File.Exists(PathOf(documentId));

    /// <summary>Deletes a document's stored file (nothing when there is none). A worker still reading it keeps its open handle.</summary>
    public void Delete(string documentId) => File.Delete(PathOf(documentId));

    private string PathOf(string documentId)
    {
        // Ids are generated (doc_ + base64url); refuse anything else so no input can name a path.
        if (documentId.Length is < 5 or > 64 || !documentId.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-'))
        {
            throw new ArgumentException("Not a document id.", nameof(documentId));
        }
        return Path.Combine(_folder, documentId);
    }
}
