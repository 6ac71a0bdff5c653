//go:build !amd64 || purego

package kernels

func archInt8(level int) (Int8Set, bool) { return Int8Set{}, false }
