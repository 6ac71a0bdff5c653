package embed

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minilm-coreml/minilm/go/backend"
	"github.com/minilm-coreml/minilm/go/pooling"
	"github.com/minilm-coreml/minilm/go/quantize"
	"slices"
)

// maxRowsBackend records the largest batch it is given.
type maxRowsBackend struct {
	*fakeBackend
	maxRows int64
}

func (b *maxRowsBackend) Forward(ctx context.Context, in *backend.Input, out []float32) error {
	for {
		m := atomic.LoadInt64(&b.maxRows)
		if int64(in.Rows) <= m || atomic.CompareAndSwapInt64(&b.maxRows, m, int64(in.Rows)) {
			break
		}
	}
	return b.fakeBackend.Forward(ctx, in, out)
}

func TestCallOptions(t *testing.T) {
	ctx := context.Background()
	in := texts(300)
	e, be := newFake(t, fakeShapeSets[0].shapes, 2)
	mr := &maxRowsBackend{fakeBackend: be}
	e.be = mr
	base, err := e.Embed(ctx, in)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("BatchSize", func(t *testing.T) {
		atomic.StoreInt64(&mr.maxRows, 0)
		got, err := e.Embed(ctx, in, BatchSize(5))
		if err != nil {
			t.Fatal(err)
		}
		if m := atomic.LoadInt64(&mr.maxRows); m != 5 {
			t.Errorf("largest batch %d rows, want 5", m)
		}
		for i := range got {
			if !slices.Equal(got[i], base[i]) {
				t.Fatalf("text %d differs with BatchSize(5)", i)
			}
		}
		if e.batchSize != DefaultBatchSize {
			t.Error("a call option changed the Embedder's default")
		}
	})

	t.Run("MaxSeqLength and truncation", func(t *testing.T) {
		res, err := e.Encode(ctx, in, MaxSeqLength(16))
		if err != nil {
			t.Fatal(err)
		}
		want, err := e.Encode(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		var truncated int
		for i, r := range res {
			words := len(strings.Fields(in[i]))
			if r.Tokens != min(words+2, 16) || r.Truncated != (words+2 > 16) {
				t.Fatalf("text %d (%d words): %d tokens, truncated %v", i, words, r.Tokens, r.Truncated)
			}
			if w := want[i]; w.Tokens != min(words+2, DefaultMaxSeqLength) || w.Truncated != (words+2 > DefaultMaxSeqLength) {
				t.Fatalf("text %d (%d words) at the default limit: %d tokens, truncated %v", i, words, w.Tokens, w.Truncated)
			}
			if r.Truncated {
				truncated++
			}
		}
		counts, err := e.CountTokens(in, MaxSeqLength(16))
		if err != nil {
			t.Fatal(err)
		}
		for i, c := range counts {
			if c.Tokens != res[i].Tokens || c.Truncated != res[i].Truncated {
				t.Fatalf("text %d: CountTokens %+v, Encode %d/%v", i, c, res[i].Tokens, res[i].Truncated)
			}
		}
		if truncated == 0 || truncated == len(in) {
			t.Fatalf("%d of %d truncated: the corpus does not exercise the flag", truncated, len(in))
		}
		if _, err := e.Encode(ctx, in, MaxSeqLength(513)); err == nil || !strings.Contains(err.Error(), "MaxSeqLength(513)") {
			t.Errorf("MaxSeqLength(513): err = %v", err)
		}
		if _, err := e.Encode(ctx, in, BatchSize(0)); err == nil {
			t.Error("BatchSize(0) accepted")
		}
	})

	t.Run("Normalize(false)", func(t *testing.T) {
		raw, err := e.Embed(ctx, in, Normalize(false))
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range raw {
			var ss float64
			for _, x := range v {
				ss += float64(x) * float64(x)
			}
			if math.Abs(ss-1) < 1e-3 {
				t.Fatalf("text %d: unnormalized vector has unit length", i)
			}
			n := append([]float32(nil), v...)
			pooling.Normalize(n)
			if !slices.Equal(n, base[i]) {
				t.Fatalf("text %d: normalizing the raw vector does not give Embed's", i)
			}
		}
	})

	t.Run("Progress", func(t *testing.T) {
		var calls, last int
		_, err := e.Embed(ctx, in, BatchSize(7), Progress(func(done, total int) {
			calls++
			if total != len(in) || done <= last || done > total {
				t.Errorf("progress %d/%d after %d", done, total, last)
			}
			last = done
		}))
		if err != nil {
			t.Fatal(err)
		}
		if last != len(in) || calls < len(in)/7 {
			t.Errorf("progress ended at %d after %d calls", last, calls)
		}
	})
}

func TestEncodePrecisions(t *testing.T) {
	ctx := context.Background()
	in := texts(120)
	e, _ := newFake(t, fakeShapeSets[1].shapes, 2)
	vecs, err := e.Embed(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	calib, err := quantize.Calibrate(vecs)
	if err != nil {
		t.Fatal(err)
	}
	other, err := quantize.Calibrate(vecs[:10])
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		opts []CallOption
		want func(v []float32) Embedding
	}{
		{"float32", nil, func(v []float32) Embedding { return Embedding{Float32: v} }},
		{"int8 with ranges", []CallOption{OutputPrecision(quantize.Int8), CalibrationRanges(other)}, func(v []float32) Embedding {
			q := make([]int8, len(v))
			_ = other.Int8(q, v)
			return Embedding{Int8: q}
		}},
		{"int8 calibrated on the call", []CallOption{OutputPrecision(quantize.Int8)}, func(v []float32) Embedding {
			q := make([]int8, len(v))
			_ = calib.Int8(q, v)
			return Embedding{Int8: q}
		}},
		{"uint8", []CallOption{OutputPrecision(quantize.Uint8), CalibrationRanges(other)}, func(v []float32) Embedding {
			q := make([]uint8, len(v))
			_ = other.Uint8(q, v)
			return Embedding{Uint8: q}
		}},
		{"binary", []CallOption{OutputPrecision(quantize.Binary)}, func(v []float32) Embedding {
			q := make([]int8, 48)
			quantize.PackBitsInt8(q, v)
			return Embedding{Int8: q}
		}},
		{"ubinary", []CallOption{OutputPrecision(quantize.UBinary)}, func(v []float32) Embedding {
			q := make([]uint8, 48)
			quantize.PackBits(q, v)
			return Embedding{Uint8: q}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := e.Encode(ctx, in, tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			for i := range got {
				w := tc.want(vecs[i])
				g := got[i]
				if fmt.Sprint(g.Float32, g.Int8, g.Uint8) != fmt.Sprint(w.Float32, w.Int8, w.Uint8) {
					t.Fatalf("text %d: got %v/%v/%v, want %v/%v/%v", i, len(g.Float32), len(g.Int8), len(g.Uint8), len(w.Float32), len(w.Int8), len(w.Uint8))
				}
			}
		})
	}
	if _, err := e.Embed(ctx, in, OutputPrecision(quantize.Int8)); err == nil || !strings.Contains(err.Error(), "use Encode") {
		t.Errorf("Embed with int8: err = %v", err)
	}
	bad := quantize.Ranges{Min: make([]float32, 3), Max: make([]float32, 3)}
	if _, err := e.Encode(ctx, in, OutputPrecision(quantize.Int8), CalibrationRanges(bad)); err == nil {
		t.Error("3-dimensional ranges accepted")
	}
}

// NaN from the engine is an error naming the text, never a vector.
func TestNonFiniteIsAnError(t *testing.T) {
	e, be := newFake(t, fakeShapeSets[0].shapes, 1)
	nan := &nanBackend{fakeBackend: be}
	e.be = nan
	in := texts(20)
	_, err := e.Embed(context.Background(), in, BatchSize(1))
	if err == nil || !strings.Contains(err.Error(), "non-finite") || !strings.Contains(err.Error(), "text 7") {
		t.Fatalf("err = %v, want a non-finite error naming text 7", err)
	}
}

// nanBackend writes NaN into one hidden state of the batch holding text index 7's tokens
// (the fake tokenizer's id for "w7").
type nanBackend struct{ *fakeBackend }

func (b *nanBackend) Forward(ctx context.Context, in *backend.Input, out []float32) error {
	if err := b.fakeBackend.Forward(ctx, in, out); err != nil {
		return err
	}
	want, _, _ := fakeTokenizer{}.encode("w7", 4)
	for r := 0; r < in.Rows; r++ {
		if in.IDs[r*in.Shape.Seq+1] == want[1] {
			out[(r*in.Shape.Seq+1)*Dim+5] = float32(math.NaN())
		}
	}
	return nil
}

// countingSource yields texts(n) and counts Next calls.
type countingSource struct {
	texts []string
	next  int64
	err   error // returned instead of io.EOF at the end, if set
	block chan struct{}
}

func (s *countingSource) Next() (string, error) {
	i := atomic.AddInt64(&s.next, 1) - 1
	if int(i) >= len(s.texts) {
		if s.block != nil {
			<-s.block
		}
		if s.err != nil {
			return "", s.err
		}
		return "", io.EOF
	}
	return s.texts[i], nil
}

func TestStream(t *testing.T) {
	ctx := context.Background()
	in := texts(1500)
	e, _ := newFake(t, fakeShapeSets[1].shapes, 2)
	opts := []CallOption{OutputPrecision(quantize.UBinary), MaxSeqLength(64), BatchSize(8)}
	want, err := e.Encode(ctx, in, opts...)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("equals Encode, in order, bounded read-ahead", func(t *testing.T) {
		src := &countingSource{texts: in}
		c, _ := e.callConfig(opts)
		if 3*c.window+1 >= len(in) {
			t.Fatalf("window %d too large for %d texts to show the bound", c.window, len(in))
		}
		next := 0
		err := e.Stream(ctx, src, func(i int, got Embedding) error {
			if i != next {
				return fmt.Errorf("emitted %d, want %d", i, next)
			}
			next++
			w := want[i]
			if fmt.Sprint(got) != fmt.Sprint(w) {
				return fmt.Errorf("text %d: %+v, want %+v", i, got, w)
			}
			// At most three windows are read ahead of what was emitted: one being read,
			// one waiting, one being embedded.
			if ahead := int(atomic.LoadInt64(&src.next)) - i; ahead > 3*c.window+1 {
				return fmt.Errorf("read %d texts ahead of emission (window %d)", ahead, c.window)
			}
			return nil
		}, opts...)
		if err != nil {
			t.Fatal(err)
		}
		if next != len(in) {
			t.Fatalf("emitted %d of %d", next, len(in))
		}
	})

	t.Run("empty", func(t *testing.T) {
		n := 0
		if err := e.Stream(ctx, SliceSource(nil), func(int, Embedding) error { n++; return nil }); err != nil || n != 0 {
			t.Fatalf("err %v, %d emitted", err, n)
		}
	})

	t.Run("source error", func(t *testing.T) {
		boom := errors.New("disk on fire")
		src := &countingSource{texts: in[:300], err: boom}
		n := 0
		err := e.Stream(ctx, src, func(int, Embedding) error { n++; return nil })
		if !errors.Is(err, boom) || !strings.Contains(err.Error(), "text 300") {
			t.Fatalf("err = %v", err)
		}
	})

	t.Run("emit error stops", func(t *testing.T) {
		stop := errors.New("stop")
		n := 0
		err := e.Stream(ctx, SliceSource(in), func(i int, _ Embedding) error {
			n++
			if i == 10 {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) || n != 11 {
			t.Fatalf("err = %v after %d emits", err, n)
		}
	})

	t.Run("cancel while the source blocks", func(t *testing.T) {
		src := &countingSource{texts: in[:5], block: make(chan struct{})}
		defer close(src.block)
		ctx, cancel := context.WithCancel(ctx)
		go func() { time.Sleep(50 * time.Millisecond); cancel() }()
		done := make(chan error, 1)
		go func() { done <- e.Stream(ctx, src, func(int, Embedding) error { return nil }) }()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v, want context.Canceled", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Stream did not return after cancel while Next blocked")
		}
	})

	t.Run("int8 needs ranges", func(t *testing.T) {
		err := e.Stream(ctx, SliceSource(in), func(int, Embedding) error { return nil }, OutputPrecision(quantize.Int8))
		if err == nil || !strings.Contains(err.Error(), "CalibrationRanges") {
			t.Fatalf("err = %v", err)
		}
	})
}

func min(a, b int) int {
	if a < b {
		return a
	}
	return b
}
