// Package slicesx holds the slice helpers the standard library gained after Go 1.19, which
// this module still builds with: the one place to replace with package slices once the Go
// floor rises.
package slicesx

// Equal reports whether a and b have the same length and equal elements (==, so a NaN
// never equals itself), as slices.Equal in Go 1.21.
func Equal[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
