//go:build darwin && cgo

package coreml

import (
	"fmt"

	"github.com/progrium/darwinkit/macos/foundation"
	"github.com/progrium/darwinkit/objc"
)

// Every NSArray that darwin code reads goes through nsArray. darwinkit v0.5.0 converts
// NSArrays to slices with objc.ToGoSlice, whose C half (to_c_array, objc/type_convertion.m)
// returns an uninitialised {data, len} for an array of count 0, which ToGoSlice then trusts:
// undefined behaviour, seen as "cannot allocate 99010677309440-byte block" (darwinkit issue
// #278). Core ML returns empty arrays where a shape is symbolic, e.g. the shape of
// last_hidden_state's MLMultiArrayConstraint. So the getters darwinkit generates for NSArray
// properties (MultiArray.Shape, MultiArrayShapeConstraint.EnumeratedShapes, ...) are never
// called: go/internal/darwincheck fails the build if darwin code uses any darwinkit API
// whose result, or whose block's parameters, are slices.

// nsArray sends sel (a getter returning an NSArray, or nil) to recv and returns the array's
// elements. It reads -count first and fetches each element with -objectAtIndex:, so an empty
// or nil array gives an empty slice without darwinkit's slice conversion. The elements are
// not retained: use them inside the current autorelease pool.
func nsArray(recv objc.IObject, sel string) []objc.Object {
	return nsArrayElements(objc.Call[objc.Object](recv, objc.Sel(sel)))
}

// nsArrayElements returns the elements of arr (an NSArray, or nil); see nsArray.
func nsArrayElements(arr objc.Object) []objc.Object {
	if arr.IsNil() {
		return nil
	}
	n := objc.Call[uint](arr, objc.Sel("count")) // NSUInteger
	out := make([]objc.Object, 0, n)
	for i := uint(0); i < n; i++ {
		out = append(out, objc.Call[objc.Object](arr, objc.Sel("objectAtIndex:"), i))
	}
	return out
}

// nsInts reads an NSArray<NSNumber *> getter as ints (NSNumber integerValue).
func nsInts(recv objc.IObject, sel string) []int {
	return numbersOf(nsArray(recv, sel))
}

func numbersOf(objs []objc.Object) []int {
	out := make([]int, len(objs))
	for i, o := range objs {
		out[i] = foundation.NumberFrom(o.Ptr()).IntegerValue()
	}
	return out
}

// nsShapes reads an NSArray<NSArray<NSNumber *> *> getter (enumeratedShapes).
func nsShapes(recv objc.IObject, sel string) [][]int {
	var out [][]int
	for _, s := range nsArray(recv, sel) {
		out = append(out, numbersOf(nsArrayElements(s)))
	}
	return out
}

// nsRanges reads an NSArray<NSValue *> of NSRanges (sizeRangeForDimension) as [min, max]
// pairs; see rangeFromNSRange.
func nsRanges(recv objc.IObject, sel string) ([][2]int, error) {
	var out [][2]int
	for i, v := range nsArray(recv, sel) {
		if v.IsNil() {
			return nil, fmt.Errorf("%s[%d] is nil", sel, i)
		}
		r := foundation.ValueFrom(v.Ptr()).RangeValue()
		out = append(out, rangeFromNSRange(r.Location, r.Length))
	}
	return out, nil
}
