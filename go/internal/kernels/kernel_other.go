//go:build !amd64 || purego

package kernels

func archKernels() (Set, bool) { return Set{}, false }
