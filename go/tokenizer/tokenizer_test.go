package tokenizer

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/minilm-coreml/minilm/go/internal/testmodel"
)

// TestMain keeps plain `go test` usable without the model: tests that need it skip
// themselves, but Example cannot, so it is left out (by -run) when MINILM_MODEL_DIR is unset.
func TestMain(m *testing.M) {
	flag.Parse()
	if os.Getenv(testmodel.EnvModelDir) == "" {
		if f := flag.Lookup("test.run"); f != nil && f.Value.String() == "" {
			_ = f.Value.Set("^(Test|Fuzz)")
		}
	}
	os.Exit(testmodel.Main(m))
}

func TestLoadModelDirOrFile(t *testing.T) {
	dir := testmodel.ModelDir(t)
	fromDir, err := Load(dir)
	require.NoError(t, err)
	fromFile, err := Load(filepath.Join(dir, "tokenizer.json"))
	require.NoError(t, err)
	assert.Equal(t, fromDir.specials, fromFile.specials)
	assert.Equal(t, int32(101), fromDir.cls)
	assert.Equal(t, int32(102), fromDir.sep)
	assert.Equal(t, int32(100), fromDir.unk)
	assert.Len(t, fromDir.specials, 5)
}

func TestLoadErrors(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "missing.json"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "tokenizer: loading")

	bad := filepath.Join(t.TempDir(), "tokenizer.json")
	require.NoError(t, os.WriteFile(bad, []byte("{not json"), 0o644))
	_, err = Load(bad)
	require.Error(t, err)
	assert.Contains(t, err.Error(), bad)

	// A configuration this package does not implement is refused, not silently mis-tokenized.
	data, err := os.ReadFile(filepath.Join(testmodel.ModelDir(t), "tokenizer.json"))
	require.NoError(t, err)
	var cfg map[string]interface{}
	require.NoError(t, json.Unmarshal(data, &cfg))
	cfg["normalizer"].(map[string]interface{})["lowercase"] = false
	cased, err := json.Marshal(cfg)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(bad, cased, 0o644))
	_, err = Load(bad)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "unsupported normalizer")
}

func TestMaxLen(t *testing.T) {
	tok := loadTokenizer(t)
	for _, n := range []int{-1, 1, 513, 1 << 20} {
		_, err := tok.Encode("hello", n)
		assert.Error(t, err, "maxLen %d", n)
		_, err = tok.EncodeBatch([]string{"hello"}, n)
		assert.Error(t, err, "maxLen %d", n)
	}
	long := strings.Repeat("word ", 1000)
	for _, n := range []int{2, 3, 256, 512} {
		enc, err := tok.Encode(long, n)
		require.NoError(t, err)
		assert.Len(t, enc.IDs, n)
	}
	def, err := tok.Encode(long, 0)
	require.NoError(t, err)
	assert.Len(t, def.IDs, DefaultMaxLen)

	enc, err := tok.Encode("anything", 2)
	require.NoError(t, err)
	assert.Equal(t, []int32{101, 102}, enc.IDs)
}

func TestEncodeBatchMatchesEncode(t *testing.T) {
	tok := loadTokenizer(t)
	texts := []string{"", "A man is playing a guitar.", "[CLS] x [SEP]", strings.Repeat("long ", 600)}
	batch, err := tok.EncodeBatch(texts, 128)
	require.NoError(t, err)
	require.Len(t, batch, len(texts))
	for i, text := range texts {
		one, err := tok.Encode(text, 128)
		require.NoError(t, err)
		assert.Equal(t, one, batch[i])
	}
	empty, err := tok.EncodeBatch(nil, 0)
	require.NoError(t, err)
	assert.Empty(t, empty)
}

