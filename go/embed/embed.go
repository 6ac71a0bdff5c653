// Package embed computes sentence embeddings with all-MiniLM-L6-v2, like
// SentenceTransformer("all-MiniLM-L6-v2").encode(texts, normalize_embeddings=True).
//
// An Embedder tokenizes texts (package tokenizer), groups them into batches of similar
// length (package plan), runs the encoder on a backend (pure-Go CPU or Core ML), and
// mean-pools and L2-normalizes each text's token states (package pooling). The result is one
// unit-length 384-dimensional vector per text, in input order, matching sentence-transformers
// to a cosine similarity of at least 0.9999.
//
// Three forms give the same vectors: Embed (texts in, [][]float32 out), Encode (also the
// quantized forms of package quantize, token counts and truncation flags), and Stream (texts
// from a TextSource, results to a callback in input order, in bounded memory). Options given
// to New set the defaults; CallOptions adjust one call, as encode's keyword arguments do.
//
// The package reads no environment variables and writes nothing at import or in New: the
// model location comes from options (FromEnv opts in to $MINILM_MODEL_DIR and
// $MINILM_COREML_MODEL).
package embed

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"sync"

	"github.com/minilm-coreml/minilm/go/backend"
	"github.com/minilm-coreml/minilm/go/internal/vecmath"
	"github.com/minilm-coreml/minilm/go/plan"
	"github.com/minilm-coreml/minilm/go/pooling"
	"github.com/minilm-coreml/minilm/go/quantize"
)

// Dim is the length of every embedding.
const Dim = 384

// ErrClosed is returned by Embed after Close.
var ErrClosed = errors.New("embed: embedder is closed")

// textEncoder turns a text into token ids, at most maxLen of them, special tokens included,
// and tells whether tokens beyond maxLen were dropped. The tokenizer package provides it in
// New; tests use fakes.
type textEncoder interface {
	encode(text string, maxLen int) (ids []int32, truncated bool, err error)
}

// Embedder turns texts into embeddings. It is safe for concurrent use by multiple
// goroutines; concurrent calls share the backend.
type Embedder struct {
	tok       textEncoder
	be        backend.Backend
	maxSeq    int
	batchSize int
	workers   int
	// fallback, if set, says why Auto runs the CPU backend although a Core ML model was
	// given, e.g. "coreml unavailable: requires macOS 15".
	fallback string

	mu     sync.RWMutex // held for reading by calls, for writing by Close
	closed bool
}

// Backend names the engine in use, e.g. "cpu", "cpu(int8)" or "coreml(cpuAndNeuralEngine)".
// When Auto was given a Core ML model but runs the CPU, it says why, e.g.
// "cpu (coreml unavailable: requires macOS 15)" or
// "cpu(int8) (coreml not used: precision int8 runs on the CPU backend)".
func (e *Embedder) Backend() string {
	if e.fallback != "" {
		return fmt.Sprintf("%s (%s)", e.be.Name(), e.fallback)
	}
	return e.be.Name()
}

// Dim returns the length of every float32 embedding, 384.
func (e *Embedder) Dim() int { return e.be.HiddenSize() }

// MaxSeqLength returns the default token limit beyond which texts are truncated.
func (e *Embedder) MaxSeqLength() int { return e.maxSeq }

// Close releases the backend. It waits for running calls; later calls fail with ErrClosed.
// Close is idempotent.
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

