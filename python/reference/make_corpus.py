#!/usr/bin/env python3
"""Writes testdata/fixtures/corpus.jsonl, the shared parity corpus.

The corpus feeds both the tokenizer parity test (go/tokenizer) and the embedding parity tests,
so it mixes realistic text of every length with hostile edge cases:

  * stsb       real sentences from the STS Benchmark test split (short),
  * scifact_*  SciFact titles (short) and title + abstract documents (long, many far beyond
               512 tokens, so truncation is exercised),
  * gen_*      a generated set of edge cases: punctuation runs, accents, CJK, emoji sequences,
               control and zero-width characters, whitespace runs, URLs and code, mixed scripts,
               numbers, math, literal special tokens, random code points, very long texts and
               the empty string.

Each line is {"id": int, "category": str, "text": str}; ids are 0..n-1 in file order.
The output is deterministic (fixed seed, sorted inputs, no hash-order dependence): rerunning
the script on the same data files reproduces the file byte for byte.

Usage (from the repository root):
    python3 python/reference/make_corpus.py \
        --stsb /work/shared/data/stsb-test.tsv \
        --scifact /work/shared/data/scifact/corpus.jsonl \
        --out testdata/fixtures/corpus.jsonl
"""

import argparse
import json
import random

SEED = 20240601

N_STSB = 360
N_SCIFACT_TITLE = 100
N_SCIFACT_DOC = 240
N_SCIFACT_LONGEST = 40  # the longest abstracts, always included


def load_stsb(path):
    sentences = []
    with open(path, encoding="utf-8", newline="\n") as f:
        header = f.readline()
        assert header.rstrip("\n").split("\t")[0] == "score", header
        for line in f:
            parts = line.rstrip("\n").split("\t")  # TAB only: sentences contain quotes
            assert len(parts) == 3, parts
            sentences.extend(parts[1:])
    # Unique, in first-seen order (deterministic).
    return list(dict.fromkeys(sentences))


def load_scifact(path):
    docs = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            docs.append((d["_id"], d["title"], d["text"]))
    return docs


# ---------------------------------------------------------------------------------------------
# Generated edge cases. Every list below is combined with random choices from one seeded RNG.

ENGLISH = [
    "The quick brown fox jumps over the lazy dog.",
    "Sentence embeddings map text to dense vectors.",
    "I can't believe it's not butter!",
    "Don't stop believin' — hold on to that feelin'.",
    "She said, \"It's fine,\" and left.",
    "Mr. O'Neil's co-worker re-entered the e-mail address.",
    "UPPERCASE lowercase MiXeD CaSe",
    "unbelievably antidisestablishmentarianism supercalifragilisticexpialidocious",
    "A man is playing a guitar.",
    "How do I reset my password?",
]

PUNCT_RUNS = [
    "!!!", "???", "?!?!", "...", "…", "---", "–—―", "***", "###", "@@@", "$$$", "%%%",
    "^^^", "&&&", "(((", ")))", "[[[", "]]]", "{{{", "}}}", "<<<", ">>>", "|||", "\\\\\\",
    "///", "~~~", "```", "'''", '"""', ";;;", ":::", ",,,", "___", "+++", "===",
    "«»", "‹›", "“”", "‘’", "„‚", "¿¡", "§¶", "†‡", "•‣", "‰‱", "′″‴", "※", "⁂", "¦", "¬",
    "、。", "「」", "『』", "【】", "〈〉", "・", "！？", "（）", "：；", "٪", "؟", "،", "।", "॥",
]

