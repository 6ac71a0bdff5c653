// Package index is an exact (brute-force) cosine-similarity index over float32 vectors.
//
// Vectors are stored L2-normalized in one contiguous row-major matrix, so a query's cosine
// similarity to every document is a dot product over contiguous memory. Search keeps the k
// best documents in a min-heap; SearchBatch spreads queries over goroutines. This is the
// retrieval half of the RAG benchmark: with exact search, retrieval quality depends on the
// embeddings alone, as in MTEB's evaluation.
package index

import (
	"container/heap"
	"fmt"
	"math"
	"sort"
	"sync"
)

// Flat is an exact cosine index. The zero value is not usable; call New.
type Flat struct {
	dim  int
	data []float32 // len(ids)*dim values, row i is document i, unit norm (or zero)
	ids  []string
}

// New returns an empty index for vectors of dim values; capacity preallocates room for that
// many documents.
func New(dim, capacity int) *Flat {
	if dim < 1 {
		panic(fmt.Sprintf("index: dimension %d < 1", dim))
	}
	if capacity < 0 {
		capacity = 0
	}
	return &Flat{dim: dim, data: make([]float32, 0, capacity*dim), ids: make([]string, 0, capacity)}
}

// Dim is the vector width.
func (f *Flat) Dim() int { return f.dim }

// Len is the number of documents.
func (f *Flat) Len() int { return len(f.ids) }

// ID returns the id of document i.
func (f *Flat) ID(i int) string { return f.ids[i] }

// Add appends a document. The vector is copied and normalized to unit length; a zero vector
// stays zero and so scores 0 against every query.
func (f *Flat) Add(id string, vec []float32) error {
	if len(vec) != f.dim {
		return fmt.Errorf("index: vector for %q has %d values, want %d", id, len(vec), f.dim)
	}
	start := len(f.data)
	f.data = append(f.data, vec...)
	normalize(f.data[start:])
	f.ids = append(f.ids, id)
	return nil
}

// Hit is one search result.
type Hit struct {
	Doc   int     // position of the document in insertion order
	ID    string  // its id
	Score float32 // cosine similarity to the query
}

// Search returns the k documents most similar to q, best first. Equal scores are ordered by
// insertion order (earlier first), so results are deterministic. k larger than Len returns
// every document.
func (f *Flat) Search(q []float32, k int) ([]Hit, error) {
	if len(q) != f.dim {
		return nil, fmt.Errorf("index: query has %d values, want %d", len(q), f.dim)
	}
	if k > len(f.ids) {
		k = len(f.ids)
	}
	if k <= 0 {
		return nil, nil
	}
	qn := make([]float32, f.dim)
	copy(qn, q)
	normalize(qn)

	h := make(minHeap, 0, k)
	dim := f.dim
	for i := range f.ids {
		s := dot(qn, f.data[i*dim:(i+1)*dim:(i+1)*dim])
		switch {
		case len(h) < k:
			heap.Push(&h, Hit{Doc: i, Score: s})
		case s > h[0].Score: // ties keep the earlier document already in the heap
			h[0] = Hit{Doc: i, Score: s}
			heap.Fix(&h, 0)
		}
	}
	out := []Hit(h)
	sort.Slice(out, func(a, b int) bool { return better(out[a], out[b]) })
	for i := range out {
		out[i].ID = f.ids[out[i].Doc]
	}
	return out, nil
}

// SearchBatch runs Search for every query, spreading queries over workers goroutines (at
// least 1). results[i] belongs to queries[i].
func (f *Flat) SearchBatch(queries [][]float32, k, workers int) ([][]Hit, error) {
	if workers < 1 {
		workers = 1
	}
	if workers > len(queries) {
		workers = len(queries)
	}
	results := make([][]Hit, len(queries))
	errs := make([]error, len(queries))
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				results[i], errs[i] = f.Search(queries[i], k)
			}
		}()
	}
	for i := range queries {
		next <- i
	}
	close(next)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("query %d: %w", i, err)
		}
	}
	return results, nil
}

// better orders hits best first: higher score, then earlier document.
func better(a, b Hit) bool {
	if a.Score != b.Score {
		return a.Score > b.Score
	}
	return a.Doc < b.Doc
}

// minHeap keeps the worst retained hit at the root.
type minHeap []Hit

func (h minHeap) Len() int            { return len(h) }
func (h minHeap) Less(i, j int) bool  { return better(h[j], h[i]) }
func (h minHeap) Swap(i, j int)       { h[i], h[j] = h[j], h[i] }
func (h *minHeap) Push(x interface{}) { *h = append(*h, x.(Hit)) }
func (h *minHeap) Pop() interface{} {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// dot is a 4-way unrolled float32 dot product (independent accumulators let the CPU overlap
// the additions).
func dot(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

func normalize(v []float32) {
	var ss float64
	for _, x := range v {
		ss += float64(x) * float64(x)
	}
	if ss == 0 {
		return
	}
	inv := 1 / math.Sqrt(ss)
	for i := range v {
		v[i] = float32(float64(v[i]) * inv)
	}
}
