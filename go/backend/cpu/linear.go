package cpu

import "github.com/minilm-coreml/minilm/go/internal/kernels"

// linear is one Linear layer, y = x·Wᵀ + b, with W held in the backend's compute precision
// (see Precision). Each precision provides one implementation; the encoder calls them alike.
type linear interface {
	// forward sets C[m×N] = A[m×K]·Wᵀ + b, A and C row-major with row strides lda and ldc,
	// on the pool's workers. If epi is not nil it runs on each block C[r0:r1, c0:c1] once
	// those values are final (for a fused GELU).
	forward(p *kernels.Pool, c []float32, ldc int, a []float32, lda, m int, epi func(r0, r1, c0, c1 int))
}

// linearMaker builds a linear from an n×k row-major weight (PyTorch's out×in layout) and
// its n biases. It may keep neither slice.
type linearMaker func(w []float32, n, k int, bias []float32) linear

// f32Linear is a float32 linear layer on the packed SGEMM.
type f32Linear struct {
	w    *kernels.Packed
	bias []float32 // padded to the panel width
	ks   *kernels.Set
}

func newF32Linear(ks *kernels.Set) linearMaker {
	return func(w []float32, n, k int, bias []float32) linear {
		l := &f32Linear{w: kernels.NewPacked(n, k), bias: kernels.PadBias(bias), ks: ks}
		l.w.FillNK(w, k)
		return l
	}
}

func (l *f32Linear) forward(p *kernels.Pool, c []float32, ldc int, a []float32, lda, m int, epi func(r0, r1, c0, c1 int)) {
	p.Gemm(&kernels.GemmArgs{C: c, LDC: ldc, A: a, LDA: lda, M: m, B: l.w, Bias: l.bias, K: l.ks, Epilogue: epi})
}
