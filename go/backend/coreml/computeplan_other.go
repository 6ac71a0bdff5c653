//go:build !darwin || !cgo

package coreml

// ComputePlan reports, as an *UnavailableError, why this build has no Core ML (see the darwin
// version for what it does there).
func ComputePlan(modelPath string, units ComputeUnits) (*ComputePlanReport, error) {
	return nil, unavailableHere()
}
