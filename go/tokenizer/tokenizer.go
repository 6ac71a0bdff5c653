package tokenizer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/minilm-coreml/minilm/go/tokenizer/internal/vocab"
)

// Limits of maxLen, in tokens including [CLS] and [SEP].
const (
	// DefaultMaxLen is sentence-transformers' max_seq_length for all-MiniLM-L6-v2; a maxLen of 0
	// means DefaultMaxLen.
	DefaultMaxLen = 256
	// MinMaxLen leaves room for [CLS] and [SEP] only.
	MinMaxLen = 2
	// MaxMaxLen is the model's number of position embeddings.
	MaxMaxLen = 512
)

// Encoding is one text's tokens, unpadded: IDs[0] is [CLS], IDs[len-1] is [SEP].
// Mask is all ones and TypeIDs all zeros; they are given so callers can pad them directly.
type Encoding struct {
	IDs, Mask, TypeIDs []int32
	// Truncated tells that the text had more tokens than maxLen allowed and its end was
	// dropped, as Hugging Face's truncation does.
	Truncated bool
}

// Len is the number of tokens.
func (e Encoding) Len() int { return len(e.IDs) }

// special is a special token that may be written literally in the text.
type special struct {
	text string
	id   int32
}

// Tokenizer encodes text for all-MiniLM-L6-v2. It is safe for concurrent use.
type Tokenizer struct {
	vocab           vocab.Vocab // WordPiece vocabulary: tokenizer.json's model.vocab
	cls, sep, unk   int32
	maxCharsPerWord int
	specials        []special // sorted longest first: the first match at a position is the longest
}

// Load reads a tokenizer.json, given as the file itself or the model directory holding it.
func Load(path string) (*Tokenizer, error) {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		path = filepath.Join(path, "tokenizer.json")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: loading: %w", err)
	}
	t, err := parse(data)
	if err != nil {
		return nil, fmt.Errorf("tokenizer: loading %s: %w", path, err)
	}
	return t, nil
}

// rawConfig is the part of tokenizer.json this package checks itself.
type rawConfig struct {
	Normalizer *struct {
		Type               string `json:"type"`
		CleanText          bool   `json:"clean_text"`
		HandleChineseChars bool   `json:"handle_chinese_chars"`
		StripAccents       *bool  `json:"strip_accents"`
		Lowercase          bool   `json:"lowercase"`
	} `json:"normalizer"`
	PreTokenizer *struct {
		Type string `json:"type"`
	} `json:"pre_tokenizer"`
	PostProcessor *struct {
		Type   string            `json:"type"`
		Single []json.RawMessage `json:"single"`
		Sep    []interface{}     `json:"sep"`
		Cls    []interface{}     `json:"cls"`
	} `json:"post_processor"`
	AddedTokens []struct {
		ID         int32  `json:"id"`
		Content    string `json:"content"`
		SingleWord bool   `json:"single_word"`
		Lstrip     bool   `json:"lstrip"`
		Rstrip     bool   `json:"rstrip"`
		Normalized bool   `json:"normalized"`
	} `json:"added_tokens"`
	Model struct {
		Type                    string      `json:"type"`
		UnkToken                string      `json:"unk_token"`
		ContinuingSubwordPrefix string      `json:"continuing_subword_prefix"`
		MaxInputCharsPerWord    *int        `json:"max_input_chars_per_word"`
		Vocab                   vocab.Vocab `json:"vocab"`
	} `json:"model"`
}

