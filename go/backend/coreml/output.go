package coreml

import (
	"fmt"

	"github.com/minilm-coreml/minilm/go/internal/float16"
	"github.com/minilm-coreml/minilm/go/plan"
)

// DataType is the element type of a prediction's output array.
type DataType int

// Output element types (MLMultiArrayDataType Float32 and Float16).
const (
	Float32 DataType = 1
	Float16 DataType = 2
)

// String implements fmt.Stringer.
func (d DataType) String() string {
	switch d {
	case Float32:
		return "float32"
	case Float16:
		return "float16"
	}
	return fmt.Sprintf("dataType(%d)", int(d))
}

// Output is a view of a prediction's last_hidden_state, valid only during the read callback
// given to predictor.Predict (Core ML owns the memory).
type Output struct {
	// Shape is the array's shape; for this model (N, L, 384).
	Shape []int
	// Strides are element (not byte) strides per dimension. The Neural Engine may pad rows,
	// so they need not be the dense (L*384, 384, 1).
	Strides []int
	// Type says which of F32 and F16 holds the data.
	Type DataType
	F32  []float32
	F16  []uint16 // IEEE 754 binary16 bits
}

// predictor runs one padded batch through one loaded model. The darwin build implements it
// with Core ML; tests use a fake. A predictor is used by one goroutine at a time.
type predictor interface {
	// Predict runs the model on shape.Batch rows of shape.Seq tokens (ids and mask hold
	// shape.Tokens() values, row-major) and calls read with the output while it is valid.
	// For a single-input model (IDsOnly) mask is nil and ids are already encoded with
	// SingleInputIDs.
	// Predict returns read's error, if any.
	Predict(shape plan.Shape, ids, mask []int32, read func(Output) error) error
	// Close releases the model.
	Close() error
}

// NonFiniteError reports a NaN or infinity in the hidden state of a real (non-padding) row.
type NonFiniteError struct {
	Row, Token, Channel int
	Value               float32
}

// Error implements error.
func (e *NonFiniteError) Error() string {
	return fmt.Sprintf("coreml: non-finite hidden state %v at row %d, token %d, channel %d (float16 overflow in the converted model?)",
		e.Value, e.Row, e.Token, e.Channel)
}

// decodeOutput copies the first rows rows and seq tokens of out into dst (dense
// rows×seq×hidden float32, row-major), honoring out's strides and element type. want is the
// shape the prediction ran with; the output must be exactly (want.Batch, want.Seq, hidden).
// With dst nil it only checks the values. Every copied value must be finite.
func decodeOutput(out Output, want plan.Shape, hidden, rows, seq int, dst []float32) error {
	if len(out.Shape) != 3 || out.Shape[0] != want.Batch || out.Shape[1] != want.Seq || out.Shape[2] != hidden {
		return fmt.Errorf("coreml: output %s has shape %v, want [%d %d %d]", OutputName, out.Shape, want.Batch, want.Seq, hidden)
	}
	if len(out.Strides) != 3 {
		return fmt.Errorf("coreml: output %s has %d strides for 3 dimensions", OutputName, len(out.Strides))
	}
	if rows < 0 || rows > want.Batch || seq < 0 || seq > want.Seq {
		return fmt.Errorf("coreml: reading %dx%d from a %dx%d output", rows, seq, want.Batch, want.Seq)
	}
	if dst != nil && len(dst) != rows*seq*hidden {
		return fmt.Errorf("coreml: output buffer holds %d values, want %d×%d×%d", len(dst), rows, seq, hidden)
	}
	var n int
	switch out.Type {
	case Float32:
		n = len(out.F32)
	case Float16:
		n = len(out.F16)
	default:
		return fmt.Errorf("coreml: output %s has unsupported data type %v", OutputName, out.Type)
	}
	// Bounds: the furthest element any index reaches must lie inside the data.
	maxOff := 0
	for i, st := range out.Strides {
		if st < 0 || (st == 0 && out.Shape[i] > 1) {
			return fmt.Errorf("coreml: output %s has unsupported strides %v", OutputName, out.Strides)
		}
		maxOff += (out.Shape[i] - 1) * st
	}
	if maxOff >= n {
		return fmt.Errorf("coreml: output %s shape %v strides %v reach element %d of %d", OutputName, out.Shape, out.Strides, maxOff, n)
	}
	s0, s1, s2 := out.Strides[0], out.Strides[1], out.Strides[2]
	var tbl *[1 << 16]float32
	if out.Type == Float16 {
		tbl = float16.Table()
	}
	var scratch []float32
	if dst == nil {
		scratch = make([]float32, hidden)
	}
	for r := 0; r < rows; r++ {
		for t := 0; t < seq; t++ {
			var d []float32
			if dst != nil {
				d = dst[(r*seq+t)*hidden : (r*seq+t+1)*hidden]
			} else {
				d = scratch
			}
			base := r*s0 + t*s1
			switch {
			case out.Type == Float32 && s2 == 1:
				copy(d, out.F32[base:base+hidden])
			case out.Type == Float32:
				for c := range d {
					d[c] = out.F32[base+c*s2]
				}
			case s2 == 1:
				src := out.F16[base : base+hidden]
				for c, h := range src {
					d[c] = tbl[h]
				}
			default:
				for c := range d {
					d[c] = tbl[out.F16[base+c*s2]]
				}
			}
			for c, v := range d {
				// v-v is NaN for NaN and ±Inf, 0 otherwise.
				if v-v != 0 {
					return &NonFiniteError{Row: r, Token: t, Channel: c, Value: v}
				}
			}
		}
	}
	return nil
}
