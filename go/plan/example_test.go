package plan_test

import (
	"fmt"

	"github.com/minilm-coreml/minilm/go/plan"
)

func ExamplePlan() {
	// Token lengths of five texts, planned for a Core ML model compiled for a grid of shapes.
	lengths := []int{12, 300, 9, 14, 11}
	shapes := plan.Grid([]int{1, 4, 16}, []int{16, 64, 512})
	batches, err := plan.Plan(lengths, 16, shapes)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, b := range batches {
		fmt.Println(b.Shape, b.Indices)
	}
	fmt.Println(plan.Measure(lengths, batches))
	// Output:
	// 4x16 [2 4 0 3]
	// 1x512 [1]
	// 5 texts in 2 batches: 346 tokens in 576 slots (39.9% padding)
}
