//go:build !darwin || !cgo

package coreml

import "runtime"

// Available reports whether this build can run Core ML: false here (not darwin, or cgo off).
func Available() bool { return false }

// New reports, as an *UnavailableError (errors.Is(err, ErrUnavailable)), why this build cannot
// run Core ML: the OS is not macOS, or cgo was off when it was built.
func New(modelPath string, opts ...Option) (*Backend, error) {
	return nil, unavailableHere()
}

// unavailableHere says why this build has no Core ML.
func unavailableHere() *UnavailableError {
	if runtime.GOOS == "darwin" {
		return &UnavailableError{Reason: "this build has no cgo (darwinkit needs cgo: build with CGO_ENABLED=1 and Xcode's SDK)"}
	}
	return &UnavailableError{Reason: "Core ML runs only on macOS; this is " + runtime.GOOS}
}