// Embed returns one embedding per text, in the order of texts: unit length unless
// Normalize(false) is given. An empty list gives an empty, non-nil result. opts adjust this
// call only (see CallOption); Embed returns float32 vectors, so OutputPrecision must be
// quantize.Float32 (use Encode for the quantized forms).
//
// Texts longer than the token limit are truncated, as sentence-transformers does.
// Invalid UTF-8 is not an error: each invalid byte reads as U+FFFD, which the tokenizer
// drops like Python's bytes.decode("utf-8", errors="replace") followed by Hugging Face
// tokenizers would (see package tokenizer).
//
// Embed checks ctx between batches; once ctx is done it stops and returns ctx.Err(). A
// backend that produces a NaN or infinite value is an error, never a vector. Memory stays
// bounded for long lists: only the token ids of all texts and the hidden states of the
// batches in flight are held besides the result; Stream bounds the token ids too.
func (e *Embedder) Embed(ctx context.Context, texts []string, opts ...CallOption) ([][]float32, error) {
	res, err := e.encode(ctx, texts, opts, true)
	if err != nil {
		return nil, err
	}
	out := make([][]float32, len(res))
	for i := range res {
		out[i] = res[i].Float32
	}
	return out, nil
}

// Encode is Embed with everything sentence-transformers' encode can give: the embedding in
// the requested OutputPrecision, and per text its token count and whether it was truncated.
func (e *Embedder) Encode(ctx context.Context, texts []string, opts ...CallOption) ([]Embedding, error) {
	return e.encode(ctx, texts, opts, false)
}

