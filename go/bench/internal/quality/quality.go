// Package quality scores an engine's embeddings beside its speed in the benchmarks: cosine
// similarity to the reference implementation's vectors (sentence-transformers, float32) on
// the committed parity corpus, and the STS Benchmark Spearman correlation.
//
// The reference vectors are testdata/fixtures/embeddings.npy, written by
// python/reference/make_embeddings.py with sentence-transformers 3.0.1 (max_seq_length 256,
// normalized), for the texts of testdata/fixtures/corpus.jsonl.
package quality

import (
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/minilm-coreml/minilm/go/internal/fixtures"
	"github.com/minilm-coreml/minilm/go/internal/vecmath"
)

// Reference is a sample of the parity corpus with sentence-transformers' vectors.
type Reference struct {
	Texts   []string
	Vectors [][]float32
}

// FixturesDir finds testdata/fixtures: flag if set, else testdata/fixtures under the working
// directory (the runfiles root under Bazel), else under repoRoot.
func FixturesDir(flag, repoRoot string) (string, error) {
	for _, c := range []string{flag, filepath.Join("testdata", "fixtures"), filepath.Join(repoRoot, "testdata", "fixtures")} {
		if c == "" {
			continue
		}
		if _, err := os.Stat(filepath.Join(c, "embeddings.npy")); err == nil {
			return filepath.Abs(c)
		}
		if c == flag {
			return "", fmt.Errorf("--fixtures %s has no embeddings.npy", flag)
		}
	}
	return "", fmt.Errorf("testdata/fixtures (parity corpus and reference vectors) not found: pass --fixtures")
}

// LoadReference reads corpus.jsonl and embeddings.npy from dir and keeps n texts spread
// evenly over the corpus (every category is represented); n <= 0 or n >= the corpus size
// keeps them all.
func LoadReference(dir string, n int) (*Reference, error) {
	corpus, err := fixtures.ReadCorpus(filepath.Join(dir, "corpus.jsonl"))
	if err != nil {
		return nil, err
	}
	vecs, err := fixtures.ReadEmbeddings(filepath.Join(dir, "embeddings.npy"))
	if err != nil {
		return nil, err
	}
	if len(vecs) != len(corpus) {
		return nil, fmt.Errorf("%s: %d reference vectors for %d texts", dir, len(vecs), len(corpus))
	}
	idx := Spread(len(corpus), n)
	r := &Reference{Texts: make([]string, len(idx)), Vectors: make([][]float32, len(idx))}
	for i, j := range idx {
		r.Texts[i], r.Vectors[i] = corpus[j].Text, vecs[j]
	}
	return r, nil
}

// Spread returns n indices of 0..total-1 spread evenly, in order (all of them when n <= 0
// or n >= total).
func Spread(total, n int) []int {
	if n <= 0 || n >= total {
		n = total
	}
	out := make([]int, n)
	for i := range out {
		out[i] = i * total / n
	}
	return out
}

// Cosine returns the mean and the minimum cosine similarity between got[i] and want[i].
func Cosine(want, got [][]float32) (mean, min float64, err error) {
	if len(want) != len(got) || len(want) == 0 {
		return 0, 0, fmt.Errorf("quality: %d vectors against %d reference vectors", len(got), len(want))
	}
	min = math.Inf(1)
	for i := range want {
		if len(got[i]) != len(want[i]) {
			return 0, 0, fmt.Errorf("quality: vector %d has %d dimensions, want %d", i, len(got[i]), len(want[i]))
		}
		c := vecmath.Cosine(want[i], got[i])
		if math.IsNaN(c) {
			c = -1 // a non-finite vector is the worst match, not a hole in the mean
		}
		mean += c
		if c < min {
			min = c
		}
	}
	return mean / float64(len(want)), min, nil
}

// STSB is the STS Benchmark test split, ready to score: embed Sentences, then Spearman.
type STSB struct {
	Sentences []string
	pairs     *fixtures.STSB
}

// LoadSTSB reads an STS-B TSV file (fixtures.ReadSTSB).
func LoadSTSB(path string) (*STSB, error) {
	p, err := fixtures.ReadSTSB(path)
	if err != nil {
		return nil, err
	}
	s, _ := p.Distinct()
	return &STSB{Sentences: s, pairs: p}, nil
}

// Pairs is the number of scored pairs.
func (s *STSB) Pairs() int { return len(s.pairs.Gold) }

// Spearman scores vecs (one per Sentences entry, in order): fixtures.STSB.Spearman, an error
// where the score is undefined.
func (s *STSB) Spearman(vecs [][]float32) (float64, error) {
	r, err := s.pairs.Spearman(vecs)
	if err != nil {
		return 0, fmt.Errorf("quality: %w", err)
	}
	if math.IsNaN(r) {
		return 0, fmt.Errorf("quality: STS-B Spearman undefined (%d pairs, constant scores?)", len(s.pairs.Gold))
	}
	return r, nil
}
