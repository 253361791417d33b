using Mulan.Knowledge.Indexing.Keyword;

namespace Mulan.Tests.Knowledge.Keyword;

public sealed class KeywordIndexTests
{
    private static KeywordIndex Index(params string[] texts)
    {
        var index = new KeywordIndex(TextAnalyzers.Default);
        for (var i = 0; i < texts.Length; i++)
        {
            index.Add(i + 1, texts[i]);
        }

        return index;
    }

    private static long[] Ids(IReadOnlyList<KeywordHit> hits) => [.. hits.Select(h => h.ChunkId)];

    [Fact]
    public void Search_SimplifiedQuery_FindsTraditionalChunk_AndTheReverse()
    {
        var index = Index("臺北是臺灣的首都，人口約兩百六十萬。", "北京是中国的首都。", "The Panthers defense gave up 308 points.");

        Assert.Equal(1, index.Search("台湾的首都", 1)[0].ChunkId);
        Assert.Equal(2, index.Search("中國的首都", 1)[0].ChunkId);
        Assert.Equal(3, index.Search("How many points did the defense give up?", 1)[0].ChunkId);
    }

    [Fact]
    public void Search_RanksBestFirst_AndLimitsToTopK()
    {
        var index = Index("资料库 资料库 资料库", "资料库", "别的内容", "资料");

        var hits = index.Search("资料库", 2);

        Assert.Equal([1, 2], Ids(hits));
        Assert.True(hits[0].Score > hits[1].Score);
    }

    [Fact]
    public void Search_NoMatchingTerm_ReturnsNothing()
    {
        var index = Index("apple pie");

        Assert.Empty(index.Search("banana", 10));
        Assert.Empty(index.Search("", 10));
        Assert.Empty(index.Search("，。", 10));
        Assert.Empty(new KeywordIndex(TextAnalyzers.Default).Search("apple", 10));
    }

    [Fact]
    public void Search_TopKZero_IsEmpty_AndNegativeIsRejected()
    {
        var index = Index("apple");

        Assert.Empty(index.Search("apple", 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => index.Search("apple", -1));
    }

    [Fact]
    public void Search_Score_IsBm25()
    {
        // Terms (the default analyzer): chunk 1 = {apple x2, pie}, chunk 2 = {apple, tart, crumbl}, chunk 3 = {bread}.
        var index = Index("apple apple pie", "apple tart crumble", "bread");
        const double k1 = 1.2, b = 0.75, documents = 3, averageLength = 7.0 / 3;
        static double Idf(double df) => Math.Log(1 + ((documents - df + 0.5) / (df + 0.5)));
        static double Part(double tf, double length) => tf * (k1 + 1) / (tf + (k1 * (1 - b + (b * length / averageLength))));

        var hits = index.Search("apple pie", 3);

        Assert.Equal([1, 2], Ids(hits));
        Assert.Equal((Idf(2) * Part(2, 3)) + (Idf(1) * Part(1, 3)), hits[0].Score, 12);
        Assert.Equal(Idf(2) * Part(1, 3), hits[1].Score, 12);
    }

    [Fact]
    public void Search_Explanation_ListsMatchedTermsThatAddUpToTheScore()
    {
        var index = Index("臺灣的首都是臺北", "首都");

        var hit = index.Search("台湾首都在哪里", 1)[0];

        Assert.Equal(1, hit.ChunkId);
        Assert.Equal(hit.Score, hit.Terms.Sum(t => t.Score), 12);
        Assert.Contains(hit.Terms, t => t.Term == "台湾");
        Assert.Contains(hit.Terms, t => t.Term == "首都");
        Assert.DoesNotContain(hit.Terms, t => t.Term == "哪里");
        Assert.Equal(hit.Terms.OrderByDescending(t => t.Score).Select(t => t.Term), hit.Terms.Select(t => t.Term));
        Assert.All(hit.Terms, t => Assert.True(t.Score > 0));
    }

    [Fact]
    public void Search_RepeatedQueryTerm_CountsOncePerRepeat()
    {
        var index = Index("apple pie", "apple");

        var once = index.Search("apple", 1)[0].Score;
        var twice = index.Search("apple apple", 1)[0].Score;

        Assert.Equal(2 * once, twice, 12);
    }

    [Fact]
    public void Search_EqualScores_KeepTheOrderOfAdding()
    {
        var index = new KeywordIndex(TextAnalyzers.Default);
        index.Add(30, "same text");
        index.Add(10, "same text");
        index.Add(20, "same text");

        Assert.Equal([30, 10, 20], Ids(index.Search("text", 10)));
    }

    [Fact]
    public void Search_Filter_KeepsOnlyAllowedChunks()
    {
        var index = Index("apple one", "apple two", "apple three", "apple four");

        var hits = index.Search("apple", 2, id => id % 2 == 0);

        Assert.Equal([2, 4], Ids(hits).Order());
    }

    [Fact]
    public void Add_SameIdAgain_ReplacesTheChunk()
    {
        var index = Index("old words");

        index.Add(1, "new words");

        Assert.Equal(1, index.Count);
        Assert.Empty(index.Search("old", 10));
        Assert.Equal([1], Ids(index.Search("words", 10)));
    }

    [Fact]
    public void Remove_TakesTheChunkOut()
    {
        var index = Index("apple", "apple pie");

        Assert.True(index.Remove(1));
        Assert.False(index.Remove(1));
        Assert.False(index.Remove(99));
        Assert.Equal(1, index.Count);
        Assert.Equal([2], Ids(index.Search("apple", 10)));
    }

    [Fact]
    public void Remove_ManyChunks_CompactsAndKeepsTheRest()
    {
        var index = new KeywordIndex(TextAnalyzers.Default);
        for (var i = 0; i < 200; i++)
        {
            index.Add(i, $"common item{i} {(i % 2 == 0 ? "even" : "odd")}");
        }

        for (var i = 0; i < 200; i += 2)
        {
            Assert.True(index.Remove(i));
        }

        Assert.Equal(100, index.Count);
        Assert.Empty(index.Search("even", 10));
        Assert.Equal(100, index.Search("common", 1000).Count);
        Assert.Equal([51], Ids(index.Search("51", 10)));
        index.Add(0, "even again");
        Assert.Equal([0], Ids(index.Search("even", 10)));

        // Scores are those of an index built from the surviving chunks alone.
        var fresh = new KeywordIndex(TextAnalyzers.Default);
        for (var i = 1; i < 200; i += 2)
        {
            fresh.Add(i, $"common item{i} odd");
        }

        fresh.Add(0, "even again");
        Assert.Equal(fresh.Search("odd 7 even", 5).Select(h => (h.ChunkId, h.Score)), index.Search("odd 7 even", 5).Select(h => (h.ChunkId, h.Score)));
    }

    [Fact]
    public void Constructor_RejectsBadParameters()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new KeywordIndex(TextAnalyzers.Default, k1: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new KeywordIndex(TextAnalyzers.Default, b: 1.5));
        Assert.Throws<ArgumentNullException>(() => new KeywordIndex(null!));
    }

