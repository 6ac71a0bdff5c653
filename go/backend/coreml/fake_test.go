package coreml

import (
	"errors"
	"math"
	"sync"
	"sync/atomic"

	"github.com/minilm-coreml/minilm/go/plan"
)

// layout says how the fake lays out its output in memory.
type layout int

const (
	dense        layout = iota // strides (L*H, H, 1)
	paddedRows                 // each token row padded to H+5, each batch row by 7 more: strides (L*(H+5)+7, H+5, 1)
	channelMajor               // channels outermost: strides (L, 1, N*L)
)

type call struct {
	shape     plan.Shape
	ids, mask []int32
}

// fakePredictor computes hidden = want(id, channel) for every token, in float32 or float16,
// with the configured memory layout. It records every call and fails the test (via
// concurrent) if two goroutines use it at once.
type fakePredictor struct {
	hidden   int
	dtype    DataType
	layout   layout
	err      error         // returned by Predict
	nanAt    *plan.Shape   // shape whose output gets a NaN in row 0
	gate     chan struct{} // if set, Predict waits for a value
	entered  chan struct{} // if set, Predict sends on it when it starts
	collapse bool          // report batch 1 regardless of the input (coremltools #2730)

	active     int32
	concurrent int32

	mu     sync.Mutex
	calls  []call
	closed int
}

// want is the fake model's hidden state for a token and channel: exactly representable in
// float16 (at most 7 integer and 3 fraction bits).
func want(id int32, c int) float32 {
	v := float32(id%64) + float32(c%384)/8
	if c%2 == 1 {
		v = -v
	}
	return v
}

func (f *fakePredictor) Predict(shape plan.Shape, ids, mask []int32, read func(Output) error) error {
	if atomic.AddInt32(&f.active, 1) > 1 {
		atomic.StoreInt32(&f.concurrent, 1)
	}
	defer atomic.AddInt32(&f.active, -1)
	if f.entered != nil {
		f.entered <- struct{}{}
	}
	if f.gate != nil {
		<-f.gate
	}
	f.mu.Lock()
	f.calls = append(f.calls, call{shape, append([]int32(nil), ids...), append([]int32(nil), mask...)})
	f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	if len(ids) != shape.Tokens() || (mask != nil && len(mask) != shape.Tokens()) {
		return errors.New("fake: input length does not match shape")
	}
	N, L, H := shape.Batch, shape.Seq, f.hidden
	var st [3]int
	size := 0
	switch f.layout {
	case dense:
		st = [3]int{L * H, H, 1}
		size = N * L * H
	case paddedRows:
		st = [3]int{L*(H+5) + 7, H + 5, 1}
		size = N * st[0]
	case channelMajor:
		st = [3]int{L, 1, N * L}
		size = N * L * H
	}
	f32 := make([]float32, size)
	for i := range f32 {
		f32[i] = -12344 // garbage in padding slots
	}
	for r := 0; r < N; r++ {
		for t := 0; t < L; t++ {
			for c := 0; c < H; c++ {
				f32[r*st[0]+t*st[1]+c*st[2]] = want(ids[r*L+t], c)
			}
		}
	}
	if f.nanAt != nil && *f.nanAt == shape {
		f32[3*st[2]] = float32(math.NaN())
	}
	out := Output{Shape: []int{N, L, H}, Strides: st[:], Type: f.dtype}
	if f.collapse {
		out.Shape[0] = 1
	}
	if f.dtype == Float16 {
		out.F16 = make([]uint16, size)
		for i, v := range f32 {
			out.F16[i] = float32ToFloat16Exact(v)
		}
	} else {
		out.F32 = f32
	}
	return read(out)
}

func (f *fakePredictor) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed++
	return nil
}

func (f *fakePredictor) callList() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]call(nil), f.calls...)
}

// float32ToFloat16Exact encodes normal float32 values that float16 represents exactly, and
// NaN; test use only.
func float32ToFloat16Exact(v float32) uint16 {
	if v != v {
		return 0x7e00
	}
	if v == 0 {
		return uint16(math.Float32bits(v)>>16) & 0x8000
	}
	b := math.Float32bits(v)
	sign := uint16(b>>16) & 0x8000
	exp := int(b>>23&0xff) - 127 + 15
	mant := b & 0x7fffff
	if exp <= 0 || exp >= 31 || mant&0x1fff != 0 {
		panic("value not exactly representable as a normal float16")
	}
	return sign | uint16(exp)<<10 | uint16(mant>>13)
}
