package embed_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/minilm-coreml/minilm/go/embed"
	"github.com/minilm-coreml/minilm/go/internal/fixtures"
	"github.com/minilm-coreml/minilm/go/internal/stats"
	"github.com/minilm-coreml/minilm/go/internal/testmodel"
	"github.com/minilm-coreml/minilm/go/internal/vecmath"
)

// The parity corpus and sentence-transformers' vectors of it
// (python/reference/make_embeddings.py).
const (
	minCosine = 0.9999
	// publishedSTSB is all-MiniLM-L6-v2's MTEB STSBenchmark test cosine Spearman.
	publishedSTSB = 0.8203247283076371
	stsbTolerance = 0.002
)

// The embedder is shared by the tests of this file: loading the weights takes a while.
var (
	sharedOnce sync.Once
	shared     *embed.Embedder
	sharedErr  error
)

// TestMain counts the model tests skipped without MINILM_MODEL_DIR.
func TestMain(m *testing.M) { os.Exit(testmodel.Main(m)) }

func newEmbedder(t *testing.T) *embed.Embedder {
	t.Helper()
	dir := testmodel.ModelDir(t)
	sharedOnce.Do(func() {
		shared, sharedErr = embed.New(embed.WithModelDir(dir), embed.WithBackend(embed.CPU))
	})
	require.NoError(t, sharedErr)
	return shared
}

func readCorpus(t *testing.T) []fixtures.Text {
	t.Helper()
	corpus, err := fixtures.ReadCorpus(testmodel.RepoFile(t, fixtures.CorpusFile))
	require.NoError(t, err)
	return corpus
}

func sha256File(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	h := sha256.New()
	_, err = io.Copy(h, f)
	require.NoError(t, err)
	return hex.EncodeToString(h.Sum(nil))
}

// TestParity checks every corpus vector against sentence-transformers. The corpus includes
// the empty string, control characters, invalid-looking Unicode and texts far beyond the
// 256-token limit, so this also checks that edge cases and truncation match.
func TestParity(t *testing.T) {
	e := newEmbedder(t)
	corpus := readCorpus(t)
	require.GreaterOrEqual(t, len(corpus), 1000, "parity corpus too small")

	var side struct {
		CorpusSHA256 string `json:"corpus_sha256"`
		Texts        int    `json:"texts"`
		Dim          int    `json:"dim"`
	}
	raw, err := os.ReadFile(testmodel.RepoFile(t, fixtures.EmbeddingsMeta))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &side))
	require.Equal(t, side.CorpusSHA256, sha256File(t, testmodel.RepoFile(t, fixtures.CorpusFile)),
		"%s is stale: re-run python/reference/make_embeddings.py", fixtures.EmbeddingsFile)

	want, err := fixtures.ReadEmbeddings(testmodel.RepoFile(t, fixtures.EmbeddingsFile))
	require.NoError(t, err)
	require.Len(t, want, len(corpus))
	require.Equal(t, side.Texts, len(corpus))

	texts := fixtures.Texts(corpus)
	got, err := e.Embed(context.Background(), texts)
	require.NoError(t, err)
	require.Len(t, got, len(texts))

	type stat struct {
		n        int
		sum, min float64
		minID    int
	}
	all := stat{min: 2}
	byCat := map[string]*stat{}
	empty, long := 0, 0
	for i, c := range corpus {
		require.Len(t, got[i], embed.Dim)
		cs := vecmath.Cosine(got[i], want[i])
		for _, s := range []*stat{&all, byCat[c.Category]} {
			if s == nil {
				s = &stat{min: 2}
				byCat[c.Category] = s
			}
			s.n++
			s.sum += cs
			if cs < s.min {
				s.min, s.minID = cs, c.ID
			}
		}
		if c.Text == "" {
			empty++
		}
		if len(strings.Fields(c.Text)) > 400 {
			long++
		}
		if cs < minCosine {
			t.Errorf("text %d (%s, %q): cosine %.6f < %v", c.ID, c.Category, abbreviate(c.Text), cs, minCosine)
		}
	}
	cats := make([]string, 0, len(byCat))
	for c := range byCat {
		cats = append(cats, c)
	}
	sort.Strings(cats)
	for _, c := range cats {
		s := byCat[c]
		t.Logf("  %-20s n=%4d  min %.9f  mean %.9f", c, s.n, s.min, s.sum/float64(s.n))
	}
	t.Logf("parity vs sentence-transformers over %d texts (%d empty, %d far beyond the token limit): min cosine %.9f (1 - %.1e, text %d), mean %.9f",
		all.n, empty, long, all.min, 1-all.min, all.minID, all.sum/float64(all.n))
	require.Greater(t, empty, 0, "the corpus must hold the empty string")
	require.Greater(t, long, 0, "the corpus must hold over-long texts")
}

