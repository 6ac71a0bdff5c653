// Package slicesx holds slice helpers written while this module built with Go 1.19, before
// package slices: Go 1.21's slices.Equal now does the same, and this package can go.
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
