package quality

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/minilm-coreml/minilm/go/internal/testmodel"
)

func TestSpread(t *testing.T) {
	tests := []struct {
		total, n int
		want     []int
	}{
		{5, 0, []int{0, 1, 2, 3, 4}},
		{5, 9, []int{0, 1, 2, 3, 4}},
		{10, 3, []int{0, 3, 6}},
		{7, 2, []int{0, 3}},
	}
	for _, tt := range tests {
		got := Spread(tt.total, tt.n)
		if len(got) != len(tt.want) {
			t.Errorf("Spread(%d, %d) = %v, want %v", tt.total, tt.n, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("Spread(%d, %d) = %v, want %v", tt.total, tt.n, got, tt.want)
				break
			}
		}
	}
}

func TestCosine(t *testing.T) {
	want := [][]float32{{1, 0}, {0, 1}, {1, 1}}
	tests := []struct {
		name      string
		got       [][]float32
		mean, min float64
		err       bool
	}{
		{"identical", [][]float32{{2, 0}, {0, 3}, {1, 1}}, 1, 1, false},
		{"one orthogonal", [][]float32{{1, 0}, {1, 0}, {1, 1}}, 2.0 / 3, 0, false},
		{"NaN counts as -1", [][]float32{{1, 0}, {float32(math.NaN()), 0}, {1, 1}}, 1.0 / 3, -1, false},
		{"count mismatch", [][]float32{{1, 0}}, 0, 0, true},
		{"dimension mismatch", [][]float32{{1, 0}, {0, 1}, {1}}, 0, 0, true},
	}
	for _, tt := range tests {
		mean, min, err := Cosine(want, tt.got)
		if (err != nil) != tt.err {
			t.Errorf("%s: err %v, want error %v", tt.name, err, tt.err)
			continue
		}
		if !tt.err && (math.Abs(mean-tt.mean) > 1e-9 || math.Abs(min-tt.min) > 1e-9) {
			t.Errorf("%s: mean %v min %v, want %v %v", tt.name, mean, min, tt.mean, tt.min)
		}
	}
}

func TestSTSBSpearman(t *testing.T) {
	p := filepath.Join(t.TempDir(), "stsb.tsv")
	tsv := "score\tsentence1\tsentence2\n5.0\ta\tb\n0.5\ta\tc\n3.0\td\tb\n"
	if err := os.WriteFile(p, []byte(tsv), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := LoadSTSB(p)
	if err != nil {
		t.Fatal(err)
	}
	if s.Pairs() != 3 || len(s.Sentences) != 4 { // a, b, c, d
		t.Fatalf("%d pairs, sentences %q", s.Pairs(), s.Sentences)
	}
	// cos(a,b) = 1, cos(a,c) = 0, cos(d,b) = 0.6: same order as the gold scores.
	vecs := [][]float32{{1, 0}, {1, 0}, {0, 1}, {0.6, 0.8}}
	if r, err := s.Spearman(vecs); err != nil || math.Abs(r-1) > 1e-12 {
		t.Errorf("Spearman = %v, %v; want 1", r, err)
	}
	// Swap the similarities of the first two pairs: ranks (1,3,2) against gold (3,1,2): -1.
	vecs = [][]float32{{1, 0}, {0, 1}, {1, 0}, {0.6, 0.8}}
	if r, err := s.Spearman(vecs); err != nil || math.Abs(r+1) > 1e-12 {
		t.Errorf("Spearman = %v, %v; want -1", r, err)
	}
	if _, err := s.Spearman(vecs[:3]); err == nil {
		t.Error("three vectors for four sentences accepted")
	}
}

// The committed reference loads, and its vectors score against themselves as identical.
func TestLoadReference(t *testing.T) {
	dir := filepath.Dir(testmodel.RepoFile(t, "testdata/fixtures/embeddings.npy"))
	r, err := LoadReference(dir, 50)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Texts) != 50 || len(r.Vectors) != 50 || len(r.Vectors[0]) != 384 {
		t.Fatalf("%d texts, %d vectors of %d", len(r.Texts), len(r.Vectors), len(r.Vectors[0]))
	}
	if mean, min, err := Cosine(r.Vectors, r.Vectors); err != nil || min < 0.9999999 || mean > 1+1e-9 {
		t.Errorf("self cosine mean %v min %v, %v", mean, min, err)
	}
	if _, err := FixturesDir(t.TempDir(), ""); err == nil {
		t.Error("a --fixtures directory without embeddings.npy accepted")
	}
}
