package npy_test

import (
	"bytes"
	"fmt"

	"github.com/minilm-coreml/minilm/go/npy"
)

func ExampleWriteMatrix() {
	var buf bytes.Buffer
	if err := npy.WriteMatrix(&buf, [][]float32{{0.6, 0.8}, {1, 0}}); err != nil {
		fmt.Println(err)
		return
	}
	shape, data, err := npy.Read(&buf)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(shape, data)
	// Output: [2 2] [0.6 0.8 1 0]
}
