package coreml

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/minilm-coreml/minilm/go/backend"
	"github.com/minilm-coreml/minilm/go/plan"
)

// grid is the enumerated shape set the converter emits by default (batch × seq), as the
// model description would give it.
func grid(t testing.TB, batches, seqs []int) plan.Enumerated {
	t.Helper()
	var shapes [][]int
	for _, b := range batches {
		for _, s := range seqs {
			shapes = append(shapes, []int{b, s})
		}
	}
	set, err := ShapeSetOf(ShapeConstraint{Name: InputIDsName, Kind: "enumerated", Enumerated: shapes})
	require.NoError(t, err)
	return set.(plan.Enumerated)
}

func defaultGrid(t testing.TB) plan.Enumerated {
	return grid(t, []int{1, 8, 16, 32, 64}, []int{32, 64, 128, 256, 512})
}

func newTestBackend(t testing.TB, shapes plan.ShapeSet, fakes ...*fakePredictor) *Backend {
	t.Helper()
	return newTestBackendIface(t, IDsAndMask, shapes, fakes...)
}

func newTestBackendIface(t testing.TB, iface Interface, shapes plan.ShapeSet, fakes ...*fakePredictor) *Backend {
	t.Helper()
	var preds []predictor
	for _, f := range fakes {
		if f.hidden == 0 {
			f.hidden = HiddenSize
		}
		if f.dtype == 0 {
			f.dtype = Float32
		}
		preds = append(preds, f)
	}
	b, err := newBackend("coreml(test)", shapes, HiddenSize, iface, preds)
	require.NoError(t, err)
	return b
}

// batch builds an Input of rows texts with the given token lengths, padded to seq columns and
// shape.Batch rows as the planner does (padding: id 0, mask 0).
func batch(shape plan.Shape, lengths []int) *backend.Input {
	in := &backend.Input{
		Shape: shape, Rows: len(lengths),
		IDs: make([]int32, shape.Tokens()), Mask: make([]int32, shape.Tokens()), TypeIDs: make([]int32, shape.Tokens()),
	}
	for r, n := range lengths {
		for t := 0; t < n; t++ {
			id := int32(1000 + 7*r + t)
			if t == 0 {
				id = clsTokenID
			} else if t == n-1 {
				id = sepTokenID
			}
			in.IDs[r*shape.Seq+t] = id
			in.Mask[r*shape.Seq+t] = 1
		}
	}
	return in
}

// checkOut verifies out against the fake model for every row and token of in.
func checkOut(t testing.TB, in *backend.Input, out []float32) {
	t.Helper()
	H := HiddenSize
	for r := 0; r < in.Rows; r++ {
		for tok := 0; tok < in.Shape.Seq; tok++ {
			id := in.IDs[r*in.Shape.Seq+tok]
			for c := 0; c < H; c++ {
				got := out[(r*in.Shape.Seq+tok)*H+c]
				if w := want(id, c); got != w {
					t.Fatalf("out[row %d, token %d, channel %d] = %v, want %v", r, tok, c, got, w)
				}
			}
		}
	}
}

func forward(t testing.TB, b *Backend, in *backend.Input) []float32 {
	t.Helper()
	out := make([]float32, in.Rows*in.Shape.Seq*HiddenSize)
	require.NoError(t, b.Forward(context.Background(), in, out))
	return out
}

func TestEnumeratedFitPicksSmallestCoveringShape(t *testing.T) {
	g := defaultGrid(t)
	cases := []struct {
		rows, seq int
		want      plan.Shape
		ok        bool
	}{
		{1, 1, plan.Shape{Batch: 1, Seq: 32}, true},
		{1, 33, plan.Shape{Batch: 1, Seq: 64}, true},
		{2, 10, plan.Shape{Batch: 8, Seq: 32}, true},
		{8, 64, plan.Shape{Batch: 8, Seq: 64}, true},
		{9, 64, plan.Shape{Batch: 16, Seq: 64}, true},
		{17, 300, plan.Shape{Batch: 32, Seq: 512}, true},
		{64, 512, plan.Shape{Batch: 64, Seq: 512}, true},
		{65, 8, plan.Shape{}, false},
		{1, 513, plan.Shape{}, false},
	}
	for _, c := range cases {
		got, ok := g.Fit(c.rows, c.seq)
		require.Equal(t, c.ok, ok, "Fit(%d, %d)", c.rows, c.seq)
		require.Equal(t, c.want, got, "Fit(%d, %d)", c.rows, c.seq)
	}
	require.Equal(t, 64, g.MaxBatch())
	require.Equal(t, 512, g.MaxSeq())

	// Among shapes with equal token slots, the shorter sequence wins (cheaper attention).
	tie := grid(t, []int{8, 16}, []int{32, 64})
	got, ok := tie.Fit(4, 32)
	require.True(t, ok)
	require.Equal(t, plan.Shape{Batch: 8, Seq: 32}, got)
	got, _ = tie.Fit(9, 1)
	require.Equal(t, plan.Shape{Batch: 16, Seq: 32}, got)
}