// TestBadInput: invalid UTF-8 reads as U+FFFD and, like NUL and other control characters,
// is deleted by clean_text without splitting the word (as in HF after decode(errors="replace")).
func TestBadInput(t *testing.T) {
	tok := loadTokenizer(t)
	want, err := tok.Encode("abcd efgh", 0)
	require.NoError(t, err)
	for _, text := range []string{
		"ab\xffcd efgh", "ab\x00cd efgh", "ab\xc3cd efgh", "ab\xed\xa0\x80cd efgh", // lone byte, cut sequence, surrogate
		"ab\xf4\x90\x80\x80cd efgh", "ab\xc0\xafcd efgh", "ab\ufffdcd efgh", "\x00ab\x00cd\x00 efgh\x00",
		"ab\u200bcd efgh", "\xff\xfe\xfdabcd efgh\x80",
	} {
		got, err := tok.Encode(text, 0)
		require.NoError(t, err)
		assert.Equal(t, want, got, "%q", text)
	}
	for _, text := range []string{"\x00", "\xff", strings.Repeat("\x00", 1000), strings.Repeat("\xff\xfe", 1000), "\ufffd"} {
		got, err := tok.Encode(text, 0)
		require.NoError(t, err)
		assert.Equal(t, []int32{101, 102}, got.IDs, "%q", text)
	}
	// A NUL or invalid byte inside a special token breaks it, as in Hugging Face.
	got, err := tok.Encode("[MA\x00SK] [MA\xffSK] [MASK]", 0)
	require.NoError(t, err)
	assert.Equal(t, []int32{101, 1031, 7308, 1033, 1031, 7308, 1033, 103, 102}, got.IDs)
}

// TestLongText: a 1 MB text is truncated without tokenizing all of it, and gives the same ids
// as its corpus prefix (which the parity test compares with Hugging Face).
func TestLongText(t *testing.T) {
	tok := loadTokenizer(t)
	corpus := loadCorpus(t)
	fixtures := readJSONL[tokenFixture](t, testmodel.RepoFile(t, "testdata/fixtures/tokens.jsonl"))
	want := map[[2]int][]int32{}
	for _, fx := range fixtures {
		want[[2]int{fx.ID, fx.MaxLen}] = fx.IDs
	}
	checked := 0
	var slowest time.Duration
	for _, c := range corpus {
		if !strings.HasPrefix(c.Category, "gen_long") && c.Category != "scifact_doc" {
			continue
		}
		for _, maxLen := range []int{256, 512} {
			if len(want[[2]int{c.ID, maxLen}]) < maxLen {
				continue // not truncated: appending text would change it
			}
			big := strings.Repeat(c.Text+" ", 1<<20/(len(c.Text)+1)+1)
			start := time.Now()
			enc, err := tok.Encode(big, maxLen)
			elapsed := time.Since(start)
			require.NoError(t, err)
			require.Equal(t, want[[2]int{c.ID, maxLen}], enc.IDs, "id %d (%s), 1 MB", c.ID, c.Category)
			// Deterministic proof that the tail was never read (timings are logged only: they
			// are meaningless under -race on a loaded machine).
			e := encoder{t: tok, limit: maxLen - 2, ids: []int32{tok.cls}}
			read := e.encode(big)
			// The encoder reads one token past the limit to tell whether the text is truncated;
			// when the text fills the limit exactly, that token is the next copy's first word.
			require.LessOrEqual(t, read, 2*(len(c.Text)+1), "id %d: read %d bytes of a 1 MB text", c.ID, read)
			if slowest < elapsed {
				slowest = elapsed
			}
			checked++
		}
	}
	require.Greater(t, checked, 50)
	t.Logf("%d truncated 1 MB texts, slowest %v", checked, slowest)

	// One huge word has to be scanned to its end, but is not tokenized: it is [UNK].
	huge := strings.Repeat("a", 1<<20) + " tail"
	start := time.Now()
	enc, err := tok.Encode(huge, 0)
	require.NoError(t, err)
	t.Logf("1 MB single word: %v", time.Since(start))
	assert.Equal(t, []int32{101, 100, 5725, 102}, enc.IDs)

	for _, text := range []string{strings.Repeat("word ", 1<<18), strings.Repeat("é", 1<<19), strings.Repeat("😀 ", 1<<18),
		strings.Repeat("\u0301", 1<<19), strings.Repeat(" ", 1<<20), strings.Repeat("!", 1<<20)} {
		start := time.Now()
		enc, err := tok.Encode(text, 512)
		require.NoError(t, err)
		t.Logf("%d bytes of %q...: %d tokens in %v", len(text), text[:4], len(enc.IDs), time.Since(start))
		assert.LessOrEqual(t, len(enc.IDs), 512)
	}
}

