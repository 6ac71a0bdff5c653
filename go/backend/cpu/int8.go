package cpu

import "github.com/minilm-coreml/minilm/go/internal/kernels"

// int8Linear is a linear layer with int8 weights (one scale per output channel) whose input
// rows are quantized per token at each call; see kernels.GemmInt8. The bias, the output and
// everything between linear layers stay float32.
type int8Linear struct {
	w  *kernels.Int8Packed
	ks *kernels.Int8Set
}

// newInt8Linear makes int8 linear layers computed with the kernels ks.
func newInt8Linear(ks *kernels.Int8Set) linearMaker {
	return func(w []float32, n, k int, bias []float32) linear {
		return &int8Linear{w: kernels.QuantizeInt8(w, n, k, k, bias), ks: ks}
	}
}

func (l *int8Linear) forward(p *kernels.Pool, c []float32, ldc int, a []float32, lda, m int, epi func(r0, r1, c0, c1 int)) {
	p.GemmInt8(&kernels.Int8Args{C: c, LDC: ldc, A: a, LDA: lda, M: m, W: l.w, K: l.ks, Epilogue: epi})
}

// int8Kernels returns the int8 kernels options o ask for: the best the CPU has, a forced
// fallback (withInt8Level), or portable Go (withPureGo).
func int8Kernels(o *options) *kernels.Int8Set {
	level := o.int8Level
	if o.pureGo {
		level = kernels.Int8Go
	}
	ks := kernels.SelectInt8(level)
	return &ks
}

// withInt8Level caps the int8 kernels at a level of kernels.SelectInt8 (for tests that force
// the fallbacks).
func withInt8Level(level int) Option { return func(o *options) { o.int8Level = level } }