func TestRangeFitAndWarmList(t *testing.T) {
	r := plan.Ranges{BatchMin: 1, BatchMax: 64, SeqMin: 8, SeqMax: 512}
	got, ok := r.Fit(3, 5)
	require.True(t, ok)
	require.Equal(t, plan.Shape{Batch: 3, Seq: 8}, got)
	got, ok = r.Fit(64, 512)
	require.True(t, ok)
	require.Equal(t, plan.Shape{Batch: 64, Seq: 512}, got)
	_, ok = r.Fit(65, 8)
	require.False(t, ok)
	require.Equal(t, []plan.Shape{
		{Batch: 1, Seq: 8}, {Batch: 64, Seq: 8}, {Batch: 1, Seq: 16}, {Batch: 64, Seq: 16},
		{Batch: 1, Seq: 32}, {Batch: 64, Seq: 32}, {Batch: 1, Seq: 64}, {Batch: 64, Seq: 64},
		{Batch: 1, Seq: 128}, {Batch: 64, Seq: 128}, {Batch: 1, Seq: 256}, {Batch: 64, Seq: 256},
		{Batch: 1, Seq: 512}, {Batch: 64, Seq: 512},
	}, warmShapes(r))
}

func TestOnePredictionPerBatchAtSmallestShape(t *testing.T) {
	f := &fakePredictor{}
	b := newTestBackend(t, defaultGrid(t), f)
	inputs := []*backend.Input{
		batch(plan.Shape{Batch: 1, Seq: 32}, []int{5}),
		batch(plan.Shape{Batch: 8, Seq: 64}, []int{64, 40, 3}),           // 3 rows: still 8×64
		batch(plan.Shape{Batch: 5, Seq: 100}, []int{100, 2, 2, 2, 2}),    // not allowed: runs 8×128
		batch(plan.Shape{Batch: 64, Seq: 512}, make512(64)),              // largest
		batch(plan.Shape{Batch: 20, Seq: 20}, []int{20, 19, 18, 17, 16}), // 5 rows of 20: 8×32
	}
	wantShapes := []plan.Shape{{Batch: 1, Seq: 32}, {Batch: 8, Seq: 64}, {Batch: 8, Seq: 128}, {Batch: 64, Seq: 512}, {Batch: 8, Seq: 32}}
	for i, in := range inputs {
		out := forward(t, b, in)
		checkOut(t, in, out)
		calls := f.callList()
		require.Len(t, calls, i+1, "exactly one prediction per Forward")
		require.Equal(t, wantShapes[i], calls[i].shape)
	}
}

func make512(rows int) []int {
	l := make([]int, rows)
	for i := range l {
		l[i] = 512 - i
	}
	return l
}

func TestPaddingRowsAndColumns(t *testing.T) {
	f := &fakePredictor{}
	b := newTestBackend(t, grid(t, []int{8}, []int{16}), f)
	in := batch(plan.Shape{Batch: 3, Seq: 5}, []int{5, 3, 2})
	in.IDs[4] = 555 // a real token in the last column must survive
	out := forward(t, b, in)
	checkOut(t, in, out)

	c := f.callList()[0]
	require.Equal(t, plan.Shape{Batch: 8, Seq: 16}, c.shape)
	for r := 0; r < 8; r++ {
		ids, mask := c.ids[r*16:(r+1)*16], c.mask[r*16:(r+1)*16]
		for tok := 0; tok < 16; tok++ {
			var wantID, wantMask int32
			switch {
			case r < 3 && tok < 5:
				wantID, wantMask = in.IDs[r*5+tok], in.Mask[r*5+tok]
			case r >= 3 && tok == 0:
				wantID, wantMask = clsTokenID, 1 // padding row: the empty text [CLS] [SEP]
			case r >= 3 && tok == 1:
				wantID, wantMask = sepTokenID, 1
			}
			require.Equal(t, wantID, ids[tok], "id at row %d token %d", r, tok)
			require.Equal(t, wantMask, mask[tok], "mask at row %d token %d", r, tok)
		}
	}
	// No row the model sees has an all-zero mask.
	for r := 0; r < 8; r++ {
		sum := int32(0)
		for _, m := range c.mask[r*16 : (r+1)*16] {
			sum += m
		}
		require.NotZero(t, sum, "row %d", r)
	}
}

