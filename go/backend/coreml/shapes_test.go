package coreml

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/minilm-coreml/minilm/go/plan"
)

func TestShapeSetFromEnumeratedConstraints(t *testing.T) {
	ids := ShapeConstraint{Kind: "enumerated", Enumerated: [][]int{{1, 32}, {8, 32}, {8, 128}, {64, 512}}, Fixed: []int{1, 32}}
	mask := ShapeConstraint{Kind: "enumerated", Enumerated: [][]int{{8, 32}, {1, 32}, {8, 128}, {64, 512}, {2, 2}}}
	set, err := shapeSetFromConstraints(ids, mask)
	require.NoError(t, err)
	e, ok := set.(*EnumeratedShapes)
	require.True(t, ok)
	require.Equal(t, []plan.Shape{{Batch: 1, Seq: 32}, {Batch: 8, Seq: 32}, {Batch: 8, Seq: 128}, {Batch: 64, Seq: 512}}, e.List())

	_, err = shapeSetFromConstraints(ids, ShapeConstraint{Kind: "enumerated", Enumerated: [][]int{{2, 2}}})
	require.ErrorContains(t, err, "no shape in common")

	_, err = shapeSetFromConstraints(ShapeConstraint{Kind: "enumerated", Enumerated: [][]int{{1, 32, 1}}}, mask)
	require.ErrorContains(t, err, "input input_ids: shape [1 32 1] is not a valid (batch, seq) shape")
}

func TestShapeSetFromRangeConstraints(t *testing.T) {
	ids := ShapeConstraint{Kind: "range", Ranges: [][2]int{{1, 64}, {8, 512}}, Fixed: []int{1, 128}}
	mask := ShapeConstraint{Kind: "range", Ranges: [][2]int{{1, 64}, {1, 512}}}
	set, err := shapeSetFromConstraints(ids, mask)
	require.NoError(t, err)
	require.Equal(t, RangeShapes{BatchMin: 1, BatchMax: 64, SeqMin: 8, SeqMax: 512}, set)

	// Unbounded dimensions are capped rather than overflowing.
	set, err = shapeSetFromConstraints(ShapeConstraint{Kind: "range", Ranges: [][2]int{{1, -1}, {8, 512}}}, mask)
	require.NoError(t, err)
	require.Equal(t, 64, set.MaxBatch())

	_, err = shapeSetFromConstraints(ShapeConstraint{Kind: "range", Ranges: [][2]int{{1, 64}}}, mask)
	require.ErrorContains(t, err, "range constraint has 1 dimensions")
	_, err = shapeSetFromConstraints(ids, ShapeConstraint{Kind: "range", Ranges: [][2]int{{1, 64}, {600, 700}}})
	require.ErrorContains(t, err, "do not overlap")
}

func TestShapeSetFromMixedAndFixedConstraints(t *testing.T) {
	ids := ShapeConstraint{Kind: "enumerated", Enumerated: [][]int{{1, 32}, {8, 32}, {128, 32}}}
	mask := ShapeConstraint{Kind: "range", Ranges: [][2]int{{1, 64}, {8, 512}}}
	set, err := shapeSetFromConstraints(ids, mask)
	require.NoError(t, err)
	require.Equal(t, []plan.Shape{{Batch: 1, Seq: 32}, {Batch: 8, Seq: 32}}, set.(*EnumeratedShapes).List())

	fixed := ShapeConstraint{Kind: "fixed", Fixed: []int{16, 128}}
	set, err = shapeSetFromConstraints(fixed, fixed)
	require.NoError(t, err)
	got, ok := set.Fit(3, 100)
	require.True(t, ok)
	require.Equal(t, plan.Shape{Batch: 16, Seq: 128}, got)
	require.Equal(t, []plan.Shape{{Batch: 16, Seq: 128}}, warmShapes(set))

	_, err = shapeSetFromConstraints(ShapeConstraint{Kind: "weird"}, fixed)
	require.ErrorContains(t, err, `unknown shape constraint kind "weird"`)
}

func TestNewEnumeratedShapesValidates(t *testing.T) {
	_, err := NewEnumeratedShapes(nil)
	require.Error(t, err)
	_, err = NewEnumeratedShapes([]plan.Shape{{Batch: 0, Seq: 8}})
	require.ErrorContains(t, err, "invalid shape 0x8")
}

func TestComputeUnitsNames(t *testing.T) {
	for _, u := range []ComputeUnits{CPUOnly, CPUAndGPU, All, CPUAndNeuralEngine} {
		got, err := ParseComputeUnits(u.String())
		require.NoError(t, err)
		require.Equal(t, u, got)
	}
	_, err := ParseComputeUnits("ane")
	require.Error(t, err)
	c := defaultConfig()
	require.Equal(t, CPUAndNeuralEngine, c.units)
	WithInstances(0)(&c)
	require.ErrorContains(t, c.validate(), "at least one instance")
}
