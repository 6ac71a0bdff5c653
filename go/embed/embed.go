// Package embed computes sentence embeddings with all-MiniLM-L6-v2, like
// SentenceTransformer("all-MiniLM-L6-v2").encode(texts, normalize_embeddings=True).
//
// An Embedder tokenizes texts (package tokenizer), groups them into batches of similar
// length (package plan), runs the encoder on a backend (pure-Go CPU or Core ML), and
// mean-pools and L2-normalizes each text's token states (package pooling). The result is one
// unit-length 384-dimensional vector per text, in input order, matching sentence-transformers
// to a cosine similarity of at least 0.9999.
package embed

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"sync"

	"github.com/minilm-coreml/minilm/go/backend"
	"github.com/minilm-coreml/minilm/go/plan"
	"github.com/minilm-coreml/minilm/go/pooling"
)

// Dim is the length of every embedding.
const Dim = 384

// ErrClosed is returned by Embed after Close.
var ErrClosed = errors.New("embed: embedder is closed")

// textEncoder turns a text into token ids, at most maxLen of them, special tokens included.
// The tokenizer package provides it in New; tests use fakes.
type textEncoder interface {
	encode(text string, maxLen int) ([]int32, error)
}

// Embedder turns texts into embeddings. It is safe for concurrent use by multiple
// goroutines; concurrent Embed calls share the backend.
type Embedder struct {
	tok       textEncoder
	be        backend.Backend
	maxSeq    int
	batchSize int
	workers   int

	mu     sync.RWMutex // held for reading by Embed, for writing by Close
	closed bool
}

// Backend names the engine in use, e.g. "cpu" or "coreml(cpuAndNeuralEngine)".
func (e *Embedder) Backend() string { return e.be.Name() }

// Dim returns the length of every embedding, 384.
func (e *Embedder) Dim() int { return e.be.HiddenSize() }

// MaxSeqLength returns the token limit beyond which texts are truncated.
func (e *Embedder) MaxSeqLength() int { return e.maxSeq }

// Close releases the backend. It waits for running Embed calls; later calls fail with
// ErrClosed. Close is idempotent.
func (e *Embedder) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil
	}
	e.closed = true
	if err := e.be.Close(); err != nil {
		return fmt.Errorf("embed: closing %s backend: %w", e.be.Name(), err)
	}
	return nil
}

