//go:build (!amd64 && !arm64) || purego

package kernels

func archKernels() (Set, bool) { return Set{}, false }
