package tokenizer

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/minilm-coreml/minilm/go/internal/testmodel"
)

type corpusText struct {
	ID       int    `json:"id"`
	Category string `json:"category"`
	Text     string `json:"text"`
}

type tokenFixture struct {
	ID            int     `json:"id"`
	MaxLen        int     `json:"max_len"`
	IDs           []int32 `json:"ids"`
	AttentionMask []int32 `json:"attention_mask"`
	TypeIDs       []int32 `json:"type_ids"`
}

// readJSONL decodes a file of concatenated JSON values (one per line; lines can be long).
func readJSONL[T any](tb testing.TB, path string) []T {
	tb.Helper()
	f, err := os.Open(path)
	require.NoError(tb, err)
	defer f.Close()
	var out []T
	dec := json.NewDecoder(f)
	for dec.More() {
		var v T
		require.NoError(tb, dec.Decode(&v), "decoding %s record %d", path, len(out))
		out = append(out, v)
	}
	return out
}

func loadCorpus(tb testing.TB) []corpusText {
	corpus := readJSONL[corpusText](tb, testmodel.RepoFile(tb, "testdata/fixtures/corpus.jsonl"))
	for i, c := range corpus {
		require.Equal(tb, i, c.ID, "corpus ids must be 0..n-1 in order")
	}
	return corpus
}

// abbreviate shortens s for messages.
func abbreviate(s string) string {
	if len(s) <= 40 {
		return s
	}
	cut := 40
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

func loadTokenizer(tb testing.TB) *Tokenizer {
	tb.Helper()
	tok, err := Load(testmodel.ModelDir(tb))
	require.NoError(tb, err)
	return tok
}

// TestParityWithHuggingFace compares every corpus text with the ids Hugging Face tokenizers
// 0.15.2 produced (python/reference/make_token_fixtures.py). No mismatch is tolerated.
func TestParityWithHuggingFace(t *testing.T) {
	tok := loadTokenizer(t)
	corpus := loadCorpus(t)
	fixtures := readJSONL[tokenFixture](t, testmodel.RepoFile(t, "testdata/fixtures/tokens.jsonl"))
	require.Len(t, fixtures, 2*len(corpus))

	mismatches := map[string]int{}
	checked := 0
	for _, fx := range fixtures {
		require.Less(t, fx.ID, len(corpus))
		c := corpus[fx.ID]
		enc, err := tok.Encode(c.Text, fx.MaxLen)
		require.NoError(t, err)
		checked++
		if fmt.Sprint(enc.IDs) == fmt.Sprint(fx.IDs) && fmt.Sprint(enc.Mask) == fmt.Sprint(fx.AttentionMask) &&
			fmt.Sprint(enc.TypeIDs) == fmt.Sprint(fx.TypeIDs) {
			continue
		}
		mismatches[c.Category]++
		if len(mismatches) < 20 {
			t.Errorf("id %d (%s) max_len %d: text %q\n got  %v\n want %v", c.ID, c.Category, fx.MaxLen,
				abbreviate(c.Text), enc.IDs, fx.IDs)
		}
	}
	require.Empty(t, mismatches, "mismatches by category (of %d encodings)", checked)
	t.Logf("%d encodings identical to Hugging Face tokenizers", checked)
}
