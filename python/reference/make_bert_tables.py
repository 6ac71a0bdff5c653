#!/usr/bin/env python3
"""Generates go/tokenizer/tables_gen.go: the Unicode tables of HF's BERT normalizer.

Package go/tokenizer reimplements the BertNormalizer (clean_text, handle_chinese_chars,
strip_accents, lowercase) and the BertPreTokenizer of Hugging Face `tokenizers`. Their exact
behaviour depends on the Unicode tables compiled into the Rust crates (std's to_lowercase and
is_whitespace, unicode_categories, unicode-normalization-alignments), which differ from the
tables of any given Go release. So instead of using Go's `unicode` package, this script asks
the reference `tokenizers` itself, one code point at a time, and writes what it answers:

  removed       clean_text deletes the code point (NUL, U+FFFD, control/format/unassigned/
                private use, except tab, newline, carriage return)
  space         clean_text turns it into " "
  chinese       handle_chinese_chars puts spaces around it
  decomp        its canonical decomposition (NFD), when not itself (Hangul included)
  ccc           its canonical combining class, when not 0 (found by probing how NFD reorders it
                next to marks of known class)
  nonspacing    strip_accents deletes it after NFD (general category Mn)
  lower         its lowercase, when not itself
  whitespace    BertPreTokenizer splits on it and drops it
  punct         BertPreTokenizer splits on it and keeps it as its own word

Usage (from the repository root, in the reference environment with tokenizers 0.15.2):
    python3 python/reference/make_bert_tables.py --out go/tokenizer/tables_gen.go
Takes about half a minute.
"""

import argparse
import unicodedata

import tokenizers
from tokenizers import normalizers, pre_tokenizers

MAX = 0x110000
HANGUL_BASE, HANGUL_COUNT = 0xAC00, 11172


def hangul(c):
    """The Unicode algorithmic decomposition of a Hangul syllable."""
    s = c - HANGUL_BASE
    out = chr(0x1100 + s // 588) + chr(0x1161 + (s % 588) // 28)
    if s % 28:
        out += chr(0x11A7 + s % 28)
    return out


def codepoints():
    for c in range(MAX):
        if 0xD800 <= c <= 0xDFFF:  # surrogates cannot occur in valid UTF-8 text
            continue
        yield c


def ranges(cps):
    """Sorted code points -> list of (lo, hi)."""
    out = []
    for c in cps:
        if out and out[-1][1] == c - 1:
            out[-1][1] = c
        else:
            out.append([c, c])
    return [tuple(r) for r in out]


def valued_ranges(pairs):
    """Sorted (code point, value) -> list of (lo, hi, value)."""
    out = []
    for c, v in pairs:
        if out and out[-1][1] == c - 1 and out[-1][2] == v:
            out[-1][1] = c
        else:
            out.append([c, c, v])
    return [tuple(r) for r in out]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    clean = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=False, strip_accents=False, lowercase=False)
    chinese = normalizers.BertNormalizer(clean_text=False, handle_chinese_chars=True, strip_accents=False, lowercase=False)
    strip = normalizers.BertNormalizer(clean_text=False, handle_chinese_chars=False, strip_accents=True, lowercase=False)
    lower = normalizers.BertNormalizer(clean_text=False, handle_chinese_chars=False, strip_accents=False, lowercase=True)
    nfd = normalizers.NFD()
    pre = pre_tokenizers.BertPreTokenizer()

    removed, space, chin, nonspacing, ws, punct = [], [], [], [], [], []
    decomp, low = {}, {}
    for c in codepoints():
        ch = chr(c)
        r = clean.normalize_str(ch)
        if r == "":
            removed.append(c)
        elif r == " " and ch != " ":
            space.append(c)
        else:
            assert r == ch, (hex(c), r)
        if chinese.normalize_str(ch) != ch:
            assert chinese.normalize_str(ch) == " " + ch + " ", hex(c)
            chin.append(c)
        d = nfd.normalize_str(ch)
        if d != ch:
            decomp[c] = d
        elif strip.normalize_str(ch) == "":
            nonspacing.append(c)
        else:
            assert strip.normalize_str(ch) == ch, hex(c)
        lo = lower.normalize_str(ch)
        if lo != ch:
            low[c] = lo
        words = [w for w, _ in pre.pre_tokenize_str("a" + ch + "a")]
        if words == ["a", "a"]:
            ws.append(c)
        elif words == ["a", ch, "a"]:
            punct.append(c)
        else:
            assert words == ["a" + ch + "a"], (hex(c), words)

    # Canonical combining classes, as the reference NFD applies them. NFD(x + y) swaps the two
    # marks exactly when ccc(x) > ccc(y) > 0. Exemplars of every class Python knows are probed
    # first, then each code point is placed among them by binary search.
    def swapped(x, y):
        return x != y and nfd.normalize_str(x + y) == y + x

    stable = [c for c in codepoints() if c not in decomp]
    by_class = {}
    for c in stable:
        k = unicodedata.combining(chr(c))
        if k and k not in by_class:
            by_class[k] = chr(c)
    # Keep only exemplars the reference also treats as marks: classes added to Unicode after
    # the reference's tables (e.g. 6, U+16FF0) are class 0 there.
    above = by_class[max(by_class)]  # U+0345, class 240
    below = by_class[min(by_class)]  # U+0334, class 1
    classes = [k for k in sorted(by_class)
               if swapped(above, by_class[k]) or swapped(by_class[k], below) or by_class[k] in (above, below)]
    exemplars = [by_class[k] for k in classes]
    for a, b in zip(exemplars, exemplars[1:]):
        assert swapped(b, a) and not swapped(a, b), (hex(ord(a)), hex(ord(b)))
    lowest, highest = exemplars[0], exemplars[-1]
    ccc = []
    for c in stable:
        ch = chr(c)
        if not (swapped(ch, lowest) or swapped(highest, ch) or ch in (lowest, highest)):
            continue  # class 0
        lo_i, hi_i = 0, len(exemplars) - 1  # invariant: ccc(ch) >= classes[lo_i]
        if swapped(lowest, ch):
            raise AssertionError(f"{c:#x} has a class below {classes[0]}")
        while lo_i < hi_i:
            mid = (lo_i + hi_i + 1) // 2
            if swapped(exemplars[mid], ch):  # ccc(exemplar) > ccc(ch)
                hi_i = mid - 1
            else:
                lo_i = mid
        ccc.append((c, classes[lo_i]))
    # Decompositions only hold code points that NFD leaves alone.
    for c, d in decomp.items():
        for x in d:
            assert ord(x) not in decomp, hex(c)
    # Hangul syllables decompose algorithmically (decomposeHangul in Go): check, then drop.
    for c in range(HANGUL_BASE, HANGUL_BASE + HANGUL_COUNT):
        assert decomp.pop(c) == hangul(c), hex(c)

    write(args.out, removed, space, chin, decomp, ccc, nonspacing, low, ws, punct)
    print(f"wrote {args.out}: {len(decomp)} decompositions, {len(low)} lowercase mappings, "
          f"{len(ccc)} combining marks, {len(punct)} punctuation, {len(ws)} whitespace, "
          f"{len(removed)} removed code points")