func TestStridedAndFloat16OutputDecoded(t *testing.T) {
	for _, dt := range []DataType{Float32, Float16} {
		for _, lay := range []layout{dense, paddedRows, channelMajor} {
			t.Run(fmt.Sprintf("%v/layout%d", dt, lay), func(t *testing.T) {
				f := &fakePredictor{dtype: dt, layout: lay}
				b := newTestBackend(t, grid(t, []int{1, 4}, []int{8, 16}), f)
				in := batch(plan.Shape{Batch: 4, Seq: 12}, []int{12, 9, 4})
				out := forward(t, b, in)
				checkOut(t, in, out)
				require.Equal(t, plan.Shape{Batch: 4, Seq: 16}, f.callList()[0].shape)
			})
		}
	}
}

func TestDecodeRejectsBadOutputs(t *testing.T) {
	s := plan.Shape{Batch: 2, Seq: 4}
	H := 3
	dense := func() Output {
		return Output{Shape: []int{2, 4, H}, Strides: []int{12, 3, 1}, Type: Float32, F32: make([]float32, 24)}
	}
	o := dense()
	require.NoError(t, decodeOutput(o, s, H, 2, 4, make([]float32, 24)))

	o = dense()
	o.Shape = []int{1, 4, H} // batch collapsed (coremltools #2730)
	require.ErrorContains(t, decodeOutput(o, s, H, 2, 4, make([]float32, 24)), "has shape [1 4 3], want [2 4 3]")

	o = dense()
	o.F32 = o.F32[:23]
	require.ErrorContains(t, decodeOutput(o, s, H, 2, 4, make([]float32, 24)), "reach element 23 of 23")

	o = dense()
	o.Type = 7
	require.ErrorContains(t, decodeOutput(o, s, H, 2, 4, make([]float32, 24)), "unsupported data type")

	o = dense()
	o.F32[13] = float32(math.Inf(1)) // row 1, token 0, channel 1
	err := decodeOutput(o, s, H, 2, 4, make([]float32, 24))
	var nf *NonFiniteError
	require.ErrorAs(t, err, &nf)
	require.Equal(t, NonFiniteError{Row: 1, Token: 0, Channel: 1, Value: float32(math.Inf(1))}, *nf)
	// Only the rows read are checked: padding rows may hold anything.
	require.NoError(t, decodeOutput(o, s, H, 1, 4, make([]float32, 12)))
}

func TestErrorsCarryContext(t *testing.T) {
	sentinel := errors.New("E5RT: unknown strides")
	f := &fakePredictor{err: sentinel}
	b := newTestBackend(t, defaultGrid(t), f)
	in := batch(plan.Shape{Batch: 8, Seq: 64}, []int{10, 10})
	err := b.Forward(context.Background(), in, make([]float32, 2*64*HiddenSize))
	require.ErrorIs(t, err, sentinel)
	require.EqualError(t, err, "coreml: predicting 2 rows of 64 tokens at shape 8×64 (instance 0): E5RT: unknown strides")

	f2 := &fakePredictor{collapse: true}
	b2 := newTestBackend(t, defaultGrid(t), f2)
	err = b2.Forward(context.Background(), in, make([]float32, 2*64*HiddenSize))
	require.ErrorContains(t, err, "at shape 8×64")
	require.ErrorContains(t, err, "has shape [1 64 384], want [8 64 384]")

	nanShape := plan.Shape{Batch: 8, Seq: 64}
	f3 := &fakePredictor{nanAt: &nanShape}
	b3 := newTestBackend(t, defaultGrid(t), f3)
	err = b3.Forward(context.Background(), in, make([]float32, 2*64*HiddenSize))
	var nf *NonFiniteError
	require.ErrorAs(t, err, &nf)
	require.Equal(t, 0, nf.Row)

	_, ok := defaultGrid(t).Fit(65, 10)
	require.False(t, ok)
	big := batch(plan.Shape{Batch: 65, Seq: 10}, make([]int, 0))
	big.Rows = 65
	for r := 0; r < 65; r++ {
		big.Mask[r*10] = 1
	}
	err = b.Forward(context.Background(), big, make([]float32, 65*10*HiddenSize))
	require.ErrorContains(t, err, "no allowed shape holds 65 rows of 10 tokens")
}

