namespace Mulan.Knowledge.Indexing.Keyword;

/// <summary>Turns text into index terms. Implementations are thread-safe: one instance serves every index and query.</summary>
public interface ITextAnalyzer
{
    /// <summary>The name it is registered under in <see cref="TextAnalyzers"/>.</summary>
    string Name { get; }

    /// <summary>Appends the terms of <paramref name="text"/> to <paramref name="terms"/>, repeats included.</summary>
    void Analyze(ReadOnlySpan<char> text, List<string> terms);
}
