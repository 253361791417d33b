#!/usr/bin/env python3
"""Regenerates ../CharacterFolding.Table.cs, the character tables behind CharacterFolding and ChineseScript.

Sources (only needed to regenerate, never at run time):
  * OpenCC character data (Apache-2.0, github.com/BYVoid/OpenCC): TSCharacters, STCharacters and the
    Taiwan/Hong Kong variant tables, read from Debian's `opencc` packages (`apt-get install -y opencc`,
    which ships /usr/share/opencc/*.ocd2 and the `opencc_dict` tool that dumps them as text).
  * Python's unicodedata (NFKC and case folding; the Unicode version is written into the output).

Usage: python3 generate_folding_table.py [--opencc-dir /usr/share/opencc]

The folding map sends every character to one search form:
  NFKC, then Unicode case folding, then Latin diacritics removed (e -> e for é), repeated until stable;
  then Traditional/Simplified/variant characters collapsed to one representative, chosen as the
  Simplified form. The Chinese classes are the connected components of all OpenCC character pairs
  (T->S, S->T and the TW/HK variants) so that a Simplified question matches a Traditional paragraph
  whichever of several Traditional characters it used (干 ~ 乾 ~ 幹, 台 ~ 臺 ~ 颱 ~ 檯).
"""
import argparse
import collections
import os
import subprocess
import sys
import tempfile
import unicodedata

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "CharacterFolding.Table.cs")
VARIANT_TABLES = ["TWVariants", "TWVariantsRev", "HKVariants", "HKVariantsRev"]


