package kernels

import (
	"fmt"
	"math"
	"math/rand"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// int8Sets returns every int8 kernel set this CPU can run, best first, each fallback forced
// by its level; the portable Go set is last.
func int8Sets() []Int8Set {
	var sets []Int8Set
	seen := map[string]bool{}
	for _, level := range []int{Int8Best, Int8AVXVNNI, Int8AVX2, Int8Go} {
		s := SelectInt8(level)
		if !seen[s.name] {
			seen[s.name] = true
			sets = append(sets, s)
		}
	}
	return sets
}

func randMatrix(rng *rand.Rand, n int, scale float32) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64()) * scale
	}
	return v
}

func runInt8(t *testing.T, s *Int8Set, threads int, a []float32, m, k int, w *Int8Packed, ldc int) []float32 {
	t.Helper()
	pool := NewPool(threads)
	defer pool.Close()
	c := make([]float32, m*ldc)
	for i := range c {
		c[i] = float32(math.NaN()) // every value of C[:, :N] must be written
	}
	covered := make([]int, m*w.n)
	pool.GemmInt8(&Int8Args{C: c, LDC: ldc, A: a, LDA: k, M: m, W: w, K: s, Epilogue: func(r0, r1, c0, c1 int) {
		for r := r0; r < r1; r++ {
			for j := c0; j < c1; j++ {
				covered[r*w.n+j]++
			}
		}
	}})
	for i, n := range covered {
		require.Equal(t, 1, n, "epilogue coverage of C[%d][%d]", i/w.n, i%w.n)
	}
	for r := 0; r < m; r++ {
		for j := w.n; j < ldc; j++ {
			require.True(t, math.IsNaN(float64(c[r*ldc+j])), "C[%d][%d] past N was written", r, j)
		}
	}
	return c
}

// TestInt8KernelsMatchGo: every kernel set, the forced fallbacks included, gives the portable
// Go kernel's result bit for bit on odd sizes (rows not a multiple of the tile, K not a
// multiple of 4 or 64, N not a multiple of the panel), with one thread and with two: the
// int32 sums are exact in every set, and the Go epilogue rounds as the fused vector one.
func TestInt8KernelsMatchGo(t *testing.T) {
	sets := int8Sets()
	t.Logf("int8 kernel sets on this CPU: %v", func() (names []string) {
		for _, s := range sets {
			names = append(names, s.name)
		}
		return
	}())
	rng := rand.New(rand.NewSource(1))
	for _, sz := range []struct{ m, k, n int }{
		{1, 384, 384}, {3, 7, 17}, {7, 65, 130}, {1, 1, 1}, {5, 4, 64}, {13, 383, 65},
		{6, 1536, 129}, {100, 129, 200}, {200, 384, 64},
	} {
		w := randMatrix(rng, sz.n*sz.k, 0.05)
		bias := randMatrix(rng, sz.n, 0.1)
		a := randMatrix(rng, sz.m*sz.k, 1)
		if sz.m > 2 {
			for j := 0; j < sz.k; j++ { // a row of one sign only, and a row of zeros
				a[j] = float32(math.Abs(float64(a[j])))
				a[sz.k+j] = 0
			}
		}
		p := QuantizeInt8(w, sz.n, sz.k, sz.k, bias)
		ldc := sz.n + 3
		want := runInt8(t, &int8Go, 1, a, sz.m, sz.k, p, ldc)
		for _, s := range sets {
			for _, threads := range []int{1, 2} {
				s := s
				t.Run(fmt.Sprintf("%s/m%d_k%d_n%d/threads%d", s.name, sz.m, sz.k, sz.n, threads), func(t *testing.T) {
					got := runInt8(t, &s, threads, a, sz.m, sz.k, p, ldc)
					for r := 0; r < sz.m; r++ {
						for j := 0; j < sz.n; j++ {
							g, e := got[r*ldc+j], want[r*ldc+j]
							require.Equal(t, e, g, "C[%d][%d]", r, j)
						}
					}
				})
			}
		}
	}
}

