//go:build darwin && cgo

package coreml

import (
	"fmt"
	"sort"
	"time"

	ml "github.com/progrium/darwinkit/macos/coreml"
	"github.com/progrium/darwinkit/macos/foundation"
	"github.com/progrium/darwinkit/objc"
)

// computePlanMinOS is the first macOS with MLComputePlan (Apple's MLComputePlan documentation:
// "macOS 14.4+").
var computePlanMinOS = OSVersion{14, 4, 0}

// computePlanTimeout bounds the wait for +[MLComputePlan loadContentsOfURL:...]; Core ML
// compiles the model for the device first, which takes seconds, not minutes.
const computePlanTimeout = 10 * time.Minute

// ComputePlan loads the compute plan Core ML makes for the model at modelPath with the given
// compute units, and counts, per function of its ML program, the operations it prefers to run
// on the Neural Engine, the GPU and the CPU. modelPath is an .mlmodelc, or an .mlpackage that
// is compiled and cached as New does. The model is also loaded once, to report its interface
// and allowed shapes.
//
// MLComputePlan needs macOS 14.4; older systems, like the other cases where New cannot use
// Core ML, give an *UnavailableError. See ComputePlanReport for what the plan does and does
// not say.
func ComputePlan(modelPath string, units ComputeUnits) (*ComputePlanReport, error) {
	cfg := defaultConfig()
	cfg.units = units
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	running, err := runningMacOS()
	if err != nil {
		return nil, &UnavailableError{Reason: "cannot read the macOS version", Err: err}
	}
	if !running.AtLeast(computePlanMinOS) {
		return nil, &UnavailableError{Reason: fmt.Sprintf("MLComputePlan requires macOS %v, this is macOS %v", computePlanMinOS, running)}
	}
	if err := checkModelOS(modelPath, running); err != nil {
		return nil, err
	}
	compiled, err := resolveModel(modelPath, cfg.cacheDir, compileModel)
	if err != nil {
		return nil, &UnavailableError{Reason: "cannot prepare model " + modelPath, Err: err}
	}
	m, err := loadModel(compiled, units)
	if err != nil {
		return nil, &UnavailableError{Reason: fmt.Sprintf("Core ML cannot load %s (%v)", compiled, units), Err: err}
	}
	iface, shapes, _, err := m.describe()
	m.Close()
	if err != nil {
		return nil, &UnavailableError{Reason: "unsupported model " + compiled, Err: err}
	}
	funcs, err := loadComputePlan(compiled, units)
	if err != nil {
		return nil, fmt.Errorf("coreml: compute plan of %s: %w", compiled, err)
	}
	return &ComputePlanReport{Model: modelPath, Compiled: compiled, Units: units, Interface: iface, Shapes: shapes, Functions: funcs}, nil
}

type planResult struct {
	plan objc.Object // retained by the completion handler
	err  error
}

