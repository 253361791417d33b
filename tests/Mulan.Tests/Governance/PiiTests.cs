using System.Diagnostics;
using System.Text;
using Mulan.Governance.Pii;

namespace Mulan.Tests.Governance;

/// <summary>The PII detectors, overlap resolution, policies and masking. Identity numbers are built with real check digits.</summary>
public sealed class PiiTests
{
    // 2025-06-15 08:00 in China Standard Time.
    internal static readonly PiiGuard Guard = new(new FixedClock(new DateTimeOffset(2025, 6, 15, 0, 0, 0, TimeSpan.Zero)));

    internal static readonly PiiPolicy MaskAll = new(PiiKinds.BuiltIn.Select(k => new PiiRule(k, PiiAction.Mask)));

    internal sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    private static string Found(string text, PiiGuard? guard = null, PiiPolicy? policy = null) =>
        string.Join(" | ", (guard ?? Guard).Scan(policy ?? MaskAll, text).Select(s => $"{s.Kind}:{text.Substring(s.Start, s.Length)}"));

    [Theory]
    [InlineData("110101199003074573", true)]       // Beijing, 1990-03-07, check 3
    [InlineData("110101199003074578", false)]      // same with a wrong check digit
    [InlineData("44030419851231002X", true)]       // check character X
    [InlineData("44030419851231002x", true)]       // lower-case x accepted
    [InlineData("440304198512310020", false)]
    [InlineData("11010119900307109X", true)]
    [InlineData("110101199003071090", false)]
    [InlineData("110101199902311237", false)]      // 1999-02-31 does not exist (check digit right)
    [InlineData("110101189912311231", false)]      // before 1900 (check digit right)
    [InlineData("11010120250615123X", true)]       // born today
    [InlineData("110101202506161235", false)]      // born tomorrow
    [InlineData("910101199003071232", false)]      // area code cannot start with 9
    [InlineData("01010119900307123X", false)]      // nor with 0
    [InlineData("11010119900307457", false)]       // 17 characters
    public void A_china_id_needs_a_real_date_and_the_right_check_character(string id, bool valid)
    {
        Assert.Equal(valid, Guard.Scan(MaskAll, id).Any(s => s is { Kind: PiiKinds.ChinaId, Start: 0, Length: 18 }));
        Assert.Equal(valid, Guard.Scan(MaskAll, $"身份证{id}，").Any(s => s is { Kind: PiiKinds.ChinaId, Start: 3, Length: 18 }));
        Assert.DoesNotContain(Guard.Scan(MaskAll, $"9{id}"), s => s.Kind == PiiKinds.ChinaId); // never inside a longer run
    }

    [Fact]
    public void Today_is_the_date_in_China_not_in_UTC()
    {
        // 2025-06-14 20:00 UTC is already 2025-06-15 in Beijing.
        var guard = new PiiGuard(new FixedClock(new DateTimeOffset(2025, 6, 14, 20, 0, 0, TimeSpan.Zero)));
        Assert.Equal("china_id:11010120250615123X", Found("11010120250615123X", guard));
    }

    [Theory]
    [InlineData("13800138000", "china_mobile:13800138000")]
    [InlineData("电话13800138000。", "china_mobile:13800138000")]
    [InlineData("+8613800138000", "china_mobile:+8613800138000")]
    [InlineData("+86 13800138000", "china_mobile:+86 13800138000")]
    [InlineData("+86-13800138000", "china_mobile:+86-13800138000")]
    [InlineData("0086 13800138000", "china_mobile:0086 13800138000")]
    [InlineData("86 138 0013 8000", "china_mobile:86 138 0013 8000")]
    [InlineData("138 0013 8000", "china_mobile:138 0013 8000")]
    [InlineData("138-0013-8000", "china_mobile:138-0013-8000")]
    [InlineData("+86 138-0013-8000", "china_mobile:+86 138-0013-8000")]
    [InlineData("call 19912345678 now", "china_mobile:19912345678")]
    [InlineData("12800138000", "")]               // 12x is not a mobile prefix
    [InlineData("1380013800", "")]                // ten digits
    [InlineData("138001380001", "")]              // twelve digits
    [InlineData("2023111513800138000", "")]       // an order id with a mobile-looking tail
    [InlineData("ORD13800138000", "")]            // inside a letter run
    [InlineData("13800138000x", "")]
    [InlineData("138-0013 8000", "")]             // mixed separators
    [InlineData("138 0013 8000 1234", "")]        // part of a longer grouped number
    public void A_china_mobile_is_eleven_digits_with_optional_prefix_and_grouping(string text, string expected) =>
        Assert.Equal(expected, Found(text));

