using System.IO.Compression;
using System.Text;
using Mulan.Apps;
using Mulan.Apps.Packages;
using Mulan.Apps.Templates;
using static Mulan.Tests.Apps.Packages.ZipCrafting;

namespace Mulan.Tests.Apps.Packages;

public sealed class AppPackageTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 1, 8, 30, 0, TimeSpan.Zero);

    private static PackageContents Contents(bool documents = true, bool evaluation = true) => new(
        AppDefinitionReader.Read(AppTemplates.Get("hr-policy-qa", "zh-Hant")!, [])!, 3, At,
        documents
            ? [new PackageKnowledgeBase("hr-policies", [
                new PackageDocument("請假規定", "policies/leave.md", "policies/leave.md", "text/markdown", Utf8("# 請假規定\n員工到職滿一年，每年有十五天特休。")),
                new PackageDocument("Expenses", "expenses.html", "https://intranet.example/expenses?id=7", "text/html", Utf8("<h1>Expenses</h1><p>Hotels up to 600 CNY.</p>")),
                new PackageDocument("Binary", "scan.pdf", "scan.pdf", "application/pdf", new byte[] { 0x25, 0x50, 0x44, 0x46, 0xff, 0x00, 0xfe }),
            ])]
            : null,
        evaluation ? [new EvaluationItem("特休有幾天？", "十五天", "feedback", "req_123")] : null);

    private static byte[] Written(PackageContents contents)
    {
        using var output = new MemoryStream();
        AppPackage.Write(output, contents);
        return output.ToArray();
    }

    [Fact]
    public void A_written_package_reads_back_as_what_was_written()
    {
        var contents = Contents();
        var read = Read(Written(contents));
        Assert.Empty(read.Problems);
        var back = read.Contents!;
        Assert.Equal(contents.Definition.Instructions, back.Definition.Instructions);
        Assert.Equal(contents.Definition.Guardrails!.Pii!.Count, back.Definition.Guardrails!.Pii!.Count);
        Assert.Equal((3, At), (back.Version, back.ExportedAt));
        var kb = Assert.Single(back.KnowledgeBases!);
        Assert.Equal("hr-policies", kb.Name);
        Assert.Equal(contents.KnowledgeBases![0].Documents.Select(d => (d.Title, d.Source, d.Origin, d.MediaType, Convert.ToHexString(d.Content.Span))),
            kb.Documents.Select(d => (d.Title, d.Source, d.Origin, d.MediaType, Convert.ToHexString(d.Content.Span))));
        Assert.Equal(contents.Evaluation, back.Evaluation);
        Assert.Equal(Mulan.Hosting.MulanVersion.Current, read.Manifest!.MulanVersion);
        Assert.Equal(new PackageIncludes(true, true, ["hr-policies"], 3, 1) with { KnowledgeBases = read.Manifest.Includes.KnowledgeBases }, read.Manifest.Includes);
        Assert.Equal(["hr-policies"], read.Manifest.Includes.KnowledgeBases);

        using var zip = new ZipArchive(new MemoryStream(Written(contents)));
        Assert.Equal(["manifest.json", "app.json", "knowledge/hr-policies/1-leave.md", "knowledge/hr-policies/2-expenses.html", "knowledge/hr-policies/3-scan.pdf",
            "knowledge/hr-policies/documents.json", "evaluation.jsonl"], zip.Entries.Select(e => e.FullName));
    }

    [Fact]
    public void Without_documents_or_evaluation_the_package_holds_only_the_manifest_and_the_definition()
    {
        var bytes = Written(Contents(documents: false, evaluation: false));
        using var zip = new ZipArchive(new MemoryStream(bytes));
        Assert.Equal(["manifest.json", "app.json"], zip.Entries.Select(e => e.FullName));
        var read = Read(bytes);
        Assert.Null(read.Contents!.KnowledgeBases);
        Assert.Null(read.Contents.Evaluation);
    }

    [Fact]
    public void A_package_holds_no_key_usage_conversation_or_end_user()
    {
        var text = new StringBuilder();
        using (var zip = new ZipArchive(new MemoryStream(Written(Contents()))))
        {
            foreach (var entry in zip.Entries)
            {
                using var reader = new StreamReader(entry.Open());
                text.Append(reader.ReadToEnd());
            }
        }
        var all = text.ToString();
        foreach (var forbidden in new[] { "mk-", "mka-", "apiKey", "\"key\"", "usage", "conversationId", "conversation_id", "endUser", "\"user\"", "cost" })
        {
            Assert.DoesNotContain(forbidden, all, StringComparison.OrdinalIgnoreCase);
        }
    }

    public static TheoryData<string, string> UnsafeNames() => new()
    {
        { "../app.json", "leaves its folder" },
        { "knowledge/../../etc/passwd", "leaves its folder" },
        { "/etc/passwd", "absolute path" },
        { "knowledge\\hr\\1-a.md", "backslashes" },
        { "C:/Windows/win.ini", "drive letter" },
        { "knowledge/hr/\uFF0E\uFF0E/1-a.md", "leaves its folder" },
        { "knowledge//1-a.md", "leaves its folder" },
        { "knowledge/hr/1-a\u0000.md", "control characters" },
    };

    [Theory]
    [MemberData(nameof(UnsafeNames))]
    public void Entries_whose_names_leave_the_folder_are_refused(string name, string why)
    {
        var read = Read(Package(("app.json", Utf8(Definition)), (name, Utf8("x"))));
        Assert.Null(read.Contents);
        Assert.Contains(read.Problems, p => p.Contains(why, StringComparison.Ordinal));
    }

    [Fact]
    public void Duplicate_entries_are_refused_even_when_they_differ_only_in_case()
    {
        Assert.Contains(Read(Package(("app.json", Utf8(Definition)), ("app.json", Utf8(Definition)))).Problems, p => p.Contains("more than once", StringComparison.Ordinal));
        Assert.Contains(Read(Package(("app.json", Utf8(Definition)), ("APP.json", Utf8(Definition)))).Problems, p => p.Contains("more than once", StringComparison.Ordinal));
    }

    [Fact]
    public void Unknown_entries_are_refused()
    {
        var read = Read(Package(("app.json", Utf8(Definition)), ("run.sh", Utf8("rm -rf /"))));
        Assert.Equal(["'run.sh' is not part of a Mulan app package"], read.Problems);
    }

    [Fact]
    public void A_well_formed_handmade_package_is_accepted()
    {
        // The baseline the hostile variants below differ from by one thing each.
        var read = Read(Package(("app.json", Utf8(Definition))));
        Assert.Empty(read.Problems);
        Assert.Equal("faq", read.Contents!.Definition.Slug);
    }

    [Fact]
    public void Entries_that_are_not_utf8_or_not_json_are_refused()
    {
        Assert.Contains("'app.json' is not UTF-8 text", Read(Package(("app.json", [.. Utf8("{\"slug\":\""), 0xC3, 0x28, .. Utf8("\"}")]))).Problems);
        Assert.Contains(Read(Package(("app.json", Utf8("{\"slug\": ")))).Problems, p => p.StartsWith("app.json is not valid JSON", StringComparison.Ordinal));
        Assert.Contains(Read(Package(("app.json", Utf8(new string('[', 100) + new string(']', 100))))).Problems, p => p.StartsWith("app.json is not valid JSON", StringComparison.Ordinal));
        Assert.Contains(Read(Zip(("manifest.json", Utf8("not json")), ("app.json", Utf8(Definition)))).Problems, p => p.StartsWith("manifest.json is not valid", StringComparison.Ordinal));
    }

    [Fact]
    public void Fields_over_the_definition_limits_are_refused_by_their_json_path()
    {
        var huge = Definition.Replace("\"model\":\"chat\"", $"\"model\":\"chat\",\"instructions\":\"{new string('x', AppDefinitionReader.MaxInstructionsLength + 1)}\"", StringComparison.Ordinal);
        Assert.Contains(Read(Package(("app.json", Utf8(huge)))).Problems, p => p.StartsWith("app.json: $.instructions:", StringComparison.Ordinal));
        var question = $"{{\"question\":\"{new string('q', AppDefinitionReader.MaxTextLength + 1)}\",\"expected\":\"a\",\"source\":\"feedback\"}}\n";
        Assert.Contains(Read(Package(("app.json", Utf8(Definition)), ("evaluation.jsonl", Utf8(question)))).Problems,
            p => p.StartsWith("evaluation.jsonl: line 1: question", StringComparison.Ordinal));
    }

    [Fact]
    public void An_entry_altered_after_the_manifest_was_written_is_refused()
    {
        var other = Definition.Replace("FAQ", "Evil", StringComparison.Ordinal);
        Assert.Equal(["'app.json' does not match its SHA-256 in manifest.json"],
            Read(Zip(("manifest.json", Manifest(("app.json", Utf8(Definition)))), ("app.json", Utf8(other)))).Problems);
        Assert.Equal(["'evaluation.jsonl' is not listed in manifest.json"],
            Read(Zip(("manifest.json", Manifest(("app.json", Utf8(Definition)))), ("app.json", Utf8(Definition)), ("evaluation.jsonl", Utf8("")))).Problems);
        Assert.Equal(["'evaluation.jsonl' is listed in manifest.json but missing"],
            Read(Zip(("manifest.json", Manifest(("app.json", Utf8(Definition)), ("evaluation.jsonl", Utf8("")))), ("app.json", Utf8(Definition)))).Problems);
        Assert.Equal(["manifest.json is missing"], Read(Zip(("app.json", Utf8(Definition)))).Problems);
    }

    [Fact]
    public void Too_many_entries_are_refused_before_anything_is_read()
    {
        var entries = Enumerable.Range(1, 6).Select(i => ($"knowledge/faq-docs/{i}-a.md", Utf8("a"))).ToArray();
        var read = Read(Package([("app.json", Utf8(Definition)), .. entries]), new PackageLimits { MaxEntries = 5 });
        Assert.Equal(["the package has 8 entries, more than the 5 allowed"], read.Problems);
    }

    [Fact]
    public void Entries_declaring_more_than_the_limits_are_refused()
    {
        var doc = ("knowledge/faq-docs/1-a.md", Utf8(new string('a', 5000)));
        var index = ("knowledge/faq-docs/documents.json", Utf8("""{"knowledgeBase":"faq-docs","documents":[{"file":"1-a.md","title":"A","source":"a.md","origin":"a.md","mediaType":"text/markdown"}]}"""));
        var package = Package(("app.json", Utf8(Definition)), doc, index);
        Assert.Empty(Read(package).Problems);
        Assert.Contains("'knowledge/faq-docs/1-a.md' declares 5000 bytes, more than the 4000 allowed", Read(package, new PackageLimits { MaxEntryBytes = 4000 }).Problems);
        Assert.Contains(Read(package, new PackageLimits { MaxTotalBytes = 5000 }).Problems, p => p.StartsWith("the entries declare", StringComparison.Ordinal));
        Assert.Contains(Read(package, new PackageLimits { MaxJsonBytes = 50 }).Problems, p => p.StartsWith("'app.json' declares", StringComparison.Ordinal));
        Assert.Equal(["the package is larger than 100 bytes"], Read(package, new PackageLimits { MaxPackageBytes = 100 }).Problems);
    }

    [Fact]
    public void A_zip_bomb_is_refused_by_its_compression_ratio()
    {
        var bomb = Package(("app.json", Utf8(Definition)), ("knowledge/faq-docs/1-zeros.txt", new byte[20 * 1024 * 1024]));
        Assert.True(bomb.Length < 100_000);
        var problem = Assert.Single(Read(bomb).Problems);
        Assert.Contains("'knowledge/faq-docs/1-zeros.txt' expands", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void An_entry_holding_more_than_its_header_declares_is_cut_off_at_the_declared_size()
    {
        var big = Utf8(string.Concat(Enumerable.Range(0, 20_000).Select(i => $"line {i}\n")));
        var package = Package(("app.json", Utf8(Definition)), ("knowledge/faq-docs/1-a.md", big));
        var lying = DeclareSize(package, "knowledge/faq-docs/1-a.md", 1000);
        // The header passes every limit; only counting while decompressing finds the lie.
        var read = Read(lying, new PackageLimits { MaxEntryBytes = 2000, MaxTotalBytes = 1_000_000 });
        Assert.Null(read.Contents);
        // Depending on the runtime, decompression stops at the declared size (the hash then differs) or goes on (counted).
        Assert.Contains(read.Problems, p => p is "'knowledge/faq-docs/1-a.md' does not match its SHA-256 in manifest.json"
            or "'knowledge/faq-docs/1-a.md' holds more than the 1000 bytes its header declares" || p.StartsWith("'knowledge/faq-docs/1-a.md' is damaged", StringComparison.Ordinal));
    }

    [Fact]
    public void Encrypted_entries_and_unsupported_methods_are_refused()
    {
        var package = Package(("app.json", Utf8(Definition)));
        Assert.Equal(["'app.json' is encrypted"], Read(SetFlags(package, "app.json", 1)).Problems);
        Assert.Equal(["'app.json' uses compression method 14; packages use only stored (0) or deflate (8)"], Read(SetMethod(package, "app.json", 14)).Problems);
        Assert.Contains(Read(SetMethod(package, "app.json", 9)).Problems, p => p.Contains("compression method 9", StringComparison.Ordinal));
    }

    [Fact]
    public void Something_that_is_not_a_zip_is_refused()
    {
        Assert.Equal(["the package is not a zip archive"], Read(Utf8("PK but not really a zip file at all, just text")).Problems);
        Assert.Equal(["the package is not a zip archive"], Read([]).Problems);
    }

    [Fact]
    public void Documents_must_match_their_index_and_a_knowledge_base_the_app_uses()
    {
        var doc = ("knowledge/faq-docs/1-a.md", Utf8("a"));
        var unlisted = Read(Package(("app.json", Utf8(Definition)), doc, ("knowledge/faq-docs/documents.json", Utf8("""{"knowledgeBase":"faq-docs","documents":[]}"""))));
        Assert.Equal(["'knowledge/faq-docs/1-a.md' is not listed in documents.json"], unlisted.Problems);
        var missing = Read(Package(("app.json", Utf8(Definition)), ("knowledge/faq-docs/documents.json",
            Utf8("""{"knowledgeBase":"faq-docs","documents":[{"file":"2-b.md","title":"B","source":"b.md","origin":"b.md","mediaType":"text/markdown"}]}"""))));
        Assert.Contains(missing.Problems, p => p.Contains("'2-b.md' is not in the folder", StringComparison.Ordinal));
        var foreign = Read(Package(("app.json", Utf8(Definition)), doc, ("knowledge/faq-docs/documents.json",
            Utf8("""{"knowledgeBase":"other","documents":[{"file":"1-a.md","title":"A","source":"a.md","origin":"a.md","mediaType":"text/markdown"}]}"""))));
        Assert.Contains(foreign.Problems, p => p.Contains("does not use a knowledge base named 'other'", StringComparison.Ordinal));
        Assert.Contains(Read(Package(("app.json", Utf8(Definition)), doc)).Problems, p => p == "knowledge/faq-docs/documents.json is missing");
    }

    [Fact]
    public void Damaged_packages_are_refused_with_problems_never_with_an_exception()
    {
        var good = Written(Contents());
        var random = new Random(20261206);
        for (var i = 0; i < 3000; i++)
        {
            var bad = (byte[])good.Clone();
            for (var flips = random.Next(1, 4); flips > 0; flips--)
            {
                bad[random.Next(bad.Length)] = (byte)random.Next(256);
            }
            var cut = random.Next(10) == 0 ? bad[..random.Next(bad.Length)] : bad;
            var read = Read(cut);
            // A flip in a place nothing reads (a timestamp, the zip's own CRC of an entry) may leave it whole; otherwise problems.
            Assert.True(read.Contents is not null || read.Problems.Count > 0);
            Assert.True(read.Contents is null || read.Problems.Count == 0);
        }
    }
}
