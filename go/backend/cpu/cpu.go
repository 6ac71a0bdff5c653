// Package cpu is a pure-Go (plus amd64 and arm64 assembly) backend that runs the BERT encoder
// of all-MiniLM-L6-v2 on the CPU.
//
// Weights are read once from model.safetensors and packed into the layout of the SGEMM
// micro-kernel (assembly: AVX2+FMA or AVX-512 on amd64 when the CPU has it, NEON on arm64;
// portable Go otherwise). All real tokens of a batch are folded into the rows of each linear
// layer, so padding costs nothing there; only attention looks at sequence boundaries, and a
// padded key never enters a softmax. The hidden state of padded positions is therefore not
// computed: Forward writes zeros there (pooling ignores them).
//
// Work runs on a fixed set of worker goroutines per backend (WithThreads, default
// GOMAXPROCS): concurrent Forward calls share them instead of multiplying goroutines. Between
// the parallel loops of a call the workers poll for the next loop instead of parking (see
// kernels.Pool), so after each Forward they keep their cores busy for up to 200 µs more.
//
// Memory: the packed weights take about 90 MB (fp32). A Forward call encodes its rows in
// chunks of at most 2048 real tokens with an activation arena of about 15 KiB per token
// (≤ 31 MiB); at most one arena per thread is kept for reuse between calls.
package cpu

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync/atomic"

	"github.com/minilm-coreml/minilm/go/backend"
	"github.com/minilm-coreml/minilm/go/internal/cpuknobs"
	"github.com/minilm-coreml/minilm/go/internal/kernels"
	"github.com/minilm-coreml/minilm/go/plan"
)

// Default limits.
const (
	DefaultMaxBatch = 64
	// chunkTokens bounds the real tokens encoded at once; rows are independent, so a larger
	// batch is run in chunks of whole rows, keeping working memory bounded.
	chunkTokens = 2048
)

// Option configures New.
type Option func(*options)

type options struct {
	maxBatch  int
	maxSeq    int
	threads   int
	pureGo    bool
	fixed     bool
	precision Precision
	int8Level int
}

// WithMaxBatch sets the largest batch Shapes allows (default 64).
func WithMaxBatch(n int) Option { return func(o *options) { o.maxBatch = n } }

// WithMaxSeq lowers the longest sequence Shapes allows (default and upper bound: the model's
// max_position_embeddings, 512).
func WithMaxSeq(n int) Option { return func(o *options) { o.maxSeq = n } }

// WithThreads sets how many goroutines compute in parallel for this backend, shared by all
// concurrent Forward calls (default runtime.GOMAXPROCS(0)).
func WithThreads(n int) Option { return func(o *options) { o.threads = n } }

// withFixedShapes makes Forward compute every position of the padded input, padding
// included, as an engine with a fixed input shape does; padded keys are still masked, so the
// vectors do not change, only the cost. By default the backend skips padded positions. Only
// the benchmarks reach it, through go/internal/cpuknobs; it needs right-padded rows.
func withFixedShapes() Option { return func(o *options) { o.fixed = true } }

func init() { cpuknobs.FixedShapes = func() interface{} { return withFixedShapes() } }

// withPureGo disables the assembly kernels (for tests).
func withPureGo() Option { return func(o *options) { o.pureGo = true } }

// Backend runs the encoder on the CPU. It is safe for concurrent use.
type Backend struct {
	cfg    *config
	w      *weights
	eps    float32
	heads  int
	headD  int
	shapes plan.Ranges // any batch up to maxBatch rows, any length up to maxSeq tokens
	pool   *kernels.Pool
	arenas chan *arena // free list, at most one arena per thread
	closed int32
	k      kernels.Set
	chunk  int // real tokens encoded at once (chunkTokens; smaller in tests)
	fixed  bool
	prec   Precision
}

var _ backend.Backend = (*Backend)(nil)

