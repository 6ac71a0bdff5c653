//go:build !purego

package kernels

// vecLanes is the float32 lanes of the elementwise kernels' vectors (NEON: 128 bits).
const vecLanes = 4

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
	return Set{name: "neon", tile: tileNEON, tile4: tile4NEON, gelu: geluVec, softmax: softmaxVec, expNorm: expNormVec, scale: scaleVec, layerNorm: layerNormVec, add: addGo}, true
}
