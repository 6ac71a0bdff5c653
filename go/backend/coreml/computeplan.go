package coreml

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/minilm-coreml/minilm/go/plan"
)

// Device is the compute device MLComputePlan prefers for an operation.
type Device int

// Devices, from MLComputePlanDeviceUsage.preferredComputeDevice (an MLCPUComputeDevice,
// MLGPUComputeDevice or MLNeuralEngineComputeDevice). DeviceUnknown counts operations whose
// usage Core ML did not determine (computeDeviceUsageForMLProgramOperation: returned nil,
// e.g. for constants) or whose device is of another class.
const (
	DeviceUnknown Device = iota
	DeviceCPU
	DeviceGPU
	DeviceNeuralEngine
)

// devices is the display order.
var devices = []Device{DeviceNeuralEngine, DeviceGPU, DeviceCPU, DeviceUnknown}

// String implements fmt.Stringer.
func (d Device) String() string {
	switch d {
	case DeviceCPU:
		return "CPU"
	case DeviceGPU:
		return "GPU"
	case DeviceNeuralEngine:
		return "Neural Engine"
	}
	return "not reported"
}

// OperationUsage is one ML program operation and the device Core ML prefers for it.
type OperationUsage struct {
	// Operator is the MIL operator name, e.g. "matmul" or "gather".
	Operator string
	Device   Device
}

// FunctionPlan counts the operations of one function of the ML program by preferred device.
type FunctionPlan struct {
	// Name is the function's name ("main" for a single-function program).
	Name string
	// Operations is the number of operations, nested blocks included.
	Operations int
	// ByDevice counts operations per preferred device.
	ByDevice map[Device]int
	// OffNeuralEngine counts, per operator and device, the operations preferred on the CPU or
	// GPU: the list to read when a model falls off the Neural Engine.
	OffNeuralEngine map[string]map[Device]int
}

// SummarizeFunction counts ops into a FunctionPlan.
func SummarizeFunction(name string, ops []OperationUsage) FunctionPlan {
	f := FunctionPlan{Name: name, Operations: len(ops), ByDevice: map[Device]int{}, OffNeuralEngine: map[string]map[Device]int{}}
	for _, op := range ops {
		f.ByDevice[op.Device]++
		if op.Device == DeviceCPU || op.Device == DeviceGPU {
			m := f.OffNeuralEngine[op.Operator]
			if m == nil {
				m = map[Device]int{}
				f.OffNeuralEngine[op.Operator] = m
			}
			m[op.Device]++
		}
	}
	return f
}

// ComputePlanReport is what ComputePlan found: per function of the ML program, how many
// operations Core ML prefers to run on the Neural Engine, the GPU and the CPU with the given
// compute units.
//
// MLComputePlan (macOS 14.4+) describes the model's program, not a prediction: it takes no
// input shape. A model with enumerated shapes has one main function that every shape runs, so
// the plan is one set of counts for all of them, not one per shape. Whether a given shape
// really runs on the Neural Engine shows only at prediction time (Xcode Instruments' Core ML
// template); and on a machine without a Neural Engine (GitHub's macOS runners are virtual
// machines) no operation is planned there.
type ComputePlanReport struct {
	// Model is the model path given to ComputePlan; Compiled the .mlmodelc it planned.
	Model, Compiled string
	Units           ComputeUnits
	// Interface and Shapes are the model's inputs and allowed shapes, from its description.
	Interface Interface
	Shapes    plan.ShapeSet
	Functions []FunctionPlan
}

// Format writes the report as a table, one block per function.
func (r *ComputePlanReport) Format(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Core ML compute plan of %s\n", r.Model)
	if r.Compiled != "" && r.Compiled != r.Model {
		fmt.Fprintf(&b, "compiled: %s\n", r.Compiled)
	}
	fmt.Fprintf(&b, "compute units: %v; inputs: %v\n", r.Units, r.Interface)
	if r.Shapes != nil {
		fmt.Fprintf(&b, "allowed shapes: %v\n", describeShapes(r.Shapes))
	}
	for _, f := range r.Functions {
		fmt.Fprintf(&b, "\nfunction %s: %d operations\n", f.Name, f.Operations)
		fmt.Fprintf(&b, "  %-16s %10s %7s\n", "preferred device", "operations", "share")
		for _, d := range devices {
			n := f.ByDevice[d]
			share := 0.0
			if f.Operations > 0 {
				share = 100 * float64(n) / float64(f.Operations)
			}
			fmt.Fprintf(&b, "  %-16v %10d %6.1f%%\n", d, n, share)
		}
		if len(f.OffNeuralEngine) > 0 {
			var parts []string
			for _, op := range sortedKeys(f.OffNeuralEngine) {
				for _, d := range []Device{DeviceGPU, DeviceCPU} {
					if n := f.OffNeuralEngine[op][d]; n > 0 {
						parts = append(parts, fmt.Sprintf("%s×%d (%v)", op, n, d))
					}
				}
			}
			fmt.Fprintf(&b, "not on the Neural Engine: %s\n", strings.Join(parts, ", "))
		}
	}
	fmt.Fprintf(&b, "\nMLComputePlan takes no input shape: these counts are the plan of the program every allowed\n"+
		"shape runs, not a per-shape measurement; a virtual Mac without a Neural Engine plans none there.\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func describeShapes(s plan.ShapeSet) string {
	if e, ok := s.(plan.Enumerated); ok {
		return fmt.Sprintf("%d enumerated %v", len(e), e)
	}
	return fmt.Sprint(s)
}

func sortedKeys(m map[string]map[Device]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
