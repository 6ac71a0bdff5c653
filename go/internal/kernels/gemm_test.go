package kernels

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	"github.com/stretchr/testify/require"
)

func randSlice(rng *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	return v
}

// naiveGemm is C = A·Bᵀ + bias in float64, B being n×k row-major.
func naiveGemm(a []float32, lda int, b []float32, ldb int, bias []float32, m, n, k int) []float64 {
	c := make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			if bias != nil {
				s = float64(bias[j])
			}
			for kk := 0; kk < k; kk++ {
				s += float64(a[i*lda+kk]) * float64(b[j*ldb+kk])
			}
			c[i*n+j] = s
		}
	}
	return c
}

// allKernels returns the portable kernels and every set this CPU runs (the faster ones'
// fallbacks included).
func allKernels() []Set {
	ks := []Set{goKernels}
	if archSets != nil {
		return append(ks, archSets()...)
	}
	if k, ok := archKernels(); ok {
		ks = append(ks, k)
	}
	return ks
}

func TestGemm(t *testing.T) {
	sizes := []struct{ m, n, k int }{
		{1, 1, 1}, {1, 16, 1}, {6, 16, 1}, {5, 15, 3}, {7, 17, 9}, {13, 33, 64},
		{4, 16, 8}, {3, 16, 5}, {10, 20, 100}, {16, 48, 384}, {16, 32, 800},
		{6, 16, 384}, {12, 32, 385}, {23, 47, 770}, {97, 50, 1536}, {200, 160, 384},
		{1, 40, 1536}, {31, 96, 384},
	}
	rng := rand.New(rand.NewSource(7))
	for _, ks := range allKernels() {
		ks := ks
		for _, threads := range []int{1, 3} {
			p := NewPool(threads)
			for _, sz := range sizes {
				for _, variant := range []string{"bias", "nobias", "kn", "strided"} {
					name := fmt.Sprintf("%s/threads=%d/%dx%dx%d/%s", ks.name, threads, sz.m, sz.n, sz.k, variant)
					t.Run(name, func(t *testing.T) {
						m, n, k := sz.m, sz.n, sz.k
						lda, ldb, ldc := k, k, n
						if variant == "strided" {
							lda, ldb, ldc = k+3, k+5, n+7
						}
						a := randSlice(rng, m*lda)
						bm := randSlice(rng, n*ldb)
						var bias []float32
						if variant != "nobias" {
							bias = randSlice(rng, n)
						}
						pb := NewPacked(n, k)
						if variant == "kn" {
							// Same matrix, given transposed (k×n).
							bt := make([]float32, k*n)
							for j := 0; j < n; j++ {
								for kk := 0; kk < k; kk++ {
									bt[kk*n+j] = bm[j*ldb+kk]
								}
							}
							pb.FillKN(bt, n)
						} else {
							pb.FillNK(bm, ldb)
						}
						c := randSlice(rng, m*ldc) // garbage must be overwritten
						g := &GemmArgs{C: c, LDC: ldc, A: a, LDA: lda, M: m, B: pb, Bias: pb.PadBias(bias), K: &ks}
						p.Gemm(g)
						want := naiveGemm(a, lda, bm, ldb, bias, m, n, k)
						for i := 0; i < m; i++ {
							for j := 0; j < n; j++ {
								w := want[i*n+j]
								require.InDelta(t, w, float64(c[i*ldc+j]), 1e-5*math.Sqrt(float64(k))*(1+math.Abs(w)), "C[%d][%d]", i, j)
							}
						}
					})
				}
			}
			p.Close()
		}
	}
}

func TestGemmEpilogueCoversEverything(t *testing.T) {
	p := NewPool(2)
	defer p.Close()
	m, n, k := 37, 1152, 384
	seen := make([]int, m*n)
	rng := rand.New(rand.NewSource(1))
	pb := NewPacked(n, k)
	pb.FillNK(randSlice(rng, n*k), k)
	ks := Select(false)
	p.Gemm(&GemmArgs{C: make([]float32, m*n), LDC: n, A: randSlice(rng, m*k), LDA: k, M: m, B: pb, K: &ks,
		Epilogue: func(r0, r1, c0, c1 int) {
			for r := r0; r < r1; r++ {
				for c := c0; c < c1; c++ {
					seen[r*n+c]++
				}
			}
		}})
	for i, s := range seen {
		require.Equal(t, 1, s, "element %d", i)
	}
}