func parse(data []byte) (*Tokenizer, error) {
	prepareTables()
	var rc rawConfig
	if err := json.Unmarshal(data, &rc); err != nil {
		return nil, fmt.Errorf("parsing: %w", err)
	}
	// The tables of this package implement exactly this configuration.
	n := rc.Normalizer
	if n == nil || n.Type != "BertNormalizer" || !n.CleanText || !n.HandleChineseChars || !n.Lowercase ||
		(n.StripAccents != nil && !*n.StripAccents) {
		return nil, fmt.Errorf("unsupported normalizer: want BertNormalizer with clean_text, handle_chinese_chars, lowercase and strip_accents null or true")
	}
	if rc.PreTokenizer == nil || rc.PreTokenizer.Type != "BertPreTokenizer" {
		return nil, fmt.Errorf("unsupported pre-tokenizer: want BertPreTokenizer")
	}
	if rc.Model.Type != "WordPiece" || rc.Model.ContinuingSubwordPrefix != "##" {
		return nil, fmt.Errorf("unsupported model %q with subword prefix %q: want WordPiece with ##",
			rc.Model.Type, rc.Model.ContinuingSubwordPrefix)
	}
	if pp := rc.PostProcessor; pp == nil || (pp.Type != "TemplateProcessing" && pp.Type != "BertProcessing") {
		return nil, fmt.Errorf("unsupported post-processor: want [CLS] $A [SEP] (TemplateProcessing or BertProcessing)")
	} else if pp.Type == "TemplateProcessing" {
		if err := checkTemplate(pp.Single); err != nil {
			return nil, err
		}
	}

	// The vocabulary comes from package vocab rather than github.com/sugarme/tokenizer, whose
	// package init has side effects (see package vocab and the test internal/sugarmediff).
	if rc.Model.Vocab == nil {
		return nil, fmt.Errorf("model.vocab is missing")
	}
	t := &Tokenizer{vocab: rc.Model.Vocab, maxCharsPerWord: 100}
	if rc.Model.MaxInputCharsPerWord != nil {
		t.maxCharsPerWord = *rc.Model.MaxInputCharsPerWord
	}
	lookup := func(tok string) (int32, error) {
		id, ok := t.vocab[tok]
		if !ok {
			return 0, fmt.Errorf("token %q is not in the vocabulary", tok)
		}
		return id, nil
	}
	var err error
	if t.cls, err = lookup("[CLS]"); err != nil {
		return nil, err
	}
	if t.sep, err = lookup("[SEP]"); err != nil {
		return nil, err
	}
	if t.unk, err = lookup(rc.Model.UnkToken); err != nil {
		return nil, err
	}
	for _, at := range rc.AddedTokens {
		if at.Normalized || at.Lstrip || at.Rstrip || at.SingleWord {
			return nil, fmt.Errorf("unsupported added token %q: only plain, non-normalized tokens are", at.Content)
		}
		if at.Content == "" {
			continue
		}
		t.specials = append(t.specials, special{text: at.Content, id: at.ID})
	}
	sort.SliceStable(t.specials, func(i, j int) bool { return len(t.specials[i].text) > len(t.specials[j].text) })
	return t, nil
}

// checkTemplate accepts the single-sequence template [CLS]:0 $A:0 [SEP]:0.
func checkTemplate(single []json.RawMessage) error {
	want := []string{
		`{"SpecialToken":{"id":"[CLS]","type_id":0}}`,
		`{"Sequence":{"id":"A","type_id":0}}`,
		`{"SpecialToken":{"id":"[SEP]","type_id":0}}`,
	}
	ok := len(single) == len(want)
	for i := 0; ok && i < len(want); i++ {
		var buf bytes.Buffer
		if err := json.Compact(&buf, single[i]); err != nil || buf.String() != want[i] {
			ok = false
		}
	}
	if !ok {
		return fmt.Errorf("unsupported post-processor template: want [CLS]:0 $A:0 [SEP]:0")
	}
	return nil
}

// checkMaxLen resolves the default and rejects lengths the model cannot take.
func checkMaxLen(maxLen int) (int, error) {
	if maxLen == 0 {
		return DefaultMaxLen, nil
	}
	if maxLen < MinMaxLen || maxLen > MaxMaxLen {
		return 0, fmt.Errorf("tokenizer: maxLen %d is outside [%d, %d]", maxLen, MinMaxLen, MaxMaxLen)
	}
	return maxLen, nil
}

