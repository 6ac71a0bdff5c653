package cpu

import "github.com/minilm-coreml/minilm/go/internal/kernels"

// newBF16Linear makes linear layers with bfloat16 weights (kernels.Set.UseBF16): with
// AVX-512 a forward pass streams about 21 MB of weights instead of 42 MB, multiplied by
// bf16-rounded activations with AVX-512 BF16 (float32 ones without), accumulating in
// float32; other CPUs compute the same bf16-weight products with the float32 kernels.
func newBF16Linear(ks *kernels.Set) linearMaker {
	f32 := newF32Linear(ks)
	return func(w []float32, n, k int, bias []float32) linear {
		l := f32(w, n, k, bias).(*f32Linear)
		ks.UseBF16(l.w)
		return l
	}
}