def dump(opencc_dir, name, tmp):
    """Dumps one OpenCC .ocd2 dictionary to text and parses `key<TAB>value value ...` lines."""
    src = os.path.join(opencc_dir, name + ".ocd2")
    dst = os.path.join(tmp, name + ".txt")
    subprocess.run(["opencc_dict", "-i", src, "-o", dst, "-f", "ocd2", "-t", "text"], check=True)
    entries = []
    with open(dst, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            key, values = line.split("\t")
            entries.append((key, values.split(" ")))
    entries.sort(key=lambda e: e[0])
    return entries


def is_latin(ch):
    return ch.isascii() or 0x00C0 <= ord(ch) <= 0x024F or 0x1E00 <= ord(ch) <= 0x1EFF


def strip_latin_marks(text):
    """Drops combining marks that follow a Latin letter (café -> cafe); leaves other scripts alone."""
    out = []
    for ch in unicodedata.normalize("NFKD", text):
        if unicodedata.category(ch) == "Mn" and out and is_latin(out[-1]):
            continue
        out.append(ch)
    return unicodedata.normalize("NFC", "".join(out))


def compat_fold(ch):
    text = ch
    for _ in range(5):
        nxt = strip_latin_marks(unicodedata.normalize("NFKC", text).casefold())
        if nxt == text:
            return text
        text = nxt
    raise SystemExit(f"folding of U+{ord(ch):04X} does not converge")


def chinese_classes(ts, st, variants):
    parent = {}

    def find(x):
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for key, values in ts + st + variants:
        for value in values:
            a, b = find(key), find(value)
            if a != b:
                parent[a] = b

    traditional_only = {k for k, v in ts if k not in v}
    default_target = collections.Counter(v[0] for _, v in ts)
    classes = collections.defaultdict(list)
    for x in list(parent):
        classes[find(x)].append(x)
    representative = {}
    for members in classes.values():
        # The Simplified form: not a Traditional-only character, and OpenCC's default target most often.
        rep = min(members, key=lambda c: (c in traditional_only, -default_target[c], ord(c)))
        for m in members:
            representative[m] = rep
    return representative


def is_cjk_unified(cp):
    # Not the compatibility ideographs (U+F900, U+2F800 blocks): NFC would rewrite those in an editor.
    return (0x3400 <= cp <= 0x4DBF or 0x4E00 <= cp <= 0x9FFF or 0x20000 <= cp <= 0x2A6DF
            or 0x2A700 <= cp <= 0x2EBEF or 0x30000 <= cp <= 0x3134F)


def literal(text):
    """C# string literal body: CJK unified ideographs verbatim (readable), everything else escaped."""
    out = []
    for ch in text:
        cp = ord(ch)
        if is_cjk_unified(cp):
            out.append(ch)
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\n":
            out.append("\\n")
        elif 0x20 < cp < 0x7F and ch not in "\"\\":
            out.append(ch)
        elif cp <= 0xFFFF:
            out.append(f"\\u{cp:04X}")
        else:
            out.append(f"\\U{cp:08X}")
    return "".join(out)


def emit(name, doc, mapping, per_line):
    """Writes one map as three constants, the smallest encoding for each kind of entry:
    {name}Ranges: runs of >= 3 consecutive keys mapped to consecutive single characters, as three
      characters (first key, last key, first value) each, e.g. the full-width and mathematical letters;
    {name}Pairs: any other single BMP character mapped to a single BMP character, two characters each;
    {name}Others: the rest (astral keys, values of zero or several characters) as key TAB value LF
    (neither TAB nor LF is ever a key or part of a value)."""
    keys = sorted(mapping, key=ord)
    ranges, singles, others = [], [], []
    i = 0
    while i < len(keys):
        key, value = keys[i], mapping[keys[i]]
        j = i
        if len(value) == 1:
            while (j + 1 < len(keys) and ord(keys[j + 1]) == ord(keys[j]) + 1 and len(mapping[keys[j + 1]]) == 1
                   and ord(mapping[keys[j + 1]]) == ord(mapping[keys[j]]) + 1):
                j += 1
        if j - i >= 2:
            ranges.append(key + keys[j] + value)
            i = j + 1
            continue
        if ord(key) <= 0xFFFF and len(value) == 1 and ord(value) <= 0xFFFF:
            singles.append(key + value)
        else:
            others.append(key + "\t" + value + "\n")
        i += 1
    lines = [f"    /// <summary>{doc}</summary>"]
    for suffix, items, n in (("Ranges", ranges, per_line // 2), ("Pairs", singles, per_line),
                             ("Others", others, per_line // 2)):
        lines.append(f"    private const string {name}{suffix} =")
        chunks = [items[k:k + n] for k in range(0, len(items), n)] or [[]]
        for k, chunk in enumerate(chunks):
            end = ";" if k == len(chunks) - 1 else " +"
            lines.append(f'        "{literal("".join(chunk))}"{end}')
        lines.append("")
    return lines, len(ranges), len(singles), len(others)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--opencc-dir", default="/usr/share/opencc")
    args = parser.parse_args()
    version = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "libopencc-data"],
                             capture_output=True, text=True).stdout.strip() or "unknown"

    with tempfile.TemporaryDirectory() as tmp:
        ts = dump(args.opencc_dir, "TSCharacters", tmp)
        st = dump(args.opencc_dir, "STCharacters", tmp)
        variants = [e for name in VARIANT_TABLES for e in dump(args.opencc_dir, name, tmp)]

    representative = chinese_classes(ts, st, variants)
    fold = {}
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        ch = chr(cp)
        folded = "".join(representative.get(c, c) for c in compat_fold(ch))
        if folded != ch:
            fold[ch] = folded
    for ch, folded in fold.items():  # one pass must be enough: Fold(Fold(x)) == Fold(x)
        again = "".join(fold.get(c, c) for c in folded)
        if again != folded:
            raise SystemExit(f"fold is not idempotent at U+{ord(ch):04X}")

    to_simplified = {k: v[0] for k, v in ts if v[0] != k}
    to_traditional = {k: v[0] for k, v in st if v[0] != k}

    out = [
        "// <auto-generated>",
        "// Generated by tools/generate_folding_table.py; do not edit, rerun the script.",
        f"// Chinese data: OpenCC character tables (Apache-2.0, github.com/BYVoid/OpenCC), Debian libopencc-data {version}.",
        f"// Unicode data: NFKC and case folding from Python {sys.version.split()[0]} unicodedata {unicodedata.unidata_version}.",
        "// </auto-generated>",
        "namespace Mulan.Knowledge.Indexing.Keyword;",
        "",
        "internal static partial class CharacterTables",
        "{",
    ]
    stats = []
    for name, doc, mapping, per_line in (
        ("Fold", "Search folding: NFKC, case folding, Latin diacritics, Traditional/variants to Simplified.", fold, 24),
        ("ToSimplified", "OpenCC TSCharacters, default (first) candidate: Traditional to Simplified.", to_simplified, 24),
        ("ToTraditional", "OpenCC STCharacters, default (first) candidate: Simplified to Traditional.", to_traditional, 24),
    ):
        lines, ranges, singles, others = emit(name, doc, mapping, per_line)
        out.extend(lines)
        stats.append(f"{name}: {ranges} ranges, {singles} pairs, {others} others")
    while out[-1] == "":
        out.pop()
    out.append("}")
    with open(OUT, "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(out) + "\n")
    print(f"wrote {os.path.normpath(OUT)}: " + "; ".join(stats))


if __name__ == "__main__":
    main()
