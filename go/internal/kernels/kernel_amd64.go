//go:build !purego

package kernels

import "math"

//go:noescape
func kernelAVX2(kc int, a *float32, lda int, b *float32, c *float32, ldc int, bias *float32)

func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)

func xgetbv() (eax, edx uint32)

// hasAVX2FMA reports whether the CPU and OS support AVX2 and FMA3 (YMM state enabled).
func detectAVX2FMA() bool {
	maxID, _, _, _ := cpuid(0, 0)
	if maxID < 7 {
		return false
	}
	_, _, ecx1, _ := cpuid(1, 0)
	const (
		fma     = 1 << 12
		osxsave = 1 << 27
		avx     = 1 << 28
	)
	if ecx1&(fma|osxsave|avx) != fma|osxsave|avx {
		return false
	}
	if xcr0, _ := xgetbv(); xcr0&6 != 6 { // XMM and YMM state saved by the OS
		return false
	}
	_, ebx7, _, _ := cpuid(7, 0)
	return ebx7&(1<<5) != 0 // AVX2
}

//go:noescape
func kernelAVX2x4(kc int, a *float32, lda int, b *float32, c *float32, ldc int, bias *float32)

var hasAVX2FMA = detectAVX2FMA()

func tile4AVX2(kc int, a []float32, lda int, panel []float32, c []float32, ldc int, bias []float32) {
	checkKernelArgs4(kc, a, lda, panel, c, ldc, bias)
	var bp *float32
	if bias != nil {
		bp = &bias[0]
	}
	kernelAVX2x4(kc, &a[0], lda, &panel[0], &c[0], ldc, bp)
}

func tileAVX2(kc int, a []float32, lda int, panel []float32, c []float32, ldc int, bias []float32) {
	checkKernelArgs(kc, a, lda, panel, c, ldc, bias)
	var bp *float32
	if bias != nil {
		bp = &bias[0]
	}
	kernelAVX2(kc, &a[0], lda, &panel[0], &c[0], ldc, bp)
}

// detectAVX512 reports whether the CPU and OS support AVX-512 F, BW and VL (opmask and all
// 32 zmm registers saved by the OS).
func detectAVX512() bool {
	if !hasAVX2FMA {
		return false
	}
	if xcr0, _ := xgetbv(); xcr0&0xe6 != 0xe6 { // XMM, YMM, opmask, ZMM_Hi256, Hi16_ZMM
		return false
	}
	_, ebx7, _, _ := cpuid(7, 0)
	const f, bw, vl = 1 << 16, 1 << 30, 1 << 31
	return ebx7&(f|bw|vl) == f|bw|vl
}

var hasAVX512 = detectAVX512()

func init() { archSets = amd64Sets }

// amd64Sets returns the kernel sets this CPU can run, fastest first.
func amd64Sets() []Set {
	if !hasAVX2FMA {
		return nil
	}
	avx2 := Set{name: "avx2+fma", tile: tileAVX2, tile4: tile4AVX2, gelu: geluVec, softmax: softmaxVec, expNorm: expNormVec, scale: scaleVec, layerNorm: layerNormVec}
	if !hasAVX512 {
		return []Set{avx2}
	}
	avx512 := avx2
	avx512.name, avx512.wide, avx512.wideBF16 = "avx512", wideAVX512, wideBF16AVX512
	if !hasAVX512BF16 {
		return []Set{avx512, avx2}
	}
	dot := avx512
	dot.name, dot.dotBF16, dot.toBF16 = "avx512+bf16", dotBF16AVX512, toBF16AVX512
	return []Set{dot, avx512, avx2}
}

func archKernels() (Set, bool) {
	sets := amd64Sets()
	if len(sets) == 0 {
		return Set{}, false
	}
	return sets[0], true
}

// wideAVX512 is the wideFunc of the AVX-512 kernels (gemm512_amd64.s).
func wideAVX512(rows, kc int, a []float32, lda int, b []float32, bstride, nc int, c []float32, ldc int, bias []float32) {
	checkWideArgs(rows, kc, len(a), lda, len(b), kc*nr, bstride, nc, len(c), ldc, bias)
	w := 0
	if nc > nr {
		w = 1
	}
	m1, m2 := colMasks(nc)
	var bp *float32
	if bias != nil {
		bp = &bias[0]
	}
	gemm512F32[w][rows-1](kc, &a[0], lda, &b[0], bstride, &c[0], ldc, bp, m1, m2)
}

// wideBF16AVX512 is the wideBF16Func of the AVX-512 kernels: bf16 weights widened to
// float32 in registers, float32 activations.
func wideBF16AVX512(rows, kc int, a []float32, lda int, b []uint16, bstride, nc int, c []float32, ldc int, bias []float32) {
	checkWideArgs(rows, kc, len(a), lda, len(b), ceilDiv(kc, 2)*2*nr, bstride, nc, len(c), ldc, bias)
	w := 0
	if nc > nr {
		w = 1
	}
	m1, m2 := colMasks(nc)
	var bp *float32
	if bias != nil {
		bp = &bias[0]
	}
	gemm512BF16[w][rows-1](kc, &a[0], lda, &b[0], bstride, &c[0], ldc, bp, m1, m2)
}

//go:noescape
func expSumAVX2(p *float32, n int, m float32) (sum float32)

//go:noescape
func scaleAVX2(p *float32, n int, s float32)

//go:noescape
func geluAVX2(p *float32, n int)

func geluVec(v []float32) {
	n8 := len(v) &^ 7
	if n8 > 0 {
		geluAVX2(&v[0], n8)
	}
	geluGo(v[n8:])
}

//go:noescape
func maxAVX2(p *float32, n int) float32

func scaleVec(v []float32, s float32) {
	n8 := len(v) &^ 7
	if n8 > 0 {
		scaleAVX2(&v[0], n8, s)
	}
	for i := n8; i < len(v); i++ {
		v[i] *= s
	}
}

// expNormVec is expNormGo with AVX2.
func expNormVec(v []float32) float32 {
	n8 := len(v) &^ 7
	m := float32(math.Inf(-1))
	if n8 > 0 {
		m = maxAVX2(&v[0], n8)
	}
	for _, x := range v[n8:] {
		if x > m {
			m = x
		}
	}
	var sum float32
	if n8 > 0 {
		sum = expSumAVX2(&v[0], n8, m)
	}
	for i := n8; i < len(v); i++ {
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

//go:noescape
func layerNormAVX2(x, gamma, beta *float32, n int, eps float32)

func layerNormVec(x, gamma, beta []float32, eps float32) {
	n := len(x)
	if n == 0 || n%8 != 0 || len(gamma) < n || len(beta) < n {
		layerNormGo(x, gamma, beta, eps)
		return
	}
	layerNormAVX2(&x[0], &gamma[0], &beta[0], n, eps)
}