// loadComputePlan sends +[MLComputePlan loadContentsOfURL:configuration:completionHandler:]
// (not bound in darwinkit v0.5.0, whose generator stops at macOS 12 APIs) and waits for the
// handler. objc.Call turns the Go func into a heap block (objc.CreateMallocBlock); Core ML
// copies it, so it outlives the autorelease pool of the call, and calls it once on one of its
// queues with (MLComputePlan * _Nullable, NSError * _Nullable). The handler's arguments are
// objc.Object, never slices (see nsArray). The plan is retained there and released here.
func loadComputePlan(compiled string, units ComputeUnits) ([]FunctionPlan, error) {
	done := make(chan planResult, 1)
	err := inPool(func() error {
		cls := objc.GetClass("MLComputePlan")
		if cls.Ptr() == nil {
			return &UnavailableError{Reason: "MLComputePlan is missing (macOS 14.4+)"}
		}
		conf := ml.NewModelConfiguration()
		conf.SetComputeUnits(ml.ComputeUnits(units))
		objc.Call[objc.Void](cls, objc.Sel("loadContentsOfURL:configuration:completionHandler:"),
			foundation.URL_FileURLWithPath(compiled), conf,
			func(plan objc.Object, nsErr objc.Object) {
				r := planResult{}
				defer func() {
					if p := recover(); p != nil {
						r = planResult{err: fmt.Errorf("darwinkit panic in the completion handler: %v", p)}
					}
					done <- r
				}()
				// Cocoa convention: the result says whether it failed; only then read the error.
				if err := cocoaError(plan.IsNil(), foundation.ErrorFrom(nsErr.Ptr()), "MLComputePlan loadContentsOfURL:configuration:completionHandler:"); err != nil {
					r.err = err
					return
				}
				plan.Retain()
				r.plan = plan
			})
		return nil
	})
	if err != nil {
		return nil, err
	}
	var r planResult
	select {
	case r = <-done:
	case <-time.After(computePlanTimeout):
		return nil, fmt.Errorf("no answer from MLComputePlan within %v", computePlanTimeout)
	}
	if r.err != nil {
		return nil, r.err
	}
	var funcs []FunctionPlan
	err = inPool(func() error {
		defer r.plan.Release()
		// MLComputePlan.modelStructure.program (nil unless the model is an ML program) →
		// functions, an NSDictionary<NSString *, MLModelStructureProgramFunction *> (a map:
		// darwinkit's dictionary conversion is safe when empty) → block.operations.
		structure := objc.Call[objc.Object](r.plan, objc.Sel("modelStructure"))
		program := objc.Call[objc.Object](structure, objc.Sel("program"))
		if program.IsNil() {
			return fmt.Errorf("the model is not an ML program (modelStructure.program is nil)")
		}
		functions := objc.Call[map[string]objc.Object](program, objc.Sel("functions"))
		names := make([]string, 0, len(functions))
		for n := range functions {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			block := objc.Call[objc.Object](functions[n], objc.Sel("block"))
			funcs = append(funcs, SummarizeFunction(n, planOperations(r.plan, block, 0)))
		}
		if len(funcs) == 0 {
			return fmt.Errorf("the ML program has no functions")
		}
		return nil
	})
	return funcs, err
}

// planOperations lists the operations of an MLModelStructureProgramBlock, nested blocks
// (operation.blocks) included, with the device
// -[MLComputePlan computeDeviceUsageForMLProgramOperation:] prefers. That method returns nil
// when "the usage couldn't be determined" (Apple's documentation); such operations count as
// DeviceUnknown.
func planOperations(plan, block objc.Object, depth int) []OperationUsage {
	if block.IsNil() || depth > 16 {
		return nil
	}
	var out []OperationUsage
	for _, op := range nsArray(block, "operations") {
		u := OperationUsage{Operator: objc.Call[string](op, objc.Sel("operatorName")), Device: DeviceUnknown}
		usage := objc.Call[objc.Object](plan, objc.Sel("computeDeviceUsageForMLProgramOperation:"), op)
		if !usage.IsNil() {
			u.Device = deviceOf(objc.Call[objc.Object](usage, objc.Sel("preferredComputeDevice")))
		}
		out = append(out, u)
		for _, sub := range nsArray(op, "blocks") {
			out = append(out, planOperations(plan, sub, depth+1)...)
		}
	}
	return out
}

// deviceOf classifies an id<MLComputeDeviceProtocol> by its class: MLCPUComputeDevice,
// MLGPUComputeDevice or MLNeuralEngineComputeDevice (macOS 14+).
func deviceOf(d objc.Object) Device {
	if d.IsNil() {
		return DeviceUnknown
	}
	for _, c := range []struct {
		class  string
		device Device
	}{
		{"MLNeuralEngineComputeDevice", DeviceNeuralEngine},
		{"MLGPUComputeDevice", DeviceGPU},
		{"MLCPUComputeDevice", DeviceCPU},
	} {
		if cls := objc.GetClass(c.class); cls.Ptr() != nil && d.IsKindOfClass(cls) {
			return c.device
		}
	}
	return DeviceUnknown
}
