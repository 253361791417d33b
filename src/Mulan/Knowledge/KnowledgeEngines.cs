using Mulan.Knowledge.Embedding.Local;
using Mulan.Knowledge.Ingestion.Parsing;

namespace Mulan.Knowledge;

/// <summary>The optional engines found at start-up: Tesseract for OCR (a Debian package) and the bundled local
/// encoder. Detected once; the start-up summary says what was found.</summary>
public sealed record KnowledgeEngines(OcrEngine? Ocr, bool LocalEncoder)
{
    public static KnowledgeEngines Detect() => new(OcrEngine.Detect(), File.Exists(MiniLmResources.DefaultPath));
}
