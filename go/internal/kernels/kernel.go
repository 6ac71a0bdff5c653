package kernels

// Set is a set of inner loops: the SGEMM micro-kernels and the elementwise functions of one
// instruction set. Select returns one; its zero value is not usable.
type Set struct {
	name string
	// tile computes a 6×16 tile; see kernelGo.
	tile func(kc int, a []float32, lda int, panel []float32, c []float32, ldc int, bias []float32)
	// tile4, if not nil, is tile for 4 rows (remainders of up to 4 rows waste less).
	tile4 func(kc int, a []float32, lda int, panel []float32, c []float32, ldc int, bias []float32)
	// wide, if not nil, replaces tile and tile4: it computes a tile of 1..wideRows rows and
	// up to two panels (32 columns); see wideFunc for the contract. nil on CPUs without it.
	wide wideFunc
	// wideBF16 is wide for bfloat16 weights (Packed.ToBF16); nil means the portable
	// wideBF16Go.
	wideBF16 wideBF16Func
	// dotBF16, if not nil, is preferred to wideBF16: it multiplies bf16 weights by
	// activations rounded to bf16 (by toBF16, which must then be set too).
	dotBF16 dotBF16Func
	toBF16  func(dst []uint16, src []float32)
	gelu    func(v []float32)
	softmax func(v []float32)
	// expNorm sets v[i] = exp(v[i] - max(v)) and returns 1/Σv[i]: softmax without the final
	// scaling, which attention applies to its (smaller) output instead.
	expNorm func(v []float32) float32
	scale   func(v []float32, s float32)
	// layerNorm normalizes x in place with gain gamma and bias beta.
	layerNorm func(x, gamma, beta []float32, eps float32)
	// add sets x[i] += y[i] for i < len(x) (len(y) ≥ len(x)).
	add func(x, y []float32)
}

// archSets, if an architecture's file sets it, returns every kernel set the CPU runs,
// fastest first: the tests run each, so the fallbacks of a faster CPU stay tested.
var archSets func() []Set

var goKernels = Set{name: "go", tile: tileGo, gelu: geluGo, softmax: softmaxGo, expNorm: expNormGo, scale: scaleGo, layerNorm: layerNormGo, add: addGo}

// Select returns the fastest kernels the CPU supports, or the portable Go ones when pureGo
// is set or the CPU lacks AVX2+FMA.
func Select(pureGo bool) Set {
	if !pureGo {
		if k, ok := archKernels(); ok {
			return k
		}
	}
	return goKernels
}

func tileGo(kc int, a []float32, lda int, panel []float32, c []float32, ldc int, bias []float32) {
	checkKernelArgs(kc, a, lda, panel, c, ldc, bias)
	kernelGo(kc, a, lda, panel, c, ldc, bias)
}

// checkKernelArgs panics if a kernel call would touch memory outside its slices; the
// assembly kernel does no bounds checks of its own. A panic here is a bug in this package.
func checkKernelArgs(kc int, a []float32, lda int, panel []float32, c []float32, ldc int, bias []float32) {
	if kc < 1 || len(a) < (mr-1)*lda+kc || len(panel) < kc*nr || len(c) < (mr-1)*ldc+nr || (bias != nil && len(bias) < nr) {
		panic("kernels: kernel arguments out of range")
	}
}

// checkKernelArgs4 is checkKernelArgs for a 4-row tile.
func checkKernelArgs4(kc int, a []float32, lda int, panel []float32, c []float32, ldc int, bias []float32) {
	if kc < 1 || len(a) < 3*lda+kc || len(panel) < kc*nr || len(c) < 3*ldc+nr || (bias != nil && len(bias) < nr) {
		panic("kernels: kernel arguments out of range")
	}
}
