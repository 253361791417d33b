using Mulan.Knowledge.Ingestion.Parsing;
using Xunit.Sdk;

namespace Mulan.Tests.Knowledge.Parsing;

/// <summary>
/// A fact that needs tesseract. Without it the test shows as skipped, with the reason; with
/// MULAN_REQUIRE_OCR=1 it runs anyway and fails with a clear message instead.
/// </summary>
public sealed class OcrFactAttribute : FactAttribute
{
    public OcrFactAttribute()
    {
        if (!Ocr.IsInstalled && !Ocr.IsRequired)
        {
            Skip = "tesseract with chi_tra, chi_sim or eng is not installed "
                + "(apt-get install -y tesseract-ocr tesseract-ocr-chi-tra tesseract-ocr-chi-sim); set MULAN_REQUIRE_OCR=1 to fail instead of skipping";
        }
    }
}

internal static class Ocr
{
    private static readonly Lazy<OcrEngine?> Detected = new(OcrEngine.Detect);

    public static bool IsInstalled => Detected.Value is not null;

    public static bool IsRequired => Environment.GetEnvironmentVariable("MULAN_REQUIRE_OCR") == "1";

    public static OcrEngine Engine => Detected.Value ?? throw new XunitException(
        "MULAN_REQUIRE_OCR=1 but tesseract with chi_tra, chi_sim or eng was not found on PATH: "
        + "apt-get install -y tesseract-ocr tesseract-ocr-chi-tra tesseract-ocr-chi-sim");
}