ACCENTED = [
    "café", "naïve", "résumé", "façade", "jalapeño", "Ångström", "Øresund", "smørrebrød",
    "Straße", "Größe", "Dvořák", "Łódź", "Ærø", "Çağrı", "İstanbul", "ıi", "Ĳssel", "ŉ",
    "Ǆemal", "Ǉubljana", "ﬁnance ﬂoor", "ﬀ ﬃ ﬄ ﬅ ﬆ", "Ⅻ", "℃", "™", "№", "Å", "K",
    "e\u0301", "a\u0308\u0301", "o\u0328\u0304", "n\u0303", "\u0301leading mark",
    "Zalgo: Z\u0351\u0364\u0300a\u0346\u0313l\u0310g\u0316\u0320o\u0357\u0334",
    "Ὀδυσσεύς", "ἀλήθεια", "ΣΊΣΥΦΟΣ", "Ϊ", "ǅ", "ẞ", "Tiếng Việt có dấu",
    "Vũ Nguyễn Phương Thảo", "Crème brûlée à la française", "Ꞵꞵ", "Ȿ", "ᏸ", "Ꭰ",
]

CJK = [
    "我爱自然语言处理。", "今天天气很好，我们去公园吧！", "東京都は日本の首都です。",
    "ひらがなとカタカナ", "한국어 문장입니다.", "中文English混合text",
    "𠀀𠀁𪜀𫝀𫠠𬺰", "豈更車賈", "⺀⼀㐀", "ｆｕｌｌｗｉｄｔｈ　ＡＢＣ１２３", "ｶﾀｶﾅ",
    "㍿㌀", "漢字かな交じり文", "龍龘", "〇一二三", "〆々〻",
]

EMOJI = [
    "😀", "😂🤣", "👍", "👍🏻👍🏼👍🏽👍🏾👍🏿", "👨\u200d👩\u200d👧\u200d👦", "👩\u200d💻",
    "🏳\ufe0f\u200d🌈", "🇺🇸🇯🇵🇩🇪🇫🇷", "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",
    "1\ufe0f\u20e3", "#\ufe0f\u20e3", "❤\ufe0f", "☺", "✨", "🥰", "🫠", "🫎", "🧑🏾\u200d🚀",
    "🤷\u200d♀\ufe0f", "🙋🏽\u200d♂\ufe0f", "🐕\u200d🦺", "🧬🔬📈", "©®", "🅰🅱", "🆗",
]

CONTROL = [
    "\x00", "\x01", "\x07", "\x08", "\x0b", "\x0c", "\x1b[31m", "\x1c\x1d\x1e\x1f", "\x7f",
    "\x80", "\x85", "\x9f", "\u00ad", "\u200b", "\u200c", "\u200d", "\u200e", "\u200f",
    "\u2028", "\u2029", "\u2060", "\u2061", "\u202a\u202b\u202c\u202d\u202e", "\ufeff",
    "\ufff9\ufffa\ufffb", "\ufffc", "\ufffd", "\U000e0001", "\ue000", "\uf8ff",
    "\U000f0000", "\U0010fffd", "\U000e0100", "\u0378", "\U0001fbff", "\u0600", "\u061c",
    "\u180e", "\u034f", "\ufe00", "\ufe0f",
]

WHITESPACE = [
    " ", "  ", "\t", "\t\t", "\n", "\r\n", "\n\n\n", "\u00a0", "\u1680", "\u2000", "\u2002",
    "\u2003", "\u2007", "\u2009", "\u200a", "\u202f", "\u205f", "\u3000", "\u000b", "\u000c",
    " \t \n \u00a0 \u3000 ",
]

URLS_CODE = [
    "https://example.com/path/to/page?query=1&lang=en#section-2",
    "http://user:pass@192.168.0.1:8080/a%20b",
    "mailto:someone@example.org",
    "ftp://ftp.example.net/pub/file-1.2.3.tar.gz",
    "www.huggingface.co/sentence-transformers/all-MiniLM-L6-v2",
    "def f(x):\n    return x ** 2  # square\n",
    "for (int i = 0; i < n; ++i) { sum += a[i]; }",
    "if err != nil { return fmt.Errorf(\"load: %w\", err) }",
    "SELECT id, name FROM users WHERE age >= 21 ORDER BY name;",
    "<div class=\"x\">Hello&nbsp;<b>world</b></div>",
    "{\"key\": [1, 2, 3], \"nested\": {\"a\": null}}",
    "$ ls -la /usr/local/bin | grep -i python3 && echo ok",
    "C:\\Users\\Admin\\Documents\\file.txt",
    "snake_case_identifier camelCaseIdentifier PascalCase kebab-case SCREAMING_CASE",
    "λx.λy.x y",
    "#hashtag @mention $TICKER",
]

