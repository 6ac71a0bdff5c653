package mil

import (
	"fmt"

	"github.com/minilm-coreml/minilm/go/mlpackage"
)

// Tensor is a value of the program: every element type widened to float32.
type Tensor struct {
	DType mlpackage.DataType
	Shape []int
	Data  []float32
	// Strs holds the value of string tensors (e.g. a cast's dtype).
	Strs []string
}

// NewTensor allocates a zeroed tensor.
func NewTensor(dt mlpackage.DataType, shape []int) *Tensor {
	return &Tensor{DType: dt, Shape: append([]int(nil), shape...), Data: make([]float32, numel(shape))}
}

func numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// Numel is the element count.
func (t *Tensor) Numel() int { return numel(t.Shape) }

// String implements fmt.Stringer.
func (t *Tensor) String() string { return fmt.Sprintf("%v%v", t.DType, t.Shape) }

// scalarInt returns the single value of t as an int.
func (t *Tensor) scalarInt() (int, error) {
	if t == nil || len(t.Data) != 1 {
		return 0, fmt.Errorf("want a scalar, have %v", t)
	}
	return int(t.Data[0]), nil
}

func (t *Tensor) ints() []int {
	out := make([]int, len(t.Data))
	for i, v := range t.Data {
		out[i] = int(v)
	}
	return out
}

func (t *Tensor) str() (string, error) {
	if t == nil || len(t.Strs) != 1 {
		return "", fmt.Errorf("want a string, have %v", t)
	}
	return t.Strs[0], nil
}

func (t *Tensor) boolean() (bool, error) {
	if t == nil || len(t.Data) != 1 {
		return false, fmt.Errorf("want a bool, have %v", t)
	}
	return t.Data[0] != 0, nil
}

func strides(shape []int) []int {
	s := make([]int, len(shape))
	acc := 1
	for i := len(shape) - 1; i >= 0; i-- {
		s[i] = acc
		acc *= shape[i]
	}
	return s
}

// normAxis maps a possibly negative axis into [0, rank).
func normAxis(axis, rank int) (int, error) {
	if axis < -rank || axis >= rank {
		return 0, fmt.Errorf("axis %d out of range for rank %d", axis, rank)
	}
	if axis < 0 {
		axis += rank
	}
	return axis, nil
}
