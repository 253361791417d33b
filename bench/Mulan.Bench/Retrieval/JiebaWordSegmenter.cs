using System.Configuration;
using JiebaNet.Segmenter;
using Mulan.Knowledge.Indexing.Keyword;

namespace Mulan.Bench.Retrieval;

/// <summary>
/// jieba.NET 0.42.2 (MIT) behind <see cref="IWordSegmenter"/>: precise mode with the HMM for unknown words, or
/// search mode (precise words plus the dictionary words inside them). Its dictionary (Resources/dict.txt and the
/// HMM tables) ships in the NuGet package but is not copied to the output; jieba.NET reads the
/// <c>JiebaConfigFileDir</c> app setting once, before its first use.
/// </summary>
internal sealed class JiebaWordSegmenter : IWordSegmenter
{
    private readonly JiebaSegmenter _segmenter;
    private readonly bool _forSearch;

    private JiebaWordSegmenter(bool forSearch)
    {
        _segmenter = new JiebaSegmenter();
        _forSearch = forSearch;
    }

    public string Name => _forSearch ? "jieba-search" : "jieba";

    /// <summary>The segmenter, or null (with the reason) when the dictionary cannot be found.</summary>
    public static JiebaWordSegmenter? Create(bool forSearch, string? resources, out string? problem)
    {
        var folder = resources ?? FindResources();
        if (folder is null || !File.Exists(Path.Combine(folder, "dict.txt")))
        {
            problem = "jieba.NET dictionary not found: pass --jieba-resources DIR (the package's Resources folder)";
            return null;
        }

        ConfigurationManager.AppSettings["JiebaConfigFileDir"] = Path.GetFullPath(folder);
        problem = null;
        return new JiebaWordSegmenter(forSearch);
    }

    public void Segment(string run, List<string> words)
    {
        var found = _forSearch ? _segmenter.CutForSearch(run) : _segmenter.Cut(run);
        words.AddRange(found.Where(w => !string.IsNullOrWhiteSpace(w)));
    }

    private static string? FindResources()
    {
        var packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        string[] candidates =
        [
            Path.Combine(AppContext.BaseDirectory, "Resources"),
            Path.Combine(packages, "jieba.net", "0.42.2", "Resources"),
        ];
        return candidates.FirstOrDefault(c => File.Exists(Path.Combine(c, "dict.txt")));
    }
}
