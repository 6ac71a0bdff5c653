package coreml

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/minilm-coreml/minilm/go/plan"
)

func enumerated(name string, shapes ...[]int) ShapeConstraint {
	return ShapeConstraint{Name: name, Kind: "enumerated", Enumerated: shapes}
}

func ranged(name string, r ...[2]int) ShapeConstraint {
	return ShapeConstraint{Name: name, Kind: "range", Ranges: r}
}

type shapeSetCase struct {
	name    string
	cons    []ShapeConstraint
	want    plan.ShapeSet
	wantErr string
}

func runShapeSetCases(t *testing.T, tests []shapeSetCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ShapeSetOf(tt.cons...)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestShapeSetOfEnumerated(t *testing.T) {
	ids := enumerated(InputIDsName, []int{8, 128}, []int{1, 32}, []int{8, 32}, []int{64, 512}, []int{1, 32})
	mask := enumerated(AttentionMaskName, []int{8, 32}, []int{1, 32}, []int{8, 128}, []int{64, 512}, []int{2, 2})
	want := plan.Enumerated{{Batch: 1, Seq: 32}, {Batch: 8, Seq: 32}, {Batch: 8, Seq: 128}, {Batch: 64, Seq: 512}}

	tests := []shapeSetCase{
		{"single input, sorted, duplicates removed", []ShapeConstraint{ids}, want, ""},
		{"two inputs keep the common shapes", []ShapeConstraint{ids, mask}, want, ""},
		{"no common shape", []ShapeConstraint{ids, enumerated(AttentionMaskName, []int{2, 2})}, nil, "no shape in common"},
		{"rank 3", []ShapeConstraint{enumerated(InputIDsName, []int{1, 32, 1})}, nil, "input input_ids: shape [1 32 1] is not a valid (batch, seq) shape"},
		{"empty list", []ShapeConstraint{enumerated(InputIDsName)}, nil, "lists no shapes"},
		{"no constraints", nil, nil, "no input shape constraints"},
		{"unknown kind", []ShapeConstraint{{Name: InputIDsName, Kind: "weird"}}, nil, `unknown shape constraint kind "weird"`},
	}
	runShapeSetCases(t, tests)
}

func TestShapeSetOfRangesAndMixed(t *testing.T) {
	ids := ranged(InputIDsName, [2]int{1, 64}, [2]int{8, 512})
	tests := []shapeSetCase{
		{"one range", []ShapeConstraint{ids}, plan.Ranges{BatchMin: 1, BatchMax: 64, SeqMin: 8, SeqMax: 512}, ""},
		{"ranges intersect", []ShapeConstraint{ids, ranged(AttentionMaskName, [2]int{2, 32}, [2]int{1, 256})},
			plan.Ranges{BatchMin: 2, BatchMax: 32, SeqMin: 8, SeqMax: 256}, ""},
		{"unbounded dimensions capped", []ShapeConstraint{ranged(InputIDsName, [2]int{1, -1}, [2]int{0, -1})},
			plan.Ranges{BatchMin: 1, BatchMax: UnboundedBatchCap, SeqMin: 1, SeqMax: UnboundedSeqCap}, ""},
		{"enumerated within a range", []ShapeConstraint{enumerated(InputIDsName, []int{1, 32}, []int{8, 32}, []int{128, 32}), ids},
			plan.Enumerated{{Batch: 1, Seq: 32}, {Batch: 8, Seq: 32}}, ""},
		{"fixed", []ShapeConstraint{{Name: InputIDsName, Kind: "fixed", Fixed: []int{16, 128}}},
			plan.Enumerated{{Batch: 16, Seq: 128}}, ""},
		{"rank 1 range", []ShapeConstraint{ranged(InputIDsName, [2]int{1, 64})}, nil, "range constraint has 1 dimensions"},
		{"disjoint ranges", []ShapeConstraint{ids, ranged(AttentionMaskName, [2]int{1, 64}, [2]int{600, 700})}, nil, "do not overlap"},
		{"empty NSRange", []ShapeConstraint{ranged(InputIDsName, rangeFromNSRange(1, 64), rangeFromNSRange(8, 0))}, nil, "empty range"},
	}
	runShapeSetCases(t, tests)
}

// TestRangeFromNSRange pins the reading of sizeRangeForDimension: an NSRange {location,
// length} holds location .. location+length-1 (see rangeFromNSRange for the sources).
func TestRangeFromNSRange(t *testing.T) {
	tests := []struct {
		name        string
		loc, length uint64
		want        [2]int
	}{
		{"fixed size 128 is {128, 1}", 128, 1, [2]int{128, 128}},
		{"RangeDim(1, 64) is {1, 64}", 1, 64, [2]int{1, 64}},
		{"RangeDim(8, 512) is {8, 505}", 8, 505, [2]int{8, 512}},
		{"unbounded: length near NSIntegerMax", 1, 1<<63 - 2, [2]int{1, -1}},
		{"unbounded: location+length overflows", 3, ^uint64(0) - 1, [2]int{3, -1}},
		{"empty", 8, 0, [2]int{8, 7}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, rangeFromNSRange(tt.loc, tt.length))
		})
	}
	// Through ShapeSetOf: RangeDim(1, 64) × RangeDim(8, 512) as Core ML reports them.
	set, err := ShapeSetOf(ranged(InputIDsName, rangeFromNSRange(1, 64), rangeFromNSRange(8, 505)))
	require.NoError(t, err)
	require.Equal(t, 64, set.MaxBatch())
	require.Equal(t, 512, set.MaxSeq())
	_, ok := set.Fit(65, 8)
	require.False(t, ok)
}

func TestWarmShapes(t *testing.T) {
	require.Equal(t, []plan.Shape{{Batch: 16, Seq: 128}}, warmShapes(plan.Enumerated{{Batch: 16, Seq: 128}}))
	require.Equal(t, []plan.Shape{{Batch: 1, Seq: 32}, {Batch: 8, Seq: 32}, {Batch: 1, Seq: 512}},
		warmShapes(plan.Enumerated{{Batch: 1, Seq: 512}, {Batch: 8, Seq: 32}, {Batch: 1, Seq: 32}, {Batch: 8, Seq: 32}}))
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