// New loads config.json and model.safetensors from modelDir.
func New(modelDir string, opts ...Option) (*Backend, error) {
	o := options{maxBatch: DefaultMaxBatch, threads: runtime.GOMAXPROCS(0)}
	for _, opt := range opts {
		opt(&o)
	}
	if o.maxBatch < 1 {
		return nil, fmt.Errorf("cpu: max batch %d must be positive", o.maxBatch)
	}
	if err := checkPrecision(o.precision); err != nil {
		return nil, err
	}
	cfgPath, wPath, err := modelFiles(modelDir)
	if err != nil {
		return nil, err
	}
	cfg, err := readConfig(cfgPath)
	if err != nil {
		return nil, err
	}
	maxSeq := cfg.MaxPositionEmbeddings
	if o.maxSeq > 0 && o.maxSeq < maxSeq {
		maxSeq = o.maxSeq
	}
	ks := kernels.Select(o.pureGo)
	mk := newF32Linear(&ks)
	if o.precision == BF16 {
		mk = newBF16Linear(&ks)
	}
	if o.precision == Int8 {
		mk = newInt8Linear(int8Kernels(&o))
	}
	w, err := loadWeights(wPath, cfg, mk)
	if err != nil {
		return nil, err
	}
	b := &Backend{
		cfg:    cfg,
		w:      w,
		eps:    float32(cfg.LayerNormEps),
		heads:  cfg.NumAttentionHeads,
		headD:  cfg.HiddenSize / cfg.NumAttentionHeads,
		shapes: plan.Ranges{BatchMax: o.maxBatch, SeqMax: maxSeq},
		pool:   kernels.NewPool(o.threads),
		arenas: make(chan *arena, o.threads),
		k:      ks,
		chunk:  chunkTokens,
		fixed:  o.fixed,
		prec:   o.precision,
	}
	return b, nil
}

// Name implements backend.Backend: "cpu" for float32, "cpu(bf16)" or "cpu(int8)" otherwise.
func (b *Backend) Name() string {
	if b.prec != Float32 {
		return "cpu(" + b.prec.String() + ")"
	}
	return "cpu"
}

// Precision is the compute precision of the linear layers (WithPrecision).
func (b *Backend) Precision() Precision { return b.prec }

// ISA names the instruction set of the kernels in use, as kernels.Kernels.ISA: "avx2+fma",
// "neon" or "go", for example.
func (b *Backend) ISA() string { return b.k.Name() }

// Shapes implements backend.Backend: any batch up to the maximum and any sequence length up
// to max_position_embeddings.
func (b *Backend) Shapes() plan.ShapeSet { return b.shapes }

// HiddenSize implements backend.Backend.
func (b *Backend) HiddenSize() int { return b.cfg.HiddenSize }

// Close implements backend.Backend.
func (b *Backend) Close() error {
	if atomic.CompareAndSwapInt32(&b.closed, 0, 1) {
		b.pool.Close()
	}
	return nil
}

// ErrClosed is returned by Forward after Close.
var ErrClosed = errors.New("cpu: backend is closed")

// seqSpan is one row's computed tokens within a chunk: rows [start, start+n) of the folded
// matrices; pos[i] is the column (position id) of the i-th token in the padded input. The
// first keys tokens are the real ones that attention may attend to: all of them by default,
// a prefix when withFixedShapes also computes the padding.
type seqSpan struct {
	row   int
	start int
	pos   []int32
	keys  int
}

// Forward implements backend.Backend.
func (b *Backend) Forward(ctx context.Context, in *backend.Input, out []float32) error {
	if atomic.LoadInt32(&b.closed) != 0 {
		return ErrClosed
	}
	if err := b.check(in, out); err != nil {
		return err
	}
	d, seq := b.cfg.HiddenSize, in.Shape.Seq
	outN := in.Rows * seq * d
	for i := range out[:outN] {
		out[i] = 0
	}
	// Gather the real tokens of each row; cut the rows into chunks of bounded token count.
	posBuf := make([]int32, 0, in.Rows*seq)
	spans := make([]seqSpan, 0, in.Rows)
	for r := 0; r < in.Rows; r++ {
		p0 := len(posBuf)
		real := 0
		for t := 0; t < seq; t++ {
			if in.Mask[r*seq+t] != 0 {
				if b.fixed && real != t {
					return fmt.Errorf("cpu: row %d is not right-padded, which the fixed-shape mode needs", r)
				}
				real++
				posBuf = append(posBuf, int32(t))
			} else if b.fixed {
				posBuf = append(posBuf, int32(t))
			}
		}
		if real > 0 {
			spans = append(spans, seqSpan{row: r, pos: posBuf[p0:len(posBuf):len(posBuf)], keys: real})
		}
	}
	for len(spans) > 0 {
		n, tokens := 0, 0
		for n < len(spans) && (n == 0 || tokens+len(spans[n].pos) <= b.chunk) {
			spans[n].start = tokens
			tokens += len(spans[n].pos)
			n++
		}
		if err := b.encodeChunk(ctx, in, spans[:n], tokens, out); err != nil {
			return err
		}
		spans = spans[n:]
	}
	return nil
}

