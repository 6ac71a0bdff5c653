package cpu

import "runtime"

// Exported kernels for other engines (go/mil, the MIL program executor), so that they run the
// same GEMM, softmax, GELU and LayerNorm code as this backend instead of copies of it. This
// file only wraps; the kernels themselves live in gemm.go, mathf.go and kernel*.go.

// Kernels is a set of compute kernels (AVX2+FMA when the CPU has them) and a worker pool
// for parallel loops. It is safe for concurrent use; Close stops the workers.
type Kernels struct {
	k    kernels
	pool *pool
}

// NewKernels returns the fastest kernels the CPU supports with a pool of threads goroutines
// (GOMAXPROCS when threads < 1).
func NewKernels(threads int) *Kernels {
	if threads < 1 {
		threads = runtime.GOMAXPROCS(0)
	}
	return &Kernels{k: selectKernels(false), pool: newPool(threads)}
}

// ISA names the instruction set of the kernels: "avx2+fma" or "go".
func (k *Kernels) ISA() string { return k.k.name }

// Threads is the size of the worker pool.
func (k *Kernels) Threads() int { return k.pool.size() }

// Close stops the worker goroutines.
func (k *Kernels) Close() { k.pool.close() }

// Parallel calls fn(i) for every i in [0, n) on the pool and returns when all calls have.
func (k *Kernels) Parallel(n int, fn func(i int)) {
	k.pool.run(n, func(task int, _ *scratch) { fn(task) })
}

// Packed is a right-hand GEMM operand packed for the micro-kernel.
type Packed struct{ p *packed }

// PackNK packs an n×k row-major matrix b (row stride ldb) as the operand B of C = A·Bᵀ: the
// layout of a Linear layer's weight (out_features × in_features).
func PackNK(b []float32, n, k, ldb int) *Packed {
	p := newPacked(n, k)
	p.packNK(b, ldb)
	return &Packed{p}
}

// PackKN packs a k×n row-major matrix b (row stride ldb) so that C = A·b, i.e. B = bᵀ.
func PackKN(b []float32, k, n, ldb int) *Packed {
	p := newPacked(n, k)
	p.packKN(b, ldb)
	return &Packed{p}
}

// N and K are the packed matrix's dimensions (C gets N columns, A must have K).
func (p *Packed) N() int { return p.p.n }

// K is the inner dimension.
func (p *Packed) K() int { return p.p.k }

// PadBias returns bias zero-padded to the panel width MatMul needs (nil stays nil).
func (p *Packed) PadBias(bias []float32) []float32 {
	if bias == nil {
		return nil
	}
	out := make([]float32, p.p.panels*nr)
	copy(out, bias)
	return out
}

// MatMul computes C[m×n] = A[m×k]·Bᵀ (+ bias), A row-major with row stride lda, C with row
// stride ldc, in parallel on the pool. bias must come from b.PadBias (or be nil).
func (k *Kernels) MatMul(c []float32, ldc int, a []float32, lda, m int, b *Packed, bias []float32) {
	if m == 0 || b.p.n == 0 {
		return
	}
	if b.p.k == 0 {
		for r := 0; r < m; r++ {
			row := c[r*ldc : r*ldc+b.p.n]
			for j := range row {
				row[j] = 0
				if bias != nil {
					row[j] = bias[j]
				}
			}
		}
		return
	}
	k.pool.gemm(&gemmArgs{c: c, ldc: ldc, a: a, lda: lda, m: m, b: b.p, bias: bias, k: &k.k})
}

// MatMulSerial is MatMul on the calling goroutine (for use inside Parallel tasks).
func (k *Kernels) MatMulSerial(c []float32, ldc int, a []float32, lda, m int, b *Packed, bias []float32) {
	if m == 0 || b.p.n == 0 || b.p.k == 0 {
		k.MatMul(c, ldc, a, lda, m, b, bias)
		return
	}
	s := k.pool.scratch.Get().(*scratch)
	gemmSerial(&gemmArgs{c: c, ldc: ldc, a: a, lda: lda, m: m, b: b.p, bias: bias, k: &k.k}, s)
	k.pool.scratch.Put(s)
}

// GELU applies exact (erf) GELU in place.
func (k *Kernels) GELU(v []float32) { k.k.gelu(v) }

// Softmax replaces v with softmax(v).
func (k *Kernels) Softmax(v []float32) { k.k.softmax(v) }

// LayerNorm normalizes x in place over its whole length: (x-mean)/sqrt(var+eps)·gamma+beta.
func LayerNorm(x, gamma, beta []float32, eps float32) { bestKernels.layerNorm(x, gamma, beta, eps) }

// bestKernels are the kernels NewKernels and New select.
var bestKernels = selectKernels(false)

// Erf is the float32 erf approximation the GELU kernels use.
func Erf(x float32) float32 { return erff(x) }
