package main

import (
	"flag"
	"fmt"

	"github.com/minilm-coreml/minilm/go/backend/coreml"
)

const coremlPlanUsage = `Usage: minilm coreml-plan [flags] MODEL

Print the compute plan Core ML makes for MODEL (an .mlmodelc, or an .mlpackage, compiled
and cached on first use): per function of its ML program, how many operations Core ML
prefers to run on the Neural Engine, the GPU and the CPU, and which operators leave the
Neural Engine. Needs macOS 14.4 or later (MLComputePlan); elsewhere it fails.

MLComputePlan takes no input shape: the counts hold for the program every allowed shape
runs, not per enumerated shape. A Mac without a Neural Engine (GitHub's virtual macOS
runners) plans nothing there, so a "cpuAndNeuralEngine" benchmark on it measures the CPU.

Flags:
`

func coremlPlanFlags(e env) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet("coreml-plan", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	units := fs.String("compute-units", coreml.CPUAndNeuralEngine.String(),
		"MLComputeUnits to plan for: cpuOnly, cpuAndGPU, all or cpuAndNeuralEngine")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), coremlPlanUsage)
		printFlags(fs)
	}
	return fs, units
}

// helpCoreMLPlan prints the command's help to standard output.
func helpCoreMLPlan(e env) int {
	fs, _ := coremlPlanFlags(e)
	fs.SetOutput(e.stdout)
	fs.Usage()
	return exitOK
}

// runCoreMLPlan implements `minilm coreml-plan MODEL [--compute-units U]`.
func runCoreMLPlan(args []string, e env) error {
	fs, units := coremlPlanFlags(e)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{msg: fmt.Sprintf("coreml-plan: want one MODEL, got %d arguments", len(pos)), usage: usageOf(fs)}
	}
	u, err := coreml.ParseComputeUnits(*units)
	if err != nil {
		return usageError{msg: "coreml-plan: --compute-units: " + err.Error()}
	}
	rep, err := coreml.ComputePlan(pos[0], u)
	if err != nil {
		return fmt.Errorf("coreml-plan: %w", err)
	}
	return rep.Format(e.stdout)
}