    [Theory]
    [InlineData("4111111111111111", "bank_card:4111111111111111")]
    [InlineData("卡号4111 1111 1111 1111，", "bank_card:4111 1111 1111 1111")]
    [InlineData("4111-1111-1111-1111", "bank_card:4111-1111-1111-1111")]
    [InlineData("5500000000000004", "bank_card:5500000000000004")]
    [InlineData("378282246310005", "bank_card:378282246310005")]            // 15 digits
    [InlineData("6222021234567894", "bank_card:6222021234567894")]          // UnionPay-style
    [InlineData("6222 0212 3456 7894", "bank_card:6222 0212 3456 7894")]
    [InlineData("6228480012345678903", "bank_card:6228480012345678903")]    // 19 digits
    [InlineData("6228 4800 1234 5678 903", "bank_card:6228 4800 1234 5678 903")]
    [InlineData("6217001234560", "bank_card:6217001234560")]                // 13 digits
    [InlineData("4111111111111112", "")]                                    // fails Luhn
    [InlineData("6222021234567895", "")]
    [InlineData("4111 1111-1111 1111", "")]                                 // mixed separators
    [InlineData("12345671003123456789", "")]                                // 20 digits; its 13-digit head passes Luhn
    [InlineData("id 123456710031234567890123", "")]                         // far too long
    [InlineData("8613800110001", "china_mobile:8613800110001")]             // passes Luhn but is a mobile with prefix
    [InlineData("110101199003071102", "china_id:110101199003071102")]       // passes Luhn but is an identity number
    public void A_bank_card_passes_luhn_and_is_not_an_id_or_mobile(string text, string expected) =>
        Assert.Equal(expected, Found(text));

    [Theory]
    [InlineData("zhang.san@example.com", "email:zhang.san@example.com")]
    [InlineData("邮箱：li_si+work@mail.example.com.cn。", "email:li_si+work@mail.example.com.cn")]
    [InlineData("<a@b.io>", "email:a@b.io")]
    [InlineData("x@localhost", "")]
    [InlineData("a@b.c", "")]
    [InlineData("@example.com", "")]
    [InlineData("user@-bad.com", "")]
    [InlineData("13800138000@qq.com", "email:13800138000@qq.com")]  // the longer span wins over the mobile inside
    public void An_email_is_local_at_domain_dot_tld(string text, string expected) =>
        Assert.Equal(expected, Found(text));

    [Fact]
    public void Mixed_chinese_text_finds_each_item()
    {
        Assert.Equal("china_mobile:13800138000 | china_id:110101199003074573 | email:wang@example.cn",
            Found("我的手机是13800138000，身份证110101199003074573，邮箱wang@example.cn。"));
        // The check digit of this widely quoted example is wrong, so it is not an identity number.
        Assert.Equal("china_mobile:13800138000", Found("我的手机是13800138000，身份证110101199003074578"));
    }

    [Fact]
    public void Overlaps_keep_the_longest_then_the_most_specific_and_never_overlap()
    {
        var policy = new PiiPolicy([new PiiRule("digits", PiiAction.Mask), new PiiRule("order", PiiAction.Mask)],
            [PiiPattern.Create("digits", "[0-9]{4}"), PiiPattern.Create("order", "SO-[0-9]{11}-[A-Z]")]);
        // "digits" finds pieces of the mobile; the mobile is longer. "order" contains a mobile; the order is longer.
        Assert.Equal("china_mobile:13800138000 | order:SO-13800138000-A | digits:2024",
            Found("13800138000 SO-13800138000-A 2024", policy: policy));
        // Same length: the built-in kind is more specific than a pattern.
        var same = new PiiPolicy([new PiiRule("eleven", PiiAction.Mask)], [PiiPattern.Create("eleven", "[0-9]{11}")]);
        Assert.Equal("china_mobile:13800138000 | eleven:12345678901", Found("13800138000 12345678901", policy: same));
        var spans = Guard.Scan(policy, "13800138000 SO-13800138000-A 2024 " + new string('7', 50));
        Assert.All(spans.Zip(spans.Skip(1)), p => Assert.True(p.First.End <= p.Second.Start));
    }

