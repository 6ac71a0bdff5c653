// Package backend defines the interface every execution engine of the encoder implements.
//
// A backend runs the BERT encoder of all-MiniLM-L6-v2 on one padded batch and returns the
// last hidden state. Pooling and normalization happen outside the backend, in package
// pooling, so that every backend produces vectors with the same code.
package backend

import (
	"context"

	"github.com/minilm-coreml/minilm/go/plan"
)

// Input is one padded batch, row-major.
//
// IDs, Mask and TypeIDs each hold Shape.Batch*Shape.Seq values. Rows beyond Rows and columns
// beyond a text's length are padding: their mask is 0 and their id is the pad token (0).
type Input struct {
	Shape   plan.Shape
	Rows    int
	IDs     []int32
	Mask    []int32
	TypeIDs []int32
}

// Backend runs the encoder.
//
// Implementations must be safe for concurrent use by multiple goroutines.
type Backend interface {
	// Name identifies the engine, e.g. "cpu" or "coreml(cpuAndNeuralEngine)".
	Name() string
	// Shapes is the set of padded shapes Forward accepts.
	Shapes() plan.ShapeSet
	// HiddenSize is the width of one token's hidden state (384 for all-MiniLM-L6-v2).
	HiddenSize() int
	// Forward writes the last hidden state of the first in.Rows rows into out, which holds
	// in.Rows*in.Shape.Seq*HiddenSize() float32 values, row-major (row, token, channel).
	Forward(ctx context.Context, in *Input, out []float32) error
	// Close releases the engine's resources. Forward must not be called after Close.
	Close() error
}