// TestGemmBF16 checks every kernel set on bfloat16 weights against float64 products of the
// same rounded weights, at odd sizes (rows not a multiple of a tile, odd K, N not a multiple
// of a panel).
func TestGemmBF16(t *testing.T) {
	sizes := []struct{ m, n, k int }{
		{1, 1, 1}, {1, 16, 2}, {3, 17, 3}, {5, 31, 7}, {7, 33, 9}, {10, 64, 11}, {11, 20, 1}, {13, 47, 65}, {12, 32, 384},
		{16, 48, 385}, {25, 100, 770}, {97, 50, 1536}, {130, 160, 384},
	}
	rng := rand.New(rand.NewSource(11))
	for _, ks := range allKernels() {
		ks := ks
		for _, threads := range []int{1, 2} {
			p := NewPool(threads)
			for _, sz := range sizes {
				for _, variant := range []string{"bias", "nobias"} {
					name := fmt.Sprintf("%s/threads=%d/%dx%dx%d/%s", ks.name, threads, sz.m, sz.n, sz.k, variant)
					t.Run(name, func(t *testing.T) {
						m, n, k := sz.m, sz.n, sz.k
						lda, ldc := k+1, n+3
						a := randSlice(rng, m*lda)
						bm := randSlice(rng, n*k)
						var bias []float32
						if variant == "bias" {
							bias = randSlice(rng, n)
						}
						pb := NewPacked(n, k)
						pb.FillNK(bm, k)
						pb.ToBF16()
						require.True(t, pb.IsBF16())
						rounded := make([]float32, len(bm))
						for i, v := range bm {
							rounded[i] = FromBF16(BF16(v))
						}
						c := randSlice(rng, m*ldc)
						guard := append([]float32(nil), c...)
						p.Gemm(&GemmArgs{C: c, LDC: ldc, A: a, LDA: lda, M: m, B: pb, Bias: pb.PadBias(bias), K: &ks})
						ar := a
						if ks.dotBF16 != nil { // activations rounded to bf16 too
							ar = make([]float32, len(a))
							for i, v := range a {
								ar[i] = FromBF16(BF16(v))
							}
						}
						want := naiveGemm(ar, lda, rounded, k, bias, m, n, k)
						for i := 0; i < m; i++ {
							for j := 0; j < ldc; j++ {
								got := c[i*ldc+j]
								if j >= n { // padding columns of C are not touched
									require.Equal(t, guard[i*ldc+j], got, "C[%d][%d] (past N)", i, j)
									continue
								}
								w := want[i*n+j]
								require.InDelta(t, w, float64(got), 1e-5*math.Sqrt(float64(k))*(1+math.Abs(w)), "C[%d][%d]", i, j)
							}
						}
					})
				}
			}
			p.Close()
		}
	}
}

func TestBF16Rounding(t *testing.T) {
	cases := []struct {
		in   uint32
		want uint16
	}{
		{0x3f800000, 0x3f80}, // 1
		{0x3f808000, 0x3f80}, // tie, even stays
		{0x3f818000, 0x3f82}, // tie, odd rounds up
		{0x3f808001, 0x3f81}, // above the tie
		{0x3f807fff, 0x3f80}, // below the tie
		{0x7f7fffff, 0x7f80}, // max float rounds to +Inf
		{0x80000000, 0x8000}, // -0
		{0x7f800000, 0x7f80}, // +Inf
	}
	for _, c := range cases {
		require.Equal(t, c.want, BF16(math.Float32frombits(c.in)), "%#x", c.in)
	}
	nan := BF16(math.Float32frombits(0x7f800001))
	require.True(t, math.IsNaN(float64(FromBF16(nan))), "NaN stays NaN: %#x", nan)
}

// TestUseBF16 checks that every kernel set computes bf16-weight products, in whichever
// form UseBF16 stores them for it.
func TestUseBF16(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	m, n, k := 9, 40, 77
	a := randSlice(rng, m*k)
	bm := randSlice(rng, n*k)
	rounded := make([]float32, len(bm))
	for i, v := range bm {
		rounded[i] = FromBF16(BF16(v))
	}
	want := naiveGemm(a, k, rounded, k, nil, m, n, k)
	p := NewPool(2)
	defer p.Close()
	for _, ks := range allKernels() {
		ks := ks
		pb := NewPacked(n, k)
		pb.FillNK(bm, k)
		ks.UseBF16(pb)
		require.Equal(t, ks.wide != nil, pb.IsBF16(), ks.name)
		c := make([]float32, m*n)
		p.Gemm(&GemmArgs{C: c, LDC: n, A: a, LDA: k, M: m, B: pb, K: &ks})
		tol := 1e-5
		if ks.dotBF16 != nil {
			tol = 1e-2 // activations rounded to bf16 as well
		}
		for i := range c {
			require.InDelta(t, want[i], float64(c[i]), tol*math.Sqrt(float64(k))*(1+math.Abs(want[i])), "%s: C[%d]", ks.name, i)
		}
	}
}

// TestFillNK checks the packed layout against B[j][k] = b[j*ldb+k] for partial panels,
// strides wider than k, and both the assembly (where the CPU has it) and Go forms.
func TestFillNK(t *testing.T) {
	rng := rand.New(rand.NewSource(9))
	for _, tc := range []struct{ n, k, ldb int }{{1, 1, 1}, {16, 32, 32}, {17, 5, 9}, {235, 32, 1152}, {40, 384, 384}} {
		b := randSlice(rng, (tc.n-1)*tc.ldb+tc.k)
		for _, useAsm := range []bool{true, false} {
			if useAsm && fillNKPanel == nil {
				continue
			}
			saved := fillNKPanel
			if !useAsm {
				fillNKPanel = nil
			}
			p := NewPacked(tc.n, tc.k)
			for i := range p.data {
				p.data[i] = float32(math.NaN()) // every value must be written
			}
			p.FillNK(b, tc.ldb)
			fillNKPanel = saved
			for pi := 0; pi < p.panels; pi++ {
				for kk := 0; kk < tc.k; kk++ {
					for j := 0; j < nr; j++ {
						want := float32(0)
						if col := pi*nr + j; col < tc.n {
							want = b[col*tc.ldb+kk]
						}
						if got := p.data[pi*tc.k*nr+kk*nr+j]; got != want {
							t.Fatalf("n=%d k=%d ldb=%d asm=%v: panel %d k %d column %d = %v, want %v", tc.n, tc.k, tc.ldb, useAsm, pi, kk, j, got, want)
						}
					}
				}
			}
		}
	}
}