func (b *Backend) check(in *backend.Input, out []float32) error {
	s := in.Shape
	switch {
	case s.Batch < 0 || s.Seq < 0 || in.Rows < 0 || in.Rows > s.Batch:
		return fmt.Errorf("cpu: bad input: %d rows in shape %dx%d", in.Rows, s.Batch, s.Seq)
	case s.Seq > b.shapes.SeqMax:
		return fmt.Errorf("cpu: sequence length %d exceeds the maximum %d", s.Seq, b.shapes.SeqMax)
	case s.Batch > b.shapes.BatchMax:
		return fmt.Errorf("cpu: batch %d exceeds the maximum %d", s.Batch, b.shapes.BatchMax)
	case len(in.IDs) < s.Tokens() || len(in.Mask) < s.Tokens() || (in.TypeIDs != nil && len(in.TypeIDs) < s.Tokens()):
		return fmt.Errorf("cpu: bad input: IDs, Mask and TypeIDs need %d values, have %d, %d, %d", s.Tokens(), len(in.IDs), len(in.Mask), len(in.TypeIDs))
	case len(out) < in.Rows*s.Seq*b.cfg.HiddenSize:
		return fmt.Errorf("cpu: output holds %d values, need %d", len(out), in.Rows*s.Seq*b.cfg.HiddenSize)
	}
	n := in.Rows * s.Seq
	for i, id := range in.IDs[:n] {
		if in.Mask[i] != 0 && (id < 0 || int(id) >= b.cfg.VocabSize) {
			return fmt.Errorf("cpu: token id %d at row %d position %d is outside the vocabulary (%d)", id, i/s.Seq, i%s.Seq, b.cfg.VocabSize)
		}
	}
	if in.TypeIDs != nil {
		for i, tt := range in.TypeIDs[:n] {
			if in.Mask[i] != 0 && (tt < 0 || int(tt) >= b.cfg.TypeVocabSize) {
				return fmt.Errorf("cpu: token type %d at row %d position %d is outside [0, %d)", tt, i/s.Seq, i%s.Seq, b.cfg.TypeVocabSize)
			}
		}
	}
	return nil
}

// arena holds one chunk's activations, sized by its token count and reused across calls.
type arena struct {
	x, qkv, ctx, tmp, ffn []float32
}

func grow(buf []float32, n int) []float32 {
	if cap(buf) < n {
		return make([]float32, n)
	}
	return buf[:n]
}

func (b *Backend) getArena(tokens int) *arena {
	var a *arena
	select {
	case a = <-b.arenas:
	default:
		a = new(arena)
	}
	d, f := b.cfg.HiddenSize, b.cfg.IntermediateSize
	a.x = grow(a.x, tokens*d)
	a.qkv = grow(a.qkv, tokens*3*d)
	a.ctx = grow(a.ctx, tokens*d)
	a.tmp = grow(a.tmp, tokens*d)
	a.ffn = grow(a.ffn, tokens*f)
	return a
}

func (b *Backend) putArena(a *arena) {
	select {
	case b.arenas <- a:
	default: // enough arenas cached; let this one go
	}
}

// rowsPerTask is the token granularity of row-wise parallel passes (embeddings, LayerNorm).
const rowsPerTask = 32

func (b *Backend) encodeChunk(ctx context.Context, in *backend.Input, spans []seqSpan, tokens int, out []float32) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	a := b.getArena(tokens)
	defer b.putArena(a)
	d := b.cfg.HiddenSize
	seq := in.Shape.Seq
	w := b.w

	// Embeddings + LayerNorm, in tasks of up to rowsPerTask tokens of one row (a single long
	// text is several tasks).
	type piece struct{ span, i0, i1 int }
	pieces := make([]piece, 0, len(spans)+tokens/rowsPerTask)
	for si, sp := range spans {
		for i0 := 0; i0 < len(sp.pos); i0 += rowsPerTask {
			i1 := i0 + rowsPerTask
			if i1 > len(sp.pos) {
				i1 = len(sp.pos)
			}
			pieces = append(pieces, piece{si, i0, i1})
		}
	}
	b.pool.Run(len(pieces), func(task int, _ *kernels.Scratch) {
		pc := pieces[task]
		sp := spans[pc.span]
		for i := pc.i0; i < pc.i1; i++ {
			t := sp.pos[i]
			src := sp.row*seq + int(t)
			x := a.x[(sp.start+i)*d : (sp.start+i+1)*d]
			id := in.IDs[src]
			if in.Mask[src] == 0 {
				id = 0 // a padded position (withFixedShapes): the pad token
			}
			word := w.word[int(id)*d:]
			pos := w.pos[int(t)*d:]
			tt := 0
			if in.TypeIDs != nil && in.Mask[src] != 0 {
				tt = int(in.TypeIDs[src])
			}
			typ := w.typ[tt*d:]
			for c := range x {
				x[c] = word[c] + pos[c] + typ[c]
			}
			b.k.LayerNorm(x, w.embG, w.embB, b.eps)
		}
	})

	for li := range w.layers {
		if err := ctx.Err(); err != nil {
			return err
		}
		b.layer(&w.layers[li], a, spans, tokens)
	}

	for _, sp := range spans {
		for i, t := range sp.pos {
			dst := out[(sp.row*seq+int(t))*d : (sp.row*seq+int(t)+1)*d]
			copy(dst, a.x[(sp.start+i)*d:(sp.start+i+1)*d])
		}
	}
	return nil
}

