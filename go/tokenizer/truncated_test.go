package tokenizer

import (
	"strings"
	"testing"

	"github.com/minilm-coreml/minilm/go/internal/testmodel"
)

// TestTruncatedMatchesHuggingFace checks Encoding.Truncated against Hugging Face's own
// token counts: the fixtures hold every corpus text tokenized by HF at max_len 256 and 512,
// so a text is truncated at 256 exactly when HF gives it more than 256 tokens at 512, and
// at 512 it is not truncated when HF gives it fewer than 512.
func TestTruncatedMatchesHuggingFace(t *testing.T) {
	tok, err := Load(testmodel.ModelDir(t))
	if err != nil {
		t.Fatal(err)
	}
	corpus := loadCorpus(t)
	at512 := map[int]int{}
	for _, f := range readJSONL[tokenFixture](t, testmodel.RepoFile(t, "testdata/fixtures/tokens.jsonl")) {
		if f.MaxLen == 512 {
			at512[f.ID] = len(f.IDs)
		}
	}
	var truncated256, checked int
	for _, c := range corpus {
		n, ok := at512[c.ID]
		if !ok {
			t.Fatalf("no max_len 512 fixture for text %d", c.ID)
		}
		enc, err := tok.Encode(c.Text, 256)
		if err != nil {
			t.Fatal(err)
		}
		if want := n > 256; enc.Truncated != want {
			t.Errorf("text %d (%d HF tokens at 512): Truncated at 256 = %v, want %v", c.ID, n, enc.Truncated, want)
		}
		if enc.Truncated {
			truncated256++
		}
		if n < 512 {
			enc, err := tok.Encode(c.Text, 512)
			if err != nil {
				t.Fatal(err)
			}
			if enc.Truncated {
				t.Errorf("text %d (%d HF tokens): Truncated at 512, want false", c.ID, n)
			}
			checked++
		}
	}
	if truncated256 == 0 || checked == 0 {
		t.Fatalf("corpus exercises too little: %d truncated at 256, %d checked at 512", truncated256, checked)
	}
}

// TestTruncatedBoundary: "a" is one token, so n-2 of them fill maxLen n exactly.
func TestTruncatedBoundary(t *testing.T) {
	tok, err := Load(testmodel.ModelDir(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, maxLen := range []int{MinMaxLen, 3, 8, 256, MaxMaxLen} {
		for words, want := range map[int]bool{maxLen - 2: false, maxLen - 1: true, maxLen + 5: true} {
			text := strings.TrimSpace(strings.Repeat("a ", words))
			enc, err := tok.Encode(text, maxLen)
			if err != nil {
				t.Fatal(err)
			}
			if enc.Truncated != want || enc.Len() != min2(words+2, maxLen) {
				t.Errorf("maxLen %d, %d words: Truncated %v with %d tokens, want %v with %d",
					maxLen, words, enc.Truncated, enc.Len(), want, min2(words+2, maxLen))
			}
		}
	}
}

func min2(a, b int) int {
	if a < b {
		return a
	}
	return b
}