// Embed returns one unit-length embedding per text, in the order of texts. An empty list
// gives an empty, non-nil result.
//
// Texts longer than MaxSeqLength tokens are truncated, as sentence-transformers does.
// Invalid UTF-8 is not an error: each invalid byte reads as U+FFFD, which the tokenizer
// drops like Python's bytes.decode("utf-8", errors="replace") followed by Hugging Face
// tokenizers would (see package tokenizer).
//
// Embed checks ctx between batches; once ctx is done it stops and returns ctx.Err(). Memory
// stays bounded for long lists: only the token ids of all texts and the hidden states of the
// batches in flight are held besides the result.
func (e *Embedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.closed {
		return nil, ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := make([][]float32, len(texts))
	if len(texts) == 0 {
		return out, nil
	}

	ids, err := e.tokenize(ctx, texts)
	if err != nil {
		return nil, err
	}
	lengths := make([]int, len(ids))
	for i, t := range ids {
		lengths[i] = len(t)
	}
	batches, err := plan.Plan(lengths, e.batchSize, e.be.Shapes())
	if err != nil {
		return nil, fmt.Errorf("embed: planning batches for %s: %w", e.be.Name(), err)
	}

	// Largest batches first, so that workers finish together and each worker's hidden-state
	// buffer is allocated once, at its largest size.
	sort.SliceStable(batches, func(i, j int) bool { return batches[i].Shape.Tokens() > batches[j].Shape.Tokens() })
	err = e.parallel(ctx, len(batches), func(ctx context.Context, w *worker, k int) error {
		b := batches[k]
		vecs, err := w.run(ctx, e.be, b, ids)
		if err != nil {
			return err
		}
		for r, i := range b.Indices {
			out[i] = vecs[r]
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// tokenize encodes every text in chunks spread over the workers, checking ctx between
// chunks. It keeps only the ids: the mask of an unpadded text is all ones and its type ids
// all zeros for single-sentence input.
func (e *Embedder) tokenize(ctx context.Context, texts []string) ([][]int32, error) {
	const chunk = 256
	ids := make([][]int32, len(texts))
	n := (len(texts) + chunk - 1) / chunk
	err := e.parallel(ctx, n, func(ctx context.Context, _ *worker, k int) error {
		end := (k + 1) * chunk
		if end > len(texts) {
			end = len(texts)
		}
		for i := k * chunk; i < end; i++ {
			tids, err := e.tok.encode(texts[i], e.maxSeq)
			if err != nil {
				return fmt.Errorf("embed: tokenizing text %d: %w", i, err)
			}
			if len(tids) > e.maxSeq {
				return fmt.Errorf("embed: tokenizer returned %d tokens for text %d, limit %d", len(tids), i, e.maxSeq)
			}
			ids[i] = tids
		}
		return nil
	})
	return ids, err
}

// parallel calls f for k = 0..n-1 on up to e.workers goroutines, each with its own worker
// state. It stops handing out work at the first error or when ctx is done, and returns
// ctx.Err() if the caller's ctx ended, else the first error.
func (e *Embedder) parallel(ctx context.Context, n int, f func(context.Context, *worker, int) error) error {
	workers := e.workers
	if workers > n {
		workers = n
	}
	ctx2, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan int)
	go func() {
		defer close(next)
		for k := 0; k < n; k++ {
			select {
			case next <- k:
			case <-ctx2.Done():
				return
			}
		}
	}()
	var (
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	for g := 0; g < workers; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var w worker
			for k := range next {
				if ctx2.Err() != nil {
					continue // drain
				}
				if err := f(ctx2, &w, k); err != nil {
					errOnce.Do(func() { firstErr = err })
					cancel()
				}
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	return firstErr
}

// worker holds the buffers one goroutine reuses across batches.
type worker struct {
	ids, mask, types []int32
	hidden           []float32
}

// run pads one batch, runs the backend and pools each row right away, so the hidden states
// are dropped before the next batch.
func (w *worker) run(ctx context.Context, be backend.Backend, b plan.Batch, ids [][]int32) ([][]float32, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	shape, rows := b.Shape, len(b.Indices)
	slots := shape.Tokens()
	w.ids = grow32(w.ids, slots)
	w.mask = grow32(w.mask, slots)
	w.types = grow32(w.types, slots)
	for r, i := range b.Indices {
		row := w.ids[r*shape.Seq : (r+1)*shape.Seq]
		n := copy(row, ids[i])
		m := w.mask[r*shape.Seq : (r+1)*shape.Seq]
		for c := range m {
			m[c] = 0
			if c < n {
				m[c] = 1
			}
		}
	}
	in := &backend.Input{Shape: shape, Rows: rows, IDs: w.ids, Mask: w.mask, TypeIDs: w.types}
	dim := be.HiddenSize()
	need := rows * shape.Seq * dim
	if cap(w.hidden) < need {
		w.hidden = make([]float32, need)
	}
	hidden := w.hidden[:need]
	if err := be.Forward(ctx, in, hidden); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, ctxErr
		}
		return nil, fmt.Errorf("embed: %s backend on a %v batch: %w", be.Name(), shape, err)
	}
	vecs, err := pooling.Embed(hidden, w.mask, rows, shape.Seq, dim)
	if err != nil {
		return nil, fmt.Errorf("embed: pooling a %v batch: %w", shape, err)
	}
	return vecs, nil
}

// grow32 returns a zeroed slice of n values, reusing buf's memory when it is large enough.
func grow32(buf []int32, n int) []int32 {
	if cap(buf) < n {
		return make([]int32, n)
	}
	buf = buf[:n]
	for i := range buf {
		buf[i] = 0
	}
	return buf
}

// Cosine returns the cosine similarity of a and b; it panics if their lengths differ and is 0
// if either is all zeros. For Embed's unit-length vectors it equals their dot product.
func Cosine(a, b []float32) float32 {
	if len(a) != len(b) {
		panic(fmt.Sprintf("embed: Cosine of vectors of length %d and %d", len(a), len(b)))
	}
	var dot, na, nb float64
	for i := range a {
		x, y := float64(a[i]), float64(b[i])
		dot += x * y
		na += x * x
		nb += y * y
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return float32(dot / math.Sqrt(na*nb))
}
