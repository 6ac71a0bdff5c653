// Package sugarmediff_test is a differential test of go/tokenizer against
// github.com/sugarme/tokenizer, the library it once took its vocabulary from: the vocabulary
// must be the same, and so must the ids of the corpus built with sugarme's WordPiece.
//
// This is the only place sugarme is imported. Its package init logs and creates $GO_TOKENIZER
// or $HOME/.cache/tokenizer (exiting if it cannot), which a test can afford (Bazel gives tests
// a writable HOME) and a library cannot. The test has a package of its own, which nothing
// imports, because `go mod tidy` in a program's module also resolves the test imports of every
// package the program imports: a sugarme import in the tests of go/tokenizer or
// internal/vocab would make each importer of go/embed download sugarme and golang.org/x/text.
package sugarmediff_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	sugar "github.com/sugarme/tokenizer"
	"github.com/sugarme/tokenizer/pretrained"

	"github.com/minilm-coreml/minilm/go/internal/testmodel"
	"github.com/minilm-coreml/minilm/go/tokenizer"
	"github.com/minilm-coreml/minilm/go/tokenizer/internal/vocab"
	"slices"
)

// TestMain reports how many tests were skipped for want of the model directory.
func TestMain(m *testing.M) { os.Exit(testmodel.Main(m)) }

// sugarmeModel builds sugarme's WordPiece model from tokenizer.json as go/tokenizer used to:
// pretrained.CreateModel on the config, with padding and truncation dropped (sugarme panics on
// the padding format of current files, see go/tokenizer/DIVERGENCES.md).
func sugarmeModel(t *testing.T, data []byte) sugar.Model {
	t.Helper()
	var cfg sugar.Config
	if err := json.Unmarshal(data, &cfg); err != nil {
		t.Fatalf("sugarme config: %v", err)
	}
	cfg.Padding, cfg.Truncation = nil, nil
	model, err := pretrained.CreateModel(&cfg)
	if err != nil {
		t.Fatalf("sugarme CreateModel: %v", err)
	}
	return model
}

