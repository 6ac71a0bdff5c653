//go:build !purego

package kernels

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	"github.com/stretchr/testify/require"
)

// These tests run on arm64 only (tools/arm64_test.sh runs them under qemu-aarch64 on an
// amd64 machine); TestGemm and TestVectorElementwiseMatchesGo cover the NEON set through
// allKernels as well.

func TestArm64SelectsNEON(t *testing.T) {
	s := Select(false)
	require.Equal(t, "neon", s.Name(), "arm64 must run the NEON kernels")
	require.Equal(t, "neon", bestKernels.Name())
	g := Select(true)
	require.Equal(t, "go", g.Name())
}

// TestNEONTiles calls the micro-kernels directly against kernelGo for odd depths and strides,
// with and without bias, and checks that nothing outside the tile is written.
func TestNEONTiles(t *testing.T) {
	tiles := []struct {
		name       string
		rows       int
		tile, want func(kc int, a []float32, lda int, panel []float32, c []float32, ldc int, bias []float32)
	}{
		{"6x16", mr, tileNEON, kernelGo},
		{"4x16", 4, tile4NEON, kernelGo4},
	}
	rng := rand.New(rand.NewSource(11))
	for _, tc := range tiles {
		for _, kc := range []int{1, 2, 3, 4, 5, 17, 384, 385} {
			for _, bias := range []bool{true, false} {
				t.Run(fmt.Sprintf("%s/kc=%d/bias=%v", tc.name, kc, bias), func(t *testing.T) {
					lda, ldc := kc+3, nr+5
					a := randSlice(rng, tc.rows*lda)
					panel := randSlice(rng, kc*nr)
					var b []float32
					if bias {
						b = randSlice(rng, nr)
					}
					c := randSlice(rng, tc.rows*ldc)
					want := append([]float32(nil), c...)
					tc.tile(kc, a, lda, panel, c, ldc, b)
					tc.want(kc, a, lda, panel, want, ldc, b)
					for r := 0; r < tc.rows; r++ {
						for j := 0; j < ldc; j++ {
							i := r*ldc + j
							if j >= nr {
								require.Equalf(t, want[i], c[i], "C[%d][%d] outside the tile was written", r, j)
								continue
							}
							require.InDeltaf(t, want[i], c[i], 1e-5*math.Sqrt(float64(kc))*(1+math.Abs(float64(want[i]))), "C[%d][%d]", r, j)
						}
					}
				})
			}
		}
	}
}

// kernelGo4 is kernelGo for 4 rows: the reference of tile4NEON.
func kernelGo4(kc int, a []float32, lda int, panel []float32, c []float32, ldc int, bias []float32) {
	for r := 0; r < 4; r++ {
		for j := 0; j < nr; j++ {
			s := float64(0)
			if bias != nil {
				s = float64(bias[j])
			} else {
				s = float64(c[r*ldc+j])
			}
			for k := 0; k < kc; k++ {
				s += float64(a[r*lda+k]) * float64(panel[k*nr+j])
			}
			c[r*ldc+j] = float32(s)
		}
	}
}

// TestNEONElementwiseTails checks the NEON elementwise kernels at lengths that are and are not
// multiples of their 4 lanes, LayerNorm included (the shared test does it at multiples of 8),
// and that they leave the values past the slice alone.
func TestNEONElementwiseTails(t *testing.T) {
	const guard = 8
	rng := rand.New(rand.NewSource(13))
	for _, n := range []int{1, 3, 4, 5, 12, 20, 383, 384, 388} {
		buf := make([]float32, n+guard)
		for i := range buf {
			buf[i] = float32(rng.NormFloat64() * 3)
		}
		check := func(name string, got, want []float32, tol func(w float64) float64) {
			for i := 0; i < n; i++ {
				require.InDeltaf(t, float64(want[i]), float64(got[i]), tol(float64(want[i])), "%s n=%d i=%d", name, n, i)
			}
			require.Equalf(t, buf[n:], got[n:], "%s n=%d wrote past the slice", name, n)
		}
		g, want := append([]float32(nil), buf...), append([]float32(nil), buf...)
		geluVec(g[:n])
		geluGo(want[:n])
		check("gelu", g, want, func(w float64) float64 { return 1e-6 * math.Max(1, math.Abs(w)) })

		s, want := append([]float32(nil), buf...), append([]float32(nil), buf...)
		softmaxVec(s[:n])
		softmaxGo(want[:n])
		check("softmax", s, want, func(w float64) float64 { return 3e-6 * math.Max(1e-3, w) })

		sc, want := append([]float32(nil), buf...), append([]float32(nil), buf...)
		scaleVec(sc[:n], 0.37)
		scaleGo(want[:n], 0.37)
		check("scale", sc, want, func(float64) float64 { return 0 })

		if n%4 == 0 {
			l, want := append([]float32(nil), buf...), append([]float32(nil), buf...)
			gamma, beta := randVec(rng, n), randVec(rng, n)
			layerNormVec(l[:n], gamma, beta, 1e-12)
			layerNormGo(want[:n], gamma, beta, 1e-12)
			check("layerNorm", l, want, func(w float64) float64 { return 2e-5 * math.Max(1, math.Abs(w)) })
		}
	}
}