    [Fact]
    public void Masking_gives_the_same_value_the_same_placeholder_and_restores()
    {
        var text = "手机13800138000，再说一次13800138000；另一个13900139000，邮箱a@b.com";
        var masked = Assert.IsType<PiiResult.Masked>(Guard.Apply(MaskAll, text));
        Assert.Equal("手机⟦PII:china_mobile:1⟧，再说一次⟦PII:china_mobile:1⟧；另一个⟦PII:china_mobile:2⟧，邮箱⟦PII:email:1⟧", masked.Text);
        Assert.Equal(3, masked.Vault.Count);
        Assert.Equal(text, masked.Vault.Restore(masked.Text));
    }

    [Fact]
    public void Only_kinds_with_a_mask_rule_are_masked()
    {
        var policy = new PiiPolicy([new PiiRule(PiiKinds.Email, PiiAction.Mask), new PiiRule(PiiKinds.ChinaMobile, PiiAction.Allow)]);
        var masked = Assert.IsType<PiiResult.Masked>(Guard.Apply(policy, "13800138000 a@b.com 4111111111111111"));
        Assert.Equal("13800138000 ⟦PII:email:1⟧ 4111111111111111", masked.Text);
    }

    [Fact]
    public void A_block_rule_refuses_and_names_the_rule()
    {
        var rule = new PiiRule(PiiKinds.ChinaId, PiiAction.Block);
        var policy = new PiiPolicy([rule, new PiiRule(PiiKinds.ChinaMobile, PiiAction.Mask)]);
        var blocked = Assert.IsType<PiiResult.Blocked>(Guard.Apply(policy, "手机13800138000 身份证110101199003074573"));
        Assert.Equal(PiiKinds.ChinaId, blocked.Kind);
        Assert.Same(rule, blocked.Rule);
        var vault = new PiiVault();
        Assert.IsType<PiiResult.Blocked>(Guard.Apply(policy, "13800138000 110101199003074573", vault));
        Assert.Equal(0, vault.Count); // nothing kept from a refused text
    }

    [Fact]
    public void Placeholder_shaped_user_text_survives_the_round_trip()
    {
        var text = "literal ⟦PII:email:1⟧ and ⟦PII:placeholder:1⟧ then real a@b.com";
        var masked = Assert.IsType<PiiResult.Masked>(Guard.Apply(MaskAll, text));
        Assert.DoesNotContain("a@b.com", masked.Text);
        Assert.Equal(text, masked.Vault.Restore(masked.Text));
        // Even a policy that does nothing protects restoring from literal placeholders.
        var none = Assert.IsType<PiiResult.Masked>(Guard.Apply(PiiPolicy.AllowAll, text));
        Assert.Equal(text, none.Vault.Restore(none.Text));
    }

    [Fact]
    public void Restore_leaves_unknown_placeholders_alone()
    {
        var masked = Assert.IsType<PiiResult.Masked>(Guard.Apply(MaskAll, "a@b.com"));
        Assert.Equal("a@b.com ⟦PII:email:2⟧ ⟦PII:email:1", masked.Vault.Restore("⟦PII:email:1⟧ ⟦PII:email:2⟧ ⟦PII:email:1"));
    }

