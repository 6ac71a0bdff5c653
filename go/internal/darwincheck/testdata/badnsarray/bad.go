//go:build darwin && cgo

// Package badnsarray lets darwinkit v0.5.0 convert NSArrays to Go slices, which is undefined
// for empty arrays; darwincheck_test asserts that the checker reports each line marked
// "want" and nothing else.
package badnsarray

import (
	"unsafe"

	ml "github.com/progrium/darwinkit/macos/coreml"
	"github.com/progrium/darwinkit/macos/foundation"
	"github.com/progrium/darwinkit/objc"
)

func ints(ns []foundation.Number) []int {
	out := make([]int, len(ns))
	for i, n := range ns {
		out[i] = n.IntegerValue()
	}
	return out
}

func shapes(oc ml.MultiArrayConstraint, sc ml.MultiArrayShapeConstraint, arr ml.MultiArray) {
	_ = ints(oc.Shape())      // want: generated NSArray getter
	_ = sc.EnumeratedShapes() // want: nested NSArrays
	f := arr.Strides          // want: a method value is a use too
	_ = f
	_ = objc.Call[[]objc.Object](arr, objc.Sel("shape"))                                                                            // want: objc.Call with a slice result
	objc.Call[objc.Void](arr, objc.Sel("getMutableBytesWithHandler:"), func(p unsafe.Pointer, n int, strides []foundation.Number) { // want: block with a slice parameter
	})

	// Not flagged: objects, maps (to_c_items sets the length of an empty dictionary), []byte.
	_ = objc.Call[objc.Object](arr, objc.Sel("shape"))
	_ = objc.Call[uint](arr, objc.Sel("count"))
	_ = objc.Call[map[string]objc.Object](arr, objc.Sel("x"))
	var d foundation.Data
	_ = d.Bytes()
	objc.Call[objc.Void](arr, objc.Sel("getBytesWithHandler:"), func(p unsafe.Pointer, n int) {})
	_ = ml.NewMultiArrayWithShapeDataTypeError([]foundation.INumber{}, ml.MultiArrayDataTypeInt32, nil) // slices going in are fine
}
