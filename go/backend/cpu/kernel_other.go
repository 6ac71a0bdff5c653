//go:build !amd64 || purego

package cpu

func archKernels() (kernels, bool) { return kernels{}, false }
