//go:build darwin && cgo

package coreml_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/minilm-coreml/minilm/go/backend"
	"github.com/minilm-coreml/minilm/go/backend/coreml"
	"github.com/minilm-coreml/minilm/go/internal/fixtures"
	"github.com/minilm-coreml/minilm/go/internal/testmodel"
	"github.com/minilm-coreml/minilm/go/internal/vecmath"
	"github.com/minilm-coreml/minilm/go/plan"
	"github.com/minilm-coreml/minilm/go/pooling"
)

// EnvModel names the Core ML model the parity test loads: a compiled .mlmodelc, or an
// .mlpackage (compiled and cached on first use).
const EnvModel = "MINILM_COREML_MODEL"

// minCosine is the float16 parity bar against sentence-transformers (float32).
const minCosine = 0.999

// TestParityWithSentenceTransformers runs every allowed shape once (no NaN or Inf anywhere),
// then embeds the fixture corpus (testdata/fixtures: corpus.jsonl, its reference token ids
// in tokens.jsonl) and compares each vector with the sentence-transformers reference in
// embeddings.npy.
func TestParityWithSentenceTransformers(t *testing.T) {
	modelPath := os.Getenv(EnvModel)
	if modelPath == "" {
		t.Skipf("%s is not set: point it at all-MiniLM-L6-v2.mlmodelc or .mlpackage", EnvModel)
	}
	dir := filepath.Dir(testmodel.RepoFile(t, "testdata/fixtures/embeddings.npy"))
	refPath := filepath.Join(dir, "embeddings.npy")

	units := coreml.CPUAndNeuralEngine
	if s := os.Getenv("MINILM_COREML_UNITS"); s != "" {
		u, err := coreml.ParseComputeUnits(s)
		if err != nil {
			t.Fatal(err)
		}
		units = u
	}
	b, err := coreml.New(modelPath, coreml.WithComputeUnits(units))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	t.Logf("backend %s, shapes %v", b.Name(), b.Shapes())

	// Every allowed shape once: cold cost per shape, and every value finite.
	for r := range b.Prewarm(context.Background()) {
		if r.Err != nil {
			t.Errorf("prewarm: %v", r.Err)
			continue
		}
		t.Logf("cold %v", r)
	}

	texts, err := readFixtures(dir)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := fixtures.ReadEmbeddings(refPath)
	if err != nil {
		t.Fatal(err)
	}
	if len(ref) != len(texts) || len(ref[0]) != b.HiddenSize() {
		t.Fatalf("reference %s holds %d vectors of width %d, corpus has %d texts of width %d", refPath, len(ref), len(ref[0]), len(texts), b.HiddenSize())
	}

	shapes := b.Shapes()
	worst, worstIdx := 2.0, -1
	for start := 0; start < len(texts); {
		rows := 16
		if rows > shapes.MaxBatch() {
			rows = shapes.MaxBatch()
		}
		if start+rows > len(texts) {
			rows = len(texts) - start
		}
		seq := 0
		for _, tx := range texts[start : start+rows] {
			if len(tx.IDs) > seq {
				seq = len(tx.IDs)
			}
		}
		shape, ok := shapes.Fit(rows, seq)
		if !ok {
			t.Fatalf("texts %d..%d: no shape for %d×%d", start, start+rows, rows, seq)
		}
		in := &backend.Input{Shape: shape, Rows: rows, IDs: make([]int32, shape.Tokens()), Mask: make([]int32, shape.Tokens())}
		for r, tx := range texts[start : start+rows] {
			copy(in.IDs[r*shape.Seq:], tx.IDs)
			copy(in.Mask[r*shape.Seq:], tx.Mask)
		}
		H := b.HiddenSize()
		out := make([]float32, rows*shape.Seq*H)
		if err := b.Forward(context.Background(), in, out); err != nil {
			t.Fatalf("texts %d..%d: %v", start, start+rows, err)
		}
		for r := 0; r < rows; r++ {
			emb := meanPoolNormalize(t, out[r*shape.Seq*H:(r+1)*shape.Seq*H], in.Mask[r*shape.Seq:(r+1)*shape.Seq], H)
			i := start + r
			c := vecmath.Cosine(emb, ref[i])
			if math.IsNaN(c) || c < minCosine {
				t.Errorf("text %d (%q): cosine %.6f < %v", i, abbrev(texts[i].Text), c, minCosine)
			}
			if c < worst {
				worst, worstIdx = c, i
			}
		}
		start += rows
	}
	t.Logf("%d texts, worst cosine %.6f (text %d)", len(texts), worst, worstIdx)
}

