//go:build !darwin || !cgo

package coreml

import "fmt"

// Available reports whether this build can run Core ML: false here (not darwin, or cgo off).
func Available() bool { return false }

// New reports ErrUnavailable on this platform.
func New(modelPath string, opts ...Option) (*Backend, error) {
	return nil, fmt.Errorf("coreml: loading %s: %w", modelPath, ErrUnavailable)
}