// TestConcurrentUse runs many goroutines on one Tokenizer; run with -race.
func TestConcurrentUse(t *testing.T) {
	tok := loadTokenizer(t)
	corpus := loadCorpus(t)
	want := make([]Encoding, len(corpus))
	for i, c := range corpus {
		var err error
		want[i], err = tok.Encode(c.Text, 256)
		require.NoError(t, err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := g; i < len(corpus); i += 3 {
				got, err := tok.Encode(corpus[i].Text, 256)
				if err == nil && fmt.Sprint(got) != fmt.Sprint(want[i]) {
					err = fmt.Errorf("text %d differs under concurrency", i)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// checkEncoding checks the invariants of any encoding. It avoids testify in the loop: the
// fuzzer calls it for every input, and reflection per token would slow fuzzing down tenfold.
func checkEncoding(t *testing.T, enc Encoding, maxLen int) {
	t.Helper()
	n := len(enc.IDs)
	if n < 2 || n > maxLen || len(enc.Mask) != n || len(enc.TypeIDs) != n {
		t.Fatalf("bad lengths: %d ids (maxLen %d), %d mask, %d type ids", n, maxLen, len(enc.Mask), len(enc.TypeIDs))
	}
	if enc.IDs[0] != 101 || enc.IDs[n-1] != 102 {
		t.Fatalf("ids must start with [CLS] (101) and end with [SEP] (102): %v", enc.IDs)
	}
	for i := 0; i < n; i++ {
		if enc.Mask[i] != 1 || enc.TypeIDs[i] != 0 || enc.IDs[i] < 0 || enc.IDs[i] >= 30522 {
			t.Fatalf("token %d: id %d, mask %d, type id %d", i, enc.IDs[i], enc.Mask[i], enc.TypeIDs[i])
		}
	}
}

// FuzzEncode: no input panics, and every encoding is well formed.
func FuzzEncode(f *testing.F) {
	for _, s := range []string{
		"", "hello world", "\x00", "\xff\xfe", "[CLS][SEP][MASK]", "[MA", "café ﬁ İ ß Σ", "你好世界",
		"👨\u200d👩\u200d👧", "🇺🇸🏽", "a\u0301\u0316\u0345b", "가각", "\t\n\u00a0\u3000", strings.Repeat("x", 150),
		"https://example.com/?q=1", "\U0001D16D\U0001D165", "\ue000\U000F0000", "unbelievably", "##ing",
	} {
		f.Add(s, uint16(256))
	}
	f.Add("the the the the", uint16(3))
	f.Add("the the the the", uint16(2))
	dir := os.Getenv(testmodel.EnvModelDir)
	if dir == "" {
		f.Skipf("%s is not set", testmodel.EnvModelDir)
	}
	tok, err := Load(dir)
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, text string, n uint16) {
		maxLen := MinMaxLen + int(n)%(MaxMaxLen-MinMaxLen+1)
		enc, err := tok.Encode(text, maxLen)
		if err != nil {
			t.Fatal(err)
		}
		checkEncoding(t, enc, maxLen)
		if utf8.ValidString(text) {
			return
		}
		// Invalid bytes behave as U+FFFD.
		valid, err := tok.Encode(strings.ToValidUTF8(text, "\ufffd"), maxLen)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(valid) != fmt.Sprint(enc) {
			t.Fatalf("%q: invalid UTF-8 does not encode like U+FFFD: %v, want %v", text, enc, valid)
		}
	})
}

var sink Encoding

func BenchmarkEncode(b *testing.B) {
	tok := loadTokenizer(b)
	corpus := loadCorpus(b)
	for _, bc := range []struct {
		name     string
		category string
	}{{"stsb_sentence", "stsb"}, {"scifact_doc", "scifact_doc"}, {"unicode_mix", "gen_mixed_script"}} {
		var texts []string
		bytes := 0
		for _, c := range corpus {
			if c.Category == bc.category {
				texts = append(texts, c.Text)
				bytes += len(c.Text)
			}
		}
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(bytes / len(texts)))
			for i := 0; i < b.N; i++ {
				enc, err := tok.Encode(texts[i%len(texts)], DefaultMaxLen)
				if err != nil {
					b.Fatal(err)
				}
				sink = enc
			}
		})
	}
}
