using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Mulan.Console;

namespace Mulan.Tests.Console;

public sealed partial class ConsoleTranslationsTests
{
    private static readonly ConsoleAssets Assets = new();
    private static readonly string[] Languages = ["en", "zh-Hans", "zh-Hant"];

    private static Dictionary<string, string> Strings(string language) =>
        JsonSerializer.Deserialize<Dictionary<string, string>>(Assets.Content($"i18n/{language}.json")!.Value.Span)!;

    // t('a.b') and t("a.b"), the literal keys; keys built at run time are checked by the browser journeys instead.
    [GeneratedRegex(@"\bt\(\s*['""]([A-Za-z0-9_.\-]+)['""]")]
    private static partial Regex LiteralKey();

    [GeneratedRegex(@"\{(\w+)\}")]
    private static partial Regex Placeholder();

    [Fact]
    public void Every_language_has_the_same_keys_and_placeholders()
    {
        var en = Strings("en");
        Assert.True(en.Count > 100);
        foreach (var language in Languages.Skip(1))
        {
            var other = Strings(language);
            Assert.Equal(en.Keys.Order(StringComparer.Ordinal), other.Keys.Order(StringComparer.Ordinal));
            foreach (var (key, text) in en)
            {
                Assert.False(string.IsNullOrWhiteSpace(other[key]), $"{language}: {key} is empty");
                var want = Placeholder().Matches(text).Select(m => m.Value).Order(StringComparer.Ordinal);
                var got = Placeholder().Matches(other[key]).Select(m => m.Value).Order(StringComparer.Ordinal);
                Assert.True(want.SequenceEqual(got), $"{language}: {key} has placeholders {string.Join(",", got)}, en has {string.Join(",", want)}");
            }
        }
    }

    [Fact]
    public void Every_key_the_scripts_use_exists()
    {
        var en = Strings("en");
        var used = Assets.Paths.Where(p => p.EndsWith(".js", StringComparison.Ordinal) && !p.StartsWith("chat/", StringComparison.Ordinal))
            .SelectMany(p => LiteralKey().Matches(Encoding.UTF8.GetString(Assets.Content(p)!.Value.Span)).Select(m => (Path: p, Key: m.Groups[1].Value)))
            .ToList();
        Assert.True(used.Count > 100);
        var missing = used.Where(u => !en.ContainsKey(u.Key)).Select(u => $"{u.Path}: {u.Key}").ToList();
        Assert.True(missing.Count == 0, string.Join("; ", missing));
    }

    [Fact]
    public void The_chinese_translations_are_in_their_own_script()
    {
        // A few characters that differ between the scripts, as a guard against a file copied into the other.
        var hans = string.Concat(Strings("zh-Hans").Values);
        var hant = string.Concat(Strings("zh-Hant").Values);
        Assert.Contains("识", hans, StringComparison.Ordinal);
        Assert.DoesNotContain("識", hans, StringComparison.Ordinal);
        Assert.Contains("識", hant, StringComparison.Ordinal);
        Assert.DoesNotContain("识", hant, StringComparison.Ordinal);
    }
}
