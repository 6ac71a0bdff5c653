//go:build !purego

package kernels

//go:noescape
func cvtBF16AVX512(dst *uint16, src *float32, n int)

// toBF16AVX512 is the toBF16Func of AVX-512 BF16.
func toBF16AVX512(dst []uint16, src []float32) {
	dst = dst[:len(src)]
	n32 := len(src) &^ 31
	if n32 > 0 {
		cvtBF16AVX512(&dst[0], &src[0], n32)
	}
	for i := n32; i < len(src); i++ {
		dst[i] = BF16(src[i])
	}
}

// dotBF16AVX512 is the dotBF16Func of AVX-512 BF16 (VDPBF16PS).
func dotBF16AVX512(rows, kp int, a []uint16, lda int, b []uint16, bstride, nc int, c []float32, ldc int, bias []float32) {
	checkWideArgs(rows, 2*kp, len(a), lda, len(b), kp*2*nr, bstride, nc, len(c), ldc, bias)
	w := 0
	if nc > nr {
		w = 1
	}
	m1, m2 := colMasks(nc)
	var bp *float32
	if bias != nil {
		bp = &bias[0]
	}
	gemm512BF16Dot[w][rows-1](kp, &a[0], lda, &b[0], bstride, &c[0], ldc, bp, m1, m2)
}