    [Fact]
    public void Parameters_ChangeScoring()
    {
        var plain = Index("apple apple apple banana", "apple");
        var flat = new KeywordIndex(TextAnalyzers.Default, k1: 0);
        flat.Add(1, "apple apple apple banana");
        flat.Add(2, "apple");

        Assert.Equal(1, plain.Search("apple", 1)[0].ChunkId);
        var hits = flat.Search("apple", 2);
        Assert.Equal(hits[0].Score, hits[1].Score, 12);
    }

    [Fact]
    public async Task Concurrent_SearchesDuringWrites_NeverThrowAndSeeWholeUpdates()
    {
        const int Stable = 200;
        const int Writes = 3000;
        var index = new KeywordIndex(TextAnalyzers.Default);
        for (var i = 0; i < Stable; i++)
        {
            index.Add(i, $"stable 版本 0 chunk{i}");
        }

        var writing = 1;
        var started = new CountdownEvent(3);
        var readers = Enumerable.Range(0, 3).Select(_ => Task.Factory.StartNew(() =>
        {
            var searches = 0;
            started.Signal();
            while (Volatile.Read(ref writing) == 1 || searches == 0)
            {
                // Every snapshot holds exactly Stable "stable" chunks: a torn update would show one twice or not at all.
                var hits = index.Search("stable 版本", Stable + 50);
                Assert.Equal(Stable, hits.Count);
                Assert.Equal(Stable, hits.Select(h => h.ChunkId).Distinct().Count());
                Assert.All(hits, h => Assert.InRange(h.ChunkId, 0, Stable - 1));
                Assert.All(hits, h => Assert.Equal(h.Score, h.Terms.Sum(t => t.Score), 9));
                Assert.All(index.Search("臨時 churn", 20), h => Assert.InRange(h.ChunkId, Stable, Stable + 499));
                searches++;
            }

            return searches;
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToArray();

        started.Wait(TimeSpan.FromSeconds(30));
        var writer = Task.Factory.StartNew(() =>
        {
            var random = new Random(7);
            for (var version = 1; version <= Writes; version++)
            {
                // Replacing keeps Stable live "stable" chunks; adding and removing other ids forces compactions.
                index.Add(random.Next(Stable), $"stable 版本 {version} chunk");
                var churn = Stable + random.Next(500);
                if (!index.Remove(churn))
                {
                    index.Add(churn, $"churn 臨時 {version}");
                }
            }

            Volatile.Write(ref writing, 0);
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        await writer;
        var searched = await Task.WhenAll(readers);

        Assert.All(searched, count => Assert.True(count > 0));
        Assert.Equal(Stable, index.Search("stable", 1000).Count);
        Assert.Equal(Stable + index.Search("churn", 1000).Count, index.Count);
    }
}
