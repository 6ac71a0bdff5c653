package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/minilm-coreml/minilm/go/backend"
	"github.com/minilm-coreml/minilm/go/embed"
	"github.com/minilm-coreml/minilm/go/npy"
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
func LoadData(fixtures, stsb string, quick bool) (*Data, error) {
	d := &Data{}
	f, err := os.Open(filepath.Join(fixtures, "corpus.jsonl"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	for {
		line, err := r.ReadString('\n')
		if strings.TrimSpace(line) != "" {
			var e struct {
				ID   int    `json:"id"`
				Text string `json:"text"`
			}
			if jerr := json.Unmarshal([]byte(line), &e); jerr != nil {
				return nil, fmt.Errorf("corpus.jsonl line %d: %v", len(d.Texts)+1, jerr)
			}
			if e.ID != len(d.Texts) {
				return nil, fmt.Errorf("corpus.jsonl: id %d on line %d", e.ID, len(d.Texts)+1)
			}
			d.Texts = append(d.Texts, e.Text)
		}
		if err != nil {
			break
		}
	}
	shape, vals, err := npy.ReadFile(filepath.Join(fixtures, "embeddings.npy"))
	if err != nil {
		return nil, err
	}
	if len(shape) != 2 || shape[0] != len(d.Texts) {
		return nil, fmt.Errorf("embeddings.npy has shape %v for %d texts", shape, len(d.Texts))
	}
	for i := 0; i < shape[0]; i++ {
		d.Ref = append(d.Ref, vals[i*shape[1]:(i+1)*shape[1]])
	}
	sf, err := os.Open(stsb)
	if err != nil {
		return nil, err
	}
	defer sf.Close()
	sc := bufio.NewScanner(sf)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	first := true
	for sc.Scan() {
		if first {
			first = false
			if sc.Text() != "score\tsentence1\tsentence2" {
				return nil, fmt.Errorf("%s: unexpected header %q", stsb, sc.Text())
			}
			continue
		}
		parts := strings.Split(sc.Text(), "\t")
		if len(parts) != 3 {
			return nil, fmt.Errorf("%s: line %d has %d fields", stsb, len(d.Gold)+2, len(parts))
		}
		g, err := strconv.ParseFloat(parts[0], 64)
		if err != nil {
			return nil, fmt.Errorf("%s: line %d: %v", stsb, len(d.Gold)+2, err)
		}
		d.Gold = append(d.Gold, g)
		d.S1 = append(d.S1, parts[1])
		d.S2 = append(d.S2, parts[2])
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
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
		return nil, err
	}
	s := &Scores{Texts: len(d.Texts), MinCos: Float(math.NaN()), MinCosText: -1}
	var sum float64
	for i, v := range vecs {
		c := cosine(v, d.Ref[i])
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
	index := map[string]int{}
	var uniq []string
	for _, t := range append(append([]string(nil), d.S1...), d.S2...) {
		if _, ok := index[t]; !ok {
			index[t] = len(uniq)
			uniq = append(uniq, t)
		}
	}
	sv, err := e.Embed(ctx, uniq)
	if err != nil {
		return nil, err
	}
	sims := make([]float64, len(d.Gold))
	for i := range d.Gold {
		sims[i] = cosine(sv[index[d.S1[i]]], sv[index[d.S2[i]]])
	}
	s.Pairs = len(d.Gold)
	s.Spearman = Float(spearman(sims, d.Gold))
	s.NonFinite, s.HiddenCount = atomic.LoadInt64(&cb.nonFinite), atomic.LoadInt64(&cb.values)
	s.Seconds = time.Since(start).Seconds()
	return s, nil
}

func cosine(a, b []float32) float64 {
	var dot, na, nb float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	return dot / math.Sqrt(na*nb)
}

// spearman is the Pearson correlation of average ranks (scipy.stats.spearmanr); NaN
// similarities rank last.
func spearman(x, y []float64) float64 { return pearson(ranks(x), ranks(y)) }

func ranks(v []float64) []float64 {
	idx := make([]int, len(v))
	for i := range idx {
		idx[i] = i
	}
	key := func(i int) float64 {
		if math.IsNaN(v[i]) {
			return math.Inf(-1)
		}
		return v[i]
	}
	sort.SliceStable(idx, func(a, b int) bool { return key(idx[a]) < key(idx[b]) })
	r := make([]float64, len(v))
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && key(idx[j+1]) == key(idx[i]) {
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
	n := float64(len(x))
	var mx, my float64
	for i := range x {
		mx += x[i]
		my += y[i]
	}
	mx /= n
	my /= n
	var sxy, sxx, syy float64
	for i := range x {
		dx, dy := x[i]-mx, y[i]-my
		sxy += dx * dy
		sxx += dx * dx
		syy += dy * dy
	}
	return sxy / math.Sqrt(sxx*syy)
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
