package index

import (
	"math"
	"math/rand"
	"sort"
	"testing"

	"github.com/minilm-coreml/minilm/go/internal/vecmath"
)

func randVec(r *rand.Rand, dim int) []float32 {
	v := make([]float32, dim)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return v
}

// bruteForce scores every document in float64 and sorts them all.
func bruteForce(docs [][]float32, q []float32, k int) []int {
	type sd struct {
		doc   int
		score float64
	}
	all := make([]sd, len(docs))
	for i, d := range docs {
		all[i] = sd{i, vecmath.Cosine(q, d)}
	}
	sort.SliceStable(all, func(a, b int) bool { return all[a].score > all[b].score })
	if k > len(all) {
		k = len(all)
	}
	out := make([]int, k)
	for i := range out {
		out[i] = all[i].doc
	}
	return out
}

func TestSearchMatchesBruteForce(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for _, tc := range []struct{ docs, dim, k int }{
		{1, 3, 1}, {10, 5, 3}, {10, 5, 10}, {10, 5, 20}, {500, 384, 10}, {500, 384, 100}, {1000, 7, 1},
	} {
		docs := make([][]float32, tc.docs)
		idx := New(tc.dim, 0)
		for i := range docs {
			docs[i] = randVec(r, tc.dim)
			if err := idx.Add(string(rune('a'+i%26)), docs[i]); err != nil {
				t.Fatal(err)
			}
		}
		for qi := 0; qi < 20; qi++ {
			q := randVec(r, tc.dim)
			hits, err := idx.Search(q, tc.k)
			if err != nil {
				t.Fatal(err)
			}
			want := bruteForce(docs, q, tc.k)
			if len(hits) != len(want) {
				t.Fatalf("%+v: %d hits, want %d", tc, len(hits), len(want))
			}
			for i := range want {
				if hits[i].Doc != want[i] {
					// float32 vs float64 rounding may swap near-equal scores; accept only that.
					if math.Abs(float64(hits[i].Score)-float64(scoreOf(docs, q, want[i]))) > 1e-5 {
						t.Fatalf("%+v query %d rank %d: doc %d (%.6f), want doc %d", tc, qi, i, hits[i].Doc, hits[i].Score, want[i])
					}
				}
				if hits[i].ID != idx.ID(hits[i].Doc) {
					t.Fatalf("hit id %q, want %q", hits[i].ID, idx.ID(hits[i].Doc))
				}
				if i > 0 && hits[i].Score > hits[i-1].Score {
					t.Fatalf("%+v: hits not sorted at %d", tc, i)
				}
			}
		}
	}
}

func scoreOf(docs [][]float32, q []float32, d int) float32 {
	return float32(vecmath.Cosine(q, docs[d]))
}

func TestTiesAndEdgeCases(t *testing.T) {
	idx := New(2, 4)
	for i, v := range [][]float32{{1, 0}, {0, 1}, {2, 0}, {0, 0}, {3, 0}} {
		if err := idx.Add(string(rune('A'+i)), v); err != nil {
			t.Fatal(err)
		}
	}
	hits, err := idx.Search([]float32{5, 0}, 3)
	if err != nil {
		t.Fatal(err)
	}
	// A, C and E are all at cosine 1: insertion order breaks the tie.
	got := []string{hits[0].ID, hits[1].ID, hits[2].ID}
	if got[0] != "A" || got[1] != "C" || got[2] != "E" {
		t.Fatalf("tie order %v, want [A C E]", got)
	}
	if math.Abs(float64(hits[0].Score)-1) > 1e-6 {
		t.Fatalf("score %v, want 1", hits[0].Score)
	}
	all, _ := idx.Search([]float32{0, 1}, 99)
	if len(all) != 5 || all[0].ID != "B" || all[4].Score != 0 {
		t.Fatalf("k > len: %+v", all)
	}
	if h, _ := idx.Search([]float32{1, 0}, 0); len(h) != 0 {
		t.Fatalf("k=0 returned %d hits", len(h))
	}
	if _, err := idx.Search([]float32{1}, 1); err == nil {
		t.Fatal("wrong query width accepted")
	}
	if err := idx.Add("x", []float32{1, 2, 3}); err == nil {
		t.Fatal("wrong vector width accepted")
	}
}

func TestSearchBatchMatchesSearch(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	idx := New(16, 0)
	for i := 0; i < 300; i++ {
		if err := idx.Add("d", randVec(r, 16)); err != nil {
			t.Fatal(err)
		}
	}
	qs := make([][]float32, 37)
	for i := range qs {
		qs[i] = randVec(r, 16)
	}
	for _, workers := range []int{0, 1, 3, 100} {
		batch, err := idx.SearchBatch(qs, 10, workers)
		if err != nil {
			t.Fatal(err)
		}
		for i, q := range qs {
			one, _ := idx.Search(q, 10)
			for j := range one {
				if one[j] != batch[i][j] {
					t.Fatalf("workers=%d query %d rank %d: %+v vs %+v", workers, i, j, batch[i][j], one[j])
				}
			}
		}
	}
}

func BenchmarkSearchSciFactSize(b *testing.B) {
	r := rand.New(rand.NewSource(3))
	idx := New(384, 5183)
	for i := 0; i < 5183; i++ {
		_ = idx.Add("d", randVec(r, 384))
	}
	q := randVec(r, 384)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_, _ = idx.Search(q, 100)
	}
}