func TestInputValidation(t *testing.T) {
	f := &fakePredictor{}
	b := newTestBackend(t, defaultGrid(t), f)
	ctx := context.Background()
	good := func() *backend.Input { return batch(plan.Shape{Batch: 2, Seq: 8}, []int{3, 4}) }
	out := make([]float32, 2*8*HiddenSize)

	in := good()
	in.IDs = in.IDs[:5]
	require.ErrorContains(t, b.Forward(ctx, in, out), "5 ids and 16 mask values")

	in = good()
	in.TypeIDs[9] = 1
	require.ErrorContains(t, b.Forward(ctx, in, out), "token type id 1 at row 1, token 1")

	in = good()
	for i := 8; i < 16; i++ {
		in.Mask[i] = 0
	}
	require.ErrorContains(t, b.Forward(ctx, in, out), "row 1 has an all-zero attention mask")

	require.ErrorContains(t, b.Forward(ctx, good(), out[:10]), "output buffer holds 10 values")
	require.ErrorContains(t, b.Forward(ctx, nil, out), "nil input")
	in = good()
	in.Rows = 3
	require.ErrorContains(t, b.Forward(ctx, in, out), "3 rows in shape 2×8")
	require.Empty(t, f.callList(), "no prediction for invalid input")
}

func TestContextCancellation(t *testing.T) {
	f := &fakePredictor{gate: make(chan struct{}), entered: make(chan struct{}, 1)}
	b := newTestBackend(t, defaultGrid(t), f)
	in := batch(plan.Shape{Batch: 1, Seq: 32}, []int{4})
	out := make([]float32, 32*HiddenSize)

	// Already cancelled: no prediction.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := b.Forward(ctx, in, out)
	require.ErrorIs(t, err, context.Canceled)

	// Cancelled while waiting for the only instance, which another Forward holds.
	done := make(chan error, 1)
	go func() { done <- b.Forward(context.Background(), in, make([]float32, len(out))) }()
	<-f.entered
	ctx, cancel = context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	err = b.Forward(ctx, in, out)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.ErrorContains(t, err, "waiting for a model instance")

	close(f.gate) // let the first prediction finish
	require.NoError(t, <-done)
	require.Len(t, f.callList(), 1)
}

func TestConcurrentForward(t *testing.T) {
	fakes := []*fakePredictor{{}, {dtype: Float16, layout: paddedRows}, {layout: channelMajor}}
	b := newTestBackend(t, defaultGrid(t), fakes...)
	var wg sync.WaitGroup
	var calls int32
	for g := 0; g < 12; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 15; i++ {
				n := 1 + (g+i)%9
				lengths := make([]int, n)
				for r := range lengths {
					lengths[r] = 2 + (g*7+i*3+r)%60
				}
				in := batch(plan.Shape{Batch: n, Seq: 64}, lengths)
				out := make([]float32, n*64*HiddenSize)
				if err := b.Forward(context.Background(), in, out); err != nil {
					t.Error(err)
					return
				}
				atomic.AddInt32(&calls, 1)
				checkOut(t, in, out)
			}
		}(g)
	}
	wg.Wait()
	total := 0
	for i, f := range fakes {
		require.Zero(t, atomic.LoadInt32(&f.concurrent), "instance %d used by two goroutines at once", i)
		total += len(f.callList())
	}
	require.Equal(t, int(calls), total)
	require.Equal(t, 12*15, total)
}

