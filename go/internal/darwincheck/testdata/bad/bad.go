//go:build darwin && cgo

// Package bad misuses darwinkit v0.5.0 on purpose: darwincheck_test asserts that the checker
// reports each line marked "want".
package bad

import (
	"unsafe"

	ml "github.com/progrium/darwinkit/macos/coreml"
	"github.com/progrium/darwinkit/macos/foundation"
)

func load(src string) ml.Model {
	var e foundation.Error
	// want: compileModelAtURL:error: is not bound in v0.5.0
	compiled := ml.Model_CompileModelAtURLError(foundation.URL_FileURLWithPath(src), unsafe.Pointer(&e))
	_ = compiled
	cfg := ml.NewModelConfiguration()
	// want: MLComputeUnitsCPUAndNeuralEngine has no constant in v0.5.0
	cfg.SetComputeUnits(ml.ComputeUnitsCPUAndNeuralEngine)
	// want: a string is not a foundation.IURL
	return ml.Model_ModelWithContentsOfURLConfigurationError(src, cfg, unsafe.Pointer(&e))
}
