package cpu

import "github.com/minilm-coreml/minilm/go/internal/kernels"

// newBF16Linear makes float32 linear layers whose weights are stored as bfloat16
// (kernels.Packed.ToBF16): a forward pass streams about 21 MB of weights instead of 42 MB,
// and the GEMMs still multiply float32 activations and accumulate in float32.
func newBF16Linear(ks *kernels.Set) linearMaker {
	f32 := newF32Linear(ks)
	return func(w []float32, n, k int, bias []float32) linear {
		l := f32(w, n, k, bias).(*f32Linear)
		l.w.ToBF16()
		return l
	}
}
