//go:build !purego

package kernels

import "math"

//go:noescape
func expSumBody512(p *float32, n int, m float32) (sum float32)

//go:noescape
func maxBody512(p *float32, n int) float32

// expNorm512 is expNormVec on 16 lanes (AVX-512F): the multiple of 16 in zmm registers,
// then 8 lanes, then Go, each element computed as expNormGo computes it.
func expNorm512(v []float32) float32 {
	n16 := len(v) &^ 15
	n8 := len(v) &^ 7
	m := float32(math.Inf(-1))
	if n16 > 0 {
		m = maxBody512(&v[0], n16)
	}
	for _, x := range v[n16:] {
		if x > m {
			m = x
		}
	}
	var sum float32
	if n16 > 0 {
		sum = expSumBody512(&v[0], n16, m)
	}
	if n8 > n16 {
		sum += expSumBody(&v[n16], n8-n16, m)
	}
	for i := n8; i < len(v); i++ {
		e := expf(v[i] - m)
		v[i] = e
		sum += e
	}
	return 1 / sum
}

// softmax512 is softmaxVec with expNorm512.
func softmax512(v []float32) {
	if len(v) == 0 {
		return
	}
	scaleVec(v, expNorm512(v))
}
