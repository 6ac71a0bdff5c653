//go:build !purego

package kernels

// vecLanes is the float32 lanes of the elementwise kernels' vectors (AVX2: 256 bits).
const vecLanes = 8

//go:noescape
func kernelAVX2(kc int, a *float32, lda int, b *float32, c *float32, ldc int, bias *float32)

//go:noescape
func kernelAVX2x4(kc int, a *float32, lda int, b *float32, c *float32, ldc int, bias *float32)

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

func init() { archSets = amd64Sets }

// amd64Sets returns the kernel sets this CPU can run, fastest first.
func amd64Sets() []Set {
	if !hasAVX2FMA {
		return nil
	}
	avx2 := Set{name: "avx2+fma", tile: tileAVX2, tile4: tile4AVX2, gelu: geluVec, softmax: softmaxVec, expNorm: expNormVec, scale: scaleVec, layerNorm: layerNormVec, add: addGo}
	if !hasAVX512 {
		return []Set{avx2}
	}
	avx512 := avx2
	avx512.name, avx512.wide, avx512.wideBF16 = "avx512", wideAVX512, wideBF16AVX512
	avx512.expNorm, avx512.softmax, avx512.gelu, avx512.add, avx512.layerNorm = expNorm512, softmax512, gelu512, add512, layerNorm512
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
