//go:build (amd64 || arm64) && !purego

package kernels

import "math"

// The Go halves of the vector elementwise kernels, shared by amd64 (AVX2, 8 lanes,
// elementwise_amd64.s) and arm64 (NEON, 4 lanes, elementwise_arm64.s). The assembly bodies
// work on whole vectors only (n a multiple of vecLanes); the tails run here, with the same
// approximations as the Go kernels (mathf.go), so every length gives the Go kernels' results.

//go:noescape
func expSumBody(p *float32, n int, m float32) (sum float32)

//go:noescape
func scaleBody(p *float32, n int, s float32)

//go:noescape
func geluBody(p *float32, n int)

//go:noescape
func maxBody(p *float32, n int) float32

// layerNormBody needs n to be a multiple of vecLanes.
//
//go:noescape
func layerNormBody(x, gamma, beta *float32, n int, eps float32)

// geluVec is geluGo, vectorized.
func geluVec(v []float32) {
	n := len(v) &^ (vecLanes - 1)
	if n > 0 {
		geluBody(&v[0], n)
	}
	geluGo(v[n:])
}

// scaleVec is scaleGo, vectorized.
func scaleVec(v []float32, s float32) {
	n := len(v) &^ (vecLanes - 1)
	if n > 0 {
		scaleBody(&v[0], n, s)
	}
	for i := n; i < len(v); i++ {
		v[i] *= s
	}
}

// expNormVec is expNormGo, vectorized: v = exp(v - max v) in place, and 1/Σ returned.
func expNormVec(v []float32) float32 {
	n := len(v) &^ (vecLanes - 1)
	m := float32(math.Inf(-1))
	if n > 0 {
		m = maxBody(&v[0], n)
	}
	for _, x := range v[n:] {
		if x > m {
			m = x
		}
	}
	var sum float32
	if n > 0 {
		sum = expSumBody(&v[0], n, m)
	}
	for i := n; i < len(v); i++ {
		e := expf(v[i] - m)
		v[i] = e
		sum += e
	}
	return 1 / sum
}

// softmaxVec is softmaxGo, vectorized.
func softmaxVec(v []float32) {
	if len(v) == 0 {
		return
	}
	scaleVec(v, expNormVec(v))
}

// layerNormVec is layerNormGo, vectorized when len(x) is a multiple of vecLanes (the
// encoder's hidden sizes are), with float32 moments instead of float64.
func layerNormVec(x, gamma, beta []float32, eps float32) {
	n := len(x)
	if n == 0 || n%vecLanes != 0 || len(gamma) < n || len(beta) < n {
		layerNormGo(x, gamma, beta, eps)
		return
	}
	layerNormBody(&x[0], &gamma[0], &beta[0], n, eps)
}