func (e *Embedder) encode(ctx context.Context, texts []string, opts []CallOption, floatOnly bool) ([]Embedding, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.closed {
		return nil, ErrClosed
	}
	c, err := e.callConfig(opts)
	if err != nil {
		return nil, err
	}
	if floatOnly && c.precision != quantize.Float32 {
		return nil, fmt.Errorf("embed: Embed returns float32 vectors, not %v: use Encode or Stream for other output precisions", c.precision)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := make([]Embedding, len(texts))
	if len(texts) == 0 {
		return out, nil
	}
	toks, err := e.tokenize(ctx, texts, c.maxSeq)
	if err != nil {
		return nil, err
	}
	prog := newProgress(c.progress, len(texts))
	vecs, err := e.compute(ctx, toks, 0, &c, prog)
	if err != nil {
		return nil, err
	}
	q, err := newQuantizer(&c, vecs)
	if err != nil {
		return nil, err
	}
	for i, v := range vecs {
		out[i].Tokens = len(toks[i].ids)
		out[i].Truncated = toks[i].truncated
		if err := q.apply(&out[i], v); err != nil {
			return nil, fmt.Errorf("embed: text %d: %w", i, err)
		}
	}
	return out, nil
}

// TokenCount is what the tokenizer makes of one text under a call's options.
type TokenCount struct {
	// Tokens is the number of tokens the model reads, [CLS] and [SEP] included.
	Tokens int
	// Truncated tells that the text has more tokens than the limit.
	Truncated bool
}

// CountTokens tokenizes texts as Encode would with the same options (MaxSeqLength is the
// one that matters) without running the encoder: for usage accounting and for admission
// control by a token budget. It is cheap: the tokenizer stops reading a text one token past
// the limit.
func (e *Embedder) CountTokens(texts []string, opts ...CallOption) ([]TokenCount, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.closed {
		return nil, ErrClosed
	}
	c, err := e.callConfig(opts)
	if err != nil {
		return nil, err
	}
	out := make([]TokenCount, len(texts))
	for i, text := range texts {
		t, err := e.tokenizeOne(text, c.maxSeq)
		if err != nil {
			return nil, fmt.Errorf("embed: tokenizing text %d: %w", i, err)
		}
		out[i] = TokenCount{Tokens: len(t.ids), Truncated: t.truncated}
	}
	return out, nil
}

// tokenized is one text's token ids, unpadded.
type tokenized struct {
	ids       []int32
	truncated bool
}

// tokenize encodes every text in chunks spread over the workers, checking ctx between
// chunks. It keeps only the ids: the mask of an unpadded text is all ones and its type ids
// all zeros for single-sentence input.
func (e *Embedder) tokenize(ctx context.Context, texts []string, maxSeq int) ([]tokenized, error) {
	const chunk = 256
	toks := make([]tokenized, len(texts))
	n := (len(texts) + chunk - 1) / chunk
	err := e.parallel(ctx, n, func(ctx context.Context, _ *worker, k int) error {
		end := (k + 1) * chunk
		if end > len(texts) {
			end = len(texts)
		}
		for i := k * chunk; i < end; i++ {
			t, err := e.tokenizeOne(texts[i], maxSeq)
			if err != nil {
				return fmt.Errorf("embed: tokenizing text %d: %w", i, err)
			}
			toks[i] = t
		}
		return nil
	})
	return toks, err
}

func (e *Embedder) tokenizeOne(text string, maxSeq int) (tokenized, error) {
	ids, truncated, err := e.tok.encode(text, maxSeq)
	if err != nil {
		return tokenized{}, err
	}
	if len(ids) > maxSeq {
		return tokenized{}, fmt.Errorf("tokenizer returned %d tokens, limit %d", len(ids), maxSeq)
	}
	return tokenized{ids: ids, truncated: truncated}, nil
}

// compute runs the encoder on toks and returns one pooled vector per text, normalized if c
// says so. first is the index of toks[0] in the caller's input, for error messages.
func (e *Embedder) compute(ctx context.Context, toks []tokenized, first int, c *callConfig, prog *progress) ([][]float32, error) {
	lengths := make([]int, len(toks))
	for i, t := range toks {
		lengths[i] = len(t.ids)
	}
	batches, err := plan.Plan(lengths, c.batchSize, e.be.Shapes())
	if err != nil {
		return nil, fmt.Errorf("embed: planning batches for %s: %w", e.be.Name(), err)
	}
	out := make([][]float32, len(toks))
	// Largest batches first, so that workers finish together and each worker's hidden-state
	// buffer is allocated once, at its largest size.
	sort.SliceStable(batches, func(i, j int) bool { return batches[i].Shape.Tokens() > batches[j].Shape.Tokens() })
	err = e.parallel(ctx, len(batches), func(ctx context.Context, w *worker, k int) error {
		b := batches[k]
		vecs, err := w.run(ctx, e.be, b, toks)
		if err != nil {
			return err
		}
		for r, i := range b.Indices {
			if bad := nonFinite(vecs[r]); bad >= 0 {
				return fmt.Errorf("embed: the %s backend produced a non-finite value (%v) in the embedding of text %d: the model weights or the engine are broken",
					e.be.Name(), vecs[r][bad], first+i)
			}
			if c.normalize {
				pooling.Normalize(vecs[r])
			}
			out[i] = vecs[r]
		}
		prog.add(len(b.Indices))
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// nonFinite returns the index of the first NaN or infinite value of v, or -1.
func nonFinite(v []float32) int {
	for i, x := range v {
		if x != x || x > math.MaxFloat32 || x < -math.MaxFloat32 {
			return i
		}
	}
	return -1
}

// progress serializes a call's Progress callback.
type progress struct {
	mu          sync.Mutex
	f           func(done, total int)
	done, total int
}

func newProgress(f func(done, total int), total int) *progress {
	return &progress{f: f, total: total}
}

func (p *progress) add(n int) {
	if p == nil || p.f == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done += n
	p.f(p.done, p.total)
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

// run pads one batch, runs the backend and mean-pools each row right away, so the hidden
// states are dropped before the next batch. The vectors are not normalized.
func (w *worker) run(ctx context.Context, be backend.Backend, b plan.Batch, toks []tokenized) ([][]float32, error) {
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
		n := copy(row, toks[i].ids)
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
	flat := make([]float32, rows*dim)
	if err := pooling.MeanPool(flat, hidden, w.mask, rows, shape.Seq, dim); err != nil {
		return nil, fmt.Errorf("embed: pooling a %v batch: %w", shape, err)
	}
	vecs := make([][]float32, rows)
	for r := range vecs {
		vecs[r] = flat[r*dim : (r+1)*dim : (r+1)*dim]
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
	return float32(vecmath.Cosine(a, b))
}
