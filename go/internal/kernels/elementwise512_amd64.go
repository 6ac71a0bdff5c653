//go:build !purego

package kernels

// The Go halves of the AVX-512 elementwise kernels (their bodies are in elementwise_amd64.s).

import "math"

//go:noescape
func expSumBody512(p *float32, n int, m float32) (sum float32)

//go:noescape
func maxBody512(p *float32, n int) float32

//go:noescape
func geluBody512(p *float32, n int)

//go:noescape
func addBody512(x, y *float32, n int)

//go:noescape
func fillNKPanel512(dst, src *float32, ldb, k, w int)

func init() {
	if hasAVX512 {
		fillNKPanel = func(dst, src []float32, ldb, k, w int) {
			if k < 1 || w < 1 || w > nr || len(dst) < k*nr || len(src) < (w-1)*ldb+k || ldb >= 1<<26 {
				fillNKPanelGo(dst, src, ldb, k, w)
				return
			}
			fillNKPanel512(&dst[0], &src[0], ldb, k, w)
		}
	}
}

//go:noescape
func layerNormBody512(x, gamma, beta *float32, n int, eps float32)

// layerNorm512 is layerNormVec on 16 lanes (AVX-512F) when len(x) is a multiple of 32 (the
// encoder's 384 is), layerNormVec otherwise.
func layerNorm512(x, gamma, beta []float32, eps float32) {
	n := len(x)
	if n == 0 || n%32 != 0 || len(gamma) < n || len(beta) < n {
		layerNormVec(x, gamma, beta, eps)
		return
	}
	layerNormBody512(&x[0], &gamma[0], &beta[0], n, eps)
}

// add512 is addGo on 16 lanes (AVX-512F), the last partial vector under a mask.
func add512(x, y []float32) {
	if len(x) > 0 {
		_ = y[len(x)-1]
		addBody512(&x[0], &y[0], len(x))
	}
}

// gelu512 is geluGo on 16 lanes (AVX-512F), the last partial vector under a mask.
func gelu512(v []float32) {
	if len(v) > 0 {
		geluBody512(&v[0], len(v))
	}
}

// expNorm512 is expNormVec on 16 lanes (AVX-512F), the last partial vector under a mask;
// each element is computed as expNormGo computes it.
func expNorm512(v []float32) float32 {
	if len(v) == 0 {
		return float32(math.Inf(1))
	}
	n16 := len(v) &^ 15
	m := float32(math.Inf(-1))
	if n16 > 0 {
		m = maxBody512(&v[0], n16)
	}
	for _, x := range v[n16:] {
		if x > m {
			m = x
		}
	}
	return 1 / expSumBody512(&v[0], len(v), m)
}

// softmax512 is softmaxVec with expNorm512.
func softmax512(v []float32) {
	if len(v) == 0 {
		return
	}
	scaleVec(v, expNorm512(v))
}
