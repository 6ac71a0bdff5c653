package embed

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minilm-coreml/minilm/go/backend"
	"github.com/minilm-coreml/minilm/go/backend/cpu"
	"github.com/minilm-coreml/minilm/go/plan"
)

// fakeTokenizer gives [CLS] word... [SEP] with one hashed id per whitespace-separated word.
type fakeTokenizer struct{}

func (fakeTokenizer) encode(text string, maxLen int) ([]int32, bool, error) {
	ids := []int32{101}
	for _, w := range strings.Fields(text) {
		h := fnv.New32a()
		h.Write([]byte(string([]rune(w)))) // invalid bytes read as U+FFFD
		ids = append(ids, 1000+int32(h.Sum32()%20000))
	}
	truncated := len(ids) > maxLen-1
	if truncated {
		ids = ids[:maxLen-1]
	}
	return append(ids, 102), truncated, nil
}

// fakeBackend computes each token's hidden state from its id and position only, so results
// must not depend on batching or padding. It checks the padding invariants of every input.
type fakeBackend struct {
	shapes plan.ShapeSet
	calls  int64
	// onForward, if set, runs at the start of every Forward with the call's number (from 1).
	onForward func(call int64) error
	closed    int32
}

func (b *fakeBackend) Name() string          { return "fake" }
func (b *fakeBackend) Shapes() plan.ShapeSet { return b.shapes }
func (b *fakeBackend) HiddenSize() int       { return Dim }
func (b *fakeBackend) Close() error          { atomic.AddInt32(&b.closed, 1); return nil }

func (b *fakeBackend) Forward(ctx context.Context, in *backend.Input, out []float32) error {
	call := atomic.AddInt64(&b.calls, 1)
	if b.onForward != nil {
		if err := b.onForward(call); err != nil {
			return err
		}
	}
	s := in.Shape
	if want, ok := b.shapes.Fit(in.Rows, s.Seq); !ok || want.Batch > s.Batch || want.Seq > s.Seq {
		return fmt.Errorf("shape %v is not allowed for %d rows", s, in.Rows)
	}
	if len(in.IDs) != s.Tokens() || len(in.Mask) != s.Tokens() || len(in.TypeIDs) != s.Tokens() {
		return fmt.Errorf("input sizes %d/%d/%d, want %d", len(in.IDs), len(in.Mask), len(in.TypeIDs), s.Tokens())
	}
	if len(out) != in.Rows*s.Seq*Dim {
		return fmt.Errorf("out has %d values, want %d", len(out), in.Rows*s.Seq*Dim)
	}
	for r := 0; r < s.Batch; r++ {
		padding := r >= in.Rows
		for t := 0; t < s.Seq; t++ {
			k := r*s.Seq + t
			if in.TypeIDs[k] != 0 {
				return fmt.Errorf("row %d token %d: type id %d", r, t, in.TypeIDs[k])
			}
			if in.Mask[k] == 0 {
				padding = true
			}
			if padding && (in.Mask[k] != 0 || in.IDs[k] != 0) {
				return fmt.Errorf("row %d token %d: padding has id %d mask %d", r, t, in.IDs[k], in.Mask[k])
			}
			if r >= in.Rows {
				continue
			}
			for c := 0; c < Dim; c++ {
				out[k*Dim+c] = float32(math.Sin(float64(in.IDs[k])*0.37 + float64(t)*0.11 + float64(c)*1.3))
			}
		}
	}
	return nil
}

func newFake(t testing.TB, shapes plan.ShapeSet, workers int) (*Embedder, *fakeBackend) {
	t.Helper()
	be := &fakeBackend{shapes: shapes}
	e := &Embedder{tok: fakeTokenizer{}, be: be, maxSeq: DefaultMaxSeqLength, batchSize: DefaultBatchSize, workers: workers}
	return e, be
}

// texts returns n texts of varied length, some repeated.
func texts(n int) []string {
	out := make([]string, n)
	for i := range out {
		words := 1 + (i*7919)%40
		if i%17 == 0 {
			words = 300 // truncated
		}
		out[i] = strings.Repeat(fmt.Sprintf("w%d ", i%97), words)
	}
	return out
}

var fakeShapeSets = []struct {
	name   string
	shapes plan.ShapeSet
}{
	{"ranges", plan.Ranges{BatchMax: 64, SeqMax: 512}},
	{"grid", plan.Grid([]int{1, 8, 16, 32, 64}, []int{16, 32, 64, 128, 256, 512})},
}