// TestParityEveryShape runs each allowed shape exactly (for range models: the smallest and
// largest batch at the longest sequence) filled with corpus texts that fit it, repeated as
// needed so that Forward cannot pick a smaller shape, and compares every row with the
// sentence-transformers reference: coremltools #2730 reports enumerated-shape models whose
// batch dimension collapses at some shapes only.
func TestParityEveryShape(t *testing.T) {
	modelPath := os.Getenv(EnvModel)
	if modelPath == "" {
		t.Skipf("%s is not set", EnvModel)
	}
	dir := filepath.Dir(testmodel.RepoFile(t, "testdata/fixtures/embeddings.npy"))
	b, err := coreml.New(modelPath)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	texts, err := readFixtures(dir)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := fixtures.ReadEmbeddings(filepath.Join(dir, "embeddings.npy"))
	if err != nil {
		t.Fatal(err)
	}
	H := b.HiddenSize()
	var shapes []plan.Shape
	switch s := b.Shapes().(type) {
	case plan.Enumerated:
		shapes = s
	default:
		for _, rows := range []int{1, s.MaxBatch()} {
			if sh, ok := s.Fit(rows, s.MaxSeq()); ok {
				shapes = append(shapes, sh)
			}
		}
	}
	for _, shape := range shapes {
		var fit []int // texts that fit the shape's sequence length
		for i, tx := range texts {
			if len(tx.IDs) <= shape.Seq {
				fit = append(fit, i)
			}
		}
		if len(fit) == 0 {
			t.Errorf("shape %v: no corpus text fits", shape)
			continue
		}
		in := &backend.Input{Shape: shape, Rows: shape.Batch, IDs: make([]int32, shape.Tokens()), Mask: make([]int32, shape.Tokens())}
		for r := 0; r < shape.Batch; r++ {
			tx := texts[fit[(r*7)%len(fit)]]
			copy(in.IDs[r*shape.Seq:], tx.IDs)
			copy(in.Mask[r*shape.Seq:], tx.Mask)
		}
		out := make([]float32, shape.Batch*shape.Seq*H)
		if err := b.Forward(context.Background(), in, out); err != nil {
			t.Errorf("shape %v: %v", shape, err)
			continue
		}
		worst := 2.0
		for r := 0; r < shape.Batch; r++ {
			i := fit[(r*7)%len(fit)]
			emb := meanPoolNormalize(t, out[r*shape.Seq*H:(r+1)*shape.Seq*H], in.Mask[r*shape.Seq:(r+1)*shape.Seq], H)
			if c := vecmath.Cosine(emb, ref[i]); math.IsNaN(c) || c < worst {
				worst = c
			}
		}
		if math.IsNaN(worst) || worst < minCosine {
			t.Errorf("shape %v: worst cosine %.6f < %v", shape, worst, minCosine)
		} else {
			t.Logf("shape %v: worst cosine %.6f over %d rows", shape, worst, shape.Batch)
		}
	}
}

// TestEveryShapeFiniteOnCPU runs each allowed shape once on the CPU only: NaN from the
// float16 mask trap shows up on some compute units and not others.
func TestEveryShapeFiniteOnCPU(t *testing.T) {
	modelPath := os.Getenv(EnvModel)
	if modelPath == "" {
		t.Skipf("%s is not set", EnvModel)
	}
	b, err := coreml.New(modelPath, coreml.WithComputeUnits(coreml.CPUOnly))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	n := 0
	for r := range b.Prewarm(context.Background()) {
		n++
		if r.Err != nil {
			t.Error(r.Err)
		}
	}
	if n == 0 {
		t.Fatal("prewarm ran no shape")
	}
}

type text struct {
	Text string
	IDs  []int32
	Mask []int32
}

// readFixtures reads the corpus with the token ids the reference tokenizer gave it
// (tokens.jsonl, one line per text and max_len), choosing the max_len the reference
// embeddings were encoded with (embeddings.json encode.max_seq_length). Texts are ordered by
// id, as the rows of embeddings.npy are.
func readFixtures(dir string) ([]text, error) {
	var meta struct {
		Encode struct {
			MaxSeqLength int `json:"max_seq_length"`
		} `json:"encode"`
	}
	if err := readJSON(filepath.Join(dir, "embeddings.json"), &meta); err != nil {
		return nil, err
	}
	corpus, err := fixtures.ReadCorpus(filepath.Join(dir, "corpus.jsonl"))
	if err != nil {
		return nil, err
	}
	texts := fixtures.Texts(corpus)
	out := make([]text, len(texts))
	seen := 0
	err = fixtures.EachJSONLine(filepath.Join(dir, "tokens.jsonl"), func(line []byte) error {
		var rec struct {
			ID            int     `json:"id"`
			MaxLen        int     `json:"max_len"`
			IDs           []int32 `json:"ids"`
			AttentionMask []int32 `json:"attention_mask"`
		}
		if err := json.Unmarshal(line, &rec); err != nil {
			return err
		}
		if rec.MaxLen != meta.Encode.MaxSeqLength {
			return nil
		}
		if rec.ID < 0 || rec.ID >= len(out) || len(rec.IDs) == 0 || len(rec.IDs) != len(rec.AttentionMask) {
			return fmt.Errorf("bad token record for id %d", rec.ID)
		}
		out[rec.ID] = text{Text: texts[rec.ID], IDs: rec.IDs, Mask: rec.AttentionMask}
		seen++
		return nil
	})
	if err != nil {
		return nil, err
	}
	if seen != len(out) {
		return nil, fmt.Errorf("%s: %d token records with max_len %d for %d texts", dir, seen, meta.Encode.MaxSeqLength, len(out))
	}
	return out, nil
}

func readJSON(path string, v interface{}) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// meanPoolNormalize is sentence-transformers' pooling for all-MiniLM-L6-v2 (package pooling):
// the mean of the hidden states of masked-in tokens, L2-normalized.
func meanPoolNormalize(t *testing.T, hidden []float32, mask []int32, H int) []float32 {
	v := make([]float32, H)
	if err := pooling.MeanPool(v, hidden, mask, 1, len(mask), H); err != nil {
		t.Fatal(err)
	}
	pooling.Normalize(v)
	return v
}

func abbrev(s string) string {
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}