func abbreviate(s string) string {
	if r := []rune(s); len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}

// TestSTSBenchmark checks quality end to end: the Spearman correlation between cosine
// similarities and gold scores on the STS Benchmark test split must match the published
// figure for all-MiniLM-L6-v2.
func TestSTSBenchmark(t *testing.T) {
	rho, pairs := stsbSpearman(t, newEmbedder(t))
	t.Logf("STS Benchmark test (%d pairs): cosine Spearman %.7f (published %.7f, diff %+.1e)",
		pairs, rho, publishedSTSB, rho-publishedSTSB)
	require.InDelta(t, publishedSTSB, rho, stsbTolerance)
}

// stsbSpearman returns e's cosine Spearman correlation with the gold scores of the STS
// Benchmark test split, and the number of pairs.
func stsbSpearman(t *testing.T, e *embed.Embedder) (rho float64, pairs int) {
	t.Helper()
	sts, err := fixtures.ReadSTSB(testmodel.RepoFile(t, fixtures.STSBFile))
	require.NoError(t, err)
	gold := sts.Gold
	require.Len(t, gold, 1379)

	// Embed each distinct sentence once.
	uniq, index := sts.Distinct()
	vecs, err := e.Embed(context.Background(), uniq)
	require.NoError(t, err)
	sims := make([]float64, len(gold))
	for i := range gold {
		sims[i] = vecmath.Cosine(vecs[index[sts.S1[i]]], vecs[index[sts.S2[i]]])
	}
	return stats.Spearman(sims, gold), len(gold)
}

// TestBatchingMatchesOneAtATime checks that planner-driven batching (sorting, padding,
// several shapes) gives the vectors each text gets alone.
func TestBatchingMatchesOneAtATime(t *testing.T) {
	e := newEmbedder(t)
	corpus := readCorpus(t)
	var texts []string
	for i := 0; i < len(corpus); i += len(corpus) / 60 {
		texts = append(texts, corpus[i].Text)
	}
	batched, err := e.Embed(context.Background(), texts)
	require.NoError(t, err)
	for i, text := range texts {
		alone, err := e.Embed(context.Background(), []string{text})
		require.NoError(t, err)
		for c := range alone[0] {
			if d := math.Abs(float64(alone[0][c] - batched[i][c])); d > 1e-5 {
				t.Fatalf("text %d (%q) dim %d: batched %v, alone %v", i, abbreviate(text), c, batched[i][c], alone[0][c])
			}
		}
	}
}

func TestBadInput(t *testing.T) {
	e := newEmbedder(t)
	ctx := context.Background()

	got, err := e.Embed(ctx, nil)
	require.NoError(t, err)
	require.NotNil(t, got)
	require.Empty(t, got)

	// Invalid UTF-8 reads as U+FFFD, which BERT's normalizer deletes: "ab\xffcd" is "abcd".
	vecs, err := e.Embed(ctx, []string{"ab\xffcd \xc3( ok", "abcd ( ok", "\xff\xfe\xfd", ""})
	require.NoError(t, err)
	require.InDelta(t, 1, vecmath.Cosine(vecs[0], vecs[1]), 1e-6)
	require.InDelta(t, 1, vecmath.Cosine(vecs[2], vecs[3]), 1e-6, "invalid bytes only embed like the empty string")

	// Over-long texts are truncated: what follows the limit does not matter.
	long := strings.Repeat("word ", 300)
	vecs, err = e.Embed(ctx, []string{long, long + "completely different ending"})
	require.NoError(t, err)
	require.InDelta(t, 1, vecmath.Cosine(vecs[0], vecs[1]), 1e-6)

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = e.Embed(cancelled, []string{"a"})
	require.ErrorIs(t, err, context.Canceled)
}