    [Fact]
    public void Restore_mask_is_identity_for_random_texts_with_pii()
    {
        var random = new Random(20250615);
        string[] values = ["13800138000", "+86 139-0013-9000", "110101199003074573", "44030419851231002x", "4111 1111 1111 1111",
            "6222021234567894", "zhang.san@example.com", "x@y.org", "⟦PII:email:1⟧", "⟦PII:china_mobile:2⟧"];
        string[] filler = ["我的", "手机", "是", "，", "。", " ", "abc", "⟦", "⟧", "PII:", "⟦PII:", ":1", "\n", "😀", "订单", "-", "@"];
        var policy = new PiiPolicy([.. PiiKinds.BuiltIn.Select(k => new PiiRule(k, PiiAction.Mask)), new PiiRule("word", PiiAction.Mask)],
            [PiiPattern.Create("word", "abc")]);
        for (var round = 0; round < 500; round++)
        {
            var text = new StringBuilder();
            var inserted = new List<string>();
            for (var i = random.Next(1, 12); i > 0; i--)
            {
                if (random.Next(3) == 0)
                {
                    var value = values[random.Next(values.Length)];
                    if (!value.StartsWith('⟦'))
                    {
                        inserted.Add(value); // a literal placeholder may well be the one a real value gets
                    }
                    // Not spaces: a digit one space away makes a grouped number part of a longer run, which is not matched.
                    text.Append('，').Append(value).Append('。');
                }
                else
                {
                    text.Append(filler[random.Next(filler.Length)]);
                }
            }
            var original = text.ToString();
            var masked = Assert.IsType<PiiResult.Masked>(Guard.Apply(policy, original));
            Assert.Equal(original, masked.Vault.Restore(masked.Text));
            Assert.All(inserted, v => Assert.DoesNotContain(v, masked.Text));
        }
    }

    [Fact]
    public void A_custom_pattern_masks_what_it_matches()
    {
        var policy = new PiiPolicy([new PiiRule("employee_id", PiiAction.Mask)], [PiiPattern.Create("employee_id", "EMP-[0-9]{6}")]);
        var masked = Assert.IsType<PiiResult.Masked>(Guard.Apply(policy, "工号 EMP-004211 和 EMP-004211、EMP-7"));
        Assert.Equal("工号 ⟦PII:employee_id:1⟧ 和 ⟦PII:employee_id:1⟧、EMP-7", masked.Text);
    }

    [Theory]
    [InlineData("ok_name", "(unclosed")]
    [InlineData("ok_name", "[z-a]")]
    [InlineData("Bad-Name", "x")]
    [InlineData("email", "x")]
    [InlineData("placeholder", "x")]
    [InlineData("", "x")]
    public void A_pattern_that_does_not_compile_or_has_a_bad_name_is_a_clear_error(string name, string pattern)
    {
        var error = Assert.Throws<PiiPatternException>(() => PiiPattern.Create(name, pattern));
        Assert.Contains($"'{name}'", error.Message);
    }

    [Fact]
    public void A_catastrophically_backtracking_pattern_times_out_instead_of_hanging()
    {
        var policy = new PiiPolicy([new PiiRule("evil", PiiAction.Mask)], [PiiPattern.Create("evil", "^(a+)+$", TimeSpan.FromMilliseconds(100))]);
        var watch = Stopwatch.StartNew();
        var error = Assert.Throws<PiiPatternException>(() => Guard.Apply(policy, new string('a', 40) + "!"));
        Assert.InRange(watch.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(5));
        Assert.Equal("evil", error.PatternName);
        Assert.Contains("100 ms", error.Message);
        Assert.DoesNotContain("aaaa", error.Message); // the text is never quoted
    }

    [Fact]
    public void Policies_refuse_rules_for_unknown_kinds_and_duplicates()
    {
        Assert.Throws<ArgumentException>(() => new PiiPolicy([new PiiRule("emial", PiiAction.Mask)]));
        Assert.Throws<ArgumentException>(() => new PiiPolicy([new PiiRule("email", PiiAction.Mask), new PiiRule("email", PiiAction.Block)]));
        Assert.Throws<ArgumentException>(() => new PiiPolicy([], [PiiPattern.Create("a", "x"), PiiPattern.Create("a", "y")]));
    }

    [Fact]
    public void Built_in_detectors_stay_fast_on_hostile_input()
    {
        string[] hostile = [new string('1', 200_000), string.Concat(Enumerable.Repeat("a.", 100_000)) + "@",
            "a@" + string.Concat(Enumerable.Repeat("b-", 100_000)), string.Concat(Enumerable.Repeat("1234 ", 40_000)),
            string.Concat(Enumerable.Repeat("a@", 100_000)), string.Concat(Enumerable.Repeat("⟦PII:", 40_000)),
            string.Concat(Enumerable.Repeat("a@b.", 50_000))];
        foreach (var text in hostile)
        {
            var watch = Stopwatch.StartNew();
            Guard.Scan(MaskAll, text);
            Assert.InRange(watch.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(2));
        }
    }
}
