// Package vecmath holds the vector arithmetic shared by the library (embed.Cosine), the
// quality gate (go/cmd/mlgate), the benchmarks and the tests: one cosine for all of them.
package vecmath

import (
	"fmt"
	"math"
)

// Cosine returns the cosine similarity of a and b, accumulated in float64 so that
// differences far below float32's resolution near 1 still show. It panics if their lengths
// differ; it is 0 if either vector is all zeros, and NaN if either holds a NaN (or an
// infinity, whose norm is not finite).
func Cosine(a, b []float32) float64 {
	if len(a) != len(b) {
		panic(fmt.Sprintf("vecmath: Cosine of vectors of length %d and %d", len(a), len(b)))
	}
	var dot, na, nb float64
	for i := range a {
		x, y := float64(a[i]), float64(b[i])
		dot += x * y
		na += x * x
		nb += y * y
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return dot / math.Sqrt(na*nb)
}
