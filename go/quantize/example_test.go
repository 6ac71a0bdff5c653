package quantize_test

import (
	"fmt"

	"github.com/minilm-coreml/minilm/go/quantize"
)

func Example() {
	// Calibrate int8 ranges on a sample of the corpus, then quantize with them.
	sample := [][]float32{{-0.5, 0.1, 0.9}, {0.5, -0.3, 0.1}, {0.0, 0.3, -0.9}}
	r, err := quantize.Calibrate(sample)
	if err != nil {
		panic(err)
	}
	v := []float32{0.25, -0.3, 0.9}
	q := make([]int8, len(v))
	if err := r.Int8(q, v); err != nil {
		panic(err)
	}
	bits := make([]uint8, quantize.UBinary.Len(len(v)))
	quantize.PackBits(bits, v)
	fmt.Println(q, fmt.Sprintf("%08b", bits[0]))
	// Output: [63 -128 127] 10100000
}
