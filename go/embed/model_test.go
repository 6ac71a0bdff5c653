package embed_test

import (
	"bufio"
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
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/minilm-coreml/minilm/go/embed"
	"github.com/minilm-coreml/minilm/go/internal/testmodel"
	"github.com/minilm-coreml/minilm/go/npy"
)

// The parity corpus and sentence-transformers' vectors of it
// (python/reference/make_embeddings.py).
const (
	corpusFile     = "testdata/fixtures/corpus.jsonl"
	embeddingsFile = "testdata/fixtures/embeddings.npy"
	sidecarFile    = "testdata/fixtures/embeddings.json"
	stsbFile       = "testdata/stsb/stsb-test.tsv"

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

func newEmbedder(t *testing.T) *embed.Embedder {
	t.Helper()
	dir := testmodel.ModelDir(t)
	sharedOnce.Do(func() {
		shared, sharedErr = embed.New(embed.WithModelDir(dir), embed.WithBackend(embed.CPU))
	})
	require.NoError(t, sharedErr)
	return shared
}

type corpusEntry struct {
	ID       int    `json:"id"`
	Category string `json:"category"`
	Text     string `json:"text"`
}

func readCorpus(t *testing.T) []corpusEntry {
	t.Helper()
	f, err := os.Open(testmodel.RepoFile(t, corpusFile))
	require.NoError(t, err)
	defer f.Close()
	var out []corpusEntry
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var e corpusEntry
		require.NoError(t, json.Unmarshal(sc.Bytes(), &e), "line %d", len(out)+1)
		out = append(out, e)
	}
	require.NoError(t, sc.Err())
	return out
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

// cosine is computed in float64 throughout, so that differences below float32's resolution
// near 1 still show in the reported minimum.
func cosine(a, b []float32) float64 {
	var dot, na, nb float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	return dot / math.Sqrt(na*nb)
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
	raw, err := os.ReadFile(testmodel.RepoFile(t, sidecarFile))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &side))
	require.Equal(t, side.CorpusSHA256, sha256File(t, testmodel.RepoFile(t, corpusFile)),
		"%s is stale: re-run python/reference/make_embeddings.py", embeddingsFile)

	want, err := func() ([][]float32, error) {
		f, err := os.Open(testmodel.RepoFile(t, embeddingsFile))
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return npy.ReadMatrix(f)
	}()
	require.NoError(t, err)
	require.Len(t, want, len(corpus))
	require.Equal(t, side.Texts, len(corpus))

	texts := make([]string, len(corpus))
	for i, c := range corpus {
		texts[i] = c.Text
	}
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
		cs := cosine(got[i], want[i])
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
	e := newEmbedder(t)
	f, err := os.Open(testmodel.RepoFile(t, stsbFile))
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	require.True(t, sc.Scan(), "empty %s", stsbFile)
	require.Equal(t, "score\tsentence1\tsentence2", sc.Text())
	var gold []float64
	var s1, s2 []string
	for sc.Scan() {
		parts := strings.Split(sc.Text(), "\t") // TAB only: sentences contain quotes
		require.Len(t, parts, 3, "line %d", len(gold)+2)
		score, err := strconv.ParseFloat(parts[0], 64)
		require.NoError(t, err)
		gold = append(gold, score)
		s1 = append(s1, parts[1])
		s2 = append(s2, parts[2])
	}
	require.NoError(t, sc.Err())
	require.Len(t, gold, 1379)

	// Embed each distinct sentence once.
	index := map[string]int{}
	var uniq []string
	for _, s := range append(append([]string(nil), s1...), s2...) {
		if _, ok := index[s]; !ok {
			index[s] = len(uniq)
			uniq = append(uniq, s)
		}
	}
	vecs, err := e.Embed(context.Background(), uniq)
	require.NoError(t, err)
	sims := make([]float64, len(gold))
	for i := range gold {
		sims[i] = cosine(vecs[index[s1[i]]], vecs[index[s2[i]]])
	}
	rho := spearman(sims, gold)
	t.Logf("STS Benchmark test (%d pairs): cosine Spearman %.7f (published %.7f, diff %+.1e)",
		len(gold), rho, publishedSTSB, rho-publishedSTSB)
	require.InDelta(t, publishedSTSB, rho, stsbTolerance)
}

// spearman is the Pearson correlation of the ranks, ties given their average rank (as
// scipy.stats.spearmanr).
func spearman(x, y []float64) float64 { return pearson(ranks(x), ranks(y)) }

func ranks(v []float64) []float64 {
	idx := make([]int, len(v))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return v[idx[a]] < v[idx[b]] })
	r := make([]float64, len(v))
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && v[idx[j+1]] == v[idx[i]] {
			j++
		}
		avg := float64(i+j)/2 + 1
		for k := i; k <= j; k++ {
			r[idx[k]] = avg
		}
		i = j + 1
	}
	return r
}

func pearson(x, y []float64) float64 {
	var mx, my float64
	for i := range x {
		mx += x[i]
		my += y[i]
	}
	mx /= float64(len(x))
	my /= float64(len(y))
	var sxy, sxx, syy float64
	for i := range x {
		dx, dy := x[i]-mx, y[i]-my
		sxy += dx * dy
		sxx += dx * dx
		syy += dy * dy
	}
	return sxy / math.Sqrt(sxx*syy)
}

func TestSpearman(t *testing.T) {
	// scipy.stats.spearmanr([1, 2, 2, 3, 5], [5, 6, 7, 8, 7]).statistic == 0.7631578947368421
	require.InDelta(t, 0.7631578947368421, spearman([]float64{1, 2, 2, 3, 5}, []float64{5, 6, 7, 8, 7}), 1e-12)
	require.InDelta(t, -1, spearman([]float64{1, 2, 3}, []float64{9, 4, 1}), 1e-12)
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
	require.InDelta(t, 1, cosine(vecs[0], vecs[1]), 1e-6)
	require.InDelta(t, 1, cosine(vecs[2], vecs[3]), 1e-6, "invalid bytes only embed like the empty string")

	// Over-long texts are truncated: what follows the limit does not matter.
	long := strings.Repeat("word ", 300)
	vecs, err = e.Embed(ctx, []string{long, long + "completely different ending"})
	require.NoError(t, err)
	require.InDelta(t, 1, cosine(vecs[0], vecs[1]), 1e-6)

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = e.Embed(cancelled, []string{"a"})
	require.ErrorIs(t, err, context.Canceled)
}

// modelCopy makes a model directory of links to the real files, with name replaced by data
// (or left out if data is nil).
func modelCopy(t *testing.T, name string, data []byte) string {
	t.Helper()
	src := testmodel.ModelDir(t)
	dir := t.TempDir()
	for _, f := range []string{"config.json", "tokenizer.json", "model.safetensors"} {
		p := filepath.Join(dir, f)
		if f == name {
			if data != nil {
				require.NoError(t, os.WriteFile(p, data, 0o644))
			}
			continue
		}
		require.NoError(t, os.Symlink(filepath.Join(src, f), p))
	}
	return dir
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
			dir := modelCopy(t, tt.file, tt.data)
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

	t.Setenv(embed.EnvModelDir, dir)
	e, err := embed.New(embed.WithBatchSize(8), embed.WithMaxSeqLength(128), embed.WithWorkers(1))
	require.NoError(t, err, "model directory from %s", embed.EnvModelDir)
	defer e.Close()
	require.Equal(t, embed.Dim, e.Dim())
	require.Equal(t, 128, e.MaxSeqLength())
	require.NotEmpty(t, e.Backend())
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
				if c := cosine(got[i], want[lo+i]); c < 0.999999 {
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