func TestCloseReleasesInstancesOnce(t *testing.T) {
	fakes := []*fakePredictor{{gate: make(chan struct{}), entered: make(chan struct{}, 1)}, {}}
	b := newTestBackend(t, defaultGrid(t), fakes...)
	in := batch(plan.Shape{Batch: 1, Seq: 32}, []int{4})

	// Make instance 0 busy first (it is first in the idle queue).
	done := make(chan error, 1)
	go func() { done <- b.Forward(context.Background(), in, make([]float32, 32*HiddenSize)) }()
	<-fakes[0].entered
	closed := make(chan error, 1)
	go func() { closed <- b.Close() }()
	select {
	case <-closed:
		t.Fatal("Close returned while a prediction was running")
	case <-time.After(20 * time.Millisecond):
	}
	close(fakes[0].gate)
	require.NoError(t, <-done)
	require.NoError(t, <-closed)
	for _, f := range fakes {
		require.Equal(t, 1, f.closed)
	}
	require.NoError(t, b.Close())
	require.Equal(t, 1, fakes[1].closed)
	require.ErrorIs(t, b.Forward(context.Background(), in, make([]float32, 32*HiddenSize)), ErrClosed)
}

func TestPrewarmRunsEveryShapeOnEveryInstance(t *testing.T) {
	shapes := grid(t, []int{1, 8}, []int{32, 64})
	fakes := []*fakePredictor{{}, {dtype: Float16}}
	b := newTestBackend(t, shapes, fakes...)
	// A Forward before prewarm makes 1×32 warm on one instance; prewarm skips it there.
	forward(t, b, batch(plan.Shape{Batch: 1, Seq: 32}, []int{4}))

	seen := map[string]bool{}
	for r := range b.Prewarm(context.Background()) {
		require.NoError(t, r.Err)
		require.GreaterOrEqual(t, r.Duration, time.Duration(0))
		key := fmt.Sprintf("%d/%dx%d", r.Instance, r.Shape.Batch, r.Shape.Seq)
		require.False(t, seen[key], "shape run twice: %s", key)
		seen[key] = true
	}
	require.Len(t, seen, 2*4-1)
	for _, f := range fakes {
		got := map[plan.Shape]int{}
		for _, c := range f.callList() {
			got[c.shape]++
			// Prewarm inputs are all well-formed empty texts.
			for r := 0; r < c.shape.Batch; r++ {
				require.Equal(t, int32(clsTokenID), c.ids[r*c.shape.Seq])
				require.Equal(t, int32(1), c.mask[r*c.shape.Seq+1])
			}
		}
		for _, s := range shapes {
			require.Equal(t, 1, got[s], "shape %v", s)
		}
	}
}

func TestPrewarmReportsFailuresAndNaN(t *testing.T) {
	bad := plan.Shape{Batch: 8, Seq: 64}
	f := &fakePredictor{nanAt: &bad}
	b := newTestBackend(t, grid(t, []int{1, 8}, []int{32, 64}), f)
	var errs []string
	n := 0
	for r := range b.Prewarm(context.Background(), plan.Shape{Batch: 8, Seq: 64}, plan.Shape{Batch: 1, Seq: 32}, plan.Shape{Batch: 3, Seq: 3}) {
		n++
		if r.Err != nil {
			errs = append(errs, r.Err.Error())
		}
	}
	require.Equal(t, 3, n)
	require.Len(t, errs, 2)
	require.Contains(t, strings.Join(errs, "\n"), "shape 3×3 is not allowed")
	require.Contains(t, strings.Join(errs, "\n"), "prewarm 8×64 (instance 0): coreml: non-finite hidden state NaN at row 0, token 0, channel 3")
}

func TestPrewarmStopsOnCancelAndClose(t *testing.T) {
	f := &fakePredictor{}
	b := newTestBackend(t, defaultGrid(t), f)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var last WarmResult
	for r := range b.Prewarm(ctx) {
		last = r
	}
	require.ErrorIs(t, last.Err, context.Canceled)
	require.Empty(t, f.callList())

	require.NoError(t, b.Close())
	for r := range b.Prewarm(context.Background()) {
		last = r
	}
	require.ErrorIs(t, last.Err, ErrClosed)
}

func TestNameShapesHidden(t *testing.T) {
	g := defaultGrid(t)
	b := newTestBackend(t, g, &fakePredictor{})
	require.Equal(t, "coreml(test)", b.Name())
	require.Equal(t, HiddenSize, b.HiddenSize())
	require.Equal(t, g, b.Shapes())
	require.Equal(t, 1, b.Instances())
	var _ backend.Backend = b
}
