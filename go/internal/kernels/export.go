// Package kernels holds the float32 compute kernels shared by the CPU encoder
// (go/backend/cpu) and the MIL program executor (go/mil): a packed SGEMM with assembly
// micro-kernels (AVX2+FMA or AVX-512 on amd64, NEON on arm64; portable Go elsewhere or under
// the purego build tag), GELU, softmax and LayerNorm, and a pool of worker goroutines for
// parallel loops.
//
// It is internal: its API follows what those two engines need and may change with them.
// Two levels are offered. Kernels bundles a kernel Set with a Pool behind a small API
// (MatMul, GELU, Softmax, Parallel) for go/mil. The CPU encoder drives the lower level
// directly (Pool.Run with per-goroutine Scratch, GemmArgs with epilogues, Packed operands
// refilled in place) to fuse work that the small API cannot.
package kernels

import "runtime"

// Kernels is a set of compute kernels (AVX2+FMA when the CPU has them) and a worker pool
// for parallel loops. It is safe for concurrent use; Close stops the workers.
type Kernels struct {
	k    Set
	pool *Pool
}

// NewKernels returns the fastest kernels the CPU supports with a pool of threads goroutines
// (GOMAXPROCS when threads < 1).
func NewKernels(threads int) *Kernels {
	if threads < 1 {
		threads = runtime.GOMAXPROCS(0)
	}
	return &Kernels{k: Select(false), pool: NewPool(threads)}
}

// ISA names the instruction set of the kernels: "avx512+bf16", "avx512", "avx2+fma", or
// "go" on amd64; "neon" or "go" on arm64.
func (k *Kernels) ISA() string { return k.k.name }

// Threads is the size of the worker pool.
func (k *Kernels) Threads() int { return k.pool.Size() }

// Close stops the worker goroutines.
func (k *Kernels) Close() { k.pool.Close() }

// Parallel calls fn(i) for every i in [0, n) on the pool and returns when all calls have.
func (k *Kernels) Parallel(n int, fn func(i int)) {
	k.pool.Run(n, func(task int, _ *Scratch) { fn(task) })
}

// PackNK packs an n×k row-major matrix b (row stride ldb) as the operand B of C = A·Bᵀ: the
// layout of a Linear layer's weight (out_features × in_features).
func PackNK(b []float32, n, k, ldb int) *Packed {
	p := NewPacked(n, k)
	p.FillNK(b, ldb)
	return p
}

// PackKN packs a k×n row-major matrix b (row stride ldb) so that C = A·b, i.e. B = bᵀ.
func PackKN(b []float32, k, n, ldb int) *Packed {
	p := NewPacked(n, k)
	p.FillKN(b, ldb)
	return p
}

// N is the packed matrix's row count: the number of columns of C.
func (p *Packed) N() int { return p.n }

// K is the inner dimension: the number of columns A must have.
func (p *Packed) K() int { return p.k }

// Width is N rounded up to whole panels: the row stride a C with CPadded set needs, and the
// length of a bias from PadBias.
func (p *Packed) Width() int { return p.panels * nr }

// PadBias returns bias zero-padded to Width, as GemmArgs.Bias and MatMul need (nil stays
// nil).
func (p *Packed) PadBias(bias []float32) []float32 {
	if bias == nil {
		return nil
	}
	out := make([]float32, p.Width())
	copy(out, bias)
	return out
}

// MatMul computes C[m×n] = A[m×k]·Bᵀ (+ bias), A row-major with row stride lda, C with row
// stride ldc, in parallel on the pool. bias must come from b.PadBias (or be nil).
func (k *Kernels) MatMul(c []float32, ldc int, a []float32, lda, m int, b *Packed, bias []float32) {
	if m == 0 || b.n == 0 {
		return
	}
	if b.k == 0 {
		for r := 0; r < m; r++ {
			row := c[r*ldc : r*ldc+b.n]
			for j := range row {
				row[j] = 0
				if bias != nil {
					row[j] = bias[j]
				}
			}
		}
		return
	}
	k.pool.Gemm(&GemmArgs{C: c, LDC: ldc, A: a, LDA: lda, M: m, B: b, Bias: bias, K: &k.k})
}

// MatMulSerial is MatMul on the calling goroutine (for use inside Parallel tasks).
func (k *Kernels) MatMulSerial(c []float32, ldc int, a []float32, lda, m int, b *Packed, bias []float32) {
	if m == 0 || b.n == 0 || b.k == 0 {
		k.MatMul(c, ldc, a, lda, m, b, bias)
		return
	}
	s := k.pool.scratch.Get().(*Scratch)
	GemmSerial(&GemmArgs{C: c, LDC: ldc, A: a, LDA: lda, M: m, B: b, Bias: bias, K: &k.k}, s)
	k.pool.scratch.Put(s)
}

// GELU applies exact (erf) GELU in place.
func (k *Kernels) GELU(v []float32) { k.k.gelu(v) }

// Softmax replaces v with softmax(v).
func (k *Kernels) Softmax(v []float32) { k.k.softmax(v) }

// LayerNorm normalizes x in place over its whole length: (x-mean)/sqrt(var+eps)·gamma+beta.
func LayerNorm(x, gamma, beta []float32, eps float32) { bestKernels.layerNorm(x, gamma, beta, eps) }

// bestKernels are the kernels NewKernels and Select(false) return.
var bestKernels = Select(false)

// Erf is the float32 erf approximation the GELU kernels use.
func Erf(x float32) float32 { return erff(x) }

// Name names the instruction set of s, as Kernels.ISA does.
func (s *Set) Name() string { return s.name }

// GELU applies exact (erf) GELU to v in place.
func (s *Set) GELU(v []float32) { s.gelu(v) }

// ExpNorm sets v[i] = exp(v[i] - max(v)) and returns 1/Σv[i]: softmax without the final
// scaling, which a caller can apply to a smaller product instead.
func (s *Set) ExpNorm(v []float32) float32 { return s.expNorm(v) }

// Scale multiplies v by f in place.
func (s *Set) Scale(v []float32, f float32) { s.scale(v, f) }

// Add sets x[i] += y[i] for every i < len(x); y must be at least as long.
func (s *Set) Add(x, y []float32) {
	if len(y) < len(x) {
		panic("kernels: Add: y is shorter than x")
	}
	s.add(x, y)
}

// LayerNorm normalizes x in place: (x-mean)/sqrt(var+eps)·gamma+beta.
func (s *Set) LayerNorm(x, gamma, beta []float32, eps float32) { s.layerNorm(x, gamma, beta, eps) }

// PadBias returns bias zero-padded to a whole number of panels: the length GemmArgs.Bias
// needs for a Packed operand of len(bias) rows (nil stays nil).
func PadBias(bias []float32) []float32 {
	if bias == nil {
		return nil
	}
	out := make([]float32, ceilDiv(len(bias), nr)*nr)
	copy(out, bias)
	return out
}
