package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/minilm-coreml/minilm/go/backend"
	"github.com/minilm-coreml/minilm/go/embed"
	"github.com/minilm-coreml/minilm/go/internal/fixtures"
	"github.com/minilm-coreml/minilm/go/internal/vecmath"
)

// PublishedSTSB is all-MiniLM-L6-v2's STS Benchmark test cosine Spearman (MTEB results
// repository, STSBenchmark.json): the float32 reference for the full 1,379 pairs.
const PublishedSTSB = 0.8203

// Data is the gate's evaluation data, loaded once.
type Data struct {
	Texts  []string    // fixture corpus texts (subset in quick mode)
	Ref    [][]float32 // sentence-transformers vectors of Texts
	Gold   []float64   // STS-B gold scores
	S1, S2 []string    // STS-B sentence pairs
}

// LoadData reads the fixture corpus, its reference embeddings and the STS-B test pairs.
// quick keeps quickTexts corpus texts (evenly spaced, so every category stays represented)
// and the first quickPairs STS-B pairs.
func LoadData(fixtureDir, stsb string, quick bool) (*Data, error) {
	d := &Data{}
	corpus, err := fixtures.ReadCorpus(filepath.Join(fixtureDir, "corpus.jsonl"))
	if err != nil {
		return nil, err
	}
	d.Texts = fixtures.Texts(corpus)
	if d.Ref, err = fixtures.ReadEmbeddings(filepath.Join(fixtureDir, "embeddings.npy")); err != nil {
		return nil, err
	}
	if len(d.Ref) != len(d.Texts) {
		return nil, fmt.Errorf("embeddings.npy has %d rows for %d texts", len(d.Ref), len(d.Texts))
	}
	pairs, err := fixtures.ReadSTSB(stsb)
	if err != nil {
		return nil, err
	}
	d.Gold, d.S1, d.S2 = pairs.Gold, pairs.S1, pairs.S2
	if quick {
		if n := len(d.Texts); n > quickTexts {
			var t []string
			var ref [][]float32
			for i := 0; i < quickTexts; i++ {
				j := i * n / quickTexts
				t = append(t, d.Texts[j])
				ref = append(ref, d.Ref[j])
			}
			d.Texts, d.Ref = t, ref
		}
		if len(d.Gold) > quickPairs {
			d.Gold, d.S1, d.S2 = d.Gold[:quickPairs], d.S1[:quickPairs], d.S2[:quickPairs]
		}
	}
	return d, nil
}

// Quick-mode subset sizes.
const (
	quickTexts = 200
	quickPairs = 300
)

// counting wraps a backend and counts non-finite hidden-state values at real tokens.
type counting struct {
	backend.Backend
	nonFinite int64
	values    int64
}

func (c *counting) Forward(ctx context.Context, in *backend.Input, out []float32) error {
	if err := c.Backend.Forward(ctx, in, out); err != nil {
		return err
	}
	d, seq := c.HiddenSize(), in.Shape.Seq
	var bad, n int64
	for r := 0; r < in.Rows; r++ {
		for t := 0; t < seq; t++ {
			if in.Mask[r*seq+t] == 0 {
				continue
			}
			for _, v := range out[(r*seq+t)*d : (r*seq+t+1)*d] {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					bad++
				}
			}
			n += int64(d)
		}
	}
	atomic.AddInt64(&c.nonFinite, bad)
	atomic.AddInt64(&c.values, n)
	return nil
}

// Scores are one engine's results on the data.
type Scores struct {
	Texts       int     `json:"texts"`
	MeanCos     Float   `json:"mean_cosine"`
	MinCos      Float   `json:"min_cosine"`
	MinCosText  int     `json:"min_cosine_text"`
	Pairs       int     `json:"stsb_pairs"`
	Spearman    Float   `json:"stsb_spearman"`
	NonFinite   int64   `json:"nonfinite_values"`
	HiddenCount int64   `json:"hidden_values_checked"`
	Seconds     float64 `json:"seconds"`
}

// Evaluate embeds the corpus and the STS-B sentences with be (closed by the embedder).
func Evaluate(ctx context.Context, be backend.Backend, modelDir string, d *Data, maxSeq int) (*Scores, error) {
	cb := &counting{Backend: be}
	e, err := embed.New(embed.WithModelDir(modelDir), embed.WithCustomBackend(cb), embed.WithMaxSeqLength(maxSeq))
	if err != nil {
		be.Close()
		return nil, err
	}
	defer e.Close()
	start := time.Now()
	vecs, err := e.Embed(ctx, d.Texts)
	if err != nil {
		return nonFiniteScores(d, cb, start, err)
	}
	s := &Scores{Texts: len(d.Texts), MinCos: Float(math.NaN()), MinCosText: -1}
	var sum float64
	for i, v := range vecs {
		c := vecmath.Cosine(v, d.Ref[i])
		if math.IsNaN(c) {
			c = -1 // a NaN vector matches nothing
		}
		sum += c
		if s.MinCosText < 0 || c < float64(s.MinCos) {
			s.MinCos, s.MinCosText = Float(c), i
		}
	}
	s.MeanCos = Float(math.NaN())
	if len(vecs) > 0 {
		s.MeanCos = Float(sum / float64(len(vecs)))
	}
	pairs := &fixtures.STSB{Gold: d.Gold, S1: d.S1, S2: d.S2}
	uniq, _ := pairs.Distinct()
	sv, err := e.Embed(ctx, uniq)
	if err != nil {
		return nonFiniteScores(d, cb, start, err)
	}
	rho, err := pairs.Spearman(sv)
	if err != nil {
		return nil, err
	}
	s.Pairs = len(d.Gold)
	s.Spearman = Float(rho)
	s.NonFinite, s.HiddenCount = atomic.LoadInt64(&cb.nonFinite), atomic.LoadInt64(&cb.values)
	s.Seconds = time.Since(start).Seconds()
	return s, nil
}

// nonFiniteScores turns an embedding error into scores when the backend produced NaN or Inf
// at real tokens: go/embed refuses to return such vectors, and for the gate that is a
// measured failure (a NaN vector matches nothing: cosine -1), not a run error. Any other
// error is returned as is.
func nonFiniteScores(d *Data, cb *counting, start time.Time, err error) (*Scores, error) {
	n := atomic.LoadInt64(&cb.nonFinite)
	if n == 0 {
		return nil, err
	}
	return &Scores{
		Texts: len(d.Texts), MeanCos: -1, MinCos: -1, MinCosText: -1,
		Pairs: len(d.Gold), Spearman: Float(math.NaN()),
		NonFinite: n, HiddenCount: atomic.LoadInt64(&cb.values),
		Seconds: time.Since(start).Seconds(),
	}, nil
}

// Float is a float64 that encodes NaN and ±Inf as JSON null (encoding/json rejects them).
type Float float64

// MarshalJSON implements json.Marshaler.
func (f Float) MarshalJSON() ([]byte, error) {
	v := float64(f)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return []byte("null"), nil
	}
	return json.Marshal(v)
}
