using Lucene.Net.Analysis;
using Lucene.Net.Analysis.TokenAttributes;
using Lucene.Net.Documents;
using Lucene.Net.Index;
using Lucene.Net.Search;
using Lucene.Net.Search.Similarities;
using Lucene.Net.Store;
using Lucene.Net.Util;
using Mulan.Knowledge.Indexing.Keyword;

namespace Mulan.Bench.Retrieval;

/// <summary>
/// Lucene.Net 4.8 with BM25 (same k1 and b) over the same analyzer's terms, the comparison arm for choosing
/// between it and our own index. Terms are fed pre-analyzed, so only the index differs; Lucene stores each
/// document's length in one byte (lossy), which is its one scoring difference.
/// </summary>
internal sealed class LuceneEngine : IRetrievalEngine
{
    private static readonly FieldType BodyType = CreateBodyType();

    private readonly ITextAnalyzer _analyzer;
    private readonly RAMDirectory _directory = new();
    private readonly IndexWriter _writer;
    private readonly BM25Similarity _similarity = new(1.2f, 0.75f);
    private DirectoryReader? _reader;
    private IndexSearcher? _searcher;
    private long[] _ids = [];

    public LuceneEngine(ITextAnalyzer analyzer)
    {
        _analyzer = analyzer;
        var config = new IndexWriterConfig(LuceneVersion.LUCENE_48, new TermsAnalyzer(analyzer))
        {
            Similarity = _similarity,
            RAMBufferSizeMB = 256,
            OpenMode = OpenMode.CREATE,
        };
        _writer = new IndexWriter(_directory, config);
        BooleanQuery.MaxClauseCount = 8192;
    }

    public string Name => "Lucene.Net";

    public void Add(long id, string text) =>
        _writer.AddDocument([new NumericDocValuesField("id", id), new Field("body", text, BodyType)]);

    public void Commit()
    {
        _writer.ForceMerge(1);
        _writer.Commit();
        _reader?.Dispose();
        _reader = DirectoryReader.Open(_directory);
        _searcher = new IndexSearcher(_reader) { Similarity = _similarity };
        // Doc values readers are not thread-safe; read the ids once into an array that searches share.
        var values = MultiDocValues.GetNumericValues(_reader, "id");
        _ids = new long[_reader.MaxDoc];
        for (var document = 0; document < _ids.Length; document++)
        {
            _ids[document] = values.Get(document);
        }
    }

    public IReadOnlyList<long> Search(string query, int topK)
    {
        var searcher = _searcher ?? throw new InvalidOperationException("Commit first.");
        var terms = new List<string>();
        _analyzer.Analyze(query, terms);
        var boolean = new BooleanQuery();
        foreach (var group in terms.GroupBy(t => t, StringComparer.Ordinal))
        {
            // Repeated query terms weigh as often as they repeat, as in KeywordIndex.
            boolean.Add(new TermQuery(new Term("body", group.Key)) { Boost = group.Count() }, Occur.SHOULD);
        }

        return [.. searcher.Search(boolean, topK).ScoreDocs.Select(d => _ids[d.Doc])];
    }

    public void Dispose()
    {
        _reader?.Dispose();
        _writer.Dispose();
        _directory.Dispose();
    }

    private static FieldType CreateBodyType()
    {
        var type = new FieldType
        {
            IsIndexed = true,
            IsTokenized = true,
            IsStored = false,
            IndexOptions = IndexOptions.DOCS_AND_FREQS,
        };
        type.Freeze();
        return type;
    }

    /// <summary>A Lucene analyzer that emits the terms of one of ours.</summary>
    private sealed class TermsAnalyzer(ITextAnalyzer analyzer) : Analyzer
    {
        protected override TokenStreamComponents CreateComponents(string fieldName, TextReader reader) =>
            new(new TermsTokenizer(analyzer, reader));
    }

    private sealed class TermsTokenizer : Tokenizer
    {
        private readonly ITextAnalyzer _analyzer;
        private readonly ICharTermAttribute _term;
        private readonly List<string> _terms = [];
        private int _next;

        public TermsTokenizer(ITextAnalyzer analyzer, TextReader input)
            : base(input)
        {
            _analyzer = analyzer;
            _term = AddAttribute<ICharTermAttribute>();
        }

        public override bool IncrementToken()
        {
            ClearAttributes();
            if (_next == _terms.Count)
            {
                return false;
            }

            _term.SetEmpty().Append(_terms[_next++]);
            return true;
        }

        public override void Reset()
        {
            base.Reset();
            _terms.Clear();
            _next = 0;
            _analyzer.Analyze(m_input.ReadToEnd(), _terms);
        }
    }
}