MIXED_SCRIPT = [
    "مرحبا بالعالم", "اللغة العربية جميلة", "שלום עולם", "עברית ואנגלית English",
    "नमस्ते दुनिया", "हिन्दी भाषा", "สวัสดีชาวโลก", "ภาษาไทยไม่มีการเว้นวรรค",
    "Привет, мир!", "Съешь же ещё этих мягких французских булок", "Γειά σου Κόσμε",
    "Καλημέρα", "Բարեւ աշխարհ", "გამარჯობა მსოფლიო", "ሰላም ልዑል", "ᚠᛇᚻ᛫ᛒᛦᚦ",
    "ꦧꦱꦗꦮ", "தமிழ்", "বাংলা", "ગુજરાતી", "ਪੰਜਾਬੀ", "ಕನ್ನಡ", "മലയാളം", "සිංහල",
    "བོད་ཡིག", " မြန်မာ", "ខ្មែរ", "ລາວ", "ᠮᠣᠩᠭᠣᠯ", "ᐃᓄᒃᑎᑐᑦ", "𐌰𐌱𐌲", "𓀀𓀁",
]

NUMBERS = [
    "0", "42", "-17", "+3.14159", "1,234,567.89", "1.234.567,89", "6.022e23", "1e-9",
    "0xDEADBEEF", "0b1010", "3/4", "50%", "$1,000", "€20", "£5", "¥1000", "₹500", "₿0.01",
    "2024-06-01T12:34:56Z", "12:30pm", "+1 (555) 123-4567", "ISBN 978-3-16-148410-0",
    "½ ¼ ¾", "①②③", "²³¹", "₀₁₂", "Ⅰ Ⅱ Ⅲ Ⅳ", "٠١٢٣٤٥٦٧٨٩", "०१२३", "๑๒๓", "１２３",
    "3.0.1", "v0.15.2", "1st 2nd 3rd 4th",
]

MATH = [
    "∀x∈ℝ: x² ≥ 0", "∑_{i=1}^{n} i = n(n+1)/2", "∫₀^∞ e^{-x²} dx = √π/2", "a ≠ b ≤ c ≥ d",
    "A ⊂ B ∪ C ∩ D", "¬(p ∧ q) ⇔ (¬p ∨ ¬q)", "f: X → Y", "∂f/∂x", "∇·E = ρ/ε₀", "×÷±∓",
    "𝔸𝔹ℂ 𝒜ℬ𝒞 𝐀𝐁𝐂 𝑎𝑏𝑐", "∞ ∅ ∆ ∏", "⌈x⌉ ⌊y⌋", "⟨ψ|φ⟩", "E = mc²", "H₂O", "x̄ ŷ",
]

SPECIAL_TOKENS = [
    "[CLS]", "[SEP]", "[MASK]", "[PAD]", "[UNK]", "[cls] [sep] [mask]", "hello [MASK] world",
    "[CLS]text[SEP]", "[[MASK]]", "[MASK][MASK]", "[ MASK ]", "<s> </s> <pad> <unk>", "##ing",
    "[SEP] [CLS]", "[UNK]nown",
]