func TestEmbedBatchedEqualsOneAtATime(t *testing.T) {
	in := texts(150)
	for _, ss := range fakeShapeSets {
		for _, workers := range []int{1, 3} {
			t.Run(fmt.Sprintf("%s/workers=%d", ss.name, workers), func(t *testing.T) {
				e, be := newFake(t, ss.shapes, workers)
				got, err := e.Embed(context.Background(), in)
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != len(in) {
					t.Fatalf("%d vectors for %d texts", len(got), len(in))
				}
				if calls := atomic.LoadInt64(&be.calls); calls >= int64(len(in)) {
					t.Errorf("%d backend calls for %d texts: not batched", calls, len(in))
				}
				for i, text := range in {
					one, err := e.Embed(context.Background(), []string{text})
					if err != nil {
						t.Fatal(err)
					}
					if len(got[i]) != Dim {
						t.Fatalf("text %d: %d dimensions", i, len(got[i]))
					}
					for c := range one[0] {
						if d := math.Abs(float64(one[0][c] - got[i][c])); d > 1e-6 {
							t.Fatalf("text %d dim %d: batched %v, alone %v", i, c, got[i][c], one[0][c])
						}
					}
				}
			})
		}
	}
}

func TestEmbedEmpty(t *testing.T) {
	e, be := newFake(t, fakeShapeSets[0].shapes, 2)
	for _, in := range [][]string{nil, {}} {
		got, err := e.Embed(context.Background(), in)
		if err != nil || got == nil || len(got) != 0 {
			t.Errorf("Embed(%#v) = %#v, %v; want a non-nil empty slice", in, got, err)
		}
	}
	if be.calls != 0 {
		t.Errorf("%d backend calls for no texts", be.calls)
	}
}

func TestEmbedCancel(t *testing.T) {
	t.Run("before", func(t *testing.T) {
		e, be := newFake(t, fakeShapeSets[0].shapes, 2)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := e.Embed(ctx, texts(10)); !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		if be.calls != 0 {
			t.Errorf("%d backend calls after cancel", be.calls)
		}
	})
	t.Run("between batches", func(t *testing.T) {
		e, be := newFake(t, fakeShapeSets[0].shapes, 1)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		be.onForward = func(call int64) error {
			if call == 2 {
				cancel()
			}
			return nil
		}
		in := texts(1000)
		_, err := e.Embed(ctx, in)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		if calls := atomic.LoadInt64(&be.calls); calls > 3 {
			t.Errorf("%d backend calls: did not stop between batches", calls)
		}
	})
	t.Run("deadline mid-run", func(t *testing.T) {
		// The deadline passes while the second batch runs: Embed must stop there and report
		// the deadline, not finish the other batches.
		e, be := newFake(t, fakeShapeSets[0].shapes, 1)
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		be.onForward = func(call int64) error {
			if call == 2 {
				<-ctx.Done()
				return ctx.Err()
			}
			return nil
		}
		in := texts(1000)
		if _, err := e.Embed(ctx, in, BatchSize(8)); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want context.DeadlineExceeded", err)
		}
		if calls := atomic.LoadInt64(&be.calls); calls != 2 {
			t.Errorf("%d backend calls of %d batches: did not stop at the deadline", calls, len(in)/8)
		}
	})
}

func TestEmbedBackendError(t *testing.T) {
	e, be := newFake(t, fakeShapeSets[0].shapes, 2)
	boom := errors.New("boom")
	be.onForward = func(call int64) error {
		if call == 3 {
			return boom
		}
		return nil
	}
	_, err := e.Embed(context.Background(), texts(500))
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "fake backend") {
		t.Fatalf("err = %v, want the backend's error with context", err)
	}
}