func TestBrokenModelDir(t *testing.T) {
	src := testmodel.ModelDir(t)
	weights, err := os.ReadFile(filepath.Join(src, "model.safetensors"))
	require.NoError(t, err)
	tests := []struct {
		name, file string
		data       []byte
	}{
		{"missing weights", "model.safetensors", nil},
		{"truncated weights", "model.safetensors", weights[:len(weights)/2]},
		{"garbage weights", "model.safetensors", []byte("not a safetensors file")},
		{"empty weights", "model.safetensors", []byte{}},
		{"missing tokenizer", "tokenizer.json", nil},
		{"corrupt tokenizer", "tokenizer.json", []byte(`{"model": {`)},
		{"missing config", "config.json", nil},
		{"corrupt config", "config.json", []byte(`{"hidden_size": "big"}`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := testmodel.CopyWith(t, tt.file, tt.data)
			e, err := embed.New(embed.WithModelDir(dir), embed.WithBackend(embed.CPU))
			if err == nil {
				e.Close()
				t.Fatal("New succeeded")
			}
			require.Contains(t, err.Error(), tt.file, "the error must name the file")
			t.Logf("%v", err)
		})
	}
}

func TestNewErrors(t *testing.T) {
	dir := testmodel.ModelDir(t)
	t.Setenv(embed.EnvModelDir, "")
	_, err := embed.New()
	require.ErrorIs(t, err, embed.ErrNoModelDir)
	require.Contains(t, err.Error(), "bazel build //models:minilm_weights")

	_, err = embed.New(embed.WithModelDir(dir), embed.WithMaxSeqLength(600))
	require.Error(t, err)
	_, err = embed.New(embed.WithModelDir(dir), embed.WithBackend(embed.CoreML))
	require.Error(t, err, "coreml without a Core ML model")
}

// TestInvalidUTF8: invalid bytes are not an error; each reads as U+FFFD, which the tokenizer
// drops, as Python's errors="replace" decoding followed by Hugging Face tokenizers does.
func TestInvalidUTF8(t *testing.T) {
	e := newEmbedder(t)
	got, err := e.Embed(context.Background(), []string{"ok \xff\xfe bad", "caf\xc3", "ok \uFFFD\uFFFD bad"})
	require.NoError(t, err)
	want, err := e.Embed(context.Background(), []string{"ok bad", "caf", "ok bad"})
	require.NoError(t, err)
	for i := range got {
		require.Greater(t, vecmath.Cosine(got[i], want[i]), 0.999999, "text %d", i)
	}
}

// TestEnvironment: New reads the environment only with FromEnv, and explicit options win.
func TestEnvironment(t *testing.T) {
	dir := testmodel.ModelDir(t)
	t.Setenv(embed.EnvModelDir, dir)
	t.Setenv(embed.EnvCoreMLModel, filepath.Join(t.TempDir(), "missing.mlmodelc"))

	_, err := embed.New()
	require.ErrorIs(t, err, embed.ErrNoModelDir, "New must not read %s implicitly", embed.EnvModelDir)

	e, err := embed.New(embed.WithBatchSize(8), embed.WithMaxSeqLength(128), embed.WithWorkers(1), embed.FromEnv())
	require.NoError(t, err, "model directory from %s", embed.EnvModelDir)
	defer e.Close()
	require.Equal(t, embed.Dim, e.Dim())
	require.Equal(t, 128, e.MaxSeqLength())
	// Auto with a Core ML model that cannot load runs the CPU and says why.
	require.True(t, strings.HasPrefix(e.Backend(), "cpu (coreml unavailable: "), e.Backend())
	require.NotContains(t, e.Backend(), "unavailable: coreml", "the reason, once")

	// Without FromEnv the Core ML variable is ignored: plain cpu.
	e2, err := embed.New(embed.WithModelDir(dir))
	require.NoError(t, err)
	defer e2.Close()
	require.Equal(t, "cpu", e2.Backend())

	// An explicit model directory wins over the environment, wherever FromEnv stands.
	t.Setenv(embed.EnvModelDir, filepath.Join(t.TempDir(), "nowhere"))
	e3, err := embed.New(embed.FromEnv(), embed.WithModelDir(dir), embed.WithBackend(embed.CPU))
	require.NoError(t, err)
	e3.Close()
}

func TestConcurrentModel(t *testing.T) {
	e := newEmbedder(t)
	corpus := readCorpus(t)
	texts := make([]string, 0, 64)
	for i := 0; i < 64; i++ {
		texts = append(texts, corpus[(i*37)%len(corpus)].Text)
	}
	want, err := e.Embed(context.Background(), texts)
	require.NoError(t, err)

	var wg sync.WaitGroup
	errs := make(chan error, 12)
	for g := 0; g < 12; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			lo, hi := g*5, g*5+8
			got, err := e.Embed(context.Background(), texts[lo:hi])
			if err != nil {
				errs <- err
				return
			}
			for i := range got {
				if c := vecmath.Cosine(got[i], want[lo+i]); c < 0.999999 {
					errs <- fmt.Errorf("goroutine %d text %d: cosine %v to the sequential result", g, lo+i, c)
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