# Ranges for random code point soup: mostly assigned blocks, plus some unassigned and
# private-use space, so the tokenizer meets every Unicode category.
RANDOM_RANGES = [
    (0x0020, 0x007E), (0x00A0, 0x024F), (0x0250, 0x036F), (0x0370, 0x03FF), (0x0400, 0x052F),
    (0x0530, 0x058F), (0x0590, 0x05FF), (0x0600, 0x06FF), (0x0900, 0x097F), (0x0E00, 0x0E7F),
    (0x1100, 0x11FF), (0x1E00, 0x1EFF), (0x1F00, 0x1FFF), (0x2000, 0x206F), (0x2070, 0x209F),
    (0x20A0, 0x20CF), (0x20D0, 0x20FF), (0x2100, 0x214F), (0x2190, 0x22FF), (0x2460, 0x24FF),
    (0x2500, 0x27BF), (0x2E80, 0x2FDF), (0x3000, 0x30FF), (0x3100, 0x31FF), (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF), (0xA000, 0xA4CF), (0xA640, 0xA6FF), (0xAC00, 0xD7A3), (0xE000, 0xF8FF),
    (0xF900, 0xFAFF), (0xFB00, 0xFB4F), (0xFE00, 0xFE6F), (0xFF00, 0xFFEF), (0xFFF0, 0xFFFF),
    (0x10000, 0x1007F), (0x1D100, 0x1D1FF), (0x1D400, 0x1D7FF), (0x1F000, 0x1FAFF),
    (0x20000, 0x2A6DF), (0x2A700, 0x2CEAF), (0x2F800, 0x2FA1F), (0x30000, 0x3134F),
    (0xE0000, 0xE01EF), (0xF0000, 0xF00FF), (0x10FF00, 0x10FFFF),
]


def random_codepoints(rng, n):
    out = []
    for _ in range(n):
        lo, hi = rng.choice(RANDOM_RANGES)
        cp = rng.randint(lo, hi)
        if 0xD800 <= cp <= 0xDFFF:  # surrogates are not valid in UTF-8 text
            cp = 0xFFFD
        out.append(chr(cp))
        if rng.random() < 0.15:
            out.append(" ")
    return "".join(out)