func TestEmbedConcurrent(t *testing.T) {
	e, _ := newFake(t, fakeShapeSets[1].shapes, 2)
	in := texts(200)
	want, err := e.Embed(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			lo := (g * 13) % len(in)
			got, err := e.Embed(context.Background(), in[lo:])
			if err != nil {
				errs <- err
				return
			}
			for i := range got {
				for c := range got[i] {
					if got[i][c] != want[lo+i][c] {
						errs <- fmt.Errorf("goroutine %d text %d differs", g, lo+i)
						return
					}
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestClose(t *testing.T) {
	e, be := newFake(t, fakeShapeSets[0].shapes, 2)
	started := make(chan struct{})
	release := make(chan struct{})
	var once sync.Once
	be.onForward = func(int64) error {
		once.Do(func() { close(started) })
		<-release
		return nil
	}
	done := make(chan error, 1)
	go func() {
		_, err := e.Embed(context.Background(), texts(50))
		done <- err
	}()
	<-started
	closed := make(chan error, 1)
	go func() { closed <- e.Close() }()
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("Embed running during Close: %v", err)
	}
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if n := atomic.LoadInt32(&be.closed); n != 1 {
		t.Errorf("backend closed %d times", n)
	}
	if _, err := e.Embed(context.Background(), []string{"x"}); !errors.Is(err, ErrClosed) {
		t.Errorf("Embed after Close: err = %v, want ErrClosed", err)
	}
}

func TestUnitLength(t *testing.T) {
	e, _ := newFake(t, fakeShapeSets[0].shapes, 2)
	got, err := e.Embed(context.Background(), []string{"", "a", "a b c"})
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range got {
		var s float64
		for _, x := range v {
			s += float64(x) * float64(x)
		}
		if math.Abs(s-1) > 1e-5 {
			t.Errorf("text %d: norm² %v", i, s)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		opt     Option
		wantErr string
	}{
		{"defaults", func(*config) {}, ""},
		{"batch 0", WithBatchSize(0), "WithBatchSize(0)"},
		{"seq 513", WithMaxSeqLength(513), "WithMaxSeqLength(513)"},
		{"seq 1", WithMaxSeqLength(1), "WithMaxSeqLength(1)"},
		{"seq 512", WithMaxSeqLength(512), ""},
		{"workers -1", WithWorkers(-1), "WithWorkers(-1)"},
		{"engine", WithBackend(Engine(7)), "engine(7)"},
		{"precision int8", WithPrecision(cpu.Int8), ""},
		{"precision bad", WithPrecision(cpu.Precision(9)), "precision(9)"},
		{"precision with coreml", func(c *config) { WithBackend(CoreML)(c); WithPrecision(cpu.Int8)(c) }, "minilm_mlpackage_w8_per_channel"},
		{"precision with custom", func(c *config) { WithCustomBackend(&fakeBackend{})(c); WithPrecision(cpu.BF16)(c) }, "custom backend"},
		{"float32 with coreml", func(c *config) { WithBackend(CoreML)(c); WithPrecision(cpu.Float32)(c) }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := defaultConfig()
			tt.opt(&c)
			err := c.validate()
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestParseEngine(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want Engine
		ok   bool
	}{{"auto", Auto, true}, {"CPU", CPU, true}, {"coreml", CoreML, true}, {"gpu", 0, false}} {
		got, err := ParseEngine(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseEngine(%q) = %v, %v", tt.in, got, err)
		}
	}
}

// TestMemoryBounded: a 10,000-text call holds the hidden states of at most one batch per
// worker, reusing each worker's buffer, instead of all of them.
func TestMemoryBounded(t *testing.T) {
	const workers = 2
	e, be := newFake(t, fakeShapeSets[0].shapes, workers)
	var (
		mu       sync.Mutex
		buffers  = map[*float32]bool{}
		inFlight int32
		peak     int32
	)
	counting := &countingBackend{fakeBackend: be, before: func(out []float32) {
		n := atomic.AddInt32(&inFlight, 1)
		mu.Lock()
		buffers[&out[:1][0]] = true
		if n > peak {
			peak = n
		}
		mu.Unlock()
	}, after: func() { atomic.AddInt32(&inFlight, -1) }}
	e.be = counting
	in := make([]string, 10000)
	for i := range in {
		in[i] = fmt.Sprintf("text %d with a few words", i)
	}
	got, err := e.Embed(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(in) {
		t.Fatalf("%d vectors", len(got))
	}
	if peak > workers {
		t.Errorf("%d batches in flight, want at most %d", peak, workers)
	}
	// Largest batches run first, so each worker allocates its hidden buffer once.
	if len(buffers) > workers {
		t.Errorf("%d distinct hidden-state buffers for %d batches, want at most %d", len(buffers), be.calls, workers)
	}
}

type countingBackend struct {
	*fakeBackend
	before func([]float32)
	after  func()
}

func (c *countingBackend) Forward(ctx context.Context, in *backend.Input, out []float32) error {
	c.before(out)
	defer c.after()
	return c.fakeBackend.Forward(ctx, in, out)
}