func (b *Backend) layer(l *layer, a *arena, spans []seqSpan, tokens int) {
	d, f := b.cfg.HiddenSize, b.cfg.IntermediateSize
	p := b.pool

	l.qkv.forward(p, a.qkv, 3*d, a.x, d, tokens, nil)
	b.attention(a, spans)
	l.out.forward(p, a.tmp, d, a.ctx, d, tokens, nil)
	b.addNorm(a.x, a.tmp, l.ln1G, l.ln1B, tokens)
	gelu := b.k.GELU
	l.up.forward(p, a.ffn, f, a.x, d, tokens, func(r0, r1, c0, c1 int) {
		for r := r0; r < r1; r++ {
			gelu(a.ffn[r*f+c0 : r*f+c1])
		}
	})
	l.down.forward(p, a.tmp, d, a.ffn, f, tokens, nil)
	b.addNorm(a.x, a.tmp, l.ln2G, l.ln2B, tokens)
}

// addNorm sets x = LayerNorm(x + y) row by row.
func (b *Backend) addNorm(x, y, g, beta []float32, tokens int) {
	d := b.cfg.HiddenSize
	eps := b.eps
	add, layerNorm := b.k.Add, b.k.LayerNorm
	b.pool.Run((tokens+rowsPerTask-1)/rowsPerTask, func(task int, _ *kernels.Scratch) {
		r1 := (task + 1) * rowsPerTask
		if r1 > tokens {
			r1 = tokens
		}
		for r := task * rowsPerTask; r < r1; r++ {
			xr := x[r*d : (r+1)*d]
			add(xr, y[r*d:(r+1)*d])
			layerNorm(xr, g, beta, eps)
		}
	})
}

// attention computes softmax(QKᵀ)V per sequence and head (the 1/√d scale is folded into the
// query weights) into a.ctx.
func (b *Backend) attention(a *arena, spans []seqSpan) {
	d, heads, hd := b.cfg.HiddenSize, b.heads, b.headD
	ld := 3 * d
	expNorm, scale := b.k.ExpNorm, b.k.Scale
	b.pool.Run(len(spans)*heads, func(task int, s *kernels.Scratch) {
		sp := spans[task/heads]
		h := task % heads
		L, nk := len(sp.pos), sp.keys
		base := sp.start * ld
		// Scores S = Q·Kᵀ over the real keys, L×nk, row stride padded to the panel width.
		s.KP.Reset(nk, hd, nil)
		s.KP.FillNK(a.qkv[base+d+h*hd:], ld)
		lds := s.KP.Width()
		scores := s.Scores(L * lds)
		kernels.GemmSerial(&kernels.GemmArgs{C: scores, LDC: lds, CPadded: true, A: a.qkv[base+h*hd:], LDA: ld, M: L, B: &s.KP, K: &b.k}, s)
		// Unnormalized softmax: P̃ = exp(S - rowmax), and 1/Σ per row, applied to P̃·V below
		// (L·hd multiplies instead of L²).
		inv := s.Inv(L)
		for r := 0; r < L; r++ {
			inv[r] = expNorm(scores[r*lds : r*lds+nk])
		}
		// Context = P·V, L×hd, written into this head's columns.
		s.VP.Reset(hd, nk, nil)
		s.VP.FillKN(a.qkv[base+2*d+h*hd:], ld)
		ctx := a.ctx[sp.start*d+h*hd:]
		kernels.GemmSerial(&kernels.GemmArgs{C: ctx, LDC: d, A: scores, LDA: lds, M: L, B: &s.VP, K: &b.k}, s)
		for r := 0; r < L; r++ {
			scale(ctx[r*d:r*d+hd], inv[r])
		}
	})
}

func sqrt(x float64) float64 { return math.Sqrt(x) }
