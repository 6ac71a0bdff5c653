package coreml

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/minilm-coreml/minilm/go/plan"
)

func TestComputePlanSummaryAndFormat(t *testing.T) {
	var ops []OperationUsage
	add := func(op string, d Device, n int) {
		for i := 0; i < n; i++ {
			ops = append(ops, OperationUsage{Operator: op, Device: d})
		}
	}
	add("matmul", DeviceNeuralEngine, 36)
	add("softmax", DeviceNeuralEngine, 6)
	add("gather", DeviceCPU, 2)
	add("layer_norm", DeviceGPU, 1)
	add("const", DeviceUnknown, 5)
	f := SummarizeFunction("main", ops)
	require.Equal(t, 50, f.Operations)
	require.Equal(t, map[Device]int{DeviceNeuralEngine: 42, DeviceCPU: 2, DeviceGPU: 1, DeviceUnknown: 5}, f.ByDevice)
	require.Equal(t, map[string]map[Device]int{"gather": {DeviceCPU: 2}, "layer_norm": {DeviceGPU: 1}}, f.OffNeuralEngine)

	r := &ComputePlanReport{
		Model: "m.mlpackage", Compiled: "/cache/x/model.mlmodelc", Units: CPUAndNeuralEngine, Interface: IDsOnly,
		Shapes:    plan.Enumerated{{Batch: 1, Seq: 32}, {Batch: 8, Seq: 128}},
		Functions: []FunctionPlan{f},
	}
	var b strings.Builder
	require.NoError(t, r.Format(&b))
	want := `Core ML compute plan of m.mlpackage
compiled: /cache/x/model.mlmodelc
compute units: cpuAndNeuralEngine; inputs: input_ids
allowed shapes: 2 enumerated [1x32 8x128]

function main: 50 operations
  preferred device operations   share
  Neural Engine            42   84.0%
  GPU                       1    2.0%
  CPU                       2    4.0%
  not reported              5   10.0%
not on the Neural Engine: gather×2 (CPU), layer_norm×1 (GPU)

MLComputePlan takes no input shape: these counts are the plan of the program every allowed
shape runs, not a per-shape measurement; a virtual Mac without a Neural Engine plans none there.
`
	require.Equal(t, want, b.String())
}
