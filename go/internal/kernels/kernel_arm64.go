//go:build !purego

package kernels

import "math"

// The arm64 kernels: NEON (ASIMD) assembly in kernel_arm64.s and elementwise_arm64.s. NEON
// is part of the ARMv8-A base architecture (every arm64 CPU Go runs on has it), so unlike
// AVX2 on amd64 there is nothing to detect.

//go:noescape
func kernelNEON(kc int, a *float32, lda int, b *float32, c *float32, ldc int, bias *float32)

//go:noescape
func kernelNEONx4(kc int, a *float32, lda int, b *float32, c *float32, ldc int, bias *float32)

func tileNEON(kc int, a []float32, lda int, panel []float32, c []float32, ldc int, bias []float32) {
	checkKernelArgs(kc, a, lda, panel, c, ldc, bias)
	var bp *float32
	if bias != nil {
		bp = &bias[0]
	}
	kernelNEON(kc, &a[0], lda, &panel[0], &c[0], ldc, bp)
}

func tile4NEON(kc int, a []float32, lda int, panel []float32, c []float32, ldc int, bias []float32) {
	checkKernelArgs4(kc, a, lda, panel, c, ldc, bias)
	var bp *float32
	if bias != nil {
		bp = &bias[0]
	}
	kernelNEONx4(kc, &a[0], lda, &panel[0], &c[0], ldc, bp)
}

func archKernels() (Set, bool) {
	return Set{name: "neon", tile: tileNEON, tile4: tile4NEON, gelu: geluVec, softmax: softmaxVec, expNorm: expNormVec, scale: scaleVec, layerNorm: layerNormVec}, true
}

//go:noescape
func expSumNEON(p *float32, n int, m float32) (sum float32)

//go:noescape
func scaleNEON(p *float32, n int, s float32)

//go:noescape
func geluNEON(p *float32, n int)

//go:noescape
func maxNEON(p *float32, n int) float32

//go:noescape
func layerNormNEON(x, gamma, beta *float32, n int, eps float32)

// geluVec is geluGo with NEON for whole vectors of 4.
func geluVec(v []float32) {
	n4 := len(v) &^ 3
	if n4 > 0 {
		geluNEON(&v[0], n4)
	}
	geluGo(v[n4:])
}

// scaleVec is scaleGo with NEON for whole vectors of 4.
func scaleVec(v []float32, s float32) {
	n4 := len(v) &^ 3
	if n4 > 0 {
		scaleNEON(&v[0], n4, s)
	}
	for i := n4; i < len(v); i++ {
		v[i] *= s
	}
}

// expNormVec is expNormGo with NEON for whole vectors of 4.
func expNormVec(v []float32) float32 {
	n4 := len(v) &^ 3
	m := float32(math.Inf(-1))
	if n4 > 0 {
		m = maxNEON(&v[0], n4)
	}
	for _, x := range v[n4:] {
		if x > m {
			m = x
		}
	}
	var sum float32
	if n4 > 0 {
		sum = expSumNEON(&v[0], n4, m)
	}
	for i := n4; i < len(v); i++ {
		e := expf(v[i] - m)
		v[i] = e
		sum += e
	}
	return 1 / sum
}

func softmaxVec(v []float32) {
	if len(v) == 0 {
		return
	}
	scaleVec(v, expNormVec(v))
}

// layerNormVec is layerNormGo with NEON when len(x) is a multiple of 4 (the hidden sizes of
// the encoder are), float32 moments instead of float64.
func layerNormVec(x, gamma, beta []float32, eps float32) {
	n := len(x)
	if n == 0 || n%4 != 0 || len(gamma) < n || len(beta) < n {
		layerNormGo(x, gamma, beta, eps)
		return
	}
	layerNormNEON(&x[0], &gamma[0], &beta[0], n, eps)
}