// Encode tokenizes one text into at most maxLen tokens ([CLS] and [SEP] included).
// maxLen 0 means DefaultMaxLen; otherwise it must be within [MinMaxLen, MaxMaxLen].
func (t *Tokenizer) Encode(text string, maxLen int) (Encoding, error) {
	maxLen, err := checkMaxLen(maxLen)
	if err != nil {
		return Encoding{}, err
	}
	guess := len(text)/3 + 2 // typical text has fewer tokens than bytes/3
	if guess > maxLen {
		guess = maxLen
	}
	e := encoder{t: t, limit: maxLen - 2, ids: make([]int32, 1, guess)}
	e.ids[0] = t.cls
	_ = e.encode(text)
	n := len(e.ids) + 1
	all := make([]int32, 3*n) // one allocation for the three slices
	enc := Encoding{IDs: all[:n:n], Mask: all[n : 2*n : 2*n], TypeIDs: all[2*n:], Truncated: e.truncated}
	copy(enc.IDs, e.ids)
	enc.IDs[n-1] = t.sep
	for i := range enc.Mask {
		enc.Mask[i] = 1
	}
	return enc, nil
}

// EncodeBatch encodes each text as Encode does.
func (t *Tokenizer) EncodeBatch(texts []string, maxLen int) ([]Encoding, error) {
	if _, err := checkMaxLen(maxLen); err != nil {
		return nil, err
	}
	out := make([]Encoding, len(texts))
	for i, text := range texts {
		enc, err := t.Encode(text, maxLen)
		if err != nil {
			return nil, fmt.Errorf("text %d: %w", i, err)
		}
		out[i] = enc
	}
	return out, nil
}

// mark is a combining mark waiting for canonical reordering.
type mark struct {
	r   rune
	ccc uint8
}

// encoder holds the state of one Encode call. Text flows through four stages, each feeding
// the next rune by rune, so encoding can stop once limit tokens are known:
//
//	feedRaw        clean_text, handle_chinese_chars, NFD decomposition
//	feedDecomposed canonical reordering of combining marks (the rest of NFD)
//	feedNormalized strip_accents (drop nonspacing marks), lowercase
//	feedChar       BertPreTokenizer: split on whitespace, isolate punctuation
//
// then each word goes through WordPiece.
type encoder struct {
	t         *Tokenizer
	limit     int     // content tokens wanted (maxLen - 2)
	ids       []int32 // [CLS] and the content tokens so far
	done      bool    // a token beyond the limit was seen: the rest of the text cannot matter
	truncated bool    // tokens beyond the limit were dropped
	dec       []rune  // scratch for decompositions
	marks     []mark  // combining marks after the last starter, not yet ordered
	word      []rune  // the current word, at most maxCharsPerWord+1 characters kept
	nchars    int     // characters in the current word
	utf8      []byte  // the current word in UTF-8
	bounds    []int   // byte offset in utf8 of each character of the word, then len(utf8)
	key       []byte  // scratch for "##" + a piece
}

// wordPiece appends the WordPiece ids of the current word: greedy longest-match-first, the
// pieces after the first prefixed by "##", and the whole word [UNK] if any part has no match.
// This is the algorithm of sugarme's and Hugging Face's WordPiece (character-based), without
// their per-attempt allocations.
func (e *encoder) wordPiece() {
	e.utf8, e.bounds = e.utf8[:0], e.bounds[:0]
	for _, r := range e.word {
		e.bounds = append(e.bounds, len(e.utf8))
		e.utf8 = utf8.AppendRune(e.utf8, r)
	}
	e.bounds = append(e.bounds, len(e.utf8))
	n := len(e.word)
	first := len(e.ids)
	for start := 0; start < n; {
		end := n
		for ; end > start; end-- {
			piece := e.utf8[e.bounds[start]:e.bounds[end]]
			if start > 0 {
				e.key = append(append(e.key[:0], "##"...), piece...)
				piece = e.key
			}
			if id, ok := e.t.vocab[string(piece)]; ok { // no allocation: map lookup by []byte
				e.ids = append(e.ids, id)
				break
			}
		}
		if end == start {
			e.ids = append(e.ids[:first], e.t.unk)
			return
		}
		start = end
	}
}