func readTokenizerJSON(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testmodel.ModelDir(t), "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestVocabEqualsSugarme checks that Vocab reads exactly the token → id map sugarme's
// WordPiece model holds: same size, every token with the same id.
func TestVocabEqualsSugarme(t *testing.T) {
	data := readTokenizerJSON(t)
	var cfg struct {
		Model struct {
			Vocab vocab.Vocab `json:"vocab"`
		} `json:"model"`
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	ours, theirs := cfg.Model.Vocab, sugarmeModel(t, data).GetVocab()
	if len(ours) != len(theirs) {
		t.Errorf("vocabulary size: ours %d, sugarme %d", len(ours), len(theirs))
	}
	if len(ours) != 30522 {
		t.Errorf("vocabulary size %d, want all-MiniLM-L6-v2's 30522", len(ours))
	}
	bad := 0
	for tok, id := range theirs {
		if got, ok := ours[tok]; !ok || int(got) != id {
			if bad++; bad <= 10 {
				t.Errorf("token %q: ours %d (present %v), sugarme %d", tok, got, ok, id)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d tokens differ", bad, len(theirs))
	}
}

// corpusTexts reads the shared parity corpus.
func corpusTexts(t *testing.T) []string {
	t.Helper()
	f, err := os.Open(testmodel.RepoFile(t, "testdata/fixtures/corpus.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var texts []string
	dec := json.NewDecoder(f)
	for dec.More() {
		var c struct {
			Text string `json:"text"`
		}
		if err := dec.Decode(&c); err != nil {
			t.Fatalf("corpus record %d: %v", len(texts), err)
		}
		texts = append(texts, c.Text)
	}
	return texts
}

// plainASCIIWords pre-tokenizes text as BERT does, if text is plain ASCII (printable
// characters, tab, newline, carriage return) without literal special tokens: there
// BertNormalizer only lowercases, and BertPreTokenizer splits on whitespace and isolates
// every printable non-alphanumeric character. ok is false for any other text.
func plainASCIIWords(text string) (words []string, ok bool) {
	for _, sp := range []string{"[CLS]", "[SEP]", "[PAD]", "[MASK]", "[UNK]"} {
		if strings.Contains(text, sp) {
			return nil, false
		}
	}
	var word []byte
	flush := func() {
		if len(word) > 0 {
			words = append(words, string(word))
			word = word[:0]
		}
	}
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			flush()
		case c < 0x20 || c > 0x7e:
			return nil, false
		case 'A' <= c && c <= 'Z':
			word = append(word, c+'a'-'A')
		case 'a' <= c && c <= 'z' || '0' <= c && c <= '9':
			word = append(word, c)
		default: // ASCII punctuation and symbols: a word of their own
			flush()
			words = append(words, string(c))
		}
	}
	flush()
	return words, true
}

// TestIDsEqualSugarmeOnCorpus compares the ids go/tokenizer gives the corpus with ids built
// from sugarme's WordPiece model. sugarme's own normalizer and pre-tokenizer are not Hugging
// Face's (DIVERGENCES.md), so they are not used:
//
//   - plain ASCII texts are pre-tokenized by this test (plainASCIIWords), each word is given
//     to sugarme's WordPiece, and the whole encoding, truncated to maxLen, must be identical;
//   - other texts cannot be pre-tokenized that simply, so their content ids are cut into words
//     (a piece without "##" starts one), each word is rebuilt from its pieces' text and given
//     to sugarme's WordPiece, whose ids must be the same. Words encoded as [UNK] cannot be
//     rebuilt, literal special tokens are not WordPiece output, and the last word of an
//     encoding that fills maxLen may be cut: those are skipped.
//
// The parity test against Hugging Face's own ids (go/tokenizer) covers normalization.
func TestIDsEqualSugarmeOnCorpus(t *testing.T) {
	const maxLen = tokenizer.MaxMaxLen
	data := readTokenizerJSON(t)
	model := sugarmeModel(t, data)
	tok, err := tokenizer.Load(testmodel.ModelDir(t))
	if err != nil {
		t.Fatal(err)
	}
	cls, _ := model.TokenToId("[CLS]")
	sep, _ := model.TokenToId("[SEP]")
	specials := map[string]bool{"[CLS]": true, "[SEP]": true, "[PAD]": true, "[MASK]": true, "[UNK]": true}
	wordPiece := func(i int, word string) []int32 {
		toks, err := model.Tokenize(word)
		if err != nil {
			t.Fatalf("text %d: sugarme on %q: %v", i, word, err)
		}
		ids := make([]int32, len(toks))
		for j, tk := range toks {
			ids[j] = int32(tk.Id)
		}
		return ids
	}

	texts := corpusTexts(t)
	var asciiTexts, words, skipped, bad int
	for i, text := range texts {
		enc, err := tok.Encode(text, maxLen)
		if err != nil {
			t.Fatalf("text %d: %v", i, err)
		}
		if plain, ok := plainASCIIWords(text); ok {
			asciiTexts++
			want := []int32{int32(cls)}
			for _, w := range plain {
				want = append(want, wordPiece(i, w)...)
			}
			if len(want) > maxLen-1 {
				want = want[:maxLen-1]
			}
			want = append(want, int32(sep))
			if !slices.Equal(enc.IDs, want) {
				if bad++; bad <= 10 {
					t.Errorf("text %d %q:\n ours    %v\n sugarme %v", i, abbreviate(text), enc.IDs, want)
				}
			}
			continue
		}
		content := enc.IDs[1 : len(enc.IDs)-1]
		pieces := make([]string, len(content))
		for j, id := range content {
			s, ok := model.IdToToken(int(id))
			if !ok {
				t.Fatalf("text %d: id %d is not in sugarme's vocabulary", i, id)
			}
			pieces[j] = s
		}
		for start := 0; start < len(pieces); {
			end := start + 1
			for end < len(pieces) && strings.HasPrefix(pieces[end], "##") {
				end++
			}
			last := end == len(pieces) && len(enc.IDs) == maxLen
			if specials[pieces[start]] || strings.HasPrefix(pieces[start], "##") || last {
				skipped++
				start = end
				continue
			}
			word := pieces[start]
			for _, p := range pieces[start+1 : end] {
				word += strings.TrimPrefix(p, "##")
			}
			words++
			if got := wordPiece(i, word); !slices.Equal(got, content[start:end]) {
				if bad++; bad <= 10 {
					t.Errorf("text %d, word %q: ours %v, sugarme %v", i, word, content[start:end], got)
				}
			}
			start = end
		}
	}
	if bad > 0 {
		t.Errorf("%d texts or words differ from sugarme's WordPiece", bad)
	}
	// The corpus has 1,357 texts, most of them plain ASCII, and the others thousands of
	// words: far fewer would mean the test compared almost nothing.
	if len(texts) < 1000 || asciiTexts < len(texts)/2 || words < 1000 {
		t.Errorf("compared %d plain ASCII texts and %d words of the other %d texts: too few",
			asciiTexts, words, len(texts)-asciiTexts)
	}
	t.Logf("%d texts: %d plain ASCII texts equal; %d words of the others equal, %d skipped",
		len(texts), asciiTexts, words, skipped)
}

// abbreviate shortens s for messages.
func abbreviate(s string) string {
	if len(s) <= 60 {
		return s
	}
	return strings.ToValidUTF8(s[:60], "") + "..."
}