def generated(rng, stsb, scifact):
    """Yields (category, text) pairs of generated edge cases."""
    yield "gen_empty", ""
    yield "gen_whitespace", " "
    yield "gen_whitespace", " \t\n\u00a0\u3000 "
    yield "gen_control", "\x00"
    yield "gen_control", "\x00\x01\x02\u200b\ufeff"

    def pick(xs, k):
        return [rng.choice(xs) for _ in range(k)]

    for s in ENGLISH:
        yield "gen_english", s
    for _ in range(15):
        yield "gen_english", " ".join(pick(ENGLISH, rng.randint(2, 4)))

    for p in PUNCT_RUNS:
        yield "gen_punct", p
    for _ in range(25):
        words = rng.choice(stsb).split()
        out = []
        for w in words:
            out.append(w)
            if rng.random() < 0.5:
                out.append(rng.choice(PUNCT_RUNS) * rng.randint(1, 3))
        yield "gen_punct", rng.choice(["", " "]).join(out)

    for s in ACCENTED:
        yield "gen_accents", s
    for _ in range(20):
        yield "gen_accents", " ".join(pick(ACCENTED, rng.randint(3, 8)))

    for s in CJK:
        yield "gen_cjk", s
    for _ in range(20):
        yield "gen_cjk", rng.choice(["", " "]).join(pick(CJK, rng.randint(2, 5)))

    for s in EMOJI:
        yield "gen_emoji", s
    for _ in range(20):
        words = rng.choice(stsb).split()
        pos = rng.randint(0, len(words))
        words[pos:pos] = pick(EMOJI, rng.randint(1, 4))
        yield "gen_emoji", rng.choice([" ", ""]).join(words)

    for s in CONTROL:
        yield "gen_control", "before" + s + "after"
    for _ in range(25):
        words = rng.choice(stsb).split()
        out = []
        for w in words:
            out.append(w)
            out.append(rng.choice(CONTROL) if rng.random() < 0.4 else " ")
        yield "gen_control", "".join(out)

    for s in WHITESPACE:
        yield "gen_whitespace", "a" + s + "b"
    for _ in range(20):
        words = rng.choice(stsb).split()
        out = []
        for w in words:
            out.append(w)
            out.append("".join(pick(WHITESPACE, rng.randint(1, 3))))
        yield "gen_whitespace", "".join(pick(WHITESPACE, 2)) + "".join(out)

    for s in URLS_CODE:
        yield "gen_url_code", s
    for _ in range(10):
        yield "gen_url_code", " ".join(pick(URLS_CODE, rng.randint(2, 4)))

    for s in MIXED_SCRIPT:
        yield "gen_mixed_script", s
    for _ in range(25):
        yield "gen_mixed_script", " ".join(pick(MIXED_SCRIPT + ENGLISH + CJK, rng.randint(3, 7)))

    for s in NUMBERS:
        yield "gen_numbers", s
    for _ in range(10):
        yield "gen_numbers", " ".join(pick(NUMBERS, rng.randint(3, 8)))

    for s in MATH:
        yield "gen_math", s
    for _ in range(8):
        yield "gen_math", " ".join(pick(MATH, rng.randint(2, 5)))

    for s in SPECIAL_TOKENS:
        yield "gen_special_tokens", s
    for _ in range(8):
        words = rng.choice(stsb).split()
        pos = rng.randint(0, len(words))
        words[pos:pos] = pick(SPECIAL_TOKENS, 2)
        yield "gen_special_tokens", " ".join(words)

    for _ in range(40):
        yield "gen_random_unicode", random_codepoints(rng, rng.randint(1, 120))

    # Long words: WordPiece maps a word of more than 100 characters to [UNK].
    yield "gen_long_word", "a" * 100
    yield "gen_long_word", "a" * 101
    yield "gen_long_word", "é" * 101
    yield "gen_long_word", "x" * 5000
    yield "gen_long_word", "ab" * 60 + " tail"
    yield "gen_long_word", "😀" * 150

    # Very long texts, all far beyond 512 tokens.
    all_sources = stsb + [t + " " + x for _, t, x in scifact[:200]]
    for n_chars in (3000, 10000, 30000, 60000):
        parts, size = [], 0
        while size < n_chars:
            p = rng.choice(all_sources)
            parts.append(p)
            size += len(p) + 1
        yield "gen_long", " ".join(parts)
    yield "gen_long", "word " * 3000
    yield "gen_long", "! " * 2000
    yield "gen_long", "我" * 2000
    yield "gen_long", "\u200b" * 3000 + " after zero width"
    yield "gen_long", "   " * 2000 + "late text after many spaces"
    yield "gen_long", " ".join(pick(EMOJI + CJK + MIXED_SCRIPT + ACCENTED, 400))
    yield "gen_long", random_codepoints(rng, 4000)
    # Boundary lengths around the 256 and 512 token limits (single-token words).
    for n in (253, 254, 255, 256, 257, 509, 510, 511, 512):
        yield "gen_boundary", " ".join(["the"] * n)
    yield "gen_boundary", "the " * 253 + "unbelievably"  # truncation cuts a word's pieces
    yield "gen_boundary", "the " * 509 + "unbelievably"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--stsb", required=True)
    ap.add_argument("--scifact", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    rng = random.Random(SEED)
    stsb = load_stsb(args.stsb)
    scifact = load_scifact(args.scifact)

    rows = []
    for s in rng.sample(stsb, N_STSB):
        rows.append(("stsb", s))

    by_len = sorted(scifact, key=lambda d: (-len(d[2]), d[0]))
    longest = by_len[:N_SCIFACT_LONGEST]
    rest = sorted(by_len[N_SCIFACT_LONGEST:], key=lambda d: d[0])
    for _, title, _ in rng.sample(rest, N_SCIFACT_TITLE):
        rows.append(("scifact_title", title))
    for _, title, text in rng.sample(rest, N_SCIFACT_DOC) + longest:
        rows.append(("scifact_doc", (title + " " + text).strip()))

    rows.extend(generated(rng, stsb, scifact))

    with open(args.out, "w", encoding="utf-8", newline="\n") as f:
        for i, (category, text) in enumerate(rows):
            f.write(json.dumps({"id": i, "category": category, "text": text}, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows)} texts to {args.out}")


if __name__ == "__main__":
    main()
