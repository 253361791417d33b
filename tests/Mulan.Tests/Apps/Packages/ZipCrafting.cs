using System.Buffers.Binary;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Mulan.Apps.Packages;

namespace Mulan.Tests.Apps.Packages;

/// <summary>Hand-made zips for the reader to refuse: built with ZipArchive, then patched byte by byte where a header must lie.</summary>
internal static class ZipCrafting
{
    public const string Definition = """{"slug":"faq","name":"FAQ","kind":"knowledge-qa","model":"chat","knowledgeBases":["faq-docs"]}""";

    public static byte[] Zip(params (string Name, byte[] Bytes)[] entries)
    {
        using var output = new MemoryStream();
        using (var zip = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, bytes) in entries)
            {
                using var stream = zip.CreateEntry(name, CompressionLevel.Optimal).Open();
                stream.Write(bytes);
            }
        }
        return output.ToArray();
    }

    /// <summary>A zip of the given entries after a manifest that lists each with its true hash.</summary>
    public static byte[] Package(params (string Name, byte[] Bytes)[] entries) => Zip([("manifest.json", Manifest(entries)), .. entries]);

    public static byte[] Manifest(params (string Name, byte[] Bytes)[] listed)
    {
        var hashes = new JsonObject();
        foreach (var (name, bytes) in listed)
        {
            hashes[name] = Convert.ToHexStringLower(SHA256.HashData(bytes));
        }
        return Encoding.UTF8.GetBytes(new JsonObject
        {
            ["formatVersion"] = 1,
            ["app"] = new JsonObject { ["slug"] = "faq", ["name"] = "FAQ", ["kind"] = "knowledge-qa", ["version"] = 1 },
            ["exportedAt"] = "2026-12-01T00:00:00+00:00",
            ["mulanVersion"] = "0.2.0",
            ["includes"] = new JsonObject
            {
                ["documents"] = false, ["evaluation"] = false, ["knowledgeBases"] = new JsonArray(), ["documentCount"] = 0, ["evaluationItems"] = 0,
            },
            ["entries"] = hashes,
        }.ToJsonString());
    }

    public static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    public static PackageReadResult Read(byte[] package, PackageLimits? limits = null) =>
        AppPackage.Read(new MemoryStream(package), limits ?? PackageLimits.Default);

    /// <summary>Changes the local and the central header of the entry <paramref name="name"/>.</summary>
    /// <param name="patch">gets the header and whether it is the central one.</param>
    public static byte[] Patch(byte[] zip, string name, Action<Span<byte>, bool> patch)
    {
        var copy = (byte[])zip.Clone();
        var encoded = Encoding.UTF8.GetBytes(name);
        var patched = 0;
        for (var at = 0; at + 46 < copy.Length; at++)
        {
            var signature = BinaryPrimitives.ReadUInt32LittleEndian(copy.AsSpan(at));
            var (central, nameAt, lengthAt) = signature switch
            {
                0x04034b50 => (false, 30, 26),
                0x02014b50 => (true, 46, 28),
                _ => (false, -1, -1),
            };
            if (nameAt < 0 || BinaryPrimitives.ReadUInt16LittleEndian(copy.AsSpan(at + lengthAt)) != encoded.Length
                || !copy.AsSpan(at + nameAt, encoded.Length).SequenceEqual(encoded))
            {
                continue;
            }
            patch(copy.AsSpan(at), central);
            patched++;
        }
        Assert.Equal(2, patched);
        return copy;
    }

    /// <summary>Sets the uncompressed size both headers declare.</summary>
    public static byte[] DeclareSize(byte[] zip, string name, uint size) =>
        Patch(zip, name, (h, central) => BinaryPrimitives.WriteUInt32LittleEndian(h[(central ? 24 : 22)..], size));

    public static byte[] SetFlags(byte[] zip, string name, ushort flags) =>
        Patch(zip, name, (h, central) => BinaryPrimitives.WriteUInt16LittleEndian(h[(central ? 8 : 6)..], flags));

    public static byte[] SetMethod(byte[] zip, string name, ushort method) =>
        Patch(zip, name, (h, central) => BinaryPrimitives.WriteUInt16LittleEndian(h[(central ? 10 : 8)..], method));
}