// encode appends the content tokens of text to e.ids and returns how many bytes of text it
// read before the token limit made the rest irrelevant.
func (e *encoder) encode(text string) (read int) {
	i := 0
	for i < len(text) && !e.done {
		if text[i] == '[' {
			if s, ok := e.t.matchSpecial(text[i:]); ok {
				e.endSegment()
				if !e.done {
					e.emit(s.id)
				}
				i += len(s.text)
				continue
			}
		}
		r, size := rune(text[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(text[i:]) // invalid bytes read as U+FFFD
		}
		e.feedRaw(r)
		i += size
	}
	if !e.done {
		e.endSegment()
	}
	if len(e.ids) > e.limit+1 {
		e.truncated = true
		e.ids = e.ids[:e.limit+1] // truncation: keep the first limit content tokens
	}
	return i
}

func (t *Tokenizer) matchSpecial(s string) (special, bool) {
	for _, sp := range t.specials {
		if strings.HasPrefix(s, sp.text) {
			return sp, true
		}
	}
	return special{}, false
}

// endSegment finishes everything pending before a special token or the end of the text.
// Hugging Face normalizes the text between special tokens piece by piece, so no reordering or
// word crosses one.
func (e *encoder) endSegment() {
	e.flushMarks()
	e.flushWord()
}

func (e *encoder) emit(id int32) {
	e.ids = append(e.ids, id)
	if len(e.ids) > e.limit+1 {
		e.done = true
	}
}

func (e *encoder) feedRaw(r rune) {
	c := class(r)
	switch {
	case c&classRemoved != 0:
		return
	case c&classSpace != 0:
		e.feedDecomposed(' ')
		return
	case c&classChinese != 0:
		e.feedDecomposed(' ')
		e.decomposeAndFeed(r)
		e.feedDecomposed(' ')
		return
	}
	e.decomposeAndFeed(r)
}

func (e *encoder) decomposeAndFeed(r rune) {
	if r < 0xC0 {
		e.feedDecomposed(r)
		return
	}
	e.dec = decompose(e.dec[:0], r)
	for _, x := range e.dec {
		e.feedDecomposed(x)
	}
}

func (e *encoder) feedDecomposed(r rune) {
	ccc := combiningClass(r)
	if ccc == 0 {
		e.flushMarks()
		e.feedNormalized(r)
		return
	}
	if class(r)&classNonspacing != 0 {
		// strip_accents drops it after reordering; dropping it first leaves the order of the
		// other marks unchanged (the sort is stable) and keeps runs of marks cheap.
		return
	}
	e.marks = append(e.marks, mark{r, ccc})
}

// flushMarks puts the pending combining marks in canonical order (a stable sort by class).
func (e *encoder) flushMarks() {
	if len(e.marks) == 0 {
		return
	}
	// Marks never end a word, so if they alone overflow it their order cannot matter.
	if len(e.marks) > 1 && len(e.marks) <= e.t.maxCharsPerWord {
		sort.SliceStable(e.marks, func(i, j int) bool { return e.marks[i].ccc < e.marks[j].ccc })
	}
	for _, m := range e.marks {
		e.feedNormalized(m.r)
	}
	e.marks = e.marks[:0]
}

func (e *encoder) feedNormalized(r rune) {
	if r < 128 {
		e.feedChar(asciiLower[r])
		return
	}
	if class(r)&classNonspacing != 0 {
		return
	}
	if l, ok := lowercases[r]; ok {
		for _, x := range l {
			e.feedChar(x)
		}
		return
	}
	e.feedChar(r)
}

func (e *encoder) feedChar(r rune) {
	if e.done {
		return
	}
	c := class(r)
	switch {
	case c&classWhitespace != 0:
		e.flushWord()
	case c&classPunct != 0:
		e.flushWord()
		e.word = append(e.word, r)
		e.nchars = 1
		e.flushWord()
	default:
		e.nchars++
		if e.nchars <= e.t.maxCharsPerWord+1 {
			e.word = append(e.word, r)
		}
	}
}

func (e *encoder) flushWord() {
	if e.nchars == 0 || e.done {
		e.word, e.nchars = e.word[:0], 0
		return
	}
	if e.nchars > e.t.maxCharsPerWord {
		e.emit(e.t.unk)
	} else {
		e.wordPiece()
		if len(e.ids) > e.limit+1 {
			e.done = true
		}
	}
	e.word, e.nchars = e.word[:0], 0
}
