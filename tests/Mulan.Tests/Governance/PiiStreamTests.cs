using System.Text;
using Mulan.Governance.Pii;

namespace Mulan.Tests.Governance;

/// <summary>Restoring placeholders in a streamed answer, whatever the deltas look like.</summary>
public sealed class PiiStreamTests
{
    private static PiiVault Vault()
    {
        var masked = Assert.IsType<PiiResult.Masked>(PiiTests.Guard.Apply(PiiTests.MaskAll, "13800138000 zhang@example.com"));
        Assert.Equal("⟦PII:china_mobile:1⟧ ⟦PII:email:1⟧", masked.Text);
        return masked.Vault;
    }

    private static string Stream(PiiStreamRestorer restorer, IEnumerable<string> deltas)
    {
        var output = new StringBuilder();
        foreach (var delta in deltas)
        {
            output.Append(restorer.Feed(delta));
        }
        return output.Append(restorer.Flush()).ToString();
    }

    private const string Answer = "好的，我会拨打⟦PII:china_mobile:1⟧并发邮件到⟦PII:email:1⟧。";
    private const string Restored = "好的，我会拨打13800138000并发邮件到zhang@example.com。";

    [Fact]
    public void Every_single_split_point_restores_exactly()
    {
        var vault = Vault();
        for (var i = 0; i <= Answer.Length; i++)
        {
            Assert.Equal(Restored, Stream(new PiiStreamRestorer(vault), [Answer[..i], Answer[i..]]));
        }
    }

    [Fact]
    public void Every_pair_of_split_points_restores_exactly()
    {
        var vault = Vault();
        for (var i = 0; i <= Answer.Length; i++)
        {
            for (var j = i; j <= Answer.Length; j++)
            {
                Assert.Equal(Restored, Stream(new PiiStreamRestorer(vault), [Answer[..i], Answer[i..j], Answer[j..]]));
            }
        }
    }

    [Fact]
    public void One_character_deltas_restore_exactly_and_hold_back_only_a_possible_placeholder()
    {
        var restorer = new PiiStreamRestorer(Vault());
        var output = new StringBuilder();
        foreach (var c in Answer)
        {
            var emitted = restorer.Feed(c.ToString());
            output.Append(emitted);
            // Outside a placeholder every character goes straight out.
            if (c is not ('⟦' or 'P' or 'I' or ':' or '_' or '⟧') && !char.IsAsciiLetterLower(c) && !char.IsAsciiDigit(c))
            {
                Assert.Equal(c.ToString(), emitted);
            }
        }
        Assert.Equal("", restorer.Flush());
        Assert.Equal(Restored, output.ToString());
    }

    [Fact]
    public void Random_deltas_restore_exactly()
    {
        var vault = Vault();
        var random = new Random(7);
        for (var round = 0; round < 300; round++)
        {
            var deltas = new List<string>();
            for (var at = 0; at < Answer.Length;)
            {
                var length = Math.Min(random.Next(0, 6), Answer.Length - at);
                deltas.Add(Answer.Substring(at, length));
                at += length;
            }
            Assert.Equal(Restored, Stream(new PiiStreamRestorer(vault), deltas));
        }
    }

    [Theory]
    [InlineData("⟦")]
    [InlineData("a ⟦PII")]
    [InlineData("⟦PII:china_mobile:")]
    [InlineData("⟦PII:china_mobile:12")]
    [InlineData("⟦PII:china_mobile:1⟧")]   // a whole placeholder and nothing else
    [InlineData("⟦PII:Email:1⟧ ⟦PII:email:0⟧ ⟦PII:email:1 ⟧ ⟦PII::1⟧ ⟦⟦PII:email:1⟧⟧ ⟦PII:unknown:9⟧")]
    [InlineData("数学 ⟦x⟧ 和 ⟦PII:a")]
    public void Text_that_only_looks_like_a_placeholder_is_emitted_unchanged(string text)
    {
        var vault = Vault();
        var expected = vault.Restore(text);
        for (var i = 0; i <= text.Length; i++)
        {
            Assert.Equal(expected, Stream(new PiiStreamRestorer(vault), [text[..i], text[i..]]));
        }
        Assert.Equal(expected, Stream(new PiiStreamRestorer(vault), text.Select(c => c.ToString())));
        // A long run that cannot be a placeholder is not held back.
        var restorer = new PiiStreamRestorer(vault);
        Assert.Equal("⟦PII:" + new string('a', 40), restorer.Feed("⟦PII:" + new string('a', 40)));
    }

    [Fact]
    public void Arguments_are_restored_as_json_string_content()
    {
        var vault = new PiiVault();
        var placeholder = vault.PlaceholderFor("quote", "say \"hi\"\\");
        var restorer = new PiiStreamRestorer(vault, jsonString: true);
        var arguments = $"{{\"text\":\"{placeholder}\"}}";
        var output = Stream(restorer, arguments.Select(c => c.ToString()));
        Assert.Equal("{\"text\":\"say \\\"hi\\\"\\\\\"}", output);
        Assert.Equal("say \"hi\"\\", System.Text.Json.JsonDocument.Parse(output).RootElement.GetProperty("text").GetString());
    }
}