def go_ranges(name, doc, rs):
    lines = [f"// {doc}", f"var {name} = []runeRange{{"]
    row = []
    for lo, hi in rs:
        row.append(f"{{0x{lo:04X}, 0x{hi:04X}}},")
        if len(row) == 4:
            lines.append("\t" + " ".join(row))
            row = []
    if row:
        lines.append("\t" + " ".join(row))
    lines.append("}")
    return "\n".join(lines)


def go_string(s):
    return '"' + "".join(f"\\U{ord(x):08X}" if ord(x) > 0xFFFF else f"\\u{ord(x):04X}" for x in s) + '"'


def go_map(name, doc, m):
    lines = [f"// {doc}", f"var {name} = map[rune]string{{"]
    for c in sorted(m):
        lines.append(f"\t0x{c:06X}: {go_string(m[c])},")  # one key width: gofmt-clean
    lines.append("}")
    return "\n".join(lines)


def write(path, removed, space, chin, decomp, ccc, nonspacing, low, ws, punct):
    parts = [
        "// Code generated by python/reference/make_bert_tables.py from Hugging Face tokenizers "
        f"{tokenizers.__version__}; DO NOT EDIT.",
        "",
        "package tokenizer",
        "",
        go_ranges("removedRanges", "removedRanges are the code points clean_text deletes.", ranges(removed)),
        "",
        go_ranges("spaceRanges", "spaceRanges are the code points clean_text turns into a space.", ranges(space)),
        "",
        go_ranges("chineseRanges", "chineseRanges are the code points handle_chinese_chars surrounds with spaces.", ranges(chin)),
        "",
        go_ranges("nonspacingRanges", "nonspacingRanges are the code points strip_accents deletes after NFD.", ranges(nonspacing)),
        "",
        go_ranges("whitespaceRanges", "whitespaceRanges are the code points BertPreTokenizer splits on and drops.", ranges(ws)),
        "",
        go_ranges("punctRanges", "punctRanges are the code points BertPreTokenizer isolates as words.", ranges(punct)),
        "",
        "// cccRanges are the canonical combining classes NFD reorders marks by (class 0 omitted).",
        "var cccRanges = []cccRange{",
    ]
    for lo, hi, v in valued_ranges(ccc):
        parts.append(f"\t{{0x{lo:04X}, 0x{hi:04X}, {v}}},")
    parts += [
        "}",
        "",
        go_map("decompositions", "decompositions are the canonical decompositions (NFD) that are not the code point itself, Hangul syllables excepted.", decomp),
        "",
        go_map("lowercases", "lowercases are the lowercase mappings that are not the code point itself.", low),
        "",
    ]
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(parts))


if __name__ == "__main__":
    main()