// TestInt8Saturation: the largest products the quantizers can produce (|q−128| = 127 with
// |w| = 127 of the same sign in every pair) give exact sums in every set, so the AVX2 path's
// 16-bit pair sums cannot have saturated.
func TestInt8Saturation(t *testing.T) {
	const m, k, n = 4, 256, 64
	w := make([]float32, n*k)
	a := make([]float32, m*k)
	for j := 0; j < n; j++ {
		for kk := 0; kk < k; kk++ {
			w[j*k+kk] = 1
			if (kk+j)%3 == 0 {
				w[j*k+kk] = -1
			}
		}
	}
	for r := 0; r < m; r++ {
		for kk := 0; kk < k; kk++ {
			a[r*k+kk] = 1
			if kk%3 == 0 { // the same signs as column 0's weights: the largest positive sum there
				a[r*k+kk] = -1
			}
		}
	}
	p := QuantizeInt8(w, n, k, k, nil)
	for _, s := range int8Sets() {
		s := s
		t.Run(s.name, func(t *testing.T) {
			c := runInt8(t, &s, 1, a, m, k, p, n)
			for r := 0; r < m; r++ {
				for j := 0; j < n; j++ {
					var want float64
					for kk := 0; kk < k; kk++ {
						want += float64(a[r*k+kk]) * float64(w[j*k+kk])
					}
					require.InDelta(t, want, c[r*n+j], 1e-3, "C[%d][%d]", r, j)
				}
			}
			require.InDelta(t, float64(k), c[0], 1e-3) // column 0: every product +1
		})
	}
}

// TestInt8QuantizerMatchesGo: the vector quantizer gives the portable one's bytes, scale and
// zero point, including ties at .5 (rounded to even) and rows of one sign.
func TestInt8QuantizerMatchesGo(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	for _, n := range []int{1, 7, 8, 9, 64, 383, 1536} {
		for _, kind := range []string{"normal", "positive", "negative", "zeros", "ties"} {
			x := randMatrix(rng, n, 3)
			for i := range x {
				switch kind {
				case "positive":
					x[i] = float32(math.Abs(float64(x[i])))
				case "negative":
					x[i] = -float32(math.Abs(float64(x[i])))
				case "zeros":
					x[i] = 0
				case "ties":
					x[i] = float32(i%9) - 4 + 0.5
				}
			}
			ld := ceilDiv(n, 4) * 4
			want := make([]uint8, ld)
			ws, wz := int8Go.quantizeRow(x, want)
			for _, s := range int8Sets() {
				got := make([]uint8, ld)
				gs, gz := s.quantizeRow(x, got)
				if s.unsignedA {
					for i := range got {
						got[i] ^= 0x80
					}
				}
				require.Equal(t, want, got, "%s n=%d %s", s.name, n, kind)
				require.Equal(t, ws, gs)
				require.Equal(t, wz, gz)
			}
			for i, v := range x { // q − zp reconstructs x within half a step
				q := float32(int8(want[i])) + wz // want holds q − 128 as a signed byte
				require.InDelta(t, v, q*ws, float64(ws)/2*1.0001+1e-7, "%s x[%d]", kind, i)
			}
		}
	}
}

// TestInt8ApproximatesFloat: the quantized product is close to the exact one: per-channel
// int8 weights and per-row 8-bit activations keep the relative error of each output row
// around a percent.
func TestInt8ApproximatesFloat(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	const m, k, n = 16, 384, 192
	w := randMatrix(rng, n*k, 0.05)
	a := randMatrix(rng, m*k, 1)
	bias := randMatrix(rng, n, 0.1)
	p := QuantizeInt8(w, n, k, k, bias)
	s := SelectInt8(Int8Best)
	c := runInt8(t, &s, 2, a, m, k, p, n)
	for r := 0; r < m; r++ {
		var num, den float64
		for j := 0; j < n; j++ {
			e := float64(bias[j])
			for kk := 0; kk < k; kk++ {
				e += float64(a[r*k+kk]) * float64(w[j*k+kk])
			}
			d := float64(c[r*n+j]) - e
			num += d * d
			den += e * e
		}
		require.Less(t, math.Sqrt(num/den), 0.02, "row %d relative error", r)
	}
}

func BenchmarkGemmInt8(b *testing.B) {
	rng := rand.New(rand.NewSource(1))
	for _, sz := range []struct{ m, k, n int }{{12, 384, 1152}, {12, 1536, 384}, {256, 384, 1152}, {256, 1536, 384}, {1024, 384, 1536}} {
		w := randMatrix(rng, sz.n*sz.k, 0.05)
		a := randMatrix(rng, sz.m*sz.k, 1)
		p := QuantizeInt8(w, sz.n, sz.k, sz.k, nil)
		c := make([]float32, sz.m*sz.n)
		pool := NewPool(2)
		for _, s := range int8Sets() {
			s := s
			b.Run(fmt.Sprintf("%s/m%d_k%d_n%d", s.name, sz.m, sz.k, sz.n), func(b *testing.B) {
				start := time.Now()
				for i := 0; i < b.N; i++ {
					pool.GemmInt8(&Int8Args{C: c, LDC: sz.n, A: a, LDA: sz.k, M: sz.m, W: p, K: &s})
				}
				b.ReportMetric(float64(sz.m*sz.n*sz.k)*float64(b.N)/time.Since(start).Seconds()/1e9, "GMAC/s")
			})
		}
		pool.Close()
	}
}
